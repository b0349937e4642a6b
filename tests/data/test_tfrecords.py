"""write_tfrecords -> tfrecord_dataset equals df_to_dataset; bad records fail clearly."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_mtl.data import CorruptRecordError
from keras_mtl.data import check_tfrecords
from keras_mtl.data import df_to_dataset
from keras_mtl.data import parse_spec
from keras_mtl.data import tfrecord_dataset
from keras_mtl.data import write_tfrecords
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat
from tests.data.test_dataframe import FEATURES
from tests.data.test_dataframe import make_df

LABELS = ["click", "buy"]


def _example(**values):
    feature = {}
    for key, value in values.items():
        if isinstance(value[0], float):
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=value))
        elif isinstance(value[0], int):
            feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=value))
        else:
            feature[key] = tf.train.Feature(
                bytes_list=tf.train.BytesList(value=[v.encode() for v in value])
            )
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _write(path, records):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return str(path)


def _assert_batches_equal(expected, received):
    assert len(expected) == len(received)
    for (xa, ya), (xb, yb) in zip(expected, received):
        assert sorted(xa) == sorted(xb) and sorted(ya) == sorted(yb)
        for key in xa:
            assert xa[key].dtype == xb[key].dtype, key
            np.testing.assert_array_equal(xa[key].numpy(), xb[key].numpy(), err_msg=key)
        for key in ya:
            np.testing.assert_array_equal(ya[key].numpy(), yb[key].numpy(), err_msg=key)


def test_round_trip_equals_df_to_dataset(tmp_path):
    df = make_df(3)  # missing city, label and sequence; sequences longer than maxlen
    files = write_tfrecords(df, str(tmp_path / "t"), FEATURES, LABELS, rows_per_file=4)
    assert len(files) == 4
    ds = tfrecord_dataset(
        str(tmp_path / "t-*"), FEATURES, LABELS, batch_size=4, num_parallel_reads=1
    )
    _assert_batches_equal(list(df_to_dataset(df, FEATURES, LABELS, batch_size=4)), list(ds))


def test_interleaved_shuffled_files_hold_every_row_once(tmp_path):
    df = pd.DataFrame({"item": np.arange(50, dtype="int64"), "click": np.ones(50)})
    feats = [SparseFeat("item", vocabulary_size=100)]
    write_tfrecords(df, str(tmp_path / "t"), feats, ["click"], rows_per_file=7)
    ds = tfrecord_dataset(
        str(tmp_path / "t-*"),
        feats,
        ["click"],
        batch_size=8,
        shuffle=True,
        seed=1,
        shuffle_buffer=16,
        num_rows=50,
    )
    assert len(ds) == 7  # known length: ceil(50 / 8)
    epochs = [np.concatenate([x["item"].numpy() for x, _ in ds]) for _ in range(2)]
    for items in epochs:
        assert sorted(items.tolist()) == list(range(50))
    assert epochs[0].tolist() != list(range(50))


def test_parse_spec_defaults():
    spec = parse_spec(FEATURES, {"ctr": "click"})
    assert spec["city"] == tf.io.FixedLenFeature([], tf.string, default_value="")
    assert spec["item"] == tf.io.FixedLenFeature([], tf.int64)  # required
    assert spec["history"] == tf.io.VarLenFeature(tf.int64)
    assert spec["vec"] == tf.io.FixedLenFeature([2], tf.float32)
    assert np.isnan(spec["click"].default_value)
    with pytest.raises(ValueError, match="'city'.*dtype=None"):
        parse_spec([SparseFeat("city")])


def test_pattern_matching_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        tfrecord_dataset(str(tmp_path / "nothing-here*"), FEATURES)


FEATS = [
    SparseFeat("item", vocabulary_size=10),
    DenseFeat("price"),
    VarLenSparseFeat("tags", maxlen=2, vocabulary=("a", "b")),
]


@pytest.mark.parametrize(
    "record, message",
    [
        (_example(price=[1.0]), r"bad.tfrecord:1.*Feature: item \(data type: int64\) is required"),
        (_example(item=[1], price=[1]), r"bad.tfrecord:1, Key: price.*Data types don't match"),
        (_example(item=[1], price=[1.0, 2.0]), r"bad.tfrecord:1, Key: price"),
        (_example(item=[1], price=[float("nan")]), r"Feature 'price': expected finite numbers"),
    ],
    ids=["missing_required", "wrong_dtype", "wrong_length", "nan"],
)  # the bytes differ per process
def test_bad_record_names_file_feature_and_index(tmp_path, record, message):
    good = _example(item=[1], price=[2.0], tags=["a"])
    path = _write(tmp_path / "bad.tfrecord", [good, record, good])
    ds = tfrecord_dataset(path, FEATS, batch_size=3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        list(ds)


def test_missing_label_is_nan_and_short_lists_are_padded(tmp_path):
    path = _write(
        tmp_path / "ok.tfrecord",
        [
            _example(item=[1], price=[2.0], tags=["b", "a", "a"], click=[1.0]),
            _example(item=[2], price=[3.0]),
        ],
    )
    x, y = next(iter(tfrecord_dataset(path, FEATS, ["click"], batch_size=2)))
    assert x["tags"].numpy().tolist() == [[b"b", b"a"], [b"", b""]]
    assert np.isnan(y["click"].numpy()[1]) and y["click"].numpy()[0] == 1.0


def test_corrupt_file_is_named(tmp_path):
    good = _path = _write(tmp_path / "a.tfrecord", [_example(item=[1], price=[2.0])] * 3)
    data = open(good, "rb").read()
    bad = tmp_path / "b.tfrecord"
    bad.write_bytes(data[:-4])  # truncated
    assert check_tfrecords(good) == {good: 3}
    with pytest.raises(tf.errors.DataLossError):
        list(tfrecord_dataset(str(tmp_path / "*.tfrecord"), FEATS))
    with pytest.raises(CorruptRecordError, match=r"b.tfrecord is corrupt: record 2 .*truncated"):
        check_tfrecords(str(tmp_path / "*.tfrecord"))


def test_records_are_the_examples_protobuf_builds(tmp_path):
    df = pd.DataFrame(
        {
            "id": [-5, 2**40],
            "city": ["köln", None],
            "tags": [[3, 1], []],
            "w": [[0.5, 2.0], []],
            "vec": [[1.0, -2.5], [0.0, 3.0]],
            "click": [1.0, None],
        }
    )
    feats = [
        SparseFeat("id", vocabulary_size=3),
        SparseFeat("city", dtype="string"),
        VarLenSparseFeat("tags", maxlen=2, vocabulary_size=5, weight_name="w"),
        DenseFeat("vec", dimension=2),
    ]
    (path,) = write_tfrecords(df, str(tmp_path / "t"), feats, ["click"])
    got = [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(path)]
    ints = lambda v: tf.train.Feature(int64_list=tf.train.Int64List(value=v))  # noqa: E731
    floats = lambda v: tf.train.Feature(float_list=tf.train.FloatList(value=v))  # noqa: E731
    expected = [
        {
            "id": ints([-5]),
            "city": tf.train.Feature(bytes_list=tf.train.BytesList(value=["köln".encode()])),
            "tags": ints([3, 1]),
            "w": floats([0.5, 2.0]),
            "vec": floats([1.0, -2.5]),
            "click": floats([1.0]),
        },
        {"id": ints([2**40]), "tags": ints([]), "w": floats([]), "vec": floats([0.0, 3.0])},
    ]
    for example, features in zip(got, expected):
        assert example == tf.train.Example(features=tf.train.Features(feature=features))

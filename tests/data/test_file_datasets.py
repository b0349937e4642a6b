"""parquet_dataset / csv_dataset stream files into the batches df_to_dataset gives."""

import bz2
import gzip
import lzma

import numpy as np
import pandas as pd
import pytest

from keras_mtl.data import csv_dataset
from keras_mtl.data import df_to_dataset
from keras_mtl.data import parquet_dataset
from keras_mtl.data import tfrecord_dataset
from keras_mtl.data import write_tfrecords
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat
from tests.data.test_dataframe import FEATURES
from tests.data.test_dataframe import make_df
from tests.data.test_tfrecords import _assert_batches_equal

LABELS = ["click", "buy"]


def test_parquet_in_small_chunks_equals_df_to_dataset(tmp_path):
    df = make_df(4)
    df.iloc[:11].to_parquet(tmp_path / "a.parquet")
    df.iloc[11:].to_parquet(tmp_path / "b.parquet")
    ds = parquet_dataset(str(tmp_path / "*.parquet"), FEATURES, LABELS, batch_size=3, chunk_rows=4)
    assert len(ds) == 7  # ceil(20 / 3), from the Parquet footers
    expected = list(df_to_dataset(df, FEATURES, LABELS, batch_size=3))
    _assert_batches_equal(expected, list(ds))


def test_parquet_shuffle_keeps_every_row(tmp_path):
    df = pd.DataFrame({"item": np.arange(40, dtype="int64"), "click": np.zeros(40)})
    df.to_parquet(tmp_path / "a.parquet")
    ds = parquet_dataset(
        str(tmp_path / "a.parquet"),
        [SparseFeat("item", vocabulary_size=50)],
        ["click"],
        batch_size=16,
        shuffle=True,
        seed=0,
        chunk_rows=8,
    )
    items = np.concatenate([x["item"].numpy() for x, _ in ds])
    assert sorted(items.tolist()) == list(range(40)) and items.tolist() != list(range(40))


def test_csv_with_text_lists_and_strings(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("city,history,vec,click\n007,1|2,0.5|1.5,1\nparis,,1|2,0\n")
    feats = [
        SparseFeat("city", vocabulary=("007", "paris")),
        VarLenSparseFeat("history", maxlen=3, vocabulary_size=10),
        DenseFeat("vec", dimension=2),
    ]
    x, y = next(iter(csv_dataset(str(path), feats, ["click"], batch_size=4)))
    assert x["city"].numpy().tolist() == [b"007", b"paris"]
    assert x["history"].numpy().tolist() == [[1, 2, 0], [0, 0, 0]]
    assert x["vec"].numpy().tolist() == [[0.5, 1.5], [1.0, 2.0]]
    assert y["click"].numpy().tolist() == [1.0, 0.0]


def test_bad_value_error_names_the_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("price,click\n1.0,1\nabc,0\n")
    ds = csv_dataset(str(path), [DenseFeat("price")], ["click"])
    with pytest.raises(Exception, match=r"bad.csv: Feature 'price': expected finite numbers"):
        list(ds)


def test_missing_column_and_missing_files(tmp_path):
    path = tmp_path / "a.parquet"
    pd.DataFrame({"item": [1]}).to_parquet(path)
    with pytest.raises(KeyError, match=r"a.parquet: expected columns \['click'\]"):
        parquet_dataset(str(path), [SparseFeat("item", vocabulary_size=5)], ["click"])
    with pytest.raises(FileNotFoundError, match="none"):
        parquet_dataset(str(tmp_path / "none*.parquet"), [SparseFeat("item", vocabulary_size=5)])


def test_csv_per_feature_separators_and_compression(tmp_path):
    text = b"city,history,vec,click\n007,1;2,0.5 1.5,1\nparis,,1 2,0\n"
    for name, compress in (("t.csv.bz2", bz2.compress), ("t.csv.xz", lzma.compress)):
        path = tmp_path / name
        path.write_bytes(compress(text))
        feats = [
            SparseFeat("city", vocabulary=("007", "paris")),
            VarLenSparseFeat("history", maxlen=3, vocabulary_size=10),
            DenseFeat("vec", dimension=2),
        ]
        ds = csv_dataset(
            str(path), feats, ["click"], batch_size=4, list_separator={"history": ";", "vec": " "}
        )
        x, y = next(iter(ds))
        assert x["city"].numpy().tolist() == [b"007", b"paris"]
        assert x["history"].numpy().tolist() == [[1, 2, 0], [0, 0, 0]]
        assert x["vec"].numpy().tolist() == [[0.5, 1.5], [1.0, 2.0]]
        assert y["click"].numpy().tolist() == [1.0, 0.0]


def test_tfrecord_gzip_by_suffix_equals_plain(tmp_path):
    df = make_df(2)
    (file,) = write_tfrecords(df, str(tmp_path / "t"), FEATURES, LABELS)
    with open(file, "rb") as f:
        (tmp_path / "z.tfrecord.gz").write_bytes(gzip.compress(f.read()))
    expected = list(tfrecord_dataset(file, FEATURES, LABELS, batch_size=3))
    _assert_batches_equal(
        expected, list(tfrecord_dataset(str(tmp_path / "z.tfrecord.gz"), FEATURES, LABELS, 3))
    )
    _assert_batches_equal(
        expected, list(tfrecord_dataset(file, FEATURES, LABELS, 3, compression_type=""))
    )
    with pytest.raises(ValueError, match=r"compression_type in \(None, '', 'GZIP', 'ZLIB'\)"):
        tfrecord_dataset(file, FEATURES, LABELS, compression_type="gzip")

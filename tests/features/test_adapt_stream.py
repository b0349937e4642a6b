"""adapt from a stream (files, DataFrame chunks, tf.data) equals adapt from the DataFrame."""

import importlib

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_mtl.data import DataSource
from keras_mtl.data import write_tfrecords
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat
from keras_mtl.features import adapt

# the module (keras_mtl.features.adapt is the function of the same name)
adapt_lib = importlib.import_module("keras_mtl.features.adapt")

SPECS = [
    SparseFeat("city"),
    SparseFeat("item"),
    VarLenSparseFeat("tags", maxlen=3),
    DenseFeat("price", log1p=True, normalize=True, buckets=4),
    DenseFeat("clicks", buckets=3, keep_value=False),
]


def make_df(rows=60):
    rng = np.random.RandomState(0)
    return pd.DataFrame(
        {
            "city": rng.choice(["berlin", "paris", "rome", "oslo"], rows, p=[0.4, 0.3, 0.2, 0.1]),
            "item": rng.randint(1, 9, rows).astype("int64"),
            "tags": [list(rng.choice(["a", "b", "c"], rng.randint(0, 4))) for _ in range(rows)],
            "price": rng.exponential(10.0, rows),
            "clicks": np.where(rng.uniform(size=rows) < 0.6, 0.0, rng.randint(1, 20, rows)),
        }
    )


def _assert_same(expected, received, rel=1e-12):
    for a, b in zip(expected, received):
        if isinstance(a, DenseFeat):
            assert a.bucket_edges == pytest.approx(b.bucket_edges, rel=1e-6)
            if a.mean is not None:
                assert b.mean == pytest.approx(a.mean, rel=rel)
                assert b.variance == pytest.approx(a.variance, rel=rel)
        else:
            assert (a.vocabulary, a.dtype) == (b.vocabulary, b.dtype), a.name


def test_tfrecord_stream_equals_in_memory(tmp_path):
    df = make_df()
    expected = adapt(SPECS, df)
    write_tfrecords(df, str(tmp_path / "t"), SPECS, rows_per_file=25)
    # the records hold float32 numbers, the DataFrame float64
    _assert_same(expected, adapt(SPECS, str(tmp_path / "t-*")), rel=1e-6)
    many_chunks = DataSource(str(tmp_path / "t-*"), chunk_rows=7)
    _assert_same(expected, adapt(SPECS, many_chunks), rel=1e-6)


def test_parquet_and_dataset_streams_equal_in_memory(tmp_path):
    df = make_df()
    expected = adapt(SPECS, df)
    df.to_parquet(tmp_path / "t.parquet")
    _assert_same(expected, adapt(SPECS, str(tmp_path / "t.parquet")))
    _assert_same(expected, adapt(SPECS, DataSource(str(tmp_path / "t.parquet"), chunk_rows=7)))
    scalar = [s for s in SPECS if not isinstance(s, VarLenSparseFeat)]
    columns = {s.name: df[s.name].to_numpy() for s in scalar}
    ds = tf.data.Dataset.from_tensor_slices(columns).batch(9)
    _assert_same(adapt(scalar, df), adapt(scalar, ds))


def test_csv_stream_equals_in_memory(tmp_path):
    df = make_df()
    expected = adapt(SPECS, df)
    text = df.assign(tags=["|".join(t) for t in df["tags"]])
    text.to_csv(tmp_path / "t.csv", index=False)
    _assert_same(expected, adapt(SPECS, str(tmp_path / "t.csv")))
    _assert_same(expected, adapt(SPECS, DataSource(str(tmp_path / "t.csv"), chunk_rows=7)))


def test_compressed_csv_adapts_as_the_dataframe(tmp_path):
    df = make_df()
    expected = adapt(SPECS, df)
    text = df.assign(tags=[";".join(t) for t in df["tags"]])
    for suffix in ("csv.gz", "csv.bz2"):
        text.to_csv(tmp_path / f"t.{suffix}", index=False)  # pandas compresses by the suffix
        source = DataSource(str(tmp_path / f"t.{suffix}"), list_separator={"tags": ";"})
        _assert_same(expected, adapt(SPECS, source))


def test_dataframe_chunks_and_chunk_sources_equal_one_dataframe():
    df = make_df()
    expected = adapt(SPECS, df)
    parts = [df.iloc[i : i + 7] for i in range(0, len(df), 7)]
    _assert_same(expected, adapt(SPECS, parts))
    _assert_same(expected, adapt(SPECS, iter(parts)))

    class Chunks:  # the protocol adapt reads: chunks(features) -> DataFrames
        def chunks(self, features):
            assert features == tuple(SPECS)
            return iter(parts)

    _assert_same(expected, adapt(SPECS, Chunks()))
    (city,) = adapt([SparseFeat("city")], iter(parts), sample_rows=9)
    assert set(city.vocabulary) == set(df["city"][:9])  # the first chunk and 2 rows of the next


def test_max_tokens_min_frequency_and_sample_rows():
    df = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]})
    (spec,) = adapt([SparseFeat("c")], df, min_frequency=2)
    assert spec.vocabulary == ("a", "b", "c")
    (spec,) = adapt([SparseFeat("c")], df, max_tokens=2)
    assert spec.vocabulary == ("a", "b")
    (spec,) = adapt([SparseFeat("c")], df, sample_rows=6)
    assert spec.vocabulary == ("a", "b")  # rows 0..5: five a, one b
    with pytest.raises(ValueError, match="min_frequency=9"):
        adapt([SparseFeat("c")], df, min_frequency=9)
    with pytest.raises(ValueError, match="max_tokens=0"):
        adapt([SparseFeat("c")], df, max_tokens=0)


def test_bucket_edges_are_quantiles_of_all_and_non_zero_values():
    df = pd.DataFrame({"x": [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0]})
    (spec,) = adapt([DenseFeat("x", buckets=2)], df)
    # median of all values (0 + 1) / 2, median of the non-zero ones (2 + 3) / 2
    assert spec.bucket_edges == (0.5, 2.5) and spec.num_buckets == 3


def test_streamed_moments_merge_exactly():
    values = np.random.RandomState(1).normal(3.0, 2.0, 1000)
    old = None
    for part in np.array_split(values, 7):
        old = adapt_lib._moments(old, part)
    assert old[0] == 1000
    assert old[1] == pytest.approx(values.mean(), rel=1e-13)
    assert old[2] == pytest.approx(values.var(), rel=1e-12)


def test_quantile_sample_caps_memory(monkeypatch):
    monkeypatch.setattr(adapt_lib, "QUANTILE_SAMPLE", 200)
    values = np.random.RandomState(2).uniform(0, 1, 2000)
    ds = tf.data.Dataset.from_tensor_slices({"x": values}).batch(100)
    (spec,) = adapt([DenseFeat("x", buckets=4)], ds)
    # quartiles of a 200-value sample: within 0.07 (2 standard errors) of the 2000 values'
    full = np.quantile(values, [0.25, 0.5, 0.75])
    assert np.allclose(spec.bucket_edges, full, atol=0.07)
    assert not np.allclose(spec.bucket_edges, full, atol=1e-6)  # a sample, not all values


def test_bad_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such"):
        adapt(SPECS, "/tmp/no-such-dir/*.tfrecord")
    with pytest.raises(TypeError, match=r"with a chunks\(features\) method.*Received int"):
        adapt(SPECS, 3)
    with pytest.raises(TypeError, match="iterable of pandas DataFrames. Received a dict chunk"):
        adapt(SPECS, [{"city": ["a"]}])
    make_df().to_csv(tmp_path / "t.txt", index=False)
    with pytest.raises(ValueError, match=r"cannot tell the format of .*t\.txt.*\.csv\.bz2"):
        adapt(SPECS, str(tmp_path / "t.txt"))


def test_file_patterns_go_through_the_registered_file_source(monkeypatch):
    from keras_mtl.features import chunk_source

    assert chunk_source._file_source["factory"] is DataSource  # registered by keras_mtl.data
    monkeypatch.setitem(chunk_source._file_source, "factory", None)
    with pytest.raises(TypeError, match=r"pass keras_mtl.data.DataSource\(pattern\)"):
        adapt(SPECS, "train.csv")
    opened = []
    chunk_source.register_file_source(lambda pattern: opened.append(pattern) or FakeSource())
    (city,) = adapt([SparseFeat("city")], "rows-*.any")
    assert opened == ["rows-*.any"] and city.vocabulary == ("x",)
    with pytest.raises(TypeError, match="Received int"):
        chunk_source.register_file_source(3)


class FakeSource:
    def chunks(self, features):
        yield pd.DataFrame({"city": ["x"]})

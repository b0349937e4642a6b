"""DataSource: the reader table (format, compression, separators, chunks) of every file reader."""

import gzip
import os

import numpy as np
import pandas as pd
import pytest

from keras_mtl.data import DataSource
from keras_mtl.data import write_tfrecords
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat

FEATURES = [
    SparseFeat("city", dtype="string"),
    VarLenSparseFeat("tags", maxlen=3, dtype="string"),
    VarLenSparseFeat("hist", maxlen=3, dtype="int64", weight_name="hist_w"),
    DenseFeat("vec", dimension=2),
    DenseFeat("price"),
]


def frame(rows=10):
    rng = np.random.RandomState(0)
    return pd.DataFrame(
        {
            "city": rng.choice(["007", "rome", "oslo"], rows),
            "tags": [list(rng.choice(["a", "b", "c"], rng.randint(0, 3))) for _ in range(rows)],
            "hist": [list(rng.randint(1, 9, 2)) for _ in range(rows)],
            "hist_w": [[0.5, 1.5]] * rows,
            "vec": [[float(i), i + 0.25] for i in range(rows)],
            "price": rng.uniform(0, 5, rows).round(3),
        }
    )


def as_text(df, separators):
    """List cells joined into text at their column's separator, as a CSV holds them."""
    out = df.copy()
    for name, separator in separators.items():
        out[name] = [separator.join(str(v) for v in cell) for cell in df[name]]
    return out


def read_all(source, features=FEATURES):
    return pd.concat(list(source.chunks(features)), ignore_index=True)


def assert_frames_equal(expected, received):
    assert list(received.columns) == list(expected.columns)
    for name in expected.columns:
        assert [np.asarray(c).tolist() for c in received[name]] == [
            np.asarray(c).tolist() for c in expected[name]
        ], name


@pytest.mark.parametrize(
    "name, expected",
    [
        ("a.csv", ("csv", None)),
        ("A.CSV.GZ", ("csv", "gzip")),
        ("a.csv.bz2", ("csv", "bz2")),
        ("a.csv.zip", ("csv", "zip")),
        ("dir.v2/a.csv.xz", ("csv", "xz")),
        ("a.parquet", ("parquet", None)),
        ("a.pq", ("parquet", None)),
        ("part-0.tfrecord", ("tfrecord", None)),
        ("part-0.tfrecords.gz", ("tfrecord", "gzip")),
        ("part-0.tfr", ("tfrecord", None)),
    ],
)
def test_detect_reads_the_suffix_table(name, expected):
    assert DataSource.detect(name) == expected


def test_suffixes_of_each_format():
    assert DataSource.suffixes("csv") == (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
    assert DataSource.suffixes("parquet") == (".parquet", ".pq")
    assert DataSource.suffixes("tfrecord") == (
        ".tfrecord",
        ".tfrecord.gz",
        ".tfrecords",
        ".tfrecords.gz",
        ".tfr",
        ".tfr.gz",
    )


def test_unknown_suffix_is_an_error_naming_the_known_ones(tmp_path):
    for name in ("part-00000", "a.parquet.gz", "a.tfrecord.zip", "a.json"):
        with pytest.raises(ValueError, match="cannot tell the format") as info:
            DataSource.detect(name)
        assert "'.csv.bz2'" in str(info.value) and "'.tfrecord'" in str(info.value)
        assert "format='csv' | 'parquet' | 'tfrecord'" in str(info.value)
    (tmp_path / "part-00000").write_text("city\nrome\n")
    with pytest.raises(ValueError, match=r"part-00000' from its name"):
        DataSource(str(tmp_path / "part-00000"))


def test_stated_format_and_compression_override_the_suffix(tmp_path):
    df = frame()
    df[["city", "price"]].to_parquet(tmp_path / "rows.csv")  # Parquet under a CSV name
    source = DataSource(str(tmp_path / "rows.csv"), format="parquet")
    assert (source.format, source.compression) == ("parquet", None)
    specs = [FEATURES[0], FEATURES[-1]]
    assert_frames_equal(df[["city", "price"]], read_all(source, specs))

    data = df[["city", "price"]].to_csv(index=False).encode()
    (tmp_path / "rows.txt").write_bytes(gzip.compress(data))  # gzip, no .gz suffix
    source = DataSource(str(tmp_path / "rows.txt"), format="csv", compression="gzip")
    assert_frames_equal(df[["city", "price"]], read_all(source, specs))
    (tmp_path / "rows.dat.gz").write_bytes(gzip.compress(data))
    assert DataSource(str(tmp_path / "rows.dat.gz"), format="csv").compression == "gzip"


@pytest.mark.parametrize("suffix", ["csv", "csv.gz", "csv.bz2", "csv.zip", "csv.xz"])
def test_csv_compressions_and_per_feature_separators(tmp_path, suffix):
    df = frame()
    separators = {"tags": ";", "hist": "/", "vec": " "}  # hist_w follows hist; others "|"
    path = str(tmp_path / f"rows.{suffix}")
    as_text(df, {**separators, "hist_w": "/"}).to_csv(path, index=False)
    source = DataSource(path, list_separator=separators, chunk_rows=4)
    assert source.compression == DataSource.detect(path)[1]
    chunks = list(source.chunks(FEATURES))
    assert [len(c) for c in chunks] == [4, 4, 2]
    received = pd.concat(chunks, ignore_index=True)
    assert_frames_equal(df, received)
    assert received["city"][0] == "007"  # a string feature stays text
    assert isinstance(received["hist"][0][0], int) and isinstance(received["vec"][0][0], float)


def test_one_separator_for_every_list_column(tmp_path):
    df = frame()
    as_text(df, {"tags": ":", "hist": ":", "hist_w": ":", "vec": ":"}).to_csv(
        tmp_path / "a.csv", index=False
    )
    assert_frames_equal(df, read_all(DataSource(str(tmp_path / "a.csv"), list_separator=":")))
    assert DataSource(str(tmp_path / "a.csv"), list_separator={"x": ";"}).separator("tags") == "|"


def test_parquet_chunks_and_row_count(tmp_path):
    df = frame(10)
    df.iloc[:3].to_parquet(tmp_path / "a.parquet")
    df.iloc[3:].to_parquet(tmp_path / "b.parquet")
    source = DataSource(str(tmp_path / "*.parquet"), chunk_rows=4)
    assert source.files == (str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"))
    assert source.num_rows() == 10
    chunks = list(source.chunks(FEATURES))
    assert [len(c) for c in chunks] == [3, 4, 3]  # file by file, 4 rows at most
    assert_frames_equal(df, pd.concat(chunks, ignore_index=True))


def test_tfrecord_chunks_plain_and_gzip(tmp_path):
    df = frame(10)
    (file,) = write_tfrecords(df, str(tmp_path / "t"), FEATURES)
    with open(file, "rb") as f:
        (tmp_path / "z.tfrecord.gz").write_bytes(gzip.compress(f.read()))
    for path, compression in ((file, None), (str(tmp_path / "z.tfrecord.gz"), "gzip")):
        source = DataSource(path, chunk_rows=4)
        assert (source.format, source.compression, source.num_rows()) == (
            "tfrecord",
            compression,
            None,
        )
        chunks = list(source.chunks(FEATURES))
        assert [len(c) for c in chunks] == [4, 4, 2]
        received = pd.concat(chunks, ignore_index=True)
        assert received["city"].tolist() == df["city"].tolist()
        assert [list(c) for c in received["hist"]] == [h + [0] for h in df["hist"]]  # padded


def test_bad_arguments_and_files(tmp_path):
    df = frame(3)
    df.to_parquet(tmp_path / "a.parquet")
    df.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(ValueError, match=r"expected files of one format at .*a.parquet.*b.csv"):
        DataSource(str(tmp_path / "*"))
    with pytest.raises(ValueError, match=r"format in \('auto', 'csv', 'parquet', 'tfrecord'\)"):
        DataSource(str(tmp_path / "a.parquet"), format="json")
    with pytest.raises(ValueError, match=r"compression in \('auto', None\) for parquet files"):
        DataSource(str(tmp_path / "a.parquet"), compression="gzip")
    with pytest.raises(ValueError, match=r"Received: compression='snappy'"):
        DataSource(str(tmp_path / "b.csv"), compression="snappy")
    with pytest.raises(ValueError, match=r"Received: chunk_rows=0"):
        DataSource(str(tmp_path / "b.csv"), chunk_rows=0)
    with pytest.raises(ValueError, match=r"Received: list_separator\['tags'\]=''"):
        DataSource(str(tmp_path / "b.csv"), list_separator={"tags": ""})
    with pytest.raises(FileNotFoundError, match="none-"):
        DataSource(str(tmp_path / "none-*.csv"))
    for name in ("a.parquet", "b.csv"):
        source = DataSource(str(tmp_path / name))
        with pytest.raises(KeyError, match=rf"{name}: expected columns \['click'\]"):
            source.check_columns(["city", "click"])
        with pytest.raises(KeyError, match=rf"{name}: expected columns \['click'\]"):
            next(source.chunks(FEATURES + [SparseFeat("click")]))
    assert repr(DataSource(str(tmp_path / "b.csv"))) == (
        f"DataSource({os.path.join(str(tmp_path), 'b.csv')!r}, format='csv', "
        "compression=None, 1 files)"
    )


def test_uris_are_read_through_pyarrow_file_systems(tmp_path):
    df = frame(5)
    as_text(df, {"tags": "|", "hist": "|", "hist_w": "|", "vec": "|"}).to_csv(
        tmp_path / "a.csv.gz", index=False
    )
    df.to_parquet(tmp_path / "b.parquet")
    csv = DataSource(f"file://{tmp_path}/a.csv.gz")
    assert csv.files == (f"file://{tmp_path}/a.csv.gz",)
    assert_frames_equal(df, read_all(csv))
    parquet = DataSource(f"file://{tmp_path}/*.parquet")
    assert parquet.num_rows() == 5
    assert_frames_equal(df, read_all(parquet))

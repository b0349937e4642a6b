"""_arrow_read: CSV / Parquet files in DataFrames of a fixed number of rows."""

import zipfile

import pandas as pd
import pyarrow as pa
import pytest

from keras_mtl.data import _arrow_read
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat


def test_rechunked_gives_tables_of_the_asked_rows():
    batches = [
        pa.RecordBatch.from_pydict({"x": list(range(a, b))}) for a, b in ((0, 3), (3, 4), (4, 11))
    ]
    tables = list(_arrow_read._rechunked(batches, 4))
    assert [t.column("x").to_pylist() for t in tables] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10],
    ]
    assert list(_arrow_read._rechunked([], 4)) == []


def test_split_list_cells_by_kind_and_separator():
    df = pd.DataFrame(
        {
            "ids": ["3;5", "", None],
            "words": ["x/y", "z", ""],
            "free": ["1|2", "30", ""],  # no dtype, every value an integer: ints
            "vec": ["0.5,1", "2,3", "4,5"],
        }
    )
    features = [
        VarLenSparseFeat("ids", maxlen=2, dtype="int64"),
        VarLenSparseFeat("words", maxlen=2, dtype="string"),
        VarLenSparseFeat("free", maxlen=2),
        DenseFeat("vec", dimension=2),
        SparseFeat("city"),  # not a list, not in the frame: left alone
    ]
    separators = {"ids": ";", "words": "/", "vec": ","}
    out = _arrow_read.split_list_cells(df, features, lambda n: separators.get(n, "|"))
    assert out["ids"].tolist() == [[3, 5], [], []]
    assert out["words"].tolist() == [["x", "y"], ["z"], []]
    assert out["free"].tolist() == [[1, 2], [30], []]
    assert out["vec"].tolist() == [[0.5, 1.0], [2.0, 3.0], [4.0, 5.0]]
    mixed = pd.DataFrame({"free": ["1|b"]})
    assert _arrow_read.split_list_cells(mixed, features[2:3], lambda n: "|")["free"][0] == [
        "1",
        "b",
    ]


def test_bad_list_cell_names_the_column_and_separator():
    df = pd.DataFrame({"ids": ["3;x"]})
    with pytest.raises(ValueError, match=r"column 'ids': expected int values .* separated by ';'"):
        _arrow_read.split_list_cells(
            df, [VarLenSparseFeat("ids", maxlen=2, dtype="int64")], lambda n: ";"
        )


def test_zip_must_hold_one_csv_and_header_names(tmp_path):
    path = tmp_path / "two.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "x\n1\n")
        archive.writestr("b.csv", "x\n2\n")
    with pytest.raises(ValueError, match=r"one CSV file. Received \['a.csv', 'b.csv'\]"):
        _arrow_read.column_names(str(path), "csv", "zip")
    (tmp_path / "h.csv").write_text("b,a\n1,2\n")
    assert _arrow_read.column_names(str(tmp_path / "h.csv"), "csv", None) == ["b", "a"]
    assert _arrow_read.feature_columns(
        [SparseFeat("c"), VarLenSparseFeat("s", maxlen=2, weight_name="w")]
    ) == ["c", "s", "w"]

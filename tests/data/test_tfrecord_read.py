"""_tfrecord_read: TFRecord files in DataFrames; specs without dtype take the records'."""

import pandas as pd

from keras_mtl.data import _tfrecord_read
from keras_mtl.data import write_tfrecords
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat


def test_chunks_take_dtypes_from_the_first_record(tmp_path):
    df = pd.DataFrame(
        {
            "item": [3, 1, 2, 5, 4],
            "city": ["a", "b", "", "c", "d"],
            "tags": [["x"], [], ["y", "z"], ["x"], []],
            "price": [0.5, 1.0, 1.5, 2.0, 2.5],
        }
    )
    specs = [
        SparseFeat("item"),
        SparseFeat("city"),
        VarLenSparseFeat("tags", maxlen=2),
        DenseFeat("price"),
    ]
    files = write_tfrecords(df, str(tmp_path / "t"), specs, rows_per_file=3)
    assert _tfrecord_read._first_kinds(files[0], None) == {
        "item": "int64",
        "city": "string",
        "tags": "string",
        "price": "float",
    }
    chunks = list(_tfrecord_read.chunks(files, specs, None, 2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    out = pd.concat(chunks, ignore_index=True)
    # the two files are read in parallel: records alternate, rows 0, 3, 1, 4, 2
    order = [0, 3, 1, 4, 2]
    assert out["item"].tolist() == df["item"][order].tolist()
    assert out["city"].tolist() == df["city"][order].tolist()
    assert [list(t) for t in out["tags"]] == [["x", ""], ["x", ""], ["", ""], ["", ""], ["y", "z"]]
    assert out["price"].tolist() == df["price"][order].tolist()
    assert _tfrecord_read.COMPRESSION_TYPES == {None: "", "gzip": "GZIP", "zlib": "ZLIB"}

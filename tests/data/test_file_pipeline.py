"""_file_pipeline: the checks before and the length / prefetch after every file dataset."""

import pandas as pd
import pytest
import tensorflow as tf

from keras_mtl.data import _file_pipeline
from keras_mtl.features import SparseFeat

FEATURES = [SparseFeat("item", vocabulary_size=5)]


def test_open_files_checks_before_reading(tmp_path):
    pd.DataFrame({"item": [1]}).to_csv(tmp_path / "a.csv", index=False)
    path = str(tmp_path / "a.csv")
    source, features = _file_pipeline.open_files(path, "csv", FEATURES, 2, None, chunk_rows=3)
    assert (source.format, source.files, source.chunk_rows) == ("csv", (path,), 3)
    assert features == tuple(FEATURES)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        _file_pipeline.open_files(path, "csv", FEATURES, 0, None)
    with pytest.raises(ValueError, match="Received: num_rows=True"):
        _file_pipeline.open_files(path, "csv", FEATURES, 2, True)
    with pytest.raises(FileNotFoundError, match="nothing"):
        _file_pipeline.open_files(str(tmp_path / "nothing*"), "csv", FEATURES, 2, None)


def test_finish_gives_the_length_in_batches():
    ds = tf.data.Dataset.range(10).batch(4)
    assert int(_file_pipeline.finish(ds, 4, 10, False).cardinality()) == 3
    assert int(_file_pipeline.finish(ds, 4, 10, True).cardinality()) == 2
    unknown = ds.filter(lambda x: True)
    assert int(_file_pipeline.finish(unknown, 4, None, False).cardinality()) == -2
    assert [b.numpy().tolist() for b in _file_pipeline.finish(ds, 4, 10, False)][-1] == [8, 9]

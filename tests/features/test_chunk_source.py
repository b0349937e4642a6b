"""ChunkSource: the protocol adapt reads rows through (keras_mtl.data.DataSource is one)."""

import pandas as pd
import pytest

import keras_mtl
from keras_mtl.features import ChunkSource
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import adapt


class Rows:
    def __init__(self, *frames):
        self.frames = frames
        self.asked = []

    def chunks(self, features):
        self.asked.append(tuple(s.name for s in features))
        return iter(self.frames)


def test_any_object_with_chunks_is_a_source():
    assert isinstance(Rows(), ChunkSource)
    assert not isinstance(pd.DataFrame(), ChunkSource)
    assert not isinstance("train.csv", ChunkSource)
    assert issubclass(keras_mtl.data.DataSource, ChunkSource)


def test_adapt_reads_the_chunks_it_asks_for():
    source = Rows(
        pd.DataFrame({"c": ["x", "y", "x"], "v": [1.0, 2.0, 3.0]}),
        pd.DataFrame({"c": ["y", "y"], "v": [4.0, 5.0]}),
    )
    c, v = adapt([SparseFeat("c"), DenseFeat("v", normalize=True)], source)
    assert source.asked == [("c", "v")]
    assert c.vocabulary == ("y", "x")
    assert (v.mean, v.variance) == pytest.approx((3.0, 2.0))

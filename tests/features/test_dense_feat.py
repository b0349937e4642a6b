"""DenseFeat: validation, statistics, config."""

import dataclasses
import doctest
import math

import pytest

from keras_mtl.features import DenseFeat
from keras_mtl.features import dense_feat
from tests.spec_check import check_config_round_trip
from tests.spec_check import check_invalid_arguments


def test_defaults():
    spec = DenseFeat("age")
    assert (spec.dimension, spec.log1p, spec.normalize) == (1, False, False)
    assert spec.mean is None and spec.variance is None
    assert spec.is_adapted


def test_normalize_without_statistics_is_not_adapted():
    spec = DenseFeat("age", normalize=True)
    assert not spec.is_adapted
    adapted = spec.replace(mean=40.0, variance=100.0)
    assert adapted.is_adapted and not spec.is_adapted


def test_statistics_imply_normalize_and_become_floats():
    spec = DenseFeat("age", mean=3, variance=4)
    assert spec.normalize is True
    assert spec.mean == 3.0 and type(spec.mean) is float
    assert spec.variance == 4.0 and type(spec.variance) is float
    assert spec.is_adapted


def test_zero_variance_is_allowed():
    assert DenseFeat("const", mean=1.0, variance=0.0).variance == 0.0


def test_spec_is_immutable():
    spec = DenseFeat("age")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.log1p = True
    assert spec.log1p is False


INVALID = [
    ({"dimension": 0}, r"Received: dimension=0"),
    ({"dimension": 1.5}, r"Received: dimension=1\.5"),
    ({"mean": 1.0}, r"both mean and variance.*mean=1\.0, variance=None"),
    ({"variance": 2.0}, r"mean=None, variance=2\.0"),
    ({"mean": 0.0, "variance": -1.0}, r"Received: variance=-1\.0"),
    ({"mean": 0.0, "variance": math.nan}, r"Received: variance=nan"),
    ({"mean": math.inf, "variance": 1.0}, r"Received: mean=inf"),
]


def test_invalid_arguments_name_the_feature_and_received_value(subtests):
    check_invalid_arguments(subtests, DenseFeat, "x", INVALID)


def test_invalid_name():
    with pytest.raises(ValueError, match=r"Received: name=''"):
        DenseFeat("")


def test_config_round_trip(subtests):
    specs = [
        DenseFeat("a"),
        DenseFeat("b", dimension=3, log1p=True),
        DenseFeat("c", normalize=True),
        DenseFeat("d", log1p=True, mean=1.5, variance=0.25),
    ]
    check_config_round_trip(subtests, specs)


def test_docstring_example():
    result = doctest.testmod(dense_feat, verbose=False)
    assert result.attempted == 2 and result.failed == 0

"""Every `Example:` in the package's docstrings runs and prints what it says."""

import doctest
import importlib
import pkgutil

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import keras_mtl

# TensorFlow Recommenders imports only on tf_keras 2; on Keras 3,
# tests/integrations/test_tfrs.py checks the ImportError instead.
LEGACY_ONLY = ("keras_mtl.integrations.tfrs",)
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(keras_mtl.__path__, prefix="keras_mtl.")
    if tf.keras.__name__.startswith("tf_keras") or not info.name.startswith(LEGACY_ONLY)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    globs = {
        **vars(module),
        "tf": tf,
        "np": np,
        "pd": pd,
        "keras_mtl": keras_mtl,
        "SparseFeat": keras_mtl.SparseFeat,
        "DenseFeat": keras_mtl.DenseFeat,
    }
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name, globs=globs):
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) failed in {name}"


def test_every_public_class_and_builder_has_an_example():
    missing = []
    names = ["SparseFeat", "DenseFeat", "VarLenSparseFeat", "MultiTaskModel"]
    assert len(keras_mtl.models.__all__) >= 12
    for name in names + list(keras_mtl.models.__all__):
        if ">>>" not in (getattr(keras_mtl, name).__doc__ or ""):
            missing.append(name)
    for name in keras_mtl.layers.__all__:
        if ">>>" not in (getattr(keras_mtl.layers, name).__doc__ or ""):
            missing.append(name)
    assert not missing

"""Every `Example:` in the package's docstrings runs and prints what it says."""

import doctest
import importlib
import pkgutil

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import keras_mtl

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(keras_mtl.__path__, prefix="keras_mtl.")
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
    for name in ("SparseFeat", "DenseFeat", "VarLenSparseFeat", "MultiTaskModel",
                 "SharedBottom", "OMoE", "MMoE", "ESMM", "AITM", "ESM2", "MetaHeac"):
        if ">>>" not in (getattr(keras_mtl, name).__doc__ or ""):
            missing.append(name)
    for name in keras_mtl.layers.__all__:
        if ">>>" not in (getattr(keras_mtl.layers, name).__doc__ or ""):
            missing.append(name)
    assert not missing

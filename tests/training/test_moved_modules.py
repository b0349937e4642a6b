"""Modules that moved out of keras_mtl/training/ still import by their old paths."""

import importlib

import pytest

from keras_mtl import training


@pytest.mark.parametrize("old", sorted(training.MOVED_MODULES))
def test_old_module_path_is_the_new_module(old):
    moved = importlib.import_module(f"keras_mtl.training.{old}")
    assert moved is importlib.import_module(training.MOVED_MODULES[old])


def test_old_names_still_import():
    import keras_mtl
    from keras_mtl.training.focal_loss import FocalLoss
    from keras_mtl.training.losses import masked_loss
    from keras_mtl.training.mamdr import MAMDR

    assert FocalLoss is keras_mtl.losses.FocalLoss
    assert masked_loss is keras_mtl.losses.masked.masked_loss
    assert MAMDR is keras_mtl.training.procedures.MAMDR

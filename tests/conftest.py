"""Shared test settings: quiet TF, deterministic seeds, Keras flavour info."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf

LEGACY_KERAS = tf.keras.__name__.startswith("tf_keras")


def pytest_report_header(config):
    return f"tf.keras is {tf.keras.__name__} ({'tf_keras 2' if LEGACY_KERAS else 'Keras 3'})"


@pytest.fixture(autouse=True)
def _seed():
    tf.keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield
    if LEGACY_KERAS:
        tf.keras.backend.clear_session()
    else:  # Keras 3's default also runs gc.collect(), ~0.2 s a test
        tf.keras.backend.clear_session(free_memory=False)

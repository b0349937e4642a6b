"""Domain-balanced batches for MAMDR."""

import numpy as np
import pandas as pd
import pytest

import keras_mtl
from keras_mtl.data import domain_balanced_dataset

FEATURES = [keras_mtl.SparseFeat("domain", vocabulary_size=3), keras_mtl.DenseFeat("x")]


def _frame():
    domain = np.array([0] * 20 + [1] * 5 + [2] * 2 + [7], "int64")  # 7: unknown domain
    return pd.DataFrame(
        {
            "domain": domain,
            "x": np.arange(len(domain), dtype="float32"),
            "y": np.arange(len(domain)) % 2,
        }
    )


def test_every_batch_holds_batch_size_rows_of_each_domain():
    df = _frame()
    batches = list(domain_balanced_dataset(df, FEATURES, ["y"], "domain", 3, batch_size=4, seed=0))
    assert len(batches) == 3  # ceil(27 known rows / (3 domains · 4))
    seen = {d: set() for d in range(3)}
    for x, y in batches:
        assert np.bincount(x["domain"].numpy(), minlength=3).tolist() == [4, 4, 4]
        for d, value in zip(x["domain"].numpy(), x["x"].numpy()):
            assert df["domain"][int(value)] == d  # rows keep their own values
            seen[d].add(float(value))
        np.testing.assert_array_equal(y["y"].numpy(), x["x"].numpy() % 2)
    assert seen[2] == {25.0, 26.0}  # the small domain's rows recur
    assert 27.0 not in set().union(*seen.values())  # the unknown domain is left out


def test_balanced_dataset_rejects_frames_without_known_domains():
    with pytest.raises(ValueError, match=r"domain ids in \[0, 3\)"):
        domain_balanced_dataset(_frame().tail(1), FEATURES, ["y"], "domain", 3)

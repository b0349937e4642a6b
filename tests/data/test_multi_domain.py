"""The synthetic multi-domain generator."""

import numpy as np
import pandas as pd
import pytest

from keras_mtl.data import make_multi_domain
from keras_mtl.evaluation import roc_auc

SIZES = (600, 300, 100)


def test_columns_sizes_and_types():
    df = make_multi_domain(
        domain_sizes=SIZES,
        num_dense=3,
        num_items=7,
        task_names=("ctr", "cvr"),
        with_logits=True,
        seed=1,
    )
    assert list(df.columns) == [
        "domain",
        "x0",
        "x1",
        "x2",
        "item",
        "ctr",
        "ctr_logit",
        "cvr",
        "cvr_logit",
    ]
    assert df["domain"].value_counts().sort_index().tolist() == list(SIZES)
    assert df["domain"].dtype == "int64" and df["item"].dtype == "int64"
    assert df["item"].between(0, 6).all()
    assert df["x0"].dtype == "float32"
    for task in ("ctr", "cvr"):
        assert set(df[task].unique()) <= {0.0, 1.0}
        assert 0.2 < df[task].mean() < 0.8
    assert not df["domain"].is_monotonic_increasing  # rows are shuffled


def test_same_seed_same_data_other_seed_other_data():
    a = make_multi_domain(domain_sizes=SIZES, seed=3)
    pd.testing.assert_frame_equal(a, make_multi_domain(domain_sizes=SIZES, seed=3))
    assert not a.equals(make_multi_domain(domain_sizes=SIZES, seed=4))


def _transfer_auc(df, source, target):
    """AUC on domain `target` of a least-squares fit of the logit on `source`."""
    columns = [c for c in df.columns if c.startswith("x")]
    fit = df[df["domain"] == source]
    weights, *_ = np.linalg.lstsq(fit[columns].to_numpy(), fit["ctr_logit"].to_numpy(), rcond=None)
    part = df[df["domain"] == target]
    return roc_auc(part["ctr"], part[columns].to_numpy() @ weights)


def test_domain_specificity_controls_how_much_domains_share():
    kwargs = dict(domain_sizes=(4000, 4000), num_items=1, signal=3.0, with_logits=True, seed=0)
    alike = make_multi_domain(domain_specificity=0.0, **kwargs)
    apart = make_multi_domain(domain_specificity=1.0, **kwargs)
    # the true logit predicts well; domain 0's direction carries over only when shared
    assert roc_auc(alike["ctr"], alike["ctr_logit"]) > 0.8
    assert _transfer_auc(alike, 0, 1) > 0.8
    assert _transfer_auc(apart, 0, 1) < _transfer_auc(apart, 1, 1) - 0.15


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"domain_sizes": (10,)}, "at least two positive domain sizes"),
        ({"domain_sizes": (10, 0)}, "domain_sizes=\\(10, 0\\)"),
        ({"num_dense": 0}, "num_dense=0"),
        ({"domain_specificity": 1.5}, "domain_specificity"),
        ({"signal": -1}, "signal=-1"),
        ({"task_names": ("a", "a")}, "unique task names"),
    ],
)
def test_generator_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_multi_domain(**kwargs)

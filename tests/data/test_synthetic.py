"""The synthetic funnel: seeded, nested labels, rates as asked, features that matter."""

import numpy as np
import pytest

from keras_mtl.data import synthetic


@pytest.fixture(scope="module")
def df():
    return synthetic.funnel_data(rows=20000, seed=3)


def test_same_seed_same_frame_other_seed_other_frame():
    first = synthetic.funnel_data(rows=300, seed=5)
    assert first.equals(synthetic.funnel_data(rows=300, seed=5))
    assert not first.equals(synthetic.funnel_data(rows=300, seed=6))


def test_columns_and_dtypes(df):
    assert tuple(df.columns) == synthetic.FEATURE_COLUMNS + synthetic.LABEL_COLUMNS
    assert df["item_id"].dtype == np.int64
    assert df["price"].dtype == df["click"].dtype == np.float32
    assert df["user_id"].str.startswith("u").all()
    for label in synthetic.LABEL_COLUMNS:
        assert set(np.unique(df[label])) <= {0.0, 1.0}


def test_funnel_steps_are_nested(df):
    assert (df.action <= df.click).all()
    assert (df.purchase <= df.click).all()
    strict = synthetic.funnel_data(rows=5000, seed=3, purchase_after_other_rate=0.0)
    assert (strict.purchase <= strict.action).all() and strict.purchase.sum() > 0


def test_rates_set_the_sparsity(df):
    clicked, acted = df.click == 1, df.action == 1
    other = clicked & ~acted
    assert df.click.mean() == pytest.approx(0.2, abs=0.01)
    assert df.action[clicked].mean() == pytest.approx(0.3, abs=0.02)
    assert df.purchase[acted].mean() == pytest.approx(0.3, abs=0.04)
    assert df.purchase[other].mean() == pytest.approx(0.03, abs=0.01)
    sparse = synthetic.funnel_data(rows=20000, seed=3, click_rate=0.02)
    assert sparse.click.mean() == pytest.approx(0.02, abs=0.005)


def test_labels_depend_on_the_features_unless_signal_is_zero(df):
    def spread(frame):  # click rate of the most vs. the least clicked categories
        rates = frame.groupby("category").click.mean().sort_values()
        return rates.iloc[-3:].mean() - rates.iloc[:3].mean()

    assert spread(df) > 0.15
    assert spread(synthetic.funnel_data(rows=20000, seed=3, signal=0.0)) < 0.05


@pytest.mark.parametrize(
    "kwargs, message",
    [({"rows": 0}, "rows=0"), ({"click_rate": 1.0}, "click_rate=1.0"),
     ({"num_items": 2.5}, "num_items=2.5")],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthetic.funnel_data(**kwargs)

"""The synthetic funnel: seeded, nested labels, rates as asked, features that matter."""

import numpy as np
import pandas as pd
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
    assert tuple(df.columns) == (
        synthetic.FEATURE_COLUMNS + synthetic.LABEL_COLUMNS + synthetic.TRUTH_COLUMNS
    )
    assert df["true_cvr"].dtype == np.float32
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
    [
        ({"rows": 0}, "rows=0"),
        ({"click_rate": 1.0}, "click_rate=1.0"),
        ({"num_items": 2.5}, "num_items=2.5"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthetic.funnel_data(**kwargs)


def test_seeds_give_the_frames_they_gave_before_true_cvr_was_added():
    # figures of funnel_data(rows=3000, seed=3) taken before the true_cvr column existed
    df = synthetic.funnel_data(rows=3000, seed=3)
    assert (df.click.sum(), df.action.sum(), df.purchase.sum()) == (598, 188, 80)
    assert df.item_id.head(5).tolist() == [66, 50, 430, 366, 366]
    assert float(df.price.sum()) == pytest.approx(77479.2421875, rel=1e-7)


def test_true_cvr_is_the_conversion_rate_of_clicks_and_differs_off_the_clicks(df):
    clicked = df.click == 1
    # the labels were drawn from it: on clicks, purchases follow true_cvr, by quintile too
    assert df.purchase[clicked].mean() == pytest.approx(df.true_cvr[clicked].mean(), abs=0.01)
    quintile = pd.qcut(df.true_cvr[clicked], 5, labels=False)
    by_bin = df[clicked].groupby(quintile).agg(rate=("purchase", "mean"), p=("true_cvr", "mean"))
    np.testing.assert_allclose(by_bin.rate, by_bin.p, atol=0.04)
    # selection bias: impressions that were not clicked would convert less
    assert df.true_cvr[~clicked].mean() < 0.5 * df.true_cvr[clicked].mean()
    assert df.true_cvr.between(0, 1).all()

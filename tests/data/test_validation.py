"""Bad DataFrames fail early with errors that name the column and rows."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import keras_mtl
from keras_mtl.data import df_to_dataset

FEATURES = keras_mtl.features.adapt(
    [
        keras_mtl.SparseFeat("color", embedding_dim=2),
        keras_mtl.SparseFeat("size", embedding_dim=2),
        keras_mtl.DenseFeat("price", normalize=True),
    ],
    pd.DataFrame({"color": ["red", "blue", "red"], "size": [1, 2, 3], "price": [1.0, 2.0, 4.0]}),
)
TASKS = {"click": "binary", "time": "regression"}


def frame(**changes):
    df = pd.DataFrame(
        {
            "color": ["red", "blue", "green"],
            "size": [1, 2, 9],
            "price": [1.0, 3.0, 2.0],
            "click": [0.0, 1.0, np.nan],
            "time": [2.5, np.nan, 1.0],
        }
    )
    for column, values in changes.items():
        df[column] = values
    return df


def make(df, **kwargs):
    return df_to_dataset(df, FEATURES, ["click", "time"], task_types=TASKS, **kwargs)


@pytest.mark.parametrize(
    "df, error, message",
    [
        (frame().drop(columns="price"), KeyError, "Feature 'price'.*Received columns"),
        (frame().drop(columns="click"), KeyError, "'click'"),
        (frame(price=["1", "x", "2"]), ValueError, r"Feature 'price'.*rows \[1\]"),
        (
            frame(price=[1.0, np.nan, 2.0]),
            ValueError,
            r"Feature 'price': expected finite.*rows \[1\]",
        ),
        (frame(price=[1.0, np.inf, 2.0]), ValueError, "Feature 'price': expected finite"),
        (frame(size=["1", "big", "3"]), ValueError, r"Feature 'size': expected integer.*'big'"),
        (frame(size=[1.5, 2.0, 3.0]), ValueError, "Feature 'size': expected integer"),
        (frame(size=[1, None, 3]), ValueError, "Feature 'size'.*missing"),
        (frame(click=[0.0, 2.0, 1.0]), ValueError, r"Task 'click' is binary.*\[2.0\]"),
        (frame(click=["yes", "0", "1"]), ValueError, r"Task 'click'.*numeric labels.*'yes'"),
        (frame(time=[1.0, np.inf, 2.0]), ValueError, "Task 'time'.*finite"),
        (frame().iloc[:0], ValueError, "at least one row"),
    ],
)
def test_bad_frames_raise_clear_errors(df, error, message):
    with pytest.raises(error, match=message):
        make(df)


def test_unseen_categories_are_not_errors_and_unused_columns_follow_the_mode():
    df = frame(color=["purple", "red", None], size=[100, 1, -5], extra=[1, 2, 3])
    make(df)  # unseen values go to the OOV row
    with pytest.warns(UserWarning, match=r"\['extra'\]"):
        make(df, unused_columns="warn")
    with pytest.raises(ValueError, match=r"\['extra'\]"):
        make(df, unused_columns="error")


_MODEL = {}


def model():
    if "m" not in _MODEL:
        _MODEL["m"] = keras_mtl.MMoE(
            FEATURES,
            task_names=("click", "time"),
            task_types=("binary", "regression"),
            num_experts=2,
            expert_units=(4,),
            tower_units=(),
        )
    return _MODEL["m"]


cells = st.one_of(
    st.none(),
    st.just(np.nan),
    st.just(np.inf),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(0, 4),
    data=st.data(),
    drop=st.sampled_from([None, "color", "size", "price"]),
)
def test_malformed_frames_give_clear_errors_or_finite_predictions(rows, data, drop):
    df = pd.DataFrame(
        {
            name: data.draw(st.lists(cells, min_size=rows, max_size=rows), label=name)
            for name in ("color", "size", "price")
        }
    )
    if drop:
        df = df.drop(columns=drop)
    try:
        ds = df_to_dataset(df, FEATURES)
    except (ValueError, KeyError) as error:
        assert "Received" in str(error) or "expected" in str(error)
        return
    predictions = model().predict(ds, verbose=0)
    for values in predictions.values():
        assert np.all(np.isfinite(values))


def test_extreme_numeric_values_give_finite_predictions():
    df = pd.DataFrame({"color": ["red", "red"], "size": [1, 2], "price": [3.4e38, -3.4e38]})
    predictions = model().predict(df_to_dataset(df, FEATURES), verbose=0)
    for values in predictions.values():
        assert np.all(np.isfinite(values))

"""Census-Income (KDD): the packaged 2000 / 1000-row sample and its helpers."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_mtl.data import census_income
from keras_mtl.data import df_to_dataset
from keras_mtl.data import load_census_income
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import adapt
from keras_mtl.features import build_inputs
from keras_mtl.features import embed_features

LABELS = ("income", "never_married", "college")


@pytest.fixture(scope="module")
def census():
    return load_census_income()


def test_sample_shapes_and_columns(census):
    train, test = census
    assert train.shape == (2000, 45) and test.shape == (1000, 45)
    assert len(census_income.COLUMNS) == 42
    for df in census:
        assert list(df.columns) == list(census_income.COLUMNS) + list(LABELS)


def test_column_types(census):
    train, _ = census
    for column in census_income.NUMERIC_COLUMNS + ("instance_weight",) + LABELS:
        assert train[column].dtype == np.float32, column
    categorical = set(census_income.COLUMNS) - set(census_income.NUMERIC_COLUMNS)
    categorical.discard("instance_weight")
    assert len(categorical) == 34
    for column in categorical:
        assert pd.api.types.is_string_dtype(train[column]), column
        assert not train[column].isna().any(), column  # "?" is kept as a value
    assert train["age"].between(0, 90).all()
    assert set(train["year"]) <= {"94", "95"}


def test_labels_are_binary_and_follow_their_source_columns(census):
    for df in census:
        for label in LABELS:
            assert set(np.unique(df[label])) <= {0.0, 1.0}, label
        np.testing.assert_array_equal(df["income"] == 1, df["income_50k"] == "50000+.")
        np.testing.assert_array_equal(
            df["never_married"] == 1, df["marital_stat"] == "Never married"
        )
        assert (df.loc[df["education"] == "Children", "college"] == 0).all()
        bachelors = df["education"] == "Bachelors degree(BA AB BS)"
        assert bachelors.any() and (df.loc[bachelors, "college"] == 1).all()


def test_label_rates_match_the_full_data(census):
    # Full UCI files: about 6.2% income > 50K and 43% never married; the
    # seeded subsample lands close to that.
    for df in census:
        assert 0.04 <= df["income"].mean() <= 0.075
        assert 0.40 <= df["never_married"].mean() <= 0.46
        assert 0.2 <= df["college"].mean() <= 0.45


def test_input_columns_exclude_label_sources():
    columns = census_income.input_columns()
    assert len(columns) == 38
    excluded = {"income_50k", "marital_stat", "education", "instance_weight"}
    assert not excluded & set(columns)
    assert set(columns) | excluded == set(census_income.COLUMNS)
    assert set(census_income.NUMERIC_COLUMNS) <= set(columns)


def test_split_validation_is_one_to_one_and_deterministic(census):
    _, test = census
    test = test.assign(row=np.arange(len(test)))
    valid, rest = census_income.split_validation(test, seed=0)
    assert len(valid) == len(rest) == 500
    assert not set(valid["row"]) & set(rest["row"])
    assert sorted(set(valid["row"]) | set(rest["row"])) == list(range(1000))
    assert list(valid.index) == list(range(500))
    again, _ = census_income.split_validation(test, seed=0)
    pd.testing.assert_frame_equal(valid, again)
    other, _ = census_income.split_validation(test, seed=1)
    assert list(other["row"]) != list(valid["row"])


def test_split_validation_of_an_odd_number_of_rows():
    valid, rest = census_income.split_validation(pd.DataFrame({"row": range(7)}))
    assert (len(valid), len(rest)) == (3, 4)
    assert sorted(valid["row"].tolist() + rest["row"].tolist()) == list(range(7))


def test_missing_full_files_name_what_is_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"census-income\.data\.gz") as info:
        load_census_income(data_dir=str(tmp_path))
    assert str(tmp_path) in str(info.value)


def test_sample_runs_through_adapt_and_the_pipeline(census):
    train, test = census
    features = [
        DenseFeat(c, log1p=True, normalize=True)
        if c in census_income.NUMERIC_COLUMNS
        else SparseFeat(c, embedding_dim=2)
        for c in census_income.input_columns()
    ]
    features = adapt(features, train)
    by_name = {f.name: f for f in features}
    assert by_name["sex"].vocabulary == ("Female", "Male")  # more women in the data
    assert by_name["age"].mean > 0
    inputs = build_inputs(features)
    model = tf.keras.Model(inputs, embed_features(inputs, features))
    x, y = next(iter(df_to_dataset(test, features, labels=list(LABELS), batch_size=64)))
    out = model(x).numpy()
    assert out.shape == (64, 7 + 2 * 31)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(y["income"], test["income"][:64])

"""The expert-routing builders learn the packaged Census-Income sample."""

import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.data import census_income

TASKS = ("income", "never_married")
# A dozen informative fields of the 38: a smaller graph traces in about half
# the time, and tracing, not the 48 training steps, is what a test here costs.
COLUMNS = (
    "age",
    "class_worker",
    "det_ind_code",
    "det_occ_code",
    "sex",
    "capital_gains",
    "stock_dividends",
    "weeks_worked",
    "num_emp",
    "tax_filer_stat",
    "det_hh_fam_stat",
    "det_hh_summ",
)
SMALL = {
    "CGC": (
        keras_mtl.CGC,
        {"num_specific_experts": 1, "num_shared_experts": 1, "expert_units": (16,)},
    ),
    "PLE": (
        keras_mtl.PLE,
        {
            "num_levels": 2,
            "num_specific_experts": 1,
            "num_shared_experts": 1,
            "expert_units": (16,),
        },
    ),
    "SNR_trans": (
        keras_mtl.SNR,
        {"variant": "trans", "num_subnetworks": 2, "subnetwork_units": (16, 8)},
    ),
    "SNR_avg": (
        keras_mtl.SNR,
        {"variant": "avg", "num_subnetworks": 2, "subnetwork_units": (16, 8)},
    ),
    "CrossStitch": (keras_mtl.CrossStitch, {"column_units": (16, 8)}),
}


@pytest.fixture(scope="module")
def census():
    train_df, test_df = census_income.load_census_income()  # 2,000 / 1,000 rows
    specs = [
        keras_mtl.DenseFeat(c, log1p=True, normalize=True)
        if c in census_income.NUMERIC_COLUMNS
        else keras_mtl.SparseFeat(c, embedding_dim=3)
        for c in COLUMNS
    ]
    features = keras_mtl.features.adapt(specs, train_df)
    test_x = {
        k: tf.constant(v) for k, v in keras_mtl.data.features_to_arrays(test_df, features).items()
    }
    return train_df, test_df, test_x, features


@pytest.mark.parametrize("name", list(SMALL))
def test_trains_beyond_a_constant_predictor(name, census):
    train_df, test_df, test_x, features = census
    builder, kwargs = SMALL[name]
    model = builder(features, task_names=TASKS, tower_units=(8,), **kwargs)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01))
    model.fit(
        keras_mtl.data.df_to_dataset(
            train_df, features, TASKS, batch_size=256, shuffle=True, seed=0
        ),
        epochs=6,
        verbose=0,
    )
    predictions = model(test_x, training=False)  # one eager batch: nothing to trace
    aucs = {t: keras_mtl.evaluation.roc_auc(test_df[t], predictions[t].numpy()) for t in TASKS}
    # a constant predictor has AUC 0.5
    assert aucs["income"] > 0.8, aucs
    assert aucs["never_married"] > 0.9, aucs

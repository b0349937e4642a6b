"""The text table `keras-mtl train` prints."""

from keras_mtl.evaluation import results_table


def test_aligned_cells_with_dashes_and_nan():
    text = results_table(
        {
            "ctr": {"type": "binary", "rows": 100, "auc": 0.71234, "logloss": float("nan")},
            "spend": {"type": "regression", "rows": 7, "mse": 12.5, "mae": 3.0},
        }
    )
    assert text.splitlines() == [
        "task   type        rows     auc  logloss      mse     mae",
        "ctr    binary       100  0.7123      nan        -       -",
        "spend  regression     7       -        -  12.5000  3.0000",
    ]

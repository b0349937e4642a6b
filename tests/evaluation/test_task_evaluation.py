"""`evaluate_task` against values worked out by hand."""

import math

import numpy as np
import pytest

from keras_mtl.evaluation import evaluate_task
from keras_mtl.evaluation import evaluate_tasks


def test_binary_auc_and_logloss_by_hand():
    # The NaN-labelled row (prediction 0.9) is left out: 4 rows remain.
    result = evaluate_task("binary", [0, 1, 1, np.nan, 0], [0.2, 0.6, 0.4, 0.9, 0.5])
    assert list(result) == ["rows", "auc", "logloss"]
    assert result["rows"] == 4
    # Positive-negative pairs ranked right: 0.6>0.2, 0.6>0.5, 0.4>0.2, not 0.4<0.5.
    assert result["auc"] == pytest.approx(3 / 4, abs=1e-12)
    expected = -(math.log(0.8) + math.log(0.6) + math.log(0.4) + math.log(0.5)) / 4
    assert result["logloss"] == pytest.approx(expected, abs=1e-12)


def test_binary_ties_count_half_and_logloss_is_clipped():
    result = evaluate_task("binary", [[0], [1], [1]], [[0.5], [0.5], [0.0]])
    assert result["auc"] == pytest.approx(0.25)  # pairs: a tie (1/2) and a wrong one (0)
    clipped = -(math.log(0.5) + math.log(0.5) + math.log(1e-7)) / 3  # log(0) -> log(1e-7)
    assert result["logloss"] == pytest.approx(clipped, rel=1e-9)


def test_one_class_auc_is_nan_but_logloss_is_not():
    result = evaluate_task("binary", [1, 1, np.nan], [0.5, 0.25, 0.9])
    assert result["rows"] == 2
    assert math.isnan(result["auc"])
    assert result["logloss"] == pytest.approx(-(math.log(0.5) + math.log(0.25)) / 2)


def test_regression_mse_and_mae_by_hand():
    result = evaluate_task("regression", [1.0, 3.0, np.nan, 0.0], [2.0, 3.0, 100.0, -2.0])
    assert list(result) == ["rows", "mse", "mae"]
    assert result["rows"] == 3  # errors 1, 0, -2; the NaN-labelled row is left out
    assert result["mse"] == pytest.approx((1 + 0 + 4) / 3)
    assert result["mae"] == pytest.approx((1 + 0 + 2) / 3)


def test_no_labelled_rows_gives_rows_only():
    assert evaluate_task("binary", [np.nan, np.nan], [0.1, 0.2]) == {"rows": 0}


def test_evaluate_tasks_adds_the_type():
    results = evaluate_tasks(
        {"ctr": "binary", "spend": "regression"},
        {"ctr": [0, 1], "spend": [1.0, 2.0]},
        {"ctr": [0.25, 0.75], "spend": [1.0, 4.0]},
    )
    assert results["ctr"]["type"] == "binary" and results["ctr"]["auc"] == 1.0
    assert results["spend"] == {"type": "regression", "rows": 2, "mse": 2.0, "mae": 1.0}


def test_errors():
    with pytest.raises(ValueError, match=r"task type in \('binary', 'regression'\).*'ranking'"):
        evaluate_task("ranking", [0, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="2 predictions and 3 labels"):
        evaluate_task("regression", [0, 1, 2], [0.2, 0.3])


def test_sample_spaces_score_a_task_on_its_rows_only():
    labels = {
        "ctr": [1, 0, 1, 1, 0, 1],
        "cvr": [1, 1, 0, 0, 0, np.nan],
        "seen": np.array([1, 1, 1, 0, 0, 1]),
    }
    scores = {"ctr": [0.5] * 6, "cvr": [0.9, 0.1, 0.2, 0.8, 0.3, 0.5]}
    types = {"ctr": "binary", "cvr": "binary"}
    out = evaluate_tasks(types, labels, scores, sample_spaces={"cvr": "ctr"})
    # clicked rows 0, 2, 3 with a label: positive 0.9 above negatives 0.2 and 0.8
    assert out["cvr"]["rows"] == 3 and out["cvr"]["auc"] == 1.0
    logloss = -(math.log(0.9) + math.log(0.8) + math.log(0.2)) / 3
    assert out["cvr"]["logloss"] == pytest.approx(logloss)
    assert out["ctr"]["rows"] == 6
    by_column = evaluate_tasks(types, labels, scores, sample_spaces={"cvr": "seen"})
    assert by_column["cvr"]["rows"] == 3 and by_column["cvr"]["auc"] == 0.5  # rows 0, 1, 2
    by_array = evaluate_tasks(types, labels, scores, sample_spaces={"cvr": labels["seen"]})
    assert by_array["cvr"] == by_column["cvr"]
    with pytest.raises(KeyError, match="'click' is not among the columns"):
        evaluate_tasks(types, labels, scores, sample_spaces={"cvr": "click"})

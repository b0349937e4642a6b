"""Training logs and evaluations name a task's metrics from the same table."""

import numpy as np
import pytest

from keras_mtl.evaluation import METRICS_BY_TASK_TYPE
from keras_mtl.evaluation import default_task_metrics
from keras_mtl.evaluation import evaluate_task
from keras_mtl.evaluation import results_table
from keras_mtl.evaluation.results_table import COLUMNS
from keras_mtl.task_types import TASK_TYPES


def _labels_and_predictions(task_type):
    rng = np.random.default_rng(0)
    predictions = rng.uniform(0.05, 0.95, 400).astype("float32")
    if task_type == "binary":
        labels = (rng.uniform(size=400) < predictions).astype("float32")
    else:
        labels = (predictions + rng.normal(0, 0.3, 400)).astype("float32")
    return labels, predictions


def test_every_task_type_has_its_metrics():
    assert tuple(METRICS_BY_TASK_TYPE) == TASK_TYPES


@pytest.mark.parametrize("task_type", sorted(METRICS_BY_TASK_TYPE))
def test_keras_and_numpy_metrics_share_names_and_values(task_type):
    names = METRICS_BY_TASK_TYPE[task_type]
    keras_metrics = default_task_metrics("t", task_type)
    assert [m.name for m in keras_metrics] == [f"t_{name}" for name in names]
    labels, predictions = _labels_and_predictions(task_type)
    numpy_metrics = evaluate_task(task_type, labels, predictions)
    assert [key for key in numpy_metrics if key != "rows"] == list(names)
    for name, metric in zip(names, keras_metrics):
        metric.update_state(labels[:, None], predictions[:, None])
        # Keras' AUC interpolates over 200 thresholds; the others are exact.
        tolerance = 1e-3 if name == "auc" else 1e-5
        assert float(metric.result()) == pytest.approx(numpy_metrics[name], abs=tolerance), name


def test_the_table_has_a_column_per_metric():
    assert COLUMNS == ("task", "type", "rows", "auc", "logloss", "mse", "mae")
    header = results_table({}).split()
    assert header == list(COLUMNS)

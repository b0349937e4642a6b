"""The modules evaluation moved out of still import, as aliases of the new ones."""

import keras_mtl
from keras_mtl import evaluation
from keras_mtl.cli import evaluate as cli_evaluate
from keras_mtl.training import domain_evaluation
from keras_mtl.training import task_metrics


def test_old_paths_name_the_new_objects():
    assert keras_mtl.training.roc_auc is evaluation.roc_auc
    assert keras_mtl.training.evaluate_by_domain is evaluation.evaluate_by_domain
    assert domain_evaluation.evaluate_by_domain is evaluation.evaluate_by_domain
    assert task_metrics.default_task_metrics is evaluation.default_task_metrics
    assert task_metrics.user_task_metrics is evaluation.user_task_metrics
    assert cli_evaluate.task_metrics is evaluation.evaluate_task
    assert cli_evaluate.evaluate is evaluation.evaluate_tasks
    assert cli_evaluate.table is evaluation.results_table

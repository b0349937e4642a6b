"""Exact AUC per domain and overall, for multi-domain models."""

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Optional
from typing import Union

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl.data.dataframe import df_to_dataset
from keras_mtl.evaluation._rows import space_labels
from keras_mtl.evaluation.task_evaluation import evaluate_task

OVERALL = "all"


def evaluate_by_domain(
    model: tf.keras.Model,
    data: Union[tf.data.Dataset, pd.DataFrame],
    domain_feature: str,
    features: Optional[Sequence[FeatureSpec]] = None,
    labels: Optional[Sequence[str]] = None,
    batch_size: int = 1024,
    sample_spaces: Optional[Mapping[str, str]] = None,
) -> pd.DataFrame:
    """ROC AUC of every binary task on each domain's rows and on all rows.

    The AUC is `evaluate_task`'s: exact (`keras_mtl.evaluation.roc_auc`, equal
    to sklearn's `roc_auc_score`); rows with a NaN label are left out of that
    task, and a domain whose labels of a task are all of one class (or none)
    gets NaN. A task with a sample space is scored on its space's rows only
    (cvr on the clicks of each domain).

    Args:
        model: the model to evaluate (its outputs keyed by task name).
        data: a `tf.data.Dataset` of `(features, labels[, sample_weight])`
            batches, or a DataFrame (with `features`).
        domain_feature: the input holding domain ids.
        features: feature specs, to turn a DataFrame into inputs.
        labels: tasks to score (label keys / columns named like the tasks);
            default the model's binary tasks.
        batch_size: rows per prediction batch for a DataFrame.
        sample_spaces: `{task: indicator}` (a label or an input of the
            batches, or a DataFrame column); default the spaces the model
            was compiled with (`compile(sample_spaces=...)`), `{}` for none.

    Returns:
        A DataFrame indexed by domain id (sorted), then "all"; columns `rows`
        and `<task>_auc`.

    Example:
    >>> score = tf.keras.Input((), name="score")
    >>> domain = tf.keras.Input((), dtype="int64", name="domain")
    >>> model = tf.keras.Model({"score": score, "domain": domain},
    ...                        {"ctr": tf.keras.layers.Reshape((1,))(score)})
    >>> df = pd.DataFrame({"score": [0.1, 0.8, 0.3, 0.6, 0.4, 0.2],
    ...                    "domain": [0, 0, 0, 1, 1, 1],
    ...                    "ctr": [0.0, 1.0, 1.0, 1.0, 0.0, 1.0]})
    >>> feats = [DenseFeat("score"), SparseFeat("domain", vocabulary_size=2)]
    >>> evaluate_by_domain(model, df, "domain", features=feats,
    ...                    labels=["ctr"])["ctr_auc"].tolist()
    [1.0, 0.5, 0.75]
    """
    if labels is None:
        task_types = getattr(model, "task_types", None) or {}
        labels = [task for task, kind in task_types.items() if kind == "binary"]
        if not labels:
            raise ValueError("expected labels=[task, ...] (the model declares no binary tasks).")
    tasks = list(labels)
    if sample_spaces is None:
        state = getattr(model, "training_state", None)
        sample_spaces = state.sample_spaces.spaces if state is not None else {}
    spaces = {t: name for t, name in dict(sample_spaces).items() if t in tasks}
    indicators = sorted(set(spaces.values()))
    if isinstance(data, pd.DataFrame):
        if features is None:
            raise ValueError("evaluate_by_domain(DataFrame) expected features=[specs].")
        inputs = {spec.name for spec in features}
        extra = [name for name in indicators if name not in tasks and name not in inputs]
        data = df_to_dataset(data, features, tasks + extra, batch_size=batch_size)
    ids, truth, scores = [], {t: [] for t in tasks}, {t: [] for t in tasks}
    seen = {name: [] for name in indicators}
    for batch in data:
        x, y, _ = tf.keras.utils.unpack_x_y_sample_weight(batch)
        if domain_feature not in x:
            raise KeyError(
                f"domain_feature={domain_feature!r} is not among the inputs {sorted(x)}."
            )
        predictions = model(x, training=False)
        ids.append(np.asarray(x[domain_feature]).reshape(-1))
        for task in tasks:
            truth[task].append(np.asarray(y[task], dtype="float64").reshape(-1))
            scores[task].append(np.asarray(predictions[task], dtype="float64").reshape(-1))
        for name in indicators:
            source = y if isinstance(y, dict) and name in y else x
            if name not in source:
                raise KeyError(
                    f"sample space indicator {name!r} is neither a label nor an input of "
                    f"the batches (labels {sorted(y)}, inputs {sorted(x)})."
                )
            seen[name].append(np.asarray(source[name], dtype="float64").reshape(-1))
    ids = np.concatenate(ids)
    truth = {t: np.concatenate(v) for t, v in truth.items()}
    seen = {name: np.concatenate(v) for name, v in seen.items()}
    for task, name in spaces.items():
        truth[task] = space_labels(task, truth[task], seen[name])
    scores = {t: np.concatenate(v) for t, v in scores.items()}
    rows = []
    for domain in [*np.unique(ids), OVERALL]:
        keep = np.ones(len(ids), bool) if domain is OVERALL else ids == domain
        row = {"domain": domain if domain is OVERALL else int(domain), "rows": int(keep.sum())}
        for task in tasks:
            scored = evaluate_task("binary", truth[task][keep], scores[task][keep])
            row[f"{task}_auc"] = scored.get("auc", float("nan"))  # no "auc": no labelled rows
        rows.append(row)
    return pd.DataFrame(rows).set_index("domain")

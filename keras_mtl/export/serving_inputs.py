"""The inputs every export serves: a model's named inputs and the sample rows
(`{input name: array}`) that exports check and warm up with."""

import numpy as np


def named_inputs(model):
    """`{name: input tensor}` of a model whose inputs are a dict, as builders make."""
    if not isinstance(model.input, dict):
        raise ValueError(
            "expected a model with named inputs (a dict of tf.keras.Input, as "
            f"keras_mtl builders make). Received inputs: {model.inputs}"
        )
    return dict(model.input)


def num_rows(examples):
    """Rows in `{name: array}`; every array must have the same number."""
    counts = {name: len(np.asarray(values)) for name, values in examples.items()}
    if not counts or len(set(counts.values())) != 1 or 0 in counts.values():
        raise ValueError(
            "expected examples as {input name: array} with the same, non-zero "
            f"number of rows each (keras_mtl.data.features_to_arrays(df.head(4), "
            f"features)). Received row counts {counts}."
        )
    return next(iter(counts.values()))


def head(examples, rows):
    """The first `rows` rows of `{name: array}`."""
    return {name: np.asarray(values)[:rows] for name, values in examples.items()}

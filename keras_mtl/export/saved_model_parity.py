"""The served SavedModel against the Keras model, on sample rows, after an
export (ONNX's counterpart: `keras_mtl.export.onnx_parity`)."""

import numpy as np
import tensorflow as tf

from keras_mtl.export import precision
from keras_mtl.export.serving_inputs import named_inputs
from keras_mtl.export.serving_inputs import num_rows

#: Largest |served - keras| accepted for a float32 model: the signature runs
#: the model's own graph, so only the rounding of a traced run separates them.
ATOL = 1e-5


class SavedModelParityError(ValueError):
    """A SavedModel's signature does not return what the Keras model does."""


def _float32(value):
    return np.asarray(tf.cast(value, tf.float32))


def max_abs_diff(model, path, examples, signature_name="serving_default"):
    """`{batch size: max |served - keras|}` over every output, at batch sizes
    1 and all rows of `examples` (`{input name: array}`).

    The SavedModel at `path` (a version folder) is loaded with
    `tf.saved_model.load` and called through its signature, as TF Serving
    calls it.

    Raises:
        ValueError: `examples` lack a model input.
        SavedModelParityError: the signature's outputs are not the model's.
    """
    names = named_inputs(model)
    missing = sorted(set(names) - set(examples))
    if missing:
        raise ValueError(f"examples lack inputs {missing}. Expected: {sorted(names)}.")
    rows = num_rows(examples)
    serving = tf.saved_model.load(path).signatures[signature_name]
    diffs = {}
    for batch in sorted({1, rows}):
        inputs = {name: tf.constant(np.asarray(examples[name])[:batch]) for name in names}
        served = serving(**inputs)
        expected = model(inputs, training=False)
        if sorted(served) != sorted(expected):
            raise SavedModelParityError(
                f"{path} signature {signature_name!r} returns {sorted(served)}; expected the "
                f"model's outputs {sorted(expected)}."
            )
        diffs[batch] = max(
            float(np.max(np.abs(_float32(served[k]) - _float32(v)))) for k, v in expected.items()
        )
    return diffs


def check_parity(model, path, examples, atol=ATOL):
    """`max_abs_diff`, raising `SavedModelParityError` above `atol` (at least
    `precision.MIXED_ATOL` for a mixed precision model)."""
    if precision.is_mixed(model):
        atol = max(atol, precision.MIXED_ATOL)
    diffs = max_abs_diff(model, path, examples)
    worst = max(diffs.values())
    if not worst <= atol:  # NaN fails too
        raise SavedModelParityError(
            f"serving_default of {path} differs from the Keras model by {worst:.3g} "
            f"(max |difference| by batch size: {diffs}); expected <= {atol}."
        )
    return diffs

"""ONNX Runtime against the Keras model, on sample rows, before an export lands."""

import numpy as np
import tensorflow as tf

from keras_mtl.export.serving_inputs import num_rows


def feed(examples, specs, rows):
    """Input arrays as ONNX Runtime takes them (it reads bytes as "b'...'")."""
    arrays = {}
    for name, spec in specs.items():
        values = np.asarray(examples[name])[rows]
        if spec.dtype == tf.string:
            text = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values.ravel()]
            arrays[name] = np.array(text, dtype=object).reshape(values.shape)
        else:
            arrays[name] = values.astype(spec.dtype.as_numpy_dtype)
    return arrays


def synthetic_examples(specs, rewrites, rows=8, seed=0):
    """Rows drawn from the lookup tables' keys (and unseen values)."""
    rng = np.random.RandomState(seed)
    strings = [b"", b"<unseen>", "ünï".encode()] + [
        k for keys, _, _ in rewrites.tables.values() if keys.dtype.kind == "O" for k in keys[:1000]
    ]
    ints = [0, -1, 10**6] + [
        int(k)
        for keys, _, _ in rewrites.tables.values()
        if keys.dtype.kind == "i"
        for k in keys[:1000]
    ]
    examples = {}
    for name, spec in specs.items():
        shape = (rows,) + tuple(spec.shape[1:])
        if spec.dtype == tf.string:
            examples[name] = np.array(strings, dtype=object)[rng.randint(len(strings), size=shape)]
        elif spec.dtype.is_integer:
            examples[name] = np.array(ints)[rng.randint(len(ints), size=shape)]
        else:
            examples[name] = rng.lognormal(size=shape)
    return examples


def max_abs_diff(model, session, specs, examples):
    """`{batch size: max |onnx - keras|}` over every output, at batch sizes 1
    and all rows.

    Raises:
        ValueError: the ONNX outputs are not the model's.
    """
    names = [o.name for o in session.get_outputs()]
    rows = num_rows(examples)
    diffs = {}
    for batch in sorted({1, rows}):
        arrays = feed(examples, specs, slice(0, batch))
        expected = model({k: tf.constant(v) for k, v in arrays.items()}, training=False)
        if sorted(names) != sorted(expected):
            raise ValueError(
                f"ONNX outputs {sorted(names)} differ from the model's {sorted(expected)}."
            )
        got = dict(zip(names, session.run(names, arrays)))
        diffs[batch] = max(
            float(np.max(np.abs(got[k].reshape(np.shape(v)) - np.asarray(v))))
            for k, v in expected.items()
        )
    return diffs

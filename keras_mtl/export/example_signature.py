"""The `predict_examples` signature: serialized tf.Example in, task outputs out."""

import tensorflow as tf

#: The signature's name and its one input key.
SIGNATURE_NAME = "predict_examples"
INPUT_KEY = "examples"


def _inferred_spec(specs):
    """A parse spec from the model's inputs (see `example_function`)."""
    spec = {}
    for name, tensor_spec in specs.items():
        dtype, dims = tensor_spec.dtype, tuple(tensor_spec.shape[1:])
        if not dims:
            default = "" if dtype == tf.string else None
            spec[name] = tf.io.FixedLenFeature([], dtype, default_value=default)
        elif dtype.is_floating:
            spec[name] = tf.io.FixedLenFeature(list(dims), dtype)
        else:
            spec[name] = tf.io.VarLenFeature(dtype)
    return spec


def _parse_inferred(serialized, specs):
    from keras_mtl.data.parse_examples import fixed_width

    parsed = tf.io.parse_example(serialized, _inferred_spec(specs))
    x = {}
    for name, tensor_spec in specs.items():
        value = parsed[name]
        if isinstance(value, tf.SparseTensor):  # a list input: padded / truncated
            pad = "" if tensor_spec.dtype == tf.string else 0
            value = fixed_width(value, int(tensor_spec.shape[1]), pad)
        elif value.dtype.is_floating:
            value = tf.debugging.check_numerics(
                value, f"Feature '{name}': expected finite numbers in the tf.Example"
            )
        x[name] = value
    return x


def example_function(model, specs, features=None):
    """`examples -> model outputs` for serialized `tf.Example`s.

    With `features` (the specs the model was built from) the records are
    parsed as `keras_mtl.data.parse_examples` parses them, the layout
    `write_tfrecords` writes. Without, the layout is read from the model's
    inputs `specs`: a scalar input is one value (a missing string is `""`,
    the out-of-vocabulary row; a missing number is an error), a string or
    integer list input a list of any length padded or truncated to its
    width, and a float list input (a `DenseFeat` of `dimension` d) exactly d
    values; pass `features` when a `VarLenSparseFeat` has `weight_name`
    (its weights are a list of any length too).
    """

    def predict_examples(examples):
        if features is not None:
            from keras_mtl.data.parse_examples import parse_examples

            x = parse_examples(examples, features)
        else:
            x = _parse_inferred(examples, specs)
        return model({name: x[name] for name in specs}, training=False)

    return predict_examples


def input_signature():
    return [tf.TensorSpec([None], tf.string, name=INPUT_KEY)]

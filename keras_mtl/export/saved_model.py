"""SavedModel export in the TF Serving directory layout."""

import contextlib
import io
import os
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import numpy as np
import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl.export import example_signature as example_lib
from keras_mtl.export import sharding
from keras_mtl.export import signature
from keras_mtl.export import versions
from keras_mtl.export import warmup
from keras_mtl.export.serving_inputs import named_inputs
from keras_mtl.export.serving_inputs import num_rows
from keras_mtl.export.versions import next_version  # noqa: F401  (keras_mtl.export.next_version)


def _served_value(name, spec, value):
    """One request input, checked against its spec.

    A request whose shape is not the spec's (`[batch]` for a scalar feature,
    `[batch, d]` for `dimension=d` or `maxlen=d`; a `[batch, 1]` column
    included) or that holds NaN or inf in a float input fails with an
    InvalidArgumentError naming the feature and the shape expected.

    The shape is read as text from the runtime `tf.shape`: TensorFlow trusts
    the signature's static shape inside the graph, so a rank test or a
    reshape to that shape would be folded away.
    """
    dims = tuple(spec.shape[1:])
    expected = "[batch" + "".join(f", {d}" for d in dims) + "]"
    shape = tf.strings.reduce_join(tf.strings.as_string(tf.shape(value)), separator=",")
    pattern = r"\d+" + "".join(f",{d}" for d in dims)
    check = tf.debugging.Assert(
        tf.strings.regex_full_match(shape, pattern),
        [
            tf.strings.join(
                [
                    f"Feature '{name}': expected shape {expected}. Received shape [",
                    shape,
                    "]. Fix: send the values the DataFrame column holds, one row per example "
                    f"(numpy: values.reshape({', '.join(['-1'] + [str(d) for d in dims])})).",
                ]
            )
        ],
    )
    with tf.control_dependencies([check]):
        value = tf.identity(value)
    if value.dtype.is_floating:
        value = tf.debugging.check_numerics(
            value, f"Feature '{name}': expected finite numbers (NaN and inf are refused)"
        )
    return value


def serving_function(model, specs):
    """`features -> model outputs` as the SavedModel serves it: every input
    checked by `_served_value`, then the model in inference mode."""

    def serve(features):
        checked = {name: _served_value(name, spec, features[name]) for name, spec in specs.items()}
        return model(checked, training=False)

    return serve


def _lookup_tables(model):
    """The model's TrackableResources (the vocabulary lookups' hash tables).

    The archive must track them; tracking the model itself would also track
    its Keras variables, which Keras 3 then saves beside the `tf.Variable`s the
    endpoints use: every table twice on disk.
    """
    from tensorflow.saved_model.experimental import TrackableResource

    return [
        t for t in tf.train.TrackableView(model).descendants() if isinstance(t, TrackableResource)
    ]


def export_saved_model(
    model: tf.keras.Model,
    base_dir: Union[str, os.PathLike],
    version: Optional[int] = None,
    examples: Optional[Mapping[str, np.ndarray]] = None,
    example_signature: bool = False,
    features: Optional[Sequence[FeatureSpec]] = None,
    add_files: Optional[Callable[[str], Any]] = None,
) -> str:
    """Writes `model` as a SavedModel to `base_dir/<version>/`.

    The `serving_default` signature takes the raw features by name (the
    values a DataFrame holds: strings, ints, floats) and returns a dict keyed
    by task name; it needs neither keras_mtl nor Keras to load. Its input
    keys are the feature names exactly as the DataFrame has them
    (`capital-loss`, `work class`, `2nd_id`; see `keras_mtl.features.names`
    for the rule), and so are those of the warmup requests. With
    `examples`, TF Serving warmup requests are written to
    `assets.extra/tf_serving_warmup_requests` (see `keras_mtl.export.warmup`).
    `show_signature(path)` prints the signature and example request bodies.

    The version appears whole (`keras_mtl.export.versions`): everything is
    written into a hidden staging folder inside `base_dir`, flushed to disk
    and renamed to `base_dir/<version>`, so TF Serving's poller never loads
    a half-written version, a failed or killed export leaves no numeric
    folder, and two exports to one `base_dir` never claim the same version.
    Each variable is stored once (`variables/`), so the folder is about the
    weights' size plus a small graph.

    With `example_signature=True` a second signature, `predict_examples`,
    takes a 1-D string tensor `examples` of serialized `tf.Example`s (what
    Estimator-era TF Serving clients send) and returns the same task-named
    outputs as `serving_default` on the same rows (record layout:
    `keras_mtl.export.example_signature`, with `features` that of
    `keras_mtl.data.parse_spec`). `serving_default` and ONNX are unchanged.

    A model trained under `ParameterServerStrategy` with sharded tables
    exports its unsharded twin (`keras_mtl.export.sharding`): each table
    whole, served like any other model. Export on the coordinator, outside
    `strategy.scope()`.

    Args:
        model: a keras_mtl `MultiTaskModel` (any functional model with dict
            inputs and outputs works).
        base_dir: the model's folder in a TF Serving model base path; its
            name is the model name TF Serving serves it under.
        version: integer version; None takes the next free one.
        examples: optional `{input name: array}` of a few rows, e.g.
            `keras_mtl.data.features_to_arrays(df.head(4), features)`, for
            the warmup requests.
        example_signature: also write the `predict_examples` signature.
        features: the feature specs the model was built from, to parse the
            `tf.Example`s exactly as `keras_mtl.data.tfrecord_dataset` does;
            None reads the layout from the model's inputs.
        add_files: optional function called with the version folder while it
            is still hidden, to add files to the version (the command line
            adds the `.keras` model under `assets.extra/`).

    Returns:
        The path written.

    Example:
    >>> import os, tempfile
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = keras_mtl.MMoE(feats, num_experts=2, expert_units=(4,))
    >>> rows = {"item": np.array([3, 7]), "price": np.array([1.5, 0.2], "float32")}
    >>> base = os.path.join(tempfile.mkdtemp(), "ranker")  # --model_name=ranker
    >>> os.path.relpath(export_saved_model(model, base, examples=rows), base)
    '1'
    """
    versions.check_version(base_dir, version)  # before anything is traced or written
    if examples is not None:  # checked before anything is written
        inputs = named_inputs(model)
        num_rows(examples)
        missing = sorted(set(inputs) - set(examples))
        if missing:
            raise ValueError(
                f"examples lack inputs {missing}. Expected every model input: {sorted(inputs)}."
            )
        examples = {name: examples[name] for name in inputs}
    model = sharding.unsharded_twin(model)  # parameter servers: tables whole
    specs = signature.serving_specs(model)
    archive = tf.keras.export.ExportArchive()
    for resource in _lookup_tables(model):  # the variables come with the endpoints, once each
        archive.track(resource)
    archive.add_endpoint("serve", serving_function(model, specs), input_signature=[specs])
    if example_signature:
        archive.add_endpoint(
            example_lib.SIGNATURE_NAME,
            example_lib.example_function(model, specs, features),
            input_signature=example_lib.input_signature(),
        )
    with versions.staged_version(base_dir, version) as staged:
        with contextlib.redirect_stdout(io.StringIO()):  # tf_keras has no verbose=
            archive.write_out(staged.path)
        signature.key_signature_inputs(staged.path, specs)
        if examples is not None:
            warmup.write_warmup_requests(staged.path, examples)
        if add_files is not None:
            add_files(staged.path)
    return staged.path

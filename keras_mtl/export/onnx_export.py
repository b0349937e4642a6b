"""ONNX export through tf2onnx, checked against the Keras model."""

import collections
import contextlib
import dataclasses
import logging
import os
import shutil
import tempfile

import numpy as np
import onnx
import tensorflow as tf

from keras_mtl.export import onnx_external_data
from keras_mtl.export import precision
from keras_mtl.export import sharding
from keras_mtl.export import warmup
from keras_mtl.export.onnx_rewrites import ML_DOMAIN
from keras_mtl.export.onnx_rewrites import Rewrites
from keras_mtl.export.signature import serving_specs

MAX_OPSET = 18  # the highest opset tf2onnx 1.17 writes

# TF ops left unconverted, with the feature setting that puts them in the graph
# and what to use instead.
_FIXES = {
    "StringToHashBucketFast": (
        "in-graph hashing (hash_bins=)",
        "hash the values in the data pipeline and declare pre-encoded ids with "
        "vocabulary_size=<hash_bins> (e.g. ids = tf.strings.to_hash_bucket_fast("
        "values, hash_bins)), or use a vocabulary (vocabulary= or adapt()), "
        "which converts to an ONNX-ML CategoryMapper",
    ),
}


class OnnxExportError(ValueError):
    """The model cannot be exported to ONNX, or ONNX disagrees with Keras."""


@dataclasses.dataclass(frozen=True)
class OnnxExport:
    """What `export_onnx` wrote and how close ONNX Runtime is to Keras.

    Attributes:
        path: the .onnx file.
        opset: its ONNX opset (plus ai.onnx.ml 2 for lookups).
        max_abs_diff: `{batch size: max |onnx - keras|}` over every output.
        external_data: the weights' file beside `path` (`<path>.data`) when
            they exceed `onnx_external_data.LARGE_MODEL_BYTES`, else None.
    """

    path: str
    opset: int
    max_abs_diff: dict
    external_data: str = None


@contextlib.contextmanager
def _quiet(*names):
    """Silences loggers that report failures export_onnx explains itself."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _convert(model, specs, opset):
    import tf2onnx  # pylint: disable=import-outside-toplevel

    serve = tf.function(lambda features: model(features, training=False))
    rewrites = Rewrites(serve.get_concrete_function(specs))
    large = onnx_external_data.weight_bytes(model) > onnx_external_data.LARGE_MODEL_BYTES
    with _quiet("tf2onnx", "tensorflow"), onnx_external_data.tf2onnx_numpy2():
        proto, storage = tf2onnx.convert.from_function(
            serve,
            input_signature=[specs],
            opset=opset,
            custom_rewriter=[rewrites],
            shape_override=rewrites.shape_override,
            extra_opset=[onnx.helper.make_opsetid(ML_DOMAIN, 2)],
            large_model=large,
        )
    _fix_inputs(proto, specs, rewrites)
    return proto, rewrites, storage


def _rename_inputs(graph, specs):
    """Names the feature inputs as the features (tf2onnx uses the TensorSpec
    names, which are `internal_name`s); ONNX takes any string as a name."""
    renames = {spec.name: name for name, spec in specs.items() if spec.name != name}
    for graph_input in graph.input:
        graph_input.name = renames.get(graph_input.name, graph_input.name)
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]


def _fix_inputs(proto, specs, rewrites):
    """Keeps the features as inputs (named as the features); captured
    constants become initializers."""
    graph = proto.graph
    _rename_inputs(graph, specs)
    used = {name for node in graph.node for name in node.input}
    keep = []
    for graph_input in graph.input:
        if graph_input.name in specs:
            keep.append(graph_input)
            continue
        value = rewrites.captured_value(graph_input.name)
        if graph_input.name in used and value is not None:
            graph.initializer.append(onnx.numpy_helper.from_array(value, graph_input.name))
        elif graph_input.name in used:
            keep.append(graph_input)  # reported by _check_converted
    del graph.input[:]
    graph.input.extend(keep)


def _features_reaching(graph, node, features):
    producer = {out: n for n in graph.node for out in n.output}
    found, stack, seen = set(), list(node.input), set()
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in features:
            found.add(name)
        elif name in producer:
            stack.extend(producer[name].input)
    return sorted(found)


def _check_converted(proto, specs, rewrites):
    """Raises OnnxExportError naming the features behind unconverted TF ops."""
    graph = proto.graph
    extra_inputs = [i.name for i in graph.input if i.name not in specs]
    by_op = collections.defaultdict(set)
    for node in graph.node:
        if not onnx.defs.has(node.op_type, node.domain):
            by_op[node.op_type].update(_features_reaching(graph, node, specs))
    if not by_op and not extra_inputs and not rewrites.errors:
        return
    lines = ["Cannot export this model to ONNX (tf2onnx, opset <= 18, ONNX-ML)."]
    for op, features in sorted(by_op.items()):
        what, fix = _FIXES.get(op, ("", "use the SavedModel export for this model"))
        names = ", ".join(f"'{f}'" for f in sorted(features)) or "(no input feature)"
        lines.append(
            f"Feature(s) {names}: TensorFlow op {op}{' from ' + what if what else ''} "
            f"has no ONNX equivalent. Fix: {fix}."
        )
    if extra_inputs:
        lines.append(f"Captured tensors without a value became inputs: {extra_inputs}.")
    lines += [f"Rewrite failed: {error}" for error in rewrites.errors]
    lines.append("export_saved_model serves the model as it is.")
    raise OnnxExportError("\n".join(lines))


def _feed(examples, specs, rows):
    """Input arrays as ONNX Runtime takes them (it reads bytes as "b'...'")."""
    feed = {}
    for name, spec in specs.items():
        values = np.asarray(examples[name])[rows]
        if spec.dtype == tf.string:
            text = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values.ravel()]
            feed[name] = np.array(text, dtype=object).reshape(values.shape)
        else:
            feed[name] = values.astype(spec.dtype.as_numpy_dtype)
    return feed


def _synthetic_examples(specs, rewrites, rows=8, seed=0):
    """Rows drawn from the lookup tables' keys (and unseen values)."""
    rng = np.random.RandomState(seed)
    strings = [b"", b"<unseen>"] + [k for keys, _, _ in rewrites.tables.values()
                                    if keys.dtype.kind == "O" for k in keys]
    ints = [0, -1, 10**6] + [int(k) for keys, _, _ in rewrites.tables.values()
                             if keys.dtype.kind == "i" for k in keys]
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


def _parity(model, proto, specs, examples, atol):
    import onnxruntime  # pylint: disable=import-outside-toplevel

    source = proto if isinstance(proto, str) else proto.SerializeToString()  # a path or a proto
    session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    rows = warmup.num_rows(examples)
    diffs = {}
    for batch in sorted({1, rows}):
        feed = _feed(examples, specs, slice(0, batch))
        expected = model({k: tf.constant(v) for k, v in feed.items()}, training=False)
        if sorted(names) != sorted(expected):
            raise OnnxExportError(
                f"ONNX outputs {sorted(names)} differ from the model's {sorted(expected)}."
            )
        got = dict(zip(names, session.run(names, feed)))
        diffs[batch] = max(
            float(np.max(np.abs(got[k].reshape(np.shape(v)) - np.asarray(v))))
            for k, v in expected.items()
        )
    worst = max(diffs.values())
    if not worst <= atol:  # NaN fails too
        raise OnnxExportError(
            f"ONNX Runtime differs from the Keras model by {worst:.3g} "
            f"(max |difference| by batch size: {diffs}); expected <= {atol}. "
            "Nothing was written."
        )
    return diffs


def export_onnx(model, path, opset=MAX_OPSET, examples=None, atol=1e-5, check_memory=True):
    """Converts `model` to ONNX and checks it against Keras on sample rows.

    The serving function (`model(features, training=False)` on raw features
    by name) goes through tf2onnx, so both Keras versions convert the same
    way; inputs are named by feature, outputs by task. In-graph vocabularies
    (StringLookup / IntegerLookup) become ONNX-ML `CategoryMapper` ops;
    in-graph hashing cannot be converted and raises an `OnnxExportError`
    naming the features and the fix (pre-encoded ids). Before anything is
    written, ONNX Runtime runs the sample rows at batch size 1 and all rows;
    a difference above `atol` raises. A model whose weights exceed 1 GiB
    goes through tf2onnx's large-model path and is written with its weights
    in `<path>.data` beside it (ONNX's external-data format; a single .onnx
    protobuf cannot exceed 2 GB); keep the two files together. Feed ONNX Runtime strings as `str`
    (object arrays, as `features_to_arrays` gives them): it reads `bytes`
    as their repr, "b'red'", which every lookup maps to out-of-vocabulary.

    Args:
        model: a keras_mtl `MultiTaskModel` (any model with named inputs).
        path: the .onnx file to write.
        opset: ONNX opset, <= 18.
        examples: `{input name: array}` rows, e.g.
            `keras_mtl.data.features_to_arrays(df.head(16), features)`; None
            draws 8 rows from the lookup vocabularies and random numbers.
        check_memory: refuse, with an `OnnxExportError` saying why and what
            to do, a model whose conversion would need more memory than is
            available (`onnx_external_data.CONVERSION_MEMORY_FACTOR` times its
            weights, as measured) instead of being killed for memory.
        atol: largest accepted |onnx - keras| over every output. A model
            trained under a mixed precision policy converts as its float32
            twin (`keras_mtl.export.precision`) and is checked with at least
            `precision.MIXED_ATOL`. A model with sharded variables
            (`ParameterServerStrategy`) converts as its unsharded twin
            (`keras_mtl.export.sharding`).

    Returns:
        An `OnnxExport` with the path, opset and max |difference| by batch.

    Example:
    >>> import tempfile
    >>> model = keras_mtl.MMoE([SparseFeat("color", vocabulary=("red", "blue"))],
    ...                        task_names=("ctr",), num_experts=2, expert_units=(4,))
    >>> result = export_onnx(model, os.path.join(tempfile.mkdtemp(), "m.onnx"))
    >>> sorted(result.max_abs_diff), result.max_abs_diff[8] < 1e-5
    ([1, 8], True)
    """
    if not isinstance(opset, int) or not 13 <= opset <= MAX_OPSET:
        raise ValueError(f"expected an opset in [13, {MAX_OPSET}]. Received: opset={opset!r}")
    model = sharding.unsharded_twin(model)  # parameter servers: tables whole
    if check_memory:
        problem = onnx_external_data.check_memory(model)
        if problem:
            raise OnnxExportError(problem)
    specs = serving_specs(model)
    if precision.is_mixed(model):  # converted in float32, checked against the mixed model
        atol = max(atol, precision.MIXED_ATOL)
    proto, rewrites, storage = _convert(precision.float32_twin(model), specs, opset)
    _check_converted(proto, specs, rewrites)
    if examples is None:
        examples = _synthetic_examples(specs, rewrites)
    missing = sorted(set(specs) - set(examples))
    if missing:
        raise ValueError(f"examples lack inputs {missing}. Expected: {sorted(specs)}.")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if storage is None:
        diffs = _parity(model, proto, specs, examples, atol)
        onnx.save(proto, path)
        return OnnxExport(path=path, opset=opset, max_abs_diff=diffs)
    # over 2 GB: written with external data beside it, checked from there
    staging = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(path)))
    try:
        staged = os.path.join(staging, os.path.basename(path))
        data = onnx_external_data.save(proto, storage, staged)
        diffs = _parity(model, staged, specs, examples, atol)
        os.replace(data, path + ".data")
        os.replace(staged, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return OnnxExport(path=path, opset=opset, max_abs_diff=diffs, external_data=path + ".data")

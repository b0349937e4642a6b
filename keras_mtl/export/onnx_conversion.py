"""A model's serving function through tf2onnx, its tables kept out of it.

tf2onnx 1.17 holds many times the weights it converts (frozen constants,
serialized graph copies, numpy constant folding, a deep copy of the whole
graph before each optimizer). `convert` therefore traces the model with every
feature embedding table as a function input (`SparseEmbedding.feeding_tables`),
so tf2onnx converts the graph and the small weights only; `attach_tables`
then turns those inputs into initializers named after the tables'
variables, whose bytes the export writes itself, block by block
(`keras_mtl.export.table_source`).
"""

import collections
import contextlib
import logging

import numpy as np
import tensorflow as tf

from keras_mtl.export import onnx_external_data
from keras_mtl.export import onnx_farmhash
from keras_mtl.export.onnx_rewrites import ML_DOMAIN
from keras_mtl.export.onnx_rewrites import Rewrites
from keras_mtl.layers.sparse_embedding import SparseEmbedding
from keras_mtl.optional_import import optional_import

onnx = optional_import("onnx", "onnx", "ONNX export")
TensorProto = onnx.TensorProto

_TABLE_INPUT = "keras_mtl_table_{}"


class ConversionError(ValueError):
    """tf2onnx left TF ops unconverted (the message names the features)."""


@contextlib.contextmanager
def _quiet(*names):
    """Silences loggers that report failures the export explains itself."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def trace(traced_model, specs, tables, table_dtype):
    """The serving function with the tables as inputs, and its `Rewrites`.

    Args:
        traced_model: the model whose graph is converted (the model or its
            `conversion_twin`).
        specs: `{input name: TensorSpec}` of the features.
        tables: `TableSource`s; each feeds the layer of `traced_model` with
            its layer's name.
        table_dtype: the tables' dtype as stored ("float32" or "float16").

    Returns:
        `(function, input_signature, rewrites)`.
    """
    layers = [traced_model.get_layer(t.layer.name) for t in tables]
    table_specs = {
        _TABLE_INPUT.format(i): tf.TensorSpec(
            (None, t.shape[1]), table_dtype, name=_TABLE_INPUT.format(i)
        )
        for i, t in enumerate(tables)
    }

    def serve(features, fed):
        with SparseEmbedding.feeding_tables(
            {layer: fed[_TABLE_INPUT.format(i)] for i, layer in enumerate(layers)}
        ):
            return traced_model(features, training=False)

    function = tf.function(serve)
    signature = [specs, table_specs]
    rewrites = Rewrites(function.get_concrete_function(*signature))
    return function, signature, rewrites


def convert(function, signature, rewrites, opset):
    """tf2onnx on the traced function: `(ModelProto, external storage or None)`.

    The storage is tf2onnx's own, used when the weights it converts exceed
    `onnx_external_data.LARGE_MODEL_BYTES`.
    """
    tf2onnx = optional_import("tf2onnx", "onnx", "ONNX export")

    concrete = function.get_concrete_function(*signature)
    captured = sum(int(np.prod(v.shape)) * v.dtype.size for v in concrete.graph.variables)
    large = captured > onnx_external_data.LARGE_MODEL_BYTES
    with _quiet("tf2onnx", "tensorflow"), onnx_external_data.tf2onnx_numpy2():
        proto, storage = tf2onnx.convert.from_function(
            function,
            input_signature=signature,
            opset=opset,
            custom_rewriter=[rewrites],
            shape_override=rewrites.shape_override,
            extra_opset=[onnx.helper.make_opsetid(ML_DOMAIN, 2)],
            large_model=large,
        )
    return proto, storage


def _rename(graph, renames):
    for value in graph.input:
        value.name = renames.get(value.name, value.name)
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]


def fix_inputs(proto, specs, rewrites, tables):
    """Names the feature inputs as the features and the table inputs as the
    tables (tf2onnx uses the TensorSpec names); captured constants become
    initializers. ONNX takes any string as a name."""
    graph = proto.graph
    renames = {spec.name: name for name, spec in specs.items() if spec.name != name}
    renames.update({_TABLE_INPUT.format(i): t.name for i, t in enumerate(tables)})
    _rename(graph, renames)
    keep_names = set(specs) | {t.name for t in tables}
    used = {name for node in graph.node for name in node.input}
    keep = []
    for graph_input in graph.input:
        if graph_input.name in keep_names:
            keep.append(graph_input)
            continue
        value = rewrites.captured_value(graph_input.name)
        if graph_input.name in used and value is not None:
            graph.initializer.append(onnx.numpy_helper.from_array(value, graph_input.name))
        elif graph_input.name in used:
            keep.append(graph_input)  # reported by check_converted
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


def check_converted(proto, specs, rewrites, tables):
    """Raises `ConversionError` naming the features behind unconverted TF ops."""
    graph = proto.graph
    known = set(specs) | {t.name for t in tables}
    extra_inputs = [i.name for i in graph.input if i.name not in known]
    by_op = collections.defaultdict(set)
    for node in graph.node:
        if node.domain in (onnx_farmhash.EXTENSIONS_DOMAIN, onnx_farmhash.MICROSOFT_DOMAIN):
            continue  # made by keras_mtl (the hashing's string pieces)
        if not onnx.defs.has(node.op_type, node.domain):
            by_op[node.op_type].update(_features_reaching(graph, node, specs))
    if not by_op and not extra_inputs and not rewrites.errors:
        return
    lines = ["Cannot export this model to ONNX (tf2onnx, opset <= 18, ONNX-ML)."]
    for op, features in sorted(by_op.items()):
        names = ", ".join(f"'{f}'" for f in sorted(features)) or "(no input feature)"
        lines.append(f"Feature(s) {names}: TensorFlow op {op} has no ONNX equivalent.")
    if extra_inputs:
        lines.append(f"Captured tensors without a value became inputs: {extra_inputs}.")
    lines += [f"Rewrite failed: {error}" for error in rewrites.errors]
    lines.append("export_saved_model serves the model as it is.")
    raise ConversionError("\n".join(lines))


def attach_tables(proto, tables, table_dtype):
    """Turns the table inputs of `proto` into initializers (no data yet).

    Returns:
        `[(TensorProto, TableSource)]`: each table's initializer, named as
        the table (`TableSource.name`), typed `table_dtype`, shaped as the
        whole table; the caller fills in its bytes (inline or external).
    """
    graph = proto.graph
    names = {t.name for t in tables}
    kept = [i for i in graph.input if i.name not in names]
    del graph.input[:]
    graph.input.extend(kept)
    data_type = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(table_dtype))
    pairs = []
    for table in tables:
        tensor = TensorProto(name=table.name, data_type=data_type, dims=table.shape)
        graph.initializer.append(tensor)
        pairs.append((graph.initializer[-1], table))
    return pairs

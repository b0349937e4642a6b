"""TF ops of keras_mtl models that tf2onnx 1.17 does not convert by itself.

Measured with tf2onnx 1.17 / onnxruntime 1.32 on both Keras versions:

- `LookupTableFindV2` (StringLookup / IntegerLookup): tf2onnx maps it to the
  ONNX-ML `CategoryMapper` only when it can read the table, which
  `from_function` never can (and the Keras 3 lookup's default value is a
  captured tensor, which its handler rejects). The table contents are
  exported here from the traced function's captures and the op becomes a
  `CategoryMapper`; integer keys are first cast to their decimal strings, as
  `CategoryMapper` maps only strings to ints.
- `Equal` / `NotEqual` on strings (the padding test of string sequences): at
  opset <= 18 tf2onnx casts the strings to int64, which fails at run time.
  A comparison with a constant string becomes a one-entry `CategoryMapper`.
- `Log1p` (`DenseFeat(log1p=True)`): no tf2onnx handler; it becomes
  `Log(1 + x)` (|error| <= 6e-8 in float32).

- `Bucketize` (`DenseFeat(buckets=)`, Keras' `Discretization`): no tf2onnx
  handler; it becomes `len(edges) - sum(x < edges)`, TF's upper-bound rule
  (a value exactly on an edge goes to the bucket above it; NaN to the last),
  with subnormal values read as zero, as TF's CPU kernels read them.
- `StringToHashBucketFast` (`SparseFeat(hash_bins=)`, Keras' `Hashing`): no
  ONNX op hashes strings. It becomes a placeholder node that `finish`
  expands into farmhash Fingerprint64 in ONNX ops
  (`keras_mtl.export.onnx_farmhash`, which reads the strings' bytes with
  onnxruntime-extensions' `StringSplit`).

Two things are kept out of what tf2onnx holds, as the tables are
(`keras_mtl.export.onnx_export`): a lookup's vocabulary goes into its
`CategoryMapper` in `finish`, after tf2onnx's optimizers (which copy the whole
graph, attributes included, several times), and so does the hashing
subgraph.
"""

import numpy as np
import tensorflow as tf

from keras_mtl.export import onnx_farmhash
from keras_mtl.optional_import import optional_import

onnx = optional_import("onnx", "onnx", "ONNX export")
TensorProto = onnx.TensorProto
helper = onnx.helper

ML_DOMAIN = "ai.onnx.ml"
#: Domain of the placeholder nodes `finish` replaces (never in a written model).
PLACEHOLDER_DOMAIN = "keras_mtl.placeholder"
_HASH = "HashBucket"
_VOCABULARY_MARK = "\x00keras_mtl:vocabulary:"


def _source(tensor):
    while tensor.op.type == "Identity":
        tensor = tensor.op.inputs[0]
    return tensor


def _flushed(values):
    """float32 `values` with subnormals made zero, as TensorFlow's CPU reads them."""
    return np.where(np.abs(values) < np.finfo(np.float32).tiny, np.float32(0), values)


class Rewrites:
    """What the rewrite needs from one traced (concrete) serving function.

    Args:
        concrete_fn: the `ConcreteFunction` tf2onnx converts.
    """

    def __init__(self, concrete_fn):
        graph = concrete_fn.graph
        self.captured = {internal.name: external for external, internal in graph.captures}
        self.tables = {}  # lookup op name -> (keys, values, default)
        self.shape_override = {}  # lookup outputs lose their shape when frozen
        for op in graph.get_operations():
            if op.type != "LookupTableFindV2":
                continue
            handle = self.captured.get(_source(op.inputs[0]).name)
            default = self._value(op.inputs[2])
            if handle is None or default is None:
                continue  # left to tf2onnx, reported if it stays unconverted
            keys, values = tf.raw_ops.LookupTableExportV2(
                table_handle=handle, Tkeys=op.get_attr("Tin"), Tvalues=op.get_attr("Tout")
            )
            self.tables[op.name] = (keys.numpy(), values.numpy(), default)
            self.shape_override[op.outputs[0].name] = op.outputs[0].shape.as_list()
        self.errors = []
        self._vocabularies = {}  # mark -> (strings, ids, default)
        self.hashes = 0  # hashing subgraphs in the model, counted by `finish`

    def vocabulary_bytes(self):
        """Bytes of the lookups' keys and ids (what their `CategoryMapper`s hold)."""
        total = 0
        for keys, values, _ in self.tables.values():
            total += values.nbytes + (
                sum(len(k) for k in keys) if keys.dtype.kind == "O" else keys.nbytes
            )
        return total

    def _value(self, tensor):
        """The constant value of a TF tensor (a capture or a constant)."""
        tensor = _source(tensor)
        if tensor.name in self.captured:
            return np.asarray(self.captured[tensor.name].numpy())
        value = tf.get_static_value(tensor)
        return None if value is None else np.asarray(value)

    def captured_value(self, tensor_name):
        """The value of a captured non-resource tensor, or None."""
        external = self.captured.get(tensor_name)
        if external is None or external.dtype == tf.resource:
            return None
        return np.asarray(external.numpy())

    def __call__(self, g, ops):
        """A tf2onnx custom rewriter: runs before TF ops are mapped to ONNX."""
        for node in list(ops):
            try:
                if node.type == "LookupTableFindV2" and node.name in self.tables:
                    self._lookup(g, node)
                elif node.type in ("Equal", "NotEqual"):
                    self._string_compare(g, node)
                elif node.type == "Log1p":
                    self._log1p(g, node)
                elif node.type == "Bucketize":
                    self._bucketize(g, node)
                elif node.type == "StringToHashBucketFast":
                    self._hash(g, node)
            except Exception as error:  # reported by export_onnx, not logged
                self.errors.append(f"{node.type} {node.name}: {error}")
        return g.get_nodes()

    def _replace(self, g, node, new_output):
        g.replace_all_inputs(node.output[0], new_output)
        g.remove_node(node.name)

    def _lookup(self, g, node):
        keys, values, default = self.tables[node.name]
        if values.dtype.kind != "i":
            return  # CategoryMapper gives ints only; reported as unconverted
        x = node.input[1]
        shape = g.get_shape(x)
        if keys.dtype.kind == "O":
            strings = [k if isinstance(k, bytes) else str(k).encode() for k in keys]
        else:  # int keys: ONNX Cast writes ints as decimal strings
            x = g.make_node(
                "Cast",
                [x],
                attr={"to": TensorProto.STRING},
                shapes=[shape],
                dtypes=[TensorProto.STRING],
            ).output[0]
            strings = [str(int(k)).encode() for k in keys]
        # the vocabulary goes in after conversion (finish): a mark stands in for it
        mark = f"{_VOCABULARY_MARK}{len(self._vocabularies)}".encode()
        self._vocabularies[mark] = (strings, values.astype(np.int64), int(default))
        mapped = g.make_node(
            "CategoryMapper",
            [x],
            domain=ML_DOMAIN,
            attr={"cats_strings": [mark], "cats_int64s": [0], "default_int64": int(default)},
            shapes=[shape],
            dtypes=[TensorProto.INT64],
        )
        self._replace(g, node, mapped.output[0])

    def _string_compare(self, g, node):
        if g.get_dtype(node.input[0]) != TensorProto.STRING:
            return  # numbers: tf2onnx's own handler
        consts = [i for i in (0, 1) if node.inputs[i].is_const()]
        if len(consts) != 1:
            return
        value = node.inputs[consts[0]].get_tensor_value(as_list=False)
        if np.size(value) != 1:
            return
        x = node.input[1 - consts[0]]
        hit = 1 if node.type == "Equal" else 0
        mapped = g.make_node(
            "CategoryMapper",
            [x],
            domain=ML_DOMAIN,
            attr={
                "cats_strings": [np.ravel(value)[0]],
                "cats_int64s": [hit],
                "default_int64": 1 - hit,
            },
            shapes=[g.get_shape(x)],
            dtypes=[TensorProto.INT64],
        )
        as_bool = g.make_node(
            "Cast",
            [mapped.output[0]],
            attr={"to": TensorProto.BOOL},
            shapes=[g.get_shape(node.output[0])],
            dtypes=[TensorProto.BOOL],
        )
        self._replace(g, node, as_bool.output[0])

    def _log1p(self, g, node):
        x = node.input[0]
        dtype, shape = g.get_dtype(x), g.get_shape(x)
        one = g.make_const(f"{node.name}/one", np.array(1, helper.tensor_dtype_to_np_dtype(dtype)))
        shifted = g.make_node("Add", [x, one.output[0]], shapes=[shape], dtypes=[dtype])
        log = g.make_node("Log", [shifted.output[0]], shapes=[shape], dtypes=[dtype])
        self._replace(g, node, log.output[0])

    def _bucketize(self, g, node):
        x = node.input[0]
        dtype, shape = g.get_dtype(x), g.get_shape(x)
        edges = _flushed(np.asarray(node.get_attr_value("boundaries"), np.float32))
        edges = edges.astype(helper.tensor_dtype_to_np_dtype(dtype))
        out_shape = g.get_shape(node.output[0])
        if dtype in (TensorProto.FLOAT, TensorProto.DOUBLE):
            # TensorFlow's CPU threads flush subnormals to zero: -1e-45 sits on
            # the edge 0.0 there, so it does here
            tiny = g.make_const(
                f"{node.name}/tiny",
                np.array(np.finfo(np.float32).tiny, helper.tensor_dtype_to_np_dtype(dtype)),
            ).output[0]
            magnitude = g.make_node("Abs", [x], shapes=[shape], dtypes=[dtype])
            subnormal = g.make_node(
                "Less", [magnitude.output[0], tiny], shapes=[shape], dtypes=[TensorProto.BOOL]
            )
            zero = g.make_const(
                f"{node.name}/zero", np.array(0, helper.tensor_dtype_to_np_dtype(dtype))
            ).output[0]
            x = g.make_node(
                "Where", [subnormal.output[0], zero, x], shapes=[shape], dtypes=[dtype]
            ).output[0]
        axis = g.make_const(f"{node.name}/last_axis", np.array([-1], np.int64)).output[0]
        rank_up = None if shape is None else shape + [1]
        column = g.make_node("Unsqueeze", [x, axis], shapes=[rank_up], dtypes=[dtype])
        cut = g.make_const(f"{node.name}/edges", edges).output[0]
        below = g.make_node(
            "Less",
            [column.output[0], cut],  # (..., len(edges))
            dtypes=[TensorProto.BOOL],
        )
        counted = g.make_node(
            "Cast", [below.output[0]], attr={"to": TensorProto.INT64}, dtypes=[TensorProto.INT64]
        )
        under = g.make_node(
            "ReduceSum",
            [counted.output[0], axis],
            attr={"keepdims": 0},
            shapes=[out_shape],
            dtypes=[TensorProto.INT64],
        )
        size = g.make_const(f"{node.name}/num_edges", np.array(len(edges), np.int64)).output[0]
        bucket = g.make_node(
            "Sub", [size, under.output[0]], shapes=[out_shape], dtypes=[TensorProto.INT64]
        )
        out_dtype = g.get_dtype(node.output[0])
        cast = g.make_node(
            "Cast",
            [bucket.output[0]],
            attr={"to": out_dtype},
            shapes=[out_shape],
            dtypes=[out_dtype],
        )
        self._replace(g, node, cast.output[0])

    def _hash(self, g, node):
        x = node.input[0]
        placeholder = g.make_node(
            _HASH,
            [x],
            domain=PLACEHOLDER_DOMAIN,
            attr={"num_buckets": int(node.get_attr_value("num_buckets"))},
            shapes=[g.get_shape(x)],
            dtypes=[TensorProto.INT64],
        )
        self._replace(g, node, placeholder.output[0])

    def finish(self, model):
        """Completes the converted ONNX `model` in place: each lookup's
        vocabulary into its `CategoryMapper`, each hashing placeholder
        expanded (`onnx_farmhash`), the opsets it uses declared."""
        graph = model.graph
        for node in graph.node:
            if node.op_type != "CategoryMapper":
                continue
            cats = next((a for a in node.attribute if a.name == "cats_strings"), None)
            if cats is None or len(cats.strings) != 1 or cats.strings[0] not in self._vocabularies:
                continue
            strings, ids, default = self._vocabularies[cats.strings[0]]
            del node.attribute[:]
            node.attribute.extend(
                [
                    helper.make_attribute("cats_strings", strings),
                    helper.make_attribute("cats_int64s", ids.tolist()),
                    helper.make_attribute("default_int64", default),
                ]
            )
        nodes, self.hashes = [], 0
        for node in graph.node:
            if node.domain != PLACEHOLDER_DOMAIN:
                nodes.append(node)
                continue
            num_buckets = next(a.i for a in node.attribute if a.name == "num_buckets")
            expanded, constants = onnx_farmhash.hash_bucket_nodes(
                node.input[0], node.output[0], num_buckets, prefix=f"{node.name}/farmhash/"
            )
            nodes.extend(expanded)
            graph.initializer.extend(constants)
            self.hashes += 1
        del graph.node[:]
        graph.node.extend(nodes)
        declared = {o.domain for o in model.opset_import}
        for domain in (onnx_farmhash.EXTENSIONS_DOMAIN, onnx_farmhash.MICROSOFT_DOMAIN):
            if self.hashes and domain not in declared:
                model.opset_import.append(
                    helper.make_opsetid(domain, onnx_farmhash.OPSET_IMPORTS[domain])
                )
        return model

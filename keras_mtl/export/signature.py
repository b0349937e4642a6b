"""What an exported SavedModel takes and returns, and requests that call it."""

import json
import os
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Optional
from typing import Union

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import saved_model_pb2

from keras_mtl.export import layout
from keras_mtl.export.serving_inputs import named_inputs
from keras_mtl.export.serving_inputs import num_rows
from keras_mtl.features.names import internal_name

_VALUE_FIELDS = {  # TensorProto field holding each dtype's values
    types_pb2.DT_STRING: "string_val",
    types_pb2.DT_INT64: "int64_val",
    types_pb2.DT_INT32: "int_val",
    types_pb2.DT_FLOAT: "float_val",
    types_pb2.DT_DOUBLE: "double_val",
    types_pb2.DT_BOOL: "bool_val",
}


def serving_specs(model):
    """`{input name: tf.TensorSpec}` of a model with named inputs, batch free.

    The keys are the model's input names as given (the feature names); the
    TensorSpec names, which TensorFlow turns into graph node names, are
    their `keras_mtl.features.names.internal_name`.
    """
    return {
        name: tf.TensorSpec(
            (None,) + tuple(t.shape[1:]), tf.as_dtype(t.dtype), name=internal_name(name)
        )
        for name, t in named_inputs(model).items()
    }


def _read_saved_model(path):
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(path, layout.SAVED_MODEL_FILE), "rb") as f:
        saved_model.ParseFromString(f.read())
    return saved_model


def key_signature_inputs(path, names):
    """Renames the signatures' input keys to the input names as given.

    TensorFlow keys a signature's inputs by its TensorSpec names, which must
    be graph node names (`capital_loss` for `capital-loss`); TF Serving finds
    a request's inputs by those keys. This rewrites the keys of every
    signature of the SavedModel at `path` to the names in `names` (the
    tensors they point at stay), so requests carry the DataFrame's column
    names. Python callers of the loaded signature are unaffected: TensorFlow
    rewrites their keyword names to the internal ones itself. The fingerprint
    (`fingerprint.pb`, a checksum of `saved_model.pb`) is written again.

    Args:
        path: a SavedModel folder.
        names: the model's input names; each is keyed by `internal_name`.
    """
    by_internal = {internal_name(name): name for name in names}
    saved_model = _read_saved_model(path)
    for meta_graph in saved_model.meta_graphs:
        for sig in meta_graph.signature_def.values():
            for key in [k for k in sig.inputs if by_internal.get(k, k) != k]:
                sig.inputs[by_internal[key]].CopyFrom(sig.inputs[key])
                del sig.inputs[key]
    with open(os.path.join(path, layout.SAVED_MODEL_FILE), "wb") as f:
        f.write(saved_model.SerializeToString())
    # The one public-API gap: TensorFlow writes fingerprint.pb only from
    # tf.saved_model.save; its writer lives in a private module.
    from tensorflow.python.saved_model import fingerprinting_utils

    fingerprinting_utils.write_fingerprint(path)


def signature_def(path, signature_name="serving_default", tag="serve"):
    """The `SignatureDef` proto of a SavedModel, read without loading it."""
    saved_model = _read_saved_model(path)
    for meta_graph in saved_model.meta_graphs:
        if tag in meta_graph.meta_info_def.tags:
            signatures = meta_graph.signature_def
            if signature_name not in signatures:
                raise KeyError(
                    f"{path} has no signature {signature_name!r}. Received "
                    f"signatures: {sorted(signatures)}"
                )
            return signatures[signature_name]
    raise KeyError(f"{path} has no MetaGraph tagged {tag!r}.")


def _shape_text(tensor_shape):
    if tensor_shape.unknown_rank:
        return "unknown_rank"
    sizes = [str(dim.size) for dim in tensor_shape.dim]
    return "(" + ", ".join(sizes) + ")"


def signature_text(sig):
    """A `SignatureDef` as `saved_model_cli show --signature_def` prints it."""
    lines = []
    for kind, tensors in (("input", sig.inputs), ("output", sig.outputs)):
        lines.append(f"The given SavedModel SignatureDef contains the following {kind}(s):")
        for key in sorted(tensors):
            info = tensors[key]
            lines += [
                f"  {kind}s['{key}'] tensor_info:",
                f"      dtype: {types_pb2.DataType.Name(info.dtype)}",
                f"      shape: {_shape_text(info.tensor_shape)}",
                f"      name: {info.name}",
            ]
    lines.append(f"Method name is: {sig.method_name}")
    return "\n".join(lines)


def _placeholder_rows(sig):
    """One row of zeros / empty strings shaped like each input."""
    rows = {}
    for key, info in sig.inputs.items():
        shape = [1] + [max(dim.size, 1) for dim in info.tensor_shape.dim[1:]]
        if info.dtype == types_pb2.DT_STRING:
            rows[key] = np.full(shape, "", dtype=object)
        else:
            rows[key] = np.zeros(shape, dtype=_numpy_dtype(info.dtype))
    return rows


def _numpy_dtype(dtype):
    return {
        types_pb2.DT_INT64: "int64",
        types_pb2.DT_INT32: "int32",
        types_pb2.DT_DOUBLE: "float64",
        types_pb2.DT_BOOL: "bool",
    }.get(dtype, "float32")


def _json_value(value):
    """A row's value as plain JSON (lists, str, int, float)."""
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value.item() if isinstance(value, np.generic) else value


def _grpc_tensor(values, dtype):
    """The proto3 JSON form of a `TensorProto` with readable `*_val` fields."""
    values = np.asarray(values)
    proto = tensor_pb2.TensorProto(dtype=dtype)
    for size in values.shape:
        proto.tensor_shape.dim.add(size=size)
    flat = values.ravel().tolist()
    if dtype == types_pb2.DT_STRING:
        flat = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in flat]
    getattr(proto, _VALUE_FIELDS[dtype]).extend(flat)
    return json_format.MessageToDict(proto)


def request_bodies(sig, examples, model_name, signature_name="serving_default", version=None):
    """Example TF Serving requests: REST `predict` and gRPC `PredictRequest`."""
    rows = num_rows(examples)
    instances = [
        {key: _json_value(np.asarray(examples[key])[row]) for key in sorted(sig.inputs)}
        for row in range(rows)
    ]
    version_part = "" if version is None else f"/versions/{version}"
    return {
        "rest": {
            "path": f"/v1/models/{model_name}{version_part}:predict",
            "body": {"signature_name": signature_name, "instances": instances},
        },
        "grpc": {
            "method": "tensorflow.serving.PredictionService/Predict",
            "body": {
                "model_spec": {"name": model_name, "signature_name": signature_name},
                "inputs": {
                    key: _grpc_tensor(examples[key], sig.inputs[key].dtype)
                    for key in sorted(sig.inputs)
                },
            },
        },
    }


def show_signature(
    path: Union[str, os.PathLike],
    examples: Optional[Mapping[str, np.ndarray]] = None,
    signature_name: str = "serving_default",
    print_fn: Optional[Callable[[str], Any]] = print,
) -> dict[str, dict[str, Any]]:
    """Prints a SavedModel's signature and returns example request bodies.

    The text is what `saved_model_cli show --dir path --tag_set serve
    --signature_def serving_default` prints, read from `saved_model.pb`
    without loading the model (no TensorFlow graph is built).

    Args:
        path: a version folder written by `export_saved_model`.
        examples: optional `{input name: array}` rows for the bodies; None
            uses one row of zeros / empty strings.
        signature_name: the signature to show.
        print_fn: where the text goes (None prints nothing).

    Returns:
        `{"rest": {"path", "body"}, "grpc": {"method", "body"}}`: the REST
        predict body (row format, `instances`) and the gRPC `PredictRequest`
        in its JSON form (for grpcurl), both JSON-serializable.

    Example:
    >>> import tempfile
    >>> model = keras_mtl.MMoE([SparseFeat("item", vocabulary_size=10)],
    ...                        task_names=("ctr",), num_experts=2, expert_units=(4,))
    >>> path = keras_mtl.export.export_saved_model(
    ...     model, os.path.join(tempfile.mkdtemp(), "ranker"))
    >>> bodies = show_signature(path, {"item": np.array([3])}, print_fn=None)
    >>> bodies["rest"]["path"], bodies["rest"]["body"]["instances"]
    ('/v1/models/ranker/versions/1:predict', [{'item': 3}])
    """
    sig = signature_def(path, signature_name)
    if examples is None:
        examples = _placeholder_rows(sig)
    missing = sorted(set(sig.inputs) - set(examples))
    if missing:
        raise ValueError(f"examples lack inputs {missing}. Expected: {sorted(sig.inputs)}.")
    if print_fn is not None:
        print_fn(signature_text(sig))
    folder = os.path.abspath(path)
    version = os.path.basename(folder)
    bodies = request_bodies(
        sig,
        examples,
        os.path.basename(os.path.dirname(folder)),
        signature_name,
        version=int(version) if version.isdigit() else None,
    )
    if print_fn is not None:
        print_fn(f"REST POST {bodies['rest']['path']}\n" + json.dumps(bodies["rest"]["body"]))
    return bodies

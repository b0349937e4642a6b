"""ONNX models over protobuf's 2 GB limit: weights written as external data."""

import contextlib
import os

import numpy as np
from onnx import TensorProto

#: Models with more weight bytes than this convert through tf2onnx's
#: large-model path. A protobuf message (an .onnx file without external
#: data, and the GraphDef tf2onnx freezes) cannot exceed 2 GB; the margin
#: leaves room for the graph and for constants folded from the weights.
LARGE_MODEL_BYTES = 1 << 30


def weight_bytes(model):
    """Bytes of all of `model`'s weights."""
    return sum(int(np.prod(w.shape)) * np.dtype(_numpy_dtype(w.dtype)).itemsize
               for w in model.weights)


def _numpy_dtype(dtype):
    return getattr(dtype, "as_numpy_dtype", dtype)  # tf.DType (tf_keras) or a name (Keras 3)


@contextlib.contextmanager
def tf2onnx_numpy2():
    """Lets tf2onnx 1.17's large-model path run on NumPy 2.

    It calls `np.product`, which NumPy 2.0 removed (`np.prod` is the same
    function); the alias exists only while the conversion runs.
    """
    added = not hasattr(np, "product")
    if added:
        np.product = np.prod
    try:
        yield
    finally:
        if added:
            del np.product


def _external_tensors(graph):
    """Every TensorProto of `graph` whose data tf2onnx moved out."""
    tensors = list(graph.initializer)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                tensors.append(attribute.t)
            for sub in list(attribute.graphs) + ([attribute.g] if attribute.HasField("g") else []):
                tensors.extend(_external_tensors(sub))
    return [t for t in tensors if t.data_location == TensorProto.EXTERNAL]


def save(proto, storage, path):
    """Writes `proto` to `path` and its external tensors to `path + ".data"`.

    `storage` is tf2onnx's `ExternalTensorStorage` (tensor name → bytes, the
    name written in each tensor's "location"). The tensors go to one file,
    at 4 KiB-aligned offsets, in ONNX's external-data format, which ONNX
    Runtime reads next to the model.

    Returns:
        The data file's path.
    """
    data_path = path + ".data"
    location = os.path.basename(data_path)
    data = storage.name_to_tensor_data
    with open(data_path, "wb") as out:
        for tensor in _external_tensors(proto.graph):
            entries = {e.key: e.value for e in tensor.external_data}
            raw = data[entries["location"]]
            offset = -(-out.tell() // 4096) * 4096
            out.seek(offset)
            out.write(raw)
            del tensor.external_data[:]
            for key, value in (("location", location), ("offset", str(offset)),
                               ("length", str(len(raw)))):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
    with open(path, "wb") as out:
        out.write(proto.SerializeToString())
    return data_path

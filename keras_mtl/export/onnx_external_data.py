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


#: Peak memory of a tf2onnx 1.17 conversion per byte of weights, measured on
#: the throughput benchmark's MMoE (16 tables of 100k ids: 51 MB of weights,
#: +3.3 GB of resident memory; 1M ids was killed for memory at 24 GB).
CONVERSION_MEMORY_FACTOR = 64


def available_memory_bytes():
    """MemAvailable of /proc/meminfo (Linux), or None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_memory(model):
    """Why tf2onnx would run out of memory converting `model`, or None.

    Returns None when the conversion fits (or memory cannot be read); else
    the message saying why and what to do.
    """
    need = weight_bytes(model) * CONVERSION_MEMORY_FACTOR
    free = available_memory_bytes()
    if free is None or need <= free:
        return None
    return (
        f"Converting this model to ONNX would need about {need / 1e9:.1f} GB of memory "
        f"(its weights are {weight_bytes(model) / 1e9:.2f} GB and tf2onnx 1.17 held about "
        f"{CONVERSION_MEMORY_FACTOR}x that when measured); {free / 1e9:.1f} GB is available. "
        "Serve the SavedModel instead (keras_mtl.export.export_saved_model, which needs no "
        "more memory than the model), or convert on a machine with more memory "
        "(export_onnx(..., check_memory=False) tries anyway)."
    )


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

"""ONNX weights written as external data, and the memory an export needs.

ONNX's external-data format keeps a tensor's bytes in a file beside the
`.onnx` protobuf (which cannot exceed 2 GB): the tensor records the file
(`location`, relative to the model), an `offset` and a `length`. ONNX
Runtime reads such a model from the `.onnx` path and finds the data file next
to it; on the CPU it maps the file into memory when the offsets are aligned
(`ALIGNMENT`), so a served table costs page cache, touched row by row.
"""

import contextlib
import os

import numpy as np

from keras_mtl.export import table_source
from keras_mtl.optional_import import optional_import

onnx = optional_import("onnx", "onnx", "ONNX export")
TensorProto = onnx.TensorProto

#: Rest-of-model weights (the tables excluded) above which tf2onnx converts
#: through its large-model path (its tensors in external storage). A protobuf
#: message cannot exceed 2 GB; the margin leaves room for the graph.
LARGE_MODEL_BYTES = 1 << 30

#: Peak memory of a tf2onnx 1.17 conversion per byte of the weights it holds,
#: measured on the throughput benchmark's MMoE when its tables still went
#: through tf2onnx (16 tables of 100k ids: 51 MB of weights, +3.3 GB).
#: `export_onnx` keeps the tables out of tf2onnx, so this applies to the
#: other weights and the vocabularies only.
CONVERSION_MEMORY_FACTOR = 64

#: Offsets of external tensors are multiples of this: the allocation
#: granularity of memory maps on Windows (64 KiB; 4 KiB on Linux).
ALIGNMENT = 1 << 16


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


def converted_bytes(model, tables, vocabulary_bytes=0):
    """What tf2onnx holds of `model`: every weight but the `tables` (which
    are streamed), plus the lookup vocabularies."""
    return max(weight_bytes(model) - sum(t.nbytes() for t in tables), 0) + vocabulary_bytes


def conversion_bytes(model, tables, vocabulary_bytes=0):
    """Memory an `export_onnx` of `model` needs beyond the model itself:
    `CONVERSION_MEMORY_FACTOR` times `converted_bytes`, and two table
    blocks in transit (`table_source.BLOCK_BYTES`)."""
    return (
        CONVERSION_MEMORY_FACTOR * converted_bytes(model, tables, vocabulary_bytes)
        + 2 * table_source.BLOCK_BYTES
    )


def check_memory(model, tables, vocabulary_bytes=0):
    """Why converting `model` would run out of memory, or None.

    Returns None when the conversion fits (or memory cannot be read); else
    the message saying why and what to do.
    """
    need = conversion_bytes(model, tables, vocabulary_bytes)
    free = available_memory_bytes()
    if free is None or need <= free:
        return None
    converted = converted_bytes(model, tables, vocabulary_bytes)
    return (
        f"Converting this model to ONNX would need about {need / 1e9:.1f} GB of memory besides "
        f"the model ({CONVERSION_MEMORY_FACTOR}x its {converted / 1e9:.2f} GB of non-table "
        "weights and vocabularies, which tf2onnx 1.17 held that many times over when measured; "
        f"tables are streamed); {free / 1e9:.1f} GB is available. Serve the SavedModel instead "
        "(keras_mtl.export.export_saved_model), or convert on a machine with more memory "
        "(export_onnx(..., check_memory=False) tries anyway)."
    )


def weight_bytes(model):
    """Bytes of all of `model`'s weights."""
    return sum(
        int(np.prod(w.shape)) * np.dtype(_numpy_dtype(w.dtype)).itemsize for w in model.weights
    )


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
    """Every TensorProto of `graph` (subgraphs included) whose data is external."""
    tensors = list(graph.initializer)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                tensors.append(attribute.t)
            for sub in list(attribute.graphs) + ([attribute.g] if attribute.HasField("g") else []):
                tensors.extend(_external_tensors(sub))
    return [t for t in tensors if t.data_location == TensorProto.EXTERNAL]


def storage_entries(proto, storage):
    """`(tensor, chunks)` of every tensor tf2onnx's large-model path moved
    into its `ExternalTensorStorage` (None: no entries)."""
    if storage is None:
        return []
    data = storage.name_to_tensor_data
    return [
        (tensor, [data[{e.key: e.value for e in tensor.external_data}["location"]]])
        for tensor in _external_tensors(proto.graph)
    ]


def write_data_file(path, entries):
    """Writes the bytes of `entries` to `path` as ONNX external data.

    Args:
        path: the data file, beside the `.onnx` file that will refer to it by
            its base name.
        entries: `(TensorProto, chunks)` pairs: each tensor's bytes come as
            an iterable of buffers (numpy arrays, bytes), written in order at
            the next `ALIGNMENT` offset; the tensor's `external_data` is set
            to (location, offset, length) and its inline data cleared.

    The file is flushed to disk (fsync) before this returns.
    """
    location = os.path.basename(path)
    with open(path, "wb") as out:
        for tensor, chunks in entries:
            offset = -(-out.tell() // ALIGNMENT) * ALIGNMENT
            out.seek(offset)
            length = 0
            for chunk in chunks:
                view = memoryview(chunk).cast("B")
                out.write(view)
                length += view.nbytes
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
            del tensor.external_data[:]
            for key, value in (
                ("location", location),
                ("offset", str(offset)),
                ("length", str(length)),
            ):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
        out.flush()
        os.fsync(out.fileno())
    return path

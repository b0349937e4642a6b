"""tf.Example records encoded column by column (the protobuf wire format).

Encoding each column once (each distinct integer or string once, floats as
packed little-endian float32) and joining the bytes per row is much faster
than one `tf.train.Example` object per row (docs/benchmarks.md,
"Measurements behind design choices"). The messages (tensorflow/core/
example/example.proto, feature.proto): Example{1: Features}, Features{1: map
entry{1: key, 2: Feature}}, Feature{1: BytesList, 2: FloatList, 3:
Int64List}, each list {1: values} (floats and ints packed).

`varint` and `field` are keras_mtl's one protobuf wire-format encoder: the
TF Serving warmup requests (`keras_mtl.export.warmup`) are built with them too.
"""

import numpy as np


def varint(value):
    """`value` as a base-128 varint (protobuf's integers, tags and lengths)."""
    value &= 0xFFFFFFFFFFFFFFFF  # negative int64 as two's complement, 10 bytes
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, payload):
    """A length-delimited field (wire type 2: bytes, strings, messages): tag,
    length, payload."""
    tag = number << 3 | 2
    return (bytes((tag,)) if tag < 0x80 else varint(tag)) + varint(len(payload)) + payload


def _entry(key, feature):
    return field(1, field(1, key.encode()) + field(2, feature))


def int_entries(key, values):
    """Per-row map entries of a column of int64 scalars."""
    uniques, inverse = np.unique(values, return_inverse=True)
    encoded = np.array(
        [_entry(key, field(3, field(1, varint(int(v))))) for v in uniques], dtype=object
    )
    return encoded[inverse.ravel()].tolist()


def float_entries(key, values):
    """Per-row map entries of a `(rows, width)` float array."""
    values = np.ascontiguousarray(values, dtype="<f4")
    width = values.shape[1] * 4
    if width == 0:  # empty lists
        return [_entry(key, field(2, b""))] * len(values)
    prefix = _entry(key, field(2, field(1, b"\0" * width)))[:-width]
    data = values.tobytes()
    return [prefix + data[i : i + width] for i in range(0, len(data), width)]


def list_entries(key, cells, is_string):
    """Per-row map entries of lists (ints or strings); None leaves a row out."""
    out = []
    for cell in cells:
        if cell is None:
            out.append(None)
        elif is_string:
            out.append(_entry(key, field(1, b"".join(field(1, str(v).encode()) for v in cell))))
        else:
            packed = b"".join(varint(int(v)) for v in cell)
            out.append(_entry(key, field(3, field(1, packed) if cell else b"")))
    return out


def string_entries(key, values):
    """Per-row map entries of string scalars; None leaves a row out."""
    cache = {}
    out = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        if value not in cache:
            cache[value] = _entry(key, field(1, field(1, str(value).encode())))
        out.append(cache[value])
    return out


def examples(columns, rows):
    """Serialized Examples from `{key: per-row entries}`."""
    lists = list(columns.values())
    for row_entries in zip(*lists) if lists else ([()] * rows):
        features = b"".join(e for e in row_entries if e is not None)
        yield field(1, features)

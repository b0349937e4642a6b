"""ONNX nodes computing TensorFlow's `StringToHashBucketFast` bit for bit.

`tf.strings.to_hash_bucket_fast(x, num_buckets)` (the in-graph `Hashing`
layer) is `Fingerprint64(bytes) % num_buckets`: TensorFlow's `Fingerprint64`
is farmhash's `Fingerprint64`, which is farmhash's "na" `Hash64` (farmhash
1.1, src/farmhash.cc, namespace `farmhashna`; TensorFlow's platform
fingerprint.h). The modulo is taken on the unsigned
64-bit hash and the result returned as int64. The graph built here follows
that C++ function by function: `HashLen16`, the 0-16, 17-32 and 33-64 byte
branches, and a `Loop` over the 64-byte chunks of longer strings. A batch
runs a branch (in an `If`) only when one of its strings is long enough for
it, and then on every row; a bit mask keeps each row's own branch, and the
loop freezes the state of rows whose chunks are used up.

Ops used (opset 18, ai.onnx.ml 2, com.microsoft 1, ai.onnx.contrib 1):

- `StringSplit` (ai.onnx.contrib, onnxruntime-extensions) with an empty
  delimiter splits strings into their bytes, and the ONNX-ML `CategoryMapper`
  maps each one-byte string to its value 0..255.
- `Tokenizer` (com.microsoft, built into ONNX Runtime) first cuts each string
  into runs without NUL and single NULs (regex `[^\\x00]+|\\x00`). The
  extensions read string tensors as C strings, so they would end a string at
  its first NUL byte; a `CategoryMapper` (which keeps NULs) finds the "\\x00"
  pieces, each counted as one zero byte. A string without NUL is one piece.
- uint64 `Add`, `Sub`, `Mul`, `Mod`, `BitShift` and `BitwiseAnd/Or/Xor`,
  which wrap and shift like the C++ (ONNX Runtime's CPU provider has them
  all for uint64; its `Where` has none, so rows pick branches by bit masks).

Strings must be valid UTF-8 (`Tokenizer` rejects others, where TF would hash
the raw bytes). Its cost per string is in docs/benchmarks.md ("Measurements
behind design choices"). Serving needs the extensions library registered::

    options = onnxruntime.SessionOptions()
    options.register_custom_ops_library(onnxruntime_extensions.get_library_path())
"""

import numpy as np

from keras_mtl.export.onnx_emitter import OnnxEmitter
from keras_mtl.export.onnx_string_words import EXTENSIONS_DOMAIN
from keras_mtl.export.onnx_string_words import MICROSOFT_DOMAIN
from keras_mtl.export.onnx_string_words import ML_DOMAIN
from keras_mtl.export.onnx_string_words import StringWords
from keras_mtl.optional_import import optional_import

onnx = optional_import("onnx", "onnx", "ONNX export")
TensorProto = onnx.TensorProto
helper = onnx.helper

#: The opset versions a model holding these nodes must import, by domain.
OPSET_IMPORTS = {"": 18, ML_DOMAIN: 2, MICROSOFT_DOMAIN: 1, EXTENSIONS_DOMAIN: 1}

# farmhash's constants k0, k1, k2 and the seed of Hash64's long-string state
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F
_SEED = 81
_U64 = (1 << 64) - 1


class _Text(StringWords):
    """StringWords plus farmhash's 0-64 byte multiplier `k2 + len * 2` (uint64 (n, 1))."""

    def __init__(self, em, words):
        super().__init__(words.words, words.length, words.zeros)
        length = em("Cast", words.length, to=TensorProto.UINT64)
        self.mul = em.add(_K2, length, length)


def _hash_len_16(em, u, v, mul):
    """farmhash `HashLen16(u, v, mul)`."""
    a = em.shift_mix(em.mul(em.xor(u, v), mul))
    b = em.shift_mix(em.mul(em.xor(v, a), mul))
    return em.mul(b, mul)


def _hash_len_0_to_16(em, text):
    """farmhash `HashLen0to16`, for every row: its cases are len >= 8, >= 4, > 0, == 0."""
    length, mul = em("Cast", text.length, to=TensorProto.UINT64), text.mul
    middle = em("Div", text.length, em.column(2, np.int64))  # (n, 1) len >> 1
    a = em.add(text.fetch64(em, 0), _K2)
    b = text.fetch64(em, -8, text.length)
    c = em.add(em.mul(em.rotate(b, 37), mul), a)
    d = em.mul(em.add(em.rotate(a, 25), b), mul)
    from8 = _hash_len_16(em, c, d, mul)
    from4 = _hash_len_16(
        em,
        em.add(length, em.shift(text.fetch32(em, 0), 3, "LEFT")),
        text.fetch32(em, -4, text.length),
        mul,
    )
    y = em.add(text.byte(em, 0), em.shift(text.byte(em, 0, middle), 8, "LEFT"))
    z = em.add(length, em.shift(text.byte(em, -1, text.length), 2, "LEFT"))
    from1 = em.mul(em.shift_mix(em.xor(em.mul(y, _K2), em.mul(z, _K0))), _K2)
    result = em.column(_K2)
    for least, value in ((1, from1), (4, from4), (8, from8)):
        at_least = em("GreaterOrEqual", text.length, em.column(least, np.int64))
        result = em.select(em.mask(at_least), value, result)
    return result


def _head_mix(em, text, a_factor):
    """What farmhash's `HashLen17to32` and `HashLen33to64` compute alike from
    the first 16 and last 16 bytes: `(a, u, v)`, `HashLen16(u, v)` being the
    first's result (`a` is the first word times `a_factor`: k1, or k2)."""
    mul = text.mul
    a = em.mul(text.fetch64(em, 0), a_factor)
    b = text.fetch64(em, 8)
    c = em.mul(text.fetch64(em, -8, text.length), mul)
    d = em.mul(text.fetch64(em, -16, text.length), _K2)
    return (
        a,
        em.add(em.rotate(em.add(a, b), 43), em.rotate(c, 30), d),
        em.add(a, em.rotate(em.add(b, _K2), 18), c),
    )


def _hash_len_17_to_32(em, text):
    """farmhash `HashLen17to32`."""
    _, u, v = _head_mix(em, text, _K1)
    return _hash_len_16(em, u, v, text.mul)


def _hash_len_33_to_64(em, text):
    """farmhash `HashLen33to64`."""
    mul = text.mul
    a, y, v = _head_mix(em, text, _K2)
    z = _hash_len_16(em, y, v, mul)
    e = em.mul(text.fetch64(em, 16), mul)
    f = text.fetch64(em, 24)
    g = em.mul(em.add(y, text.fetch64(em, -32, text.length)), mul)
    h = em.mul(em.add(z, text.fetch64(em, -24, text.length)), mul)
    return _hash_len_16(
        em,
        em.add(em.rotate(em.add(e, f), 43), em.rotate(g, 30), h),
        em.add(e, em.rotate(em.add(f, a), 18), g),
        mul,
    )


def _weak_hash_len_32_with_seeds(em, text, base, a, b):
    """farmhash `WeakHashLen32WithSeeds` of the 32 bytes at `base`: a pair."""
    w, x, y, z = (text.fetch64(em, delta, base) for delta in (0, 8, 16, 24))
    a = em.add(a, w)
    b = em.rotate(em.add(b, a, z), 21)
    c = a
    a = em.add(a, x, y)
    b = em.add(b, em.rotate(a, 44))
    return em.add(a, z), em.add(b, c)


def _chunk(em, text, base, state, mul, last=False):
    """One round of Hash64's 64-byte loop on the chunk at `base` ((n, 1) int64);
    `last`: the round after the loop, which weights w1 and v0 by 9. Returns the
    new state (x, y, z, v0, v1, w0, w1), each uint64 (n, 1)."""
    x, y, z, v0, v1, w0, w1 = state
    x = em.mul(em.rotate(em.add(x, y, v0, text.fetch64(em, 8, base)), 37), mul)
    y = em.mul(em.rotate(em.add(y, v1, text.fetch64(em, 48, base)), 42), mul)
    x = em.xor(x, em.mul(w1, 9) if last else w1)
    y = em.add(y, em.mul(v0, 9) if last else v0, text.fetch64(em, 40, base))
    z = em.mul(em.rotate(em.add(z, w0), 33), mul)
    v0, v1 = _weak_hash_len_32_with_seeds(em, text, base, em.mul(v1, mul), em.add(x, w0))
    w0, w1 = _weak_hash_len_32_with_seeds(
        em,
        text,
        em("Add", base, em.column(32, np.int64)),
        em.add(z, w1),
        em.add(y, text.fetch64(em, 16, base)),
    )
    return z, y, x, v0, v1, w0, w1  # x and z swap


def _hash_len_65_plus(em, text):
    """farmhash `Hash64` past 64 bytes: a `Loop` over all but the last 64-byte
    chunk (row r runs (len_r - 1) // 64 rounds, then holds still), then the
    last 64 bytes (overlapping the previous chunk unless len is a multiple of 64)."""
    zeros = em("Cast", text.zeros, to=TensorProto.UINT64)  # (n, 1)
    y = (_SEED * _K1 + 113) & _U64
    z = (y * _K2 + 113) & _U64
    z = ((z ^ (z >> 47)) * _K2) & _U64  # ShiftMix(y * k2 + 113) * k2
    start = (
        em.add((_SEED * _K2) & _U64, text.fetch64(em, 0)),
        em.add(zeros, y),
        em.add(zeros, z),
        zeros,
        zeros,
        zeros,
        zeros,
    )
    rounds = em(
        "Div",
        em("Max", em("Sub", text.length, em.column(1, np.int64)), em.column(0, np.int64)),
        em.column(64, np.int64),
    )  # (n, 1)
    trips = em("Max", em("ReduceMax", rounds, keepdims=0), em.const(0, np.int64))  # ()

    body = em.subgraph()
    step, keep_going = body.name("iteration"), body.name("condition")
    carried = [body.name("state") for _ in start]
    base = body("Add", text.zeros, body("Mul", step, body.const(64, np.int64)))  # (n, 1) chunk
    new = _chunk(body, text, base, carried, _K1)
    active = body.mask(body("Less", step, rounds))  # (n, 1) rows with this chunk left
    outputs = [body.select(active, n, old) for n, old in zip(new, carried)]
    graph = body.graph(
        "chunks",
        [(step, TensorProto.INT64, []), (keep_going, TensorProto.BOOL, [])]
        + [(c, TensorProto.UINT64, [None, 1]) for c in carried],
        [(body("Identity", keep_going), TensorProto.BOOL, [])]
        + [(o, TensorProto.UINT64, [None, 1]) for o in outputs],
    )
    x, y, z, v0, v1, w0, w1 = em("Loop", trips, "", *start, body=graph, outputs=len(start))

    mul = em.add(_K1, em.shift(em.band(z, 0xFF), 1, "LEFT"))
    tail = em("Sub", text.length, em.column(64, np.int64))  # (n, 1) the last 64 bytes
    w0 = em.add(
        w0,
        em(
            "Cast",
            em(
                "BitwiseAnd",
                em("Sub", text.length, em.column(1, np.int64)),
                em.column(63, np.int64),
            ),
            to=TensorProto.UINT64,
        ),
    )
    v0 = em.add(v0, w0)
    w0 = em.add(w0, v0)
    x, y, z, v0, v1, w0, w1 = _chunk(em, text, tail, (x, y, z, v0, v1, w0, w1), mul, last=True)
    return _hash_len_16(
        em,
        em.add(_hash_len_16(em, v0, w0, mul), em.mul(em.shift_mix(y), _K0), z),
        em.add(_hash_len_16(em, v1, w1, mul), x),
        mul,
    )


def _longer(em, text, maxlen, shortest, branch, fingerprint):
    """`fingerprint` (uint64 (n, 1)) with `branch`'s hash for the strings of
    `shortest` bytes or more, computed in an `If` only when the batch has such."""
    then, otherwise = em.subgraph(), em.subgraph()
    at_least = then("GreaterOrEqual", text.length, then.column(shortest, np.int64))  # (n, 1)
    chosen = then.select(then.mask(at_least), branch(then, text), fingerprint)
    kept = otherwise("Identity", fingerprint)
    return em(
        "If",
        em("GreaterOrEqual", maxlen, em.const(shortest, np.int64)),
        then_branch=then.graph("then", [], [(chosen, TensorProto.UINT64, [None, 1])]),
        else_branch=otherwise.graph("else", [], [(kept, TensorProto.UINT64, [None, 1])]),
    )


def hash_bucket_nodes(input_name, output_name, num_buckets, prefix):
    """ONNX nodes computing `tf.strings.to_hash_bucket_fast(input, num_buckets)`.

    Args:
        input_name: the string tensor to hash, of any shape; its strings must
            be valid UTF-8.
        output_name: the int64 tensor written, of the input's shape, each
            value in `[0, num_buckets)`.
        num_buckets: the number of buckets, 1 to 2**63 - 1 (TF's int64 attr).
        prefix: a non-empty string starting every node, initializer and
            intermediate name made, so that several hashed features can share
            one graph.

    Returns:
        A pair `(nodes, initializers)`: lists of `onnx.NodeProto` and
        `onnx.TensorProto` to add to the graph, which must import the
        opsets of `OPSET_IMPORTS`; serving registers onnxruntime-extensions.

    Example:

    >>> import onnxruntime, onnxruntime_extensions
    >>> from onnx import TensorProto, helper
    >>> nodes, initializers = hash_bucket_nodes("text", "bucket", 1000, "text_hash/")
    >>> graph = helper.make_graph(
    ...     nodes, "hash", [helper.make_tensor_value_info("text", TensorProto.STRING, [None])],
    ...     [helper.make_tensor_value_info("bucket", TensorProto.INT64, [None])], initializers)
    >>> model = helper.make_model(graph, opset_imports=[
    ...     helper.make_opsetid(domain, version) for domain, version in OPSET_IMPORTS.items()])
    >>> options = onnxruntime.SessionOptions()
    >>> options.register_custom_ops_library(onnxruntime_extensions.get_library_path())
    >>> session = onnxruntime.InferenceSession(model.SerializeToString(), options)
    >>> text = ["hello", "", "a\\x00b", "grüße 🙂"]
    >>> session.run(None, {"text": np.array(text, dtype=object)})[0].tolist()
    [296, 263, 280, 575]
    >>> tf.strings.to_hash_bucket_fast(text, 1000).numpy().tolist()
    [296, 263, 280, 575]
    """
    if (
        isinstance(num_buckets, bool)
        or not isinstance(num_buckets, (int, np.integer))
        or not 1 <= num_buckets <= 2**63 - 1
    ):
        raise ValueError(
            "hash_bucket_nodes: expected num_buckets to be an integer in "
            "[1, 2**63 - 1] (TF's int64 attr). "
            f"Received: num_buckets={num_buckets!r}"
        )
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(
            "hash_bucket_nodes: expected prefix to be a non-empty string naming "
            f"this feature's nodes. Received: prefix={prefix!r}"
        )
    em = OnnxEmitter(prefix, [])
    # one empty string appended: for an empty batch Tokenizer's output has rank 1, not 2
    flat = em(
        "Concat",
        em("Reshape", input_name, em.const([-1], np.int64)),
        em.const([""], object),
        axis=0,
    )  # (n + 1,)
    words, maxlen = StringWords.of(em, flat)
    text = _Text(em, words)
    fingerprint = _hash_len_0_to_16(em, text)  # (n + 1, 1) uint64
    for shortest, branch in (
        (17, _hash_len_17_to_32),
        (33, _hash_len_33_to_64),
        (65, _hash_len_65_plus),
    ):
        fingerprint = _longer(em, text, maxlen, shortest, branch, fingerprint)
    bucket = em("Cast", em("Mod", fingerprint, em.column(int(num_buckets))), to=TensorProto.INT64)
    bucket = em("Slice", bucket, em.const([0], np.int64), em.const([-1], np.int64))  # (n, 1)
    # back to the input's shape; allowzero: a 0 in it is a size, not "copy this dimension"
    em("Reshape", bucket, em("Shape", input_name), allowzero=1, output_names=[output_name])
    return em.nodes, em.initializers

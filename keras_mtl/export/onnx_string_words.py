"""Strings as ONNX tensors of little-endian 64-bit words, for hashing in ONNX ops.

ONNX has no op that reads a string's bytes. ONNX Runtime's built-in `Tokenizer`
(com.microsoft) cuts each string at NUL bytes (the extensions' string ops stop
at them), onnxruntime-extensions' `StringSplit` splits the pieces into single
characters, and a `CategoryMapper` maps each one-byte string to its value; the
bytes are scattered into a zero-padded grid. `keras_mtl.export.onnx_farmhash`
hashes the result.
"""

import functools

import numpy as np

from keras_mtl.optional_import import optional_import

onnx = optional_import("onnx", "onnx", "ONNX export")
TensorProto = onnx.TensorProto
helper = onnx.helper

EXTENSIONS_DOMAIN = "ai.onnx.contrib"
MICROSOFT_DOMAIN = "com.microsoft"
ML_DOMAIN = "ai.onnx.ml"


class StringWords:
    """A batch of n strings as little-endian 64-bit words at every byte offset.

    Args:
        words: uint64 (n, maxlen + 9); words[r, i] holds bytes i..i+7 of row
            r, zeros past its end. Offsets are not clipped: a branch reads
            outside a string only for rows whose result it discards, and its
            offsets are valid GatherElements indices (negative ones count from
            the end): the 0-16 byte branch reads from -8 up to maxlen - 1, and
            the longer ones, run only when maxlen reaches their first length
            (17, 33, 65), from -16, -32, -64 up to 24 or maxlen - 1.
        length: int64 (n, 1), the byte lengths.
        zeros: int64 (n, 1) zeros, to broadcast constant offsets to rows.
    """

    def __init__(self, words, length, zeros):
        self.words, self.length, self.zeros = words, length, zeros

    def fetch64(self, em, delta, base=None):
        """farmhash `Fetch64` at `base` ((n, 1) int64, default 0) + `delta`: uint64 (n, 1)."""
        at = em("Add", self.zeros if base is None else base, em.column(delta, np.int64))
        return em("GatherElements", self.words, at, axis=1)

    def fetch32(self, em, delta, base=None):
        return em.band(self.fetch64(em, delta, base), 0xFFFFFFFF)

    def byte(self, em, delta, base=None):
        return em.band(self.fetch64(em, delta, base), 0xFF)

    @classmethod
    def of(cls, em, flat):
        """The bytes of the (n,) strings `flat`, n >= 1: StringWords and maxlen (int64 ())."""
        int64 = functools.partial(em.const, dtype=np.int64)
        pieces = em(
            "Tokenizer",
            flat,
            domain=MICROSOFT_DOMAIN,
            mark=0,
            pad_value="",
            tokenexp=r"[^\x00]+|\x00",
            mincharnum=1,
        )  # (n, p), "" after a string's pieces
        shape = em("Shape", pieces)  # [n, p]
        tokens = em("Reshape", pieces, int64([-1]))  # (n * p,)
        index, single, _ = em(
            "StringSplit",
            tokens,
            em.const("", object),
            em.const(False, bool),
            domain=EXTENSIONS_DOMAIN,
            outputs=3,
        )  # (m, 2), (m,)
        values = em(
            "CategoryMapper",
            single,
            domain=ML_DOMAIN,
            default_int64=-1,
            cats_strings=[bytes([b]) for b in range(256)],
            cats_int64s=list(range(256)),
        )
        token, offset = em("Split", index, axis=1, num_outputs=2, outputs=2)  # (m, 1) each
        # bytes per piece: those split from it, or 1 for a NUL
        is_nul = em(
            "CategoryMapper",
            tokens,
            domain=ML_DOMAIN,
            cats_strings=[b"\x00"],
            cats_int64s=[1],
            default_int64=0,
        )  # (n * p,)
        ones = em("Expand", int64(1), em("Shape", values))  # (m,)
        sizes = em("ScatterND", is_nul, token, ones, reduction="add")  # (n * p,)
        sizes = em("Reshape", sizes, shape, allowzero=1)  # (n, p)
        starts = em("CumSum", sizes, int64(1), exclusive=1)  # (n, p) each piece's first byte
        length = em("ReduceSum", sizes, int64([1]), keepdims=1)  # (n, 1)
        maxlen = em("ReduceMax", length, keepdims=0)  # ()
        # each byte's place in an (n, maxlen + 16) zero-padded grid; p >= 1 whenever m >= 1
        row = em("Div", token, em("Max", em("Gather", shape, int64(1)), int64(1)))  # (m, 1)
        column = em("Add", em("Gather", em("Reshape", starts, int64([-1])), token), offset)
        grid_shape = em(
            "Concat",
            em("Gather", shape, int64([0])),
            em("Add", em("Unsqueeze", maxlen, int64([0])), int64([16])),
            axis=0,
        )
        grid = em(
            "ConstantOfShape", grid_shape, value=helper.make_tensor("", TensorProto.INT64, [1], [0])
        )
        grid = em("ScatterND", grid, em("Concat", row, column, axis=1), values)  # (n, maxlen + 16)
        # little-endian words at every offset, doubling: bytes i..i+1, then i..i+3, then i..i+7
        words = em("Cast", grid, to=TensorProto.UINT64)
        for size in (1, 2, 4):
            low = em("Slice", words, int64([0]), int64([-size]), int64([1]))
            high = em("Slice", words, int64([size]), int64([2**62]), int64([1]))
            words = em("BitwiseOr", low, em.shift(high, 8 * size, "LEFT"))  # width - size
        # words: (n, maxlen + 9)
        zeros = em("Mul", length, em.column(0, np.int64))
        return cls(words, length, zeros), maxlen

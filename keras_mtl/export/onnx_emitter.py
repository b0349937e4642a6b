"""Building ONNX graphs of uint64 arithmetic node by node."""

import itertools

import numpy as np

from keras_mtl.optional_import import optional_import

onnx = optional_import("onnx", "onnx", "ONNX export")
TensorProto = onnx.TensorProto
helper = onnx.helper

_U64 = (1 << 64) - 1


class OnnxEmitter:
    """Appends ONNX nodes to `nodes`; every name it makes starts with `prefix`.

    Written for integer hashing in ONNX (`keras_mtl.export.onnx_farmhash`):
    values are uint64 tensors, which wrap and shift like C++'s; arithmetic
    helpers taking Python ints make (1, 1) uint64 constants (reduced mod
    2^64), each made once. Emitters made by `subgraph` share the name counter, the
    constants and the initializer list, and keep their own nodes.
    """

    def __init__(self, prefix, initializers, constants=None, counter=None):
        self.prefix = prefix
        self.nodes = []
        self.initializers = initializers
        self.constants = {} if constants is None else constants
        self.counter = itertools.count() if counter is None else counter

    def subgraph(self):
        """An emitter for a Loop body or If branch (outer names stay visible there)."""
        return OnnxEmitter(self.prefix, self.initializers, self.constants, self.counter)

    def graph(self, hint, inputs, outputs):
        """A subgraph of this emitter's nodes; `inputs`/`outputs`: (name, type, shape) triples."""
        return helper.make_graph(
            self.nodes,
            self.name(hint),
            [helper.make_tensor_value_info(*i) for i in inputs],
            [helper.make_tensor_value_info(*o) for o in outputs],
        )

    def name(self, hint):
        return f"{self.prefix}{hint}_{next(self.counter)}"

    def __call__(self, op_type, *inputs, outputs=1, output_names=None, **attrs):
        """Appends one node; returns its output name (a list if `outputs` > 1)."""
        names = output_names or [self.name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(
            helper.make_node(op_type, list(inputs), names, name=self.name(op_type), **attrs)
        )
        return names[0] if outputs == 1 else names

    def const(self, value, dtype=np.uint64):
        """An initializer holding `value` (a scalar or list) as `dtype`."""
        array = np.asarray(value, dtype=dtype)
        key = (array.dtype.str, array.shape, str(array.tolist()))
        if key not in self.constants:
            name = self.name("const")
            if array.dtype == object:  # strings
                tensor = helper.make_tensor(
                    name, TensorProto.STRING, array.shape, [v.encode() for v in array.flat]
                )
            else:
                tensor = helper.make_tensor(
                    name,
                    helper.np_dtype_to_tensor_dtype(array.dtype),
                    array.shape,
                    array.tobytes(),
                    raw=True,
                )
            self.initializers.append(tensor)
            self.constants[key] = name
        return self.constants[key]

    def column(self, value, dtype=np.uint64):
        """A (1, 1) constant, for ops on (n, 1) columns: ONNX Runtime 1.32
        broadcasts a rank-0 constant to (n, 1) about twice as slowly."""
        return self.const([[value]], dtype)

    def _operand(self, x):
        return self.column(x & _U64) if isinstance(x, int) else x

    def add(self, *xs):
        total = self._operand(xs[0])
        for x in xs[1:]:
            total = self("Add", total, self._operand(x))
        return total

    def mul(self, a, b):
        return self("Mul", self._operand(a), self._operand(b))

    def xor(self, a, b):
        return self("BitwiseXor", self._operand(a), self._operand(b))

    def band(self, a, b):
        return self("BitwiseAnd", self._operand(a), self._operand(b))

    def shift(self, a, bits, direction):
        return self("BitShift", self._operand(a), self.column(bits), direction=direction)

    def rotate(self, a, bits):
        """farmhash `Rotate`: `a` rotated right by `bits` (1..63)."""
        return self("BitwiseOr", self.shift(a, bits, "RIGHT"), self.shift(a, 64 - bits, "LEFT"))

    def shift_mix(self, a):
        return self.xor(a, self.shift(a, 47, "RIGHT"))

    def mask(self, condition):
        """All ones (uint64) where the bool `condition` holds, zeros elsewhere."""
        return self("Sub", self.column(0), self("Cast", condition, to=TensorProto.UINT64))

    def select(self, mask, a, b):
        """`a` where `mask` (from `mask`) is all ones, else `b`: b ^ ((a ^ b) & mask)."""
        return self.xor(b, self.band(self.xor(a, b), mask))

"""OnnxEmitter: uint64 arithmetic that wraps, rotates and selects as C++ does."""

import numpy as np
import onnxruntime
from onnx import TensorProto
from onnx import helper

from keras_mtl.export.onnx_emitter import OnnxEmitter

_U64 = (1 << 64) - 1


def _run(build, values):
    initializers = []
    em = OnnxEmitter("t/", initializers)
    out = em("Identity", build(em, "x"), output_names=["y"])
    column = [helper.make_tensor_value_info("x", TensorProto.UINT64, [None, 1])]
    graph = helper.make_graph(
        em.nodes,
        "g",
        column,
        [helper.make_tensor_value_info(out, TensorProto.UINT64, [None, 1])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    session = onnxruntime.InferenceSession(model.SerializeToString())
    out = session.run(None, {"x": np.array(values, np.uint64)[:, None]})[0]
    return [int(v) for v in out.ravel()]


VALUES = [0, 1, 0x9AE16A3B2F90404F, _U64]


def test_add_and_mul_wrap_mod_2_to_the_64():
    got = _run(lambda em, x: em.add(em.mul(x, 0xB492B66FBE98F273), x, 113), VALUES)
    assert got == [(v * 0xB492B66FBE98F273 + v + 113) & _U64 for v in VALUES]


def test_rotate_and_shift_mix():
    got = _run(lambda em, x: em.shift_mix(em.rotate(x, 43)), VALUES)
    rotated = [((v >> 43) | (v << 21)) & _U64 for v in VALUES]
    assert got == [r ^ (r >> 47) for r in rotated]


def test_select_by_mask_and_shared_constants():
    def build(em, x):
        big = em("Greater", x, em.column(1))
        return em.select(em.mask(big), em.add(x, 5), x)

    assert _run(build, VALUES) == [0, 1, 0x9AE16A3B2F90404F + 5, 4]
    em = OnnxEmitter("t/", [])
    assert em.column(7) == em.column(7) and len(em.initializers) == 1

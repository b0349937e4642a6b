"""`hash_bucket_nodes` in ONNX Runtime against `tf.strings.to_hash_bucket_fast`."""

import functools
import random

import numpy as np
import onnx
import onnxruntime
import onnxruntime_extensions
import pytest
import tensorflow as tf
from onnx import TensorProto
from onnx import helper

from keras_mtl.export import onnx_farmhash

NUM_BUCKETS = (2, 16, 1000003, 2**40 + 7, 2**63 - 1)
# byte lengths at farmhash's branch edges: 0-3, 4-7, 8-16, 17-32, 33-64, 65+ (64-byte chunks)
BOUNDARIES = (0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129)
# code point ranges by UTF-8 size, surrogates left out
CODE_POINTS = {
    1: [(0x00, 0x7F)],
    2: [(0x80, 0x7FF)],
    3: [(0x800, 0xD7FF), (0xE000, 0xFFFF)],
    4: [(0x10000, 0x10FFFF)],
}
# NUL, whitespace, 2-4 byte characters, emoji (with a skin tone; a flag of two code points)
SPECIAL = ["\x00", " ", "\t", "\n", "\r", "\u00a0", "é", "€", "😀", "👍🏽", "\U0001f1ef\U0001f1f5"]


def session(outputs, rank):
    """A session hashing input "text" of `rank` into `outputs` ({name: num_buckets})."""
    nodes, initializers = [], []
    for name, num_buckets in outputs.items():
        more_nodes, more_initializers = onnx_farmhash.hash_bucket_nodes(
            "text", name, num_buckets, prefix=f"{name}/"
        )
        nodes += more_nodes
        initializers += more_initializers
    shape = [None] * rank
    graph = helper.make_graph(
        nodes,
        "hash",
        [helper.make_tensor_value_info("text", TensorProto.STRING, shape)],
        [helper.make_tensor_value_info(name, TensorProto.INT64, shape) for name in outputs],
        initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[
            helper.make_opsetid(domain, version)
            for domain, version in onnx_farmhash.OPSET_IMPORTS.items()
        ],
    )
    onnx.checker.check_model(model, full_check=True)
    options = onnxruntime.SessionOptions()
    options.register_custom_ops_library(onnxruntime_extensions.get_library_path())
    return onnxruntime.InferenceSession(model.SerializeToString(), options)


def tf_buckets(strings, num_buckets):
    # bytes, not a numpy str array: numpy drops a str's trailing NULs
    strings = np.asarray(strings, dtype=object)
    flat = tf.constant([s.encode("utf-8") for s in strings.flat], dtype=tf.string)
    return tf.strings.to_hash_bucket_fast(flat, num_buckets).numpy().reshape(strings.shape)


def random_string(rng, size):
    """A string of exactly `size` UTF-8 bytes, mixing 1-4 byte characters."""
    chars = []
    while size:
        if rng.random() < 0.2:
            char = rng.choice(SPECIAL)
        else:
            low, high = rng.choice(CODE_POINTS[rng.choice([1, 1, 1, 2, 3, 4])])
            char = chr(rng.randint(low, high))
        if len(char.encode("utf-8")) > size:
            char = chr(rng.randint(0, 0x7F))
        chars.append(char)
        size -= len(char.encode("utf-8"))
    return "".join(chars)


@functools.cache
def random_strings(seed=0):
    """12,000 strings: 150 of each boundary length, the rest of 0-300 bytes."""
    rng = random.Random(seed)
    sizes = [size for size in BOUNDARIES for _ in range(150)]
    sizes += [rng.randint(0, 300) for _ in range(12000 - len(sizes))]
    strings = [random_string(rng, size) for size in sizes]
    rng.shuffle(strings)
    return strings


def test_random_strings_match_tensorflow():
    strings = random_strings()
    assert {len(s.encode("utf-8")) for s in strings} >= set(BOUNDARIES)
    assert any("\x00" in s for s in strings)
    assert {len(c.encode("utf-8")) for s in strings for c in s} == {1, 2, 3, 4}
    buckets = session({"bucket": 2**63 - 1}, rank=1).run(
        None, {"text": np.array(strings, dtype=object)}
    )[0]
    assert buckets.dtype == np.int64 and buckets.shape == (len(strings),)
    np.testing.assert_array_equal(buckets, tf_buckets(strings, 2**63 - 1))
    # the widest modulus leaves the 64-bit hash nearly whole: distinct strings, distinct values
    assert len(set(buckets.tolist())) == len(set(strings))


def test_every_num_buckets_as_features_of_one_graph():
    strings = random_strings()[:2000]
    outputs = {f"bucket_{i}": n for i, n in enumerate(NUM_BUCKETS)}
    got = session(outputs, rank=1).run(list(outputs), {"text": np.array(strings, dtype=object)})
    for (name, num_buckets), buckets in zip(outputs.items(), got):
        np.testing.assert_array_equal(buckets, tf_buckets(strings, num_buckets), err_msg=name)
    assert got[0].min() == 0 and got[0].max() == 1


def test_two_dimensional_padded_input():
    rng = random.Random(1)
    rows = [
        [random_string(rng, rng.choice(BOUNDARIES)) for _ in range(rng.randint(0, 6))]
        for _ in range(64)
    ]
    padded = np.array([row + [""] * (6 - len(row)) for row in rows], dtype=object)  # (64, 6)
    buckets = session({"bucket": 1000003}, rank=2).run(None, {"text": padded})[0]
    assert buckets.shape == (64, 6)
    np.testing.assert_array_equal(buckets, tf_buckets(padded, 1000003))


@pytest.mark.parametrize(
    "strings",
    [
        ["hello"],
        [""],
        ["", "", ""],
        ["\x00"],
        ["\x00", "\x00\x00", "a\x00", "\x00a", "a\x00b" * 40, "é\x00😀"],
    ],
    ids=["one", "one_empty", "all_empty", "nul", "nul_anywhere"],
)
def test_small_batches(strings):
    text = np.array(strings, dtype=object)
    buckets = session({"bucket": 1000003}, rank=1).run(None, {"text": text})[0]
    np.testing.assert_array_equal(buckets, tf_buckets(strings, 1000003))


def test_known_values_for_a_scalar_and_an_empty_batch():
    # Fingerprint64("hello") = 13009744463427800296 and Fingerprint64("") = farmhash's k2,
    # 11160318154034397263 (TF 2.21), each modulo 2**63 - 1
    hashed = session({"bucket": 2**63 - 1}, rank=0)
    assert hashed.run(None, {"text": np.array("hello", dtype=object)})[0].tolist() == (
        13009744463427800296 - (2**63 - 1)
    )
    assert hashed.run(None, {"text": np.array("", dtype=object)})[0].tolist() == (
        11160318154034397263 - (2**63 - 1)
    )
    empty = session({"bucket": 10}, rank=2).run(None, {"text": np.zeros((0, 3), dtype=object)})[0]
    assert empty.shape == (0, 3) and empty.dtype == np.int64


@pytest.mark.parametrize("longest", [16, 17, 32, 33, 64, 65, 128, 129])
def test_short_strings_beside_a_longer_branch(longest):
    """A longer branch runs only once some string reaches it; the short rows
    beside it read from before their start there and must keep their own hash."""
    rng = random.Random(longest)
    strings = ["", "a", "abc", "abcd", "é" * 4, "x" * 8, random_string(rng, longest)]
    text = np.array(strings, dtype=object)
    buckets = session({"bucket": 2**40 + 7}, rank=1).run(None, {"text": text})[0]
    np.testing.assert_array_equal(buckets, tf_buckets(strings, 2**40 + 7))


def test_every_name_starts_with_the_prefix():
    nodes, initializers = onnx_farmhash.hash_bucket_nodes("text", "out", 7, prefix="city/")
    names = [t.name for t in initializers]

    def collect(nodes):
        for node in nodes:
            names.append(node.name)
            names.extend(o for o in node.output if o != "out")
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.GRAPH:
                    names.append(attribute.g.name)
                    names.extend(v.name for v in [*attribute.g.input, *attribute.g.output])
                    collect(attribute.g.node)

    collect(nodes)
    assert len(names) > 100
    assert [n for n in names if not n.startswith("city/")] == []
    assert len(set(t.name for t in initializers)) == len(initializers)
    assert sum(node.output[:] == ["out"] for node in nodes) == 1


@pytest.mark.parametrize("num_buckets", [0, -3, 2**63, 2.0, True, "16"])
def test_rejects_num_buckets_out_of_tf_range(num_buckets):
    with pytest.raises(ValueError, match=r"expected num_buckets .* Received: num_buckets="):
        onnx_farmhash.hash_bucket_nodes("text", "out", num_buckets, prefix="p/")


def test_rejects_an_empty_prefix():
    with pytest.raises(ValueError, match=r"Received: prefix=''"):
        onnx_farmhash.hash_bucket_nodes("text", "out", 8, prefix="")

"""Tests of keras_mtl.layers.DSelectKGate against the paper's formulas."""

import numpy as np
import pytest

from keras_mtl.layers import DSelectKGate
from tests.layer_check import check_layer

BATCH, GATE_DIM, UNITS = 4, 3, 2


def _inputs(num_experts):
    rng = np.random.default_rng(0)
    return [
        rng.normal(size=(BATCH, GATE_DIM)).astype("float32"),
        rng.normal(size=(BATCH, num_experts, UNITS)).astype("float32"),
    ]


def _smooth_step(t, gamma):
    """S_γ(t) of the paper (its eq. for the smooth-step), scalar by scalar."""
    if t <= -gamma / 2:
        return 0.0
    if t >= gamma / 2:
        return 1.0
    return -2 * t**3 / gamma**3 + 3 * t / (2 * gamma) + 0.5


def _selector(z, num_experts, gamma):
    """r(z)_e = Π_b (S(z_b) if bit b of e is 1 else 1 − S(z_b)), bits MSB
    first, over the n experts, renormalised when n < 2^m."""
    m = len(z)
    s = [_smooth_step(v, gamma) for v in z]
    r = []
    for e in range(num_experts):
        bits = [int(c) for c in format(e, f"0{m}b")]
        r.append(np.prod([s[b] if bits[b] else 1 - s[b] for b in range(m)]))
    r = np.array(r)
    return r / r.sum()


def _expected(gate_input, kz, bz, kw, bw, num_experts, k, gamma):
    """α = Σ_i softmax(w)_i r(z_i) per row, with z, w Dense of the input."""
    m = kz.shape[1] // k
    out = []
    for x in gate_input.astype("float64"):
        z = (x @ kz + bz).reshape(k, m)
        w = x @ kw + bw
        a = np.exp(w - w.max())
        a /= a.sum()
        out.append(sum(a[i] * _selector(z[i], num_experts, gamma) for i in range(k)))
    return np.array(out)


@pytest.mark.parametrize(
    "kwargs, num_trainable",
    [
        ({"num_experts": 4, "k": 2}, 4),
        ({"num_experts": 3, "k": 1, "hidden_units": (4,)}, 6),
        ({"num_experts": 5, "k": 2, "per_example": False, "return_weights": True}, 2),
    ],
)
def test_dselect_k_gate_from_every_side(kwargs, num_trainable):
    check_layer(
        lambda: DSelectKGate(**kwargs),
        _inputs(kwargs["num_experts"]),
        num_trainable_weights=num_trainable,
    )


@pytest.mark.parametrize("num_experts, k, gamma", [(4, 2, 1.0), (3, 2, 2.0), (8, 3, 1.0)])
def test_weights_and_mixture_match_the_paper(num_experts, k, gamma):
    gate_input, experts = _inputs(num_experts)
    m = int(np.ceil(np.log2(num_experts)))
    rng = np.random.default_rng(1)
    # logits of order γ: some bits saturate (S = 0 or 1), some stay cubic
    kz, bz = rng.normal(size=(GATE_DIM, k * m)) * gamma, rng.normal(size=k * m) * gamma
    kw, bw = rng.normal(size=(GATE_DIM, k)), rng.normal(size=k)
    layer = DSelectKGate(num_experts, k=k, gamma=gamma, return_weights=True)
    layer([gate_input, experts])
    layer.set_weights([kz, bz, kw, bw])
    mixture, weights = layer([gate_input, experts])
    expected = _expected(gate_input, kz, bz, kw, bw, num_experts, k, gamma)
    np.testing.assert_allclose(weights.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights.numpy().sum(axis=1), np.ones(BATCH), rtol=1e-6)
    np.testing.assert_allclose(
        mixture.numpy(), np.einsum("be,beu->bu", expected, experts), rtol=1e-5, atol=1e-5
    )


def test_saturated_selectors_pick_at_most_k_experts():
    # z = ±10 ≫ γ/2: every selector is one-hot on the expert whose code
    # reads the signs (+ → bit 1), so α has at most k non-zeros.
    gate_input, experts = _inputs(8)
    layer = DSelectKGate(8, k=2, per_example=False, return_weights=True)
    layer([gate_input, experts])
    # selector 0 → code 101 = expert 5, selector 1 → 010 = expert 2
    layer.set_weights([np.array([[10.0, -10.0, 10.0], [-10.0, 10.0, -10.0]]), np.log([3.0, 1.0])])
    _, weights = layer([gate_input, experts])
    expected = np.zeros((BATCH, 8))
    expected[:, 5], expected[:, 2] = 0.75, 0.25  # softmax(log 3, log 1)
    np.testing.assert_allclose(weights.numpy(), expected, atol=1e-7)


def test_entropy_regulariser_is_added_to_the_losses():
    gate_input, experts = _inputs(4)
    layer = DSelectKGate(4, k=2, entropy_reg=0.5)
    layer([gate_input, experts])
    kz = np.random.default_rng(2).normal(size=(GATE_DIM, 4)) * 0.3
    layer.set_weights([kz, np.zeros(4), np.zeros((GATE_DIM, 2)), np.zeros(2)])
    layer([gate_input, experts])
    # H(r_i) = −Σ_e r log r of each selector, summed over i, averaged over rows
    entropy = []
    for x in gate_input.astype("float64"):
        z = (x @ kz).reshape(2, 2)
        entropy.append(
            sum(-np.sum(r * np.log(r + 1e-6)) for r in (_selector(zi, 4, 1.0) for zi in z))
        )
    np.testing.assert_allclose(float(layer.losses[-1]), 0.5 * np.mean(entropy), rtol=1e-5)
    np.testing.assert_allclose(float(layer.entropy(gate_input)), np.mean(entropy), rtol=1e-5)
    # a one-hot selector has no entropy; uniform over 4 codes has log 4
    assert np.mean(entropy) < 2 * np.log(4)


def test_starts_near_uniform_and_refuses_bad_arguments():
    gate_input, experts = _inputs(4)
    layer = DSelectKGate(4, k=2)
    layer([gate_input, experts])
    np.testing.assert_allclose(layer.mixture_weights(gate_input).numpy(), 0.25, atol=0.02)
    for kwargs, message in [
        ({"num_experts": 1}, "at least 2 experts"),
        ({"num_experts": 4, "k": 0}, "k=0"),
        ({"num_experts": 4, "gamma": 0}, "gamma=0"),
    ]:
        with pytest.raises(ValueError, match=message):
            DSelectKGate(**kwargs)
    shape_error = r"DSelectKGate expected experts of shape \(batch, 4, units\)"
    with pytest.raises(ValueError, match=shape_error):
        DSelectKGate(4)([gate_input, experts[:, :3]])

"""MMoE-paper synthetic tasks: weights of cosine p and norm c, labels by the formula."""

import math

import numpy as np
import pytest

from keras_mtl.data import make_correlated_tasks


@pytest.mark.parametrize("correlation", [1.0, 0.9, 0.5, 0.0, -0.3])
@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_weights_have_cosine_p_and_norm_c(correlation, scale):
    data = make_correlated_tasks(rows=3, correlation=correlation, dim=16, scale=scale, seed=4)
    w1, w2 = data["w1"], data["w2"]
    assert np.linalg.norm(w1) == pytest.approx(scale)
    assert np.linalg.norm(w2) == pytest.approx(scale)
    assert w1 @ w2 / (np.linalg.norm(w1) * np.linalg.norm(w2)) == pytest.approx(correlation)
    # w2's part orthogonal to w1 is c·sqrt(1 − p²)·u2 with u2 a unit vector ⟂ u1
    orthogonal = w2 - correlation * w1
    assert np.linalg.norm(orthogonal) == pytest.approx(scale * math.sqrt(1 - correlation**2))
    assert orthogonal @ w1 == pytest.approx(0.0, abs=1e-12)


def test_labels_follow_the_formula_row_by_row():
    data = make_correlated_tasks(
        rows=5, correlation=0.5, dim=6, scale=1.5, num_sines=3, noise_std=0.0, seed=7
    )
    assert data["x"].shape == (5, 6) and data["x"].dtype == np.float32
    assert data["alpha"].shape == data["beta"].shape == (3,)
    for row in (0, 2, 4):
        x = data["x"][row].astype("float64")
        for task, w in (("y1", data["w1"]), ("y2", data["w2"])):
            t = sum(x[j] * w[j] for j in range(6))
            expected = t + sum(math.sin(a * t + b) for a, b in zip(data["alpha"], data["beta"]))
            assert data[task][row] == pytest.approx(expected, abs=1e-4)


def test_noise_has_the_stated_variance_and_same_seed_shares_draws():
    clean = make_correlated_tasks(rows=20000, correlation=0.9, dim=4, noise_std=0.0, seed=1)
    noisy = make_correlated_tasks(rows=20000, correlation=0.9, dim=4, noise_std=0.1, seed=1)
    np.testing.assert_array_equal(clean["x"], noisy["x"])
    for task in ("y1", "y2"):
        assert np.var(noisy[task] - clean[task]) == pytest.approx(0.01, rel=0.05)
    # another p, same seed: the same u1, α, β, x; task 1 does not depend on p
    other = make_correlated_tasks(rows=20000, correlation=0.0, dim=4, noise_std=0.1, seed=1)
    np.testing.assert_array_equal(other["y1"], noisy["y1"])
    assert not np.array_equal(other["y2"], noisy["y2"])
    fresh = make_correlated_tasks(rows=20000, correlation=0.9, dim=4, noise_std=0.1, seed=2)
    assert not np.allclose(fresh["w1"], noisy["w1"])


def test_correlation_one_gives_equal_tasks_up_to_noise():
    data = make_correlated_tasks(rows=50, correlation=1.0, dim=8, noise_std=0.0, seed=3)
    np.testing.assert_array_equal(data["y1"], data["y2"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(rows=0, correlation=0.5), "rows=0"),
        (dict(rows=10, correlation=1.5), "correlation=1.5"),
        (dict(rows=10, correlation=0.5, dim=1), "dim=1"),
        (dict(rows=10, correlation=0.5, num_sines=-1), "num_sines=-1"),
        (dict(rows=10, correlation=0.5, noise_std=-0.1), "noise_std=-0.1"),
        (dict(rows=10, correlation=0.5, scale=float("nan")), "scale=nan"),
    ],
)
def test_invalid_arguments_say_what_was_received(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_correlated_tasks(**kwargs)

"""Two regression tasks of controlled correlation (MMoE paper, §3.2)."""

import math

import numpy as np


def _check(rows, correlation, dim, scale, num_sines, noise_std):
    for name, value, low in (("rows", rows, 1), ("dim", dim, 2), ("num_sines", num_sines, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"expected an integer >= {low}. Received: {name}={value!r}")
    if (
        isinstance(correlation, bool)
        or not isinstance(correlation, (int, float))
        or not -1 <= correlation <= 1
    ):
        raise ValueError(
            f"expected a correlation in [-1, 1]. Received: correlation={correlation!r}"
        )
    for name, value in (("scale", scale), ("noise_std", noise_std)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(f"expected a finite number >= 0. Received: {name}={value!r}")


def make_correlated_tasks(
    rows: int,
    correlation: float,
    dim: int = 512,
    scale: float = 1.0,
    num_sines: int = 10,
    noise_std: float = 0.1,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Inputs and two regression labels whose weight vectors have cosine p.

    The synthetic data of Ma et al. (KDD 2018, §3.2). Draw orthonormal
    u1, u2 ∈ R^d, α_i, β_i ~ N(0, 1) for i = 1..m and x ~ N(0, I_d); then

        w1 = c · u1,   w2 = c · (p · u1 + sqrt(1 − p²) · u2),
        y_k = w_kᵀx + Σ_i sin(α_i · w_kᵀx + β_i) + ε_k,   ε_k ~ N(0, σ²)

    with c = `scale`, p = `correlation`, m = `num_sines`, σ = `noise_std`.
    Both tasks share α and β, so p alone sets how related they are (at
    p = 1 they differ by their noise only). Every draw comes before p is
    used: one seed gives the same u, α, β, x and ε for every correlation.
    The defaults are the PLE paper's constants (c = 1, m = 10, d = 512) and
    the MMoE paper's noise variance 0.01.

    Args:
        rows: number of rows.
        correlation: p in [-1, 1], the cosine between w1 and w2.
        dim: d, the input dimension (≥ 2).
        scale: c, the norm of both weight vectors.
        num_sines: m, the number of sine terms.
        noise_std: σ, the standard deviation of the label noise.
        seed: seed of the NumPy generator.

    Returns:
        A dict of NumPy arrays: `x` (rows, dim) float32, labels `y1` and `y2`
        (rows,) float32, and the generating parameters `w1`, `w2` (dim,),
        `alpha`, `beta` (num_sines,) in float64.

    Example:
    >>> data = make_correlated_tasks(rows=4, correlation=0.5, dim=8, seed=0)
    >>> data["x"].shape, data["y1"].shape
    ((4, 8), (4,))
    >>> round(float(data["w1"] @ data["w2"]), 6)
    0.5
    """
    _check(rows, correlation, dim, scale, num_sines, noise_std)
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(dim, 2)))  # (dim, 2), orthonormal columns
    u1, u2 = basis[:, 0], basis[:, 1]
    alpha = rng.normal(size=num_sines)
    beta = rng.normal(size=num_sines)
    x = rng.normal(size=(rows, dim))
    noise = noise_std * rng.normal(size=(rows, 2))  # (rows, 2)

    w1 = scale * u1
    w2 = scale * (correlation * u1 + math.sqrt(1 - correlation**2) * u2)
    out = {"x": x.astype("float32")}
    for k, w in enumerate((w1, w2)):
        t = x @ w  # (rows,)
        sines = np.sin(np.outer(t, alpha) + beta).sum(axis=1)  # (rows, m) summed to (rows,)
        out[f"y{k + 1}"] = (t + sines + noise[:, k]).astype("float32")
    out.update(w1=w1, w2=w2, alpha=alpha, beta=beta)
    return out

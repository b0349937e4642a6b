"""Synthetic multi-domain click data: shared and domain-specific signal."""

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _check(domain_sizes, num_dense, num_items, domain_specificity, signal, task_names):
    sizes = tuple(domain_sizes)
    if len(sizes) < 2 or any(
        isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes
    ):
        raise ValueError(
            f"expected at least two positive domain sizes. Received: domain_sizes={domain_sizes!r}"
        )
    for name, value in (("num_dense", num_dense), ("num_items", num_items)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"expected a positive integer. Received: {name}={value!r}")
    if not isinstance(domain_specificity, (int, float)) or not 0 <= domain_specificity <= 1:
        raise ValueError(f"expected domain_specificity in [0, 1]. Received: {domain_specificity!r}")
    if not isinstance(signal, (int, float)) or signal < 0:
        raise ValueError(f"expected signal >= 0. Received: signal={signal!r}")
    tasks = (task_names,) if isinstance(task_names, str) else tuple(task_names)
    if not tasks or len(set(tasks)) != len(tasks):
        raise ValueError(f"expected unique task names. Received: {task_names!r}")
    return sizes, tasks


def make_multi_domain(
    domain_sizes: Sequence[int] = (20000, 10000, 2000, 1000, 500),
    num_dense: int = 8,
    num_items: int = 100,
    domain_specificity: float = 0.5,
    signal: float = 2.0,
    task_names: Sequence[str] = ("ctr",),
    with_logits: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """A shuffled DataFrame of rows from D domains of unequal sizes.

    A row of domain p has dense features x ~ N(0, I_F) and an item id drawn
    uniformly from `num_items`. For each task k, domain p's weight vector mixes
    a shared and a domain-specific direction,
    `w_pk = sqrt(1 − ρ) · u_k + sqrt(ρ) · v_pk` with u_k, v_pk ~ N(0, I_F / F)
    and ρ = `domain_specificity` (0: all domains alike, 1: unrelated), and

        t = w_pk · x,   z = signal · (t + 0.5 · sin(2t)) + a_k[item] + c_pk,
        y_k ~ Bernoulli(sigmoid(z)),

    with an item effect a_k ~ N(0, 0.5²) shared by the domains and a domain
    bias c_pk ~ N(0, 0.5²). Small domains thus have to borrow the shared part
    from the large ones and learn their own part from few rows.

    Args:
        domain_sizes: rows of each domain; domain ids are 0..D-1 in this order.
        num_dense: F, the number of dense features `x0 .. x{F-1}`.
        num_items: ids of the categorical feature `item` (0..num_items-1).
        domain_specificity: ρ in [0, 1].
        signal: scale of the feature signal in the logit.
        task_names: one 0/1 label column per task.
        with_logits: also return the true logits as `<task>_logit` columns
            (an oracle's scores).
        seed: seed of every draw.

    Returns:
        A DataFrame with columns `domain` (int64), `x0..` (float32), `item`
        (int64) and the labels (float32).

    Example:
    >>> df = make_multi_domain(domain_sizes=(30, 10), num_dense=2, seed=0)
    >>> list(df.columns), df["domain"].value_counts().sort_index().tolist()
    (['domain', 'x0', 'x1', 'item', 'ctr'], [30, 10])
    """
    sizes, tasks = _check(
        domain_sizes, num_dense, num_items, domain_specificity, signal, task_names
    )
    rng = np.random.default_rng(seed)
    num_domains, rows = len(sizes), int(sum(sizes))
    domain = np.repeat(np.arange(num_domains), sizes)  # (rows,)
    x = rng.normal(size=(rows, num_dense))  # (rows, F)
    item = rng.integers(0, num_items, rows)
    df = pd.DataFrame({"domain": domain.astype("int64")})
    for j in range(num_dense):
        df[f"x{j}"] = x[:, j].astype("float32")
    df["item"] = item.astype("int64")
    rho = float(domain_specificity)
    for task in tasks:
        shared = rng.normal(size=num_dense) / np.sqrt(num_dense)  # u_k (F,)
        specific = rng.normal(size=(num_domains, num_dense)) / np.sqrt(num_dense)  # v_pk
        weights = np.sqrt(1.0 - rho) * shared + np.sqrt(rho) * specific  # (D, F)
        item_effect = rng.normal(scale=0.5, size=num_items)
        domain_bias = rng.normal(scale=0.5, size=num_domains)
        t = np.einsum("rf,rf->r", x, weights[domain])  # each row with its domain's w
        logit = signal * (t + 0.5 * np.sin(2.0 * t)) + item_effect[item] + domain_bias[domain]
        df[task] = (rng.uniform(size=rows) < 1.0 / (1.0 + np.exp(-logit))).astype("float32")
        if with_logits:
            df[f"{task}_logit"] = logit.astype("float32")
    order = rng.permutation(rows)
    return df.iloc[order].reset_index(drop=True)

"""A seeded synthetic conversion funnel: impression → click → action → purchase."""

import numpy as np
import pandas as pd

from keras_mtl._types import FeatureSpec
from keras_mtl.features.adapt import adapt
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.sparse_feat import SparseFeat

FEATURE_COLUMNS = ("user_id", "item_id", "category", "price", "user_activity")
LABEL_COLUMNS = ("click", "action", "purchase")
#: Known probabilities of every impression, clicked or not (not labels).
TRUTH_COLUMNS = ("true_cvr",)


def _rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"expected a rate in [0, 1). Received: {name}={value!r}")
    return float(value)


def _calibrated(logits, rate, rows):
    """`sigmoid(logits + b)` with b set (by bisection) so that the mean over
    `rows` (a boolean mask) is `rate`."""
    if rate == 0 or not rows.any():
        return np.zeros_like(logits)
    low, high = -30.0, 30.0
    for _ in range(60):
        mid = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(logits[rows] + mid)))) < rate:
            low = mid
        else:
            high = mid
    return 1 / (1 + np.exp(-(logits + (low + high) / 2)))


def funnel_data(
    rows: int = 10000,
    seed: int = 0,
    click_rate: float = 0.2,
    action_rate: float = 0.3,
    purchase_after_action_rate: float = 0.3,
    purchase_after_other_rate: float = 0.03,
    num_users: int = 1000,
    num_items: int = 500,
    num_categories: int = 20,
    signal: float = 1.0,
) -> pd.DataFrame:
    """A DataFrame of impressions with funnel labels from known probabilities.

    Each impression has a user, an item (with a category and a price) and the
    user's activity level. Every step's probability is a logistic function of
    the same latent effects, each step adding its own: users and items have
    normal random effects per step, and

        logit_s = signal · (u_s[user] + v_s[item] + c_s[category]
                  + w_s · activity − p_s · log(price)) + b_s

    where the effects of later steps are correlated with the click step's
    (`u_action = 0.7·u_click + 0.7·noise`, ...). Labels are drawn in funnel
    order, each step's `b_s` set so that its mean probability over the rows
    that reached the step before equals its rate:

    - `click` ~ Bernoulli(p_click) for every impression;
    - `action` (a D-action: cart, wish list) ~ Bernoulli(p_action), only
      after a click;
    - `purchase` ~ Bernoulli(p_buy_after_action) after an action, else
      Bernoulli(p_buy_after_other) after a click without action.

    `true_cvr` is the known post-click conversion rate of every impression,
    clicked or not: `p(purchase | click) = p_action · p_buy_after_action +
    (1 − p_action) · p_buy_after_other`, from the same probabilities the
    labels were drawn with (the steps' offsets `b_s` are set on the rows that
    reached the step before, so the clicked rows are a biased sample of the
    impressions: CVR measured on all impressions against `true_cvr` shows
    the selection bias ESMM and ESCM² address).

    So `action ⇒ click` and `purchase ⇒ click`: `click`, `action` and
    `purchase` are the labels of ESM²'s ctr, ctavr and ctcvr, and
    (`click`, `purchase`) is a two-step funnel for AITM. With
    `purchase_after_other_rate=0`, `purchase ⇒ action` too (a strict
    three-step funnel). The rates set the sparsity: about `click_rate ·
    action_rate` rows have an action and `click_rate · (action_rate ·
    purchase_after_action_rate + (1 − action_rate) ·
    purchase_after_other_rate)` a purchase.

    Args:
        rows: number of impressions.
        seed: seed of the NumPy generator; equal seeds give equal frames.
        click_rate: mean p(click) over the impressions.
        action_rate: mean p(action | click) over the clicks.
        purchase_after_action_rate: mean p(purchase | action) over the
            actions.
        purchase_after_other_rate: mean p(purchase | click without action)
            over the clicks without action.
        num_users, num_items, num_categories: sizes of the id spaces.
        signal: scale of the effects; 0 makes the labels independent of the
            features.

    Returns:
        A DataFrame with feature columns `user_id` (str), `item_id` (int64),
        `category` (str), `price` (float32), `user_activity` (float32),
        float32 label columns `click`, `action`, `purchase` and the float32
        ground truth `true_cvr`.

    Example:
    >>> df = funnel_data(rows=2000, seed=1)
    >>> bool(((df.purchase <= df.click) & (df.action <= df.click)).all())
    True
    >>> round(float(df.click.mean()), 1)
    0.2
    >>> bool(df.true_cvr.between(0, 1).all())
    True
    """
    for name, value in (
        ("rows", rows),
        ("num_users", num_users),
        ("num_items", num_items),
        ("num_categories", num_categories),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"expected a positive integer. Received: {name}={value!r}")
    rates = {
        "click": _rate("click_rate", click_rate),
        "action": _rate("action_rate", action_rate),
        "buy_action": _rate("purchase_after_action_rate", purchase_after_action_rate),
        "buy_other": _rate("purchase_after_other_rate", purchase_after_other_rate),
    }
    rng = np.random.default_rng(seed)
    users = rng.integers(num_users, size=rows)
    # item popularity is skewed: a few items get most impressions
    popularity = rng.pareto(1.5, size=num_items) + 1
    items = rng.choice(num_items, size=rows, p=popularity / popularity.sum())
    item_category = rng.integers(num_categories, size=num_items)
    item_price = rng.lognormal(3.0, 1.0, size=num_items)
    activity = rng.gamma(2.0, 1.0, size=num_users)
    log_price = np.log(item_price[items])
    log_price = (log_price - log_price.mean()) / log_price.std()
    user_act = (activity[users] - activity.mean()) / activity.std()

    steps = tuple(rates)
    effects = {}
    for kind, size in (("user", num_users), ("item", num_items), ("category", num_categories)):
        base = rng.normal(size=size)
        effects[kind] = {
            s: base if i == 0 else 0.7 * base + 0.7 * rng.normal(size=size)
            for i, s in enumerate(steps)
        }
    activity_weight = dict(zip(steps, (0.5, 0.3, 0.4, 0.2)))
    price_weight = dict(zip(steps, (0.2, 0.4, 0.6, 0.8)))
    logits = {
        s: signal
        * (
            effects["user"][s][users]
            + effects["item"][s][items]
            + 0.5 * effects["category"][s][item_category[items]]
            + activity_weight[s] * user_act
            - price_weight[s] * log_price
        )
        for s in steps
    }
    draw = rng.random(size=(4, rows))
    every = np.ones(rows, dtype=bool)
    click = draw[0] < _calibrated(logits["click"], rates["click"], every)
    p_action = _calibrated(logits["action"], rates["action"], click)
    action = click & (draw[1] < p_action)
    other = click & ~action
    p_buy_action = _calibrated(logits["buy_action"], rates["buy_action"], action)
    p_buy_other = _calibrated(logits["buy_other"], rates["buy_other"], other)
    bought_after_action = action & (draw[2] < p_buy_action)
    bought_after_other = other & (draw[3] < p_buy_other)
    # p(purchase | click, x) on every impression, had it been clicked
    true_cvr = p_action * p_buy_action + (1 - p_action) * p_buy_other
    return pd.DataFrame(
        {
            "user_id": np.char.add("u", users.astype(str)),
            "item_id": items.astype("int64"),
            "category": np.char.add("c", item_category[items].astype(str)),
            "price": item_price[items].astype("float32"),
            "user_activity": activity[users].astype("float32"),
            "click": click.astype("float32"),
            "action": action.astype("float32"),
            "purchase": (bought_after_action | bought_after_other).astype("float32"),
            "true_cvr": true_cvr.astype("float32"),
        }
    )


def funnel_features(df: pd.DataFrame, embedding_dim: int = 8) -> tuple[FeatureSpec, ...]:
    """Feature specs for `funnel_data`'s columns, adapted to `df`.

    Ids and categories are embedded (`embedding_dim` wide); price is
    log-transformed and both numbers are standardised in-graph.

    Example:
    >>> specs = funnel_features(funnel_data(rows=100), embedding_dim=4)
    >>> [spec.name for spec in specs]
    ['user_id', 'item_id', 'category', 'price', 'user_activity']
    """
    specs = [
        SparseFeat("user_id", embedding_dim=embedding_dim),
        SparseFeat("item_id", embedding_dim=embedding_dim),
        SparseFeat("category", embedding_dim=embedding_dim),
        DenseFeat("price", log1p=True, normalize=True),
        DenseFeat("user_activity", normalize=True),
    ]
    return adapt(specs, df)

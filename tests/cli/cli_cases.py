"""Tiny data and run configs shared by the CLI tests."""

import os

import numpy as np
import pandas as pd
import yaml

COLORS = ("red", "green", "blue", "black")
TAGS = ("a", "b", "c", "d", "e")


def frame(rows=300, seed=0):
    """Rows with int / string / float / list-in-text features and two labels."""
    rng = np.random.RandomState(seed)
    item = rng.randint(0, 20, size=rows)
    color = rng.choice(COLORS, size=rows)
    price = rng.lognormal(size=rows).astype("float32")
    tags = ["|".join(rng.choice(TAGS, size=rng.randint(0, 4))) for _ in range(rows)]
    logit = 0.8 * (color == "red") - 0.5 * np.log(price) + 0.1 * (item % 3)
    click = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    spend = (2.0 * price + rng.normal(scale=0.1, size=rows)).round(3)
    return pd.DataFrame(
        {"item": item, "color": color, "price": price, "tags": tags, "click": click, "spend": spend}
    )


def config(**sections):
    """A run config dict (1 epoch, MMoE, binary + regression); `sections`
    replace whole top-level sections."""
    base = {
        "seed": 3,
        "data": {"train": "train.csv", "validation": "valid.csv", "test": "test.csv"},
        "features": {
            "sparse": [{"name": "item", "embedding_dim": 3}, "color"],
            "dense": [{"name": "price", "log1p": True, "normalize": True}],
            "varlen": [{"name": "tags", "maxlen": 3, "embedding_dim": 3}],
        },
        "tasks": [{"name": "ctr", "label": "click"}, {"name": "spend", "type": "regression"}],
        "model": {"builder": "MMoE", "num_experts": 3, "expert_units": [8], "tower_units": [4]},
        "weighting": {"strategy": "UncertaintyWeighting"},
        "training": {"epochs": 1, "batch_size": 64, "verbose": 0},
        "output": {"dir": "out"},
    }
    base.update(sections)
    return base


def write_run(folder, cfg=None, rows=(300, 100, 100)):
    """Writes train / valid / test CSVs and run.yaml into `folder`; returns
    the config path."""
    os.makedirs(folder, exist_ok=True)
    for name, count, seed in zip(("train", "valid", "test"), rows, (0, 1, 2)):
        frame(count, seed).to_csv(os.path.join(folder, f"{name}.csv"), index=False)
    path = os.path.join(folder, "run.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg if cfg is not None else config(), f)
    return path

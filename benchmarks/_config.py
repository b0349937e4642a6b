"""The MMoE / PLE configuration the training benchmark uses, library-neutral.

One place for the sizes, the synthetic rows and the FLOP count, so every
library in `throughput.py` trains on the same arrays and the same widths.
Nothing here imports TensorFlow or PyTorch: the benchmark's workers import
only the library they run.
"""

import numpy as np

NUM_CATEGORICAL, VOCAB, DIM, NUM_NUMERIC = 16, 1000, 8, 8
EXPERT_UNITS, TOWER_UNITS, NUM_EXPERTS = (256, 128), (64,), 8
TASKS = ("ctr", "cvr")
# PLE: two levels of 4 shared + 2 specific experts per task (8 per level, as MMoE)
PLE_LEVELS, PLE_SHARED, PLE_SPECIFIC = 2, 4, 2
LEARNING_RATE = 1e-3
#: each model's keras_mtl builder and its own settings (`_harness.config_model`)
MODELS = {
    "mmoe": ("MMoE", {"num_experts": NUM_EXPERTS}),
    "ple": (
        "PLE",
        {
            "num_levels": PLE_LEVELS,
            "num_shared_experts": PLE_SHARED,
            "num_specific_experts": PLE_SPECIFIC,
        },
    ),
}

CATEGORICAL = tuple(f"c{i}" for i in range(NUM_CATEGORICAL))
NUMERIC = tuple(f"n{i}" for i in range(NUM_NUMERIC))
INPUT_DIM = NUM_CATEGORICAL * DIM + NUM_NUMERIC


def ids(rng, n, vocab, zipf):
    """`n` ids in `[0, vocab)`: uniform, or Zipf-like with exponent `zipf` > 1.

    Zipf draws `k ≥ 1` with P(k) ∝ k^-zipf (id k-1, the popular ids first);
    draws beyond the vocabulary wrap around, which only thickens the tail.
    """
    if not zipf:
        return rng.randint(0, vocab, n).astype("int64")
    return ((rng.zipf(zipf, n) - 1) % vocab).astype("int64")


def synthetic(n, seed=0, vocab=VOCAB, zipf=0.0):
    """`(x, y)`: pre-encoded ids (int64, `vocab` per feature, uniform or
    Zipf-like), standard-normal numerics (float32) and two binary labels that
    depend on a few features (float32, `(n,)`)."""
    rng = np.random.RandomState(seed)
    x = {name: ids(rng, n, vocab, zipf) for name in CATEGORICAL}
    x.update({name: rng.normal(size=n).astype("float32") for name in NUMERIC})
    score = x["n0"] + 0.5 * x["n1"] + (x["c0"] % 7 == 0)
    y = {
        TASKS[0]: (score + rng.normal(size=n) > 0.5).astype("float32"),
        TASKS[1]: (score - x["n2"] + rng.normal(size=n) > 1.5).astype("float32"),
    }
    return x, y


def _dense_macs(fan_in, units):
    macs = 0
    for width in units:
        macs += fan_in * width
        fan_in = width
    return macs


def forward_macs_per_row(model):
    """Multiply-adds of one row's forward pass through the dense layers.

    Embedding lookups, activations, softmax and the gate mixtures are left
    out (they are O(E·units) per row, under 1% here).
    """
    tasks, last = len(TASKS), EXPERT_UNITS[-1]
    towers = tasks * (_dense_macs(last, TOWER_UNITS) + TOWER_UNITS[-1])
    if model == "mmoe":
        gates = tasks * INPUT_DIM * NUM_EXPERTS
        return NUM_EXPERTS * _dense_macs(INPUT_DIM, EXPERT_UNITS) + gates + towers
    per_level = tasks * PLE_SPECIFIC + PLE_SHARED
    own = PLE_SPECIFIC + PLE_SHARED
    macs = 0
    for level in range(PLE_LEVELS):
        fan_in = INPUT_DIM if level == 0 else last
        macs += per_level * _dense_macs(fan_in, EXPERT_UNITS) + tasks * fan_in * own
        if level < PLE_LEVELS - 1:
            macs += fan_in * per_level  # shared gate
    return macs + towers


def train_flops_per_row(model):
    """FLOPs of one training row: forward plus the two backward matmuls
    (input and weight gradients) of every dense layer, `3 · 2 · MACs`."""
    return 6 * forward_macs_per_row(model)

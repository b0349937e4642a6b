"""Text lines of an expert-health report (`keras_mtl.evaluation.expert_health`),
as `plot-gates` and `inspect --data` print them."""


def gate_lines(health):
    """One line per gate table: the normalised entropy of each gate row."""
    return [
        f"gate entropy ({g['title']}, 1 = uniform): "
        + "; ".join(f"{row} {h:.2f}" for row, h in zip(g["rows"], g["normalized_entropy"]))
        for g in health["gates"]
    ]


def expert_lines(health):
    """One line per expert group: zero outputs / dead units of each expert."""
    return [
        f"expert health ({e['title']}, zero outputs / dead units): "
        + "; ".join(
            f"{c} {z:.2f}/{d:.2f}"
            for c, z, d in zip(e["columns"], e["zero_fraction"], e["dead_fraction"])
        )
        for e in health["experts"]
    ]

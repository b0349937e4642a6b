"""`keras-mtl plot-gates`: a heatmap of gate utilisation, and weight curves."""

import json
import os

import numpy as np

from keras_mtl.cli import gates
from keras_mtl.cli import health_report
from keras_mtl.cli import loading
from keras_mtl.cli.command_error import CommandError
from keras_mtl.evaluation import expert_health
from keras_mtl.optional_import import optional_import


def _pyplot():
    try:
        matplotlib = optional_import("matplotlib", "plot", "plot-gates")
    except ImportError as error:
        raise CommandError(str(error)) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _history_curves(path):
    """`{task: [weight per epoch]}` from a history JSON `train` wrote."""
    try:
        with open(path, encoding="utf-8") as f:
            history = json.load(f)
    except (OSError, ValueError) as error:
        raise CommandError(
            f"--history {path}: expected the history JSON `keras-mtl train` "
            f"writes. Received {error}"
        ) from None
    if not isinstance(history, dict):
        raise CommandError(f"--history {path}: expected a JSON object of per-epoch lists")
    return {
        key[len("weight_") :]: values
        for key, values in history.items()
        if key.startswith("weight_") and isinstance(values, list)
    }


def _heatmap(ax, group):
    mean = np.asarray(group["mean"], "float64")
    shown = np.ma.masked_invalid(mean)
    image = ax.imshow(
        shown, cmap="viridis", vmin=0.0, vmax=max(1e-9, float(np.nanmax(mean))), aspect="auto"
    )
    ax.set_xticks(range(len(group["columns"])))
    ax.set_xticklabels(group["columns"], rotation=45, ha="right")
    ax.set_yticks(range(len(group["rows"])))
    ax.set_yticklabels(group["rows"])
    ax.set_title(f"mean gate weight: {group['title']}")
    bright = 0.6 * float(np.nanmax(mean))
    for r in range(mean.shape[0]):
        for c in range(mean.shape[1]):
            value = mean[r, c]
            text = "-" if np.isnan(value) else f"{value:.2f}"
            color = "black" if np.isnan(value) or value > bright else "white"
            ax.text(c, r, text, ha="center", va="center", color=color, fontsize=8)
    return image


def _health_bars(ax, group):
    """Zero outputs and dead units per expert of one expert group."""
    x = np.arange(len(group["columns"]))
    ax.bar(x - 0.2, group["zero_fraction"], 0.4, label="zero outputs")
    ax.bar(x + 0.2, group["dead_fraction"], 0.4, label="dead units (zero on every row)")
    ax.set_ylim(0, 1)
    ax.set_xticks(x)
    ax.set_xticklabels(group["columns"], rotation=45, ha="right")
    ax.set_title(f"expert health: {group['title']}")
    ax.legend(fontsize=8)


def run_plot_gates(
    model_path, data_path, out, history_path=None, batch_size=1024, separator="|", print_fn=print
):
    """Writes `out` (PNG) and `<out without .png>.json` (the numbers).

    The PNG has a heatmap per gate table (its rows labelled with their
    normalised gate entropy, 1 = uniform), a bar chart of zero outputs and
    dead units per expert group (`keras_mtl.evaluation.expert_health`) and,
    with a history, the task weight curves; the JSON adds the health report
    under "health".

    Returns:
        The groups of `gates.mean_gate_weights` (mean weight per task and
        expert over the rows of `data_path`).
    """
    plt = _pyplot()  # fail before any model is loaded
    curves = _history_curves(history_path) if history_path else None
    model = loading.load_model(model_path, print_fn)
    df, arrays = loading.load_rows(model, data_path, separator)
    groups = gates.mean_gate_weights(model, arrays, batch_size)
    health = expert_health.expert_health(model, arrays, batch_size)
    entropy = {
        (g["title"], row): h
        for g in health["gates"]
        for row, h in zip(g["rows"], g["normalized_entropy"])
    }

    panels = len(groups) + len(health["experts"]) + (1 if curves is not None else 0)
    fig, axes = plt.subplots(
        panels,
        1,
        figsize=(
            max(6.0, 1.0 + 0.9 * max(len(g["columns"]) for g in groups + health["experts"])),
            1.5
            + sum(0.5 * len(g["rows"]) + 1.5 for g in groups)
            + 3.0 * len(health["experts"])
            + (3.0 if curves is not None else 0.0),
        ),
        squeeze=False,
    )
    for ax, group in zip(axes[:, 0], groups):
        fig.colorbar(_heatmap(ax, group), ax=ax)
        ax.set_yticklabels(
            [
                f"{row} (H {entropy[(group['title'], row)]:.2f})"
                if (group["title"], row) in entropy
                else row
                for row in group["rows"]
            ]
        )
    for ax, group in zip(axes[len(groups) :, 0], health["experts"]):
        _health_bars(ax, group)
    if curves is not None:
        ax = axes[-1, 0]
        for task, values in sorted(curves.items()):
            ax.plot(range(1, len(values) + 1), values, marker="o", label=task)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel("task weight")
        ax.set_title("weight_<task> per epoch" if curves else "no weight_<task> in the history")
        if curves:
            ax.legend()
    fig.suptitle(
        f"{model.name}: gate utilisation over {len(df)} rows of {os.path.basename(data_path)}"
    )
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)

    numbers = os.path.splitext(out)[0] + ".json"
    with open(numbers, "w", encoding="utf-8") as f:
        json.dump(
            {
                "model": model.name,
                "builder": gates.builder_of(model),
                "rows": len(df),
                "gates": [
                    {
                        **g,
                        "mean": [
                            [None if np.isnan(v) else float(v) for v in row]
                            for row in np.asarray(g["mean"])
                        ],
                    }
                    for g in groups
                ],
                "task_weights": curves,
                "health": expert_health.as_json(health),
            },
            f,
            indent=2,
        )
    for group in groups:
        print_fn(
            f"{group['title']}: "
            + "; ".join(
                f"{row} " + " ".join("-" if np.isnan(v) else f"{v:.2f}" for v in values)
                for row, values in zip(group["rows"], np.asarray(group["mean"]))
            )
        )
    for line in health_report.gate_lines(health) + health_report.expert_lines(health):
        print_fn(line)
    print_fn(f"wrote {out} and {numbers}")
    return groups

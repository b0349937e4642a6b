"""Loss vs task correlation on the MMoE paper's synthetic data (Ma et al., KDD 2018, §3.2 and §5.1).

Data: `keras_mtl.data.make_correlated_tasks`, two regression tasks whose
weight vectors have cosine p:

    w1 = c·u1,  w2 = c·(p·u1 + sqrt(1 − p²)·u2),  x ~ N(0, I_d),
    y_k = w_kᵀx + Σ_{i=1..m} sin(α_i·w_kᵀx + β_i) + ε_k,  ε_k ~ N(0, σ²).

Constants. The MMoE paper states the models of its synthetic experiment:
input dimension d = 100; OMoE and MMoE with 8 experts, each one layer of 16
units; towers of one 8-unit layer; Shared-Bottom with one bottom layer of
113 units, so its parameters match (100·16·8 + 16·8·2 = 13,056 ≈ 113 ·
(100 + 8·2)); Adam; every (model, correlation) averaged over many runs, each
with new data and a new initialisation. It does not state c, m, α, β, the
batch size or the number of steps: we use c = 1, m = 10, α_i, β_i ~ N(0, 1)
(SPEC.md), σ² = 0.01 (the paper), batch 128 and 6,000 steps. PLE (not in the
MMoE paper) has 2 levels of 2 task-specific and 4 shared 16-unit experts.
`--bottom-units 113 16` gives Shared-Bottom a second, 16-unit layer: its
towers then share a representation as wide as the one each MMoE tower reads
(its gate's mixture of 16-unit experts), at about the same parameter count.

Protocol. Every seed draws new u1, u2, α, β, x and ε; within a seed only p
changes, so correlations and models are compared on the same draws (paired).
Each training row is seen once (steps × batch fresh rows), so the training
loss is an unbiased estimate of the expected loss, as with the paper's
generated data; a further 10,000 rows are the test set, evaluated every
`--eval-every` steps. Loss = MSE averaged over the two tasks (noise floor σ²).
Reported per model and p, mean over seeds: the test loss after the last step
and the mean of the test-loss curve (the area under the paper's Figure 4
curves, divided by its length); and the paired gaps baseline − MMoE with their
standard errors, and how much each gap grows from the highest p (paired).
Seeds run in parallel worker processes (`--jobs`), one thread each; the
results file is written after every seed, and a run of the same
configuration reuses the seeds it already holds (so an interrupted run, or
one asked for more seeds, trains only what is missing). What the results
show, and what earlier configurations showed: docs/benchmarks.md.

    python benchmarks/synthetic.py                      # 40 seeds, ~50 min on 2 cores
    python benchmarks/synthetic.py --quick              # 1-minute smoke run, writes nothing
    python benchmarks/synthetic.py --seeds 0 1 2 --scale 2
    python benchmarks/synthetic.py --replot benchmarks/results/synthetic.json
    # the runs behind docs/benchmarks.md's other synthetic sections:
    python benchmarks/synthetic.py --seeds $(seq -s ' ' 0 199) --models SharedBottom MMoE \
        --correlations 1 0.5 0 --reuse benchmarks/results/synthetic.json \
        --out benchmarks/results/synthetic_200.json \
        --plot docs/img/synthetic_correlation_200.png --section synthetic-200
    python benchmarks/synthetic.py --seeds $(seq -s ' ' 0 79) --models SharedBottom MMoE \
        --correlations 1 0.5 0 --bottom-units 113 16 \
        --out benchmarks/results/synthetic_narrow.json \
        --plot docs/img/synthetic_correlation_narrow.png --section synthetic-narrow
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness  # noqa: E402
import _report  # noqa: E402

TASKS = ("y1", "y2")
MODELS = ("SharedBottom", "OMoE", "MMoE", "PLE")
PAPER_BOTTOM = (113,)  # the MMoE paper's Shared-Bottom: one layer of 113 units
DEFAULT_OUT = os.path.join(ROOT, "benchmarks", "results", "synthetic.json")
DEFAULT_PLOT = os.path.join(ROOT, "docs", "img", "synthetic_correlation.png")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--correlations", type=float, nargs="+", default=[1.0, 0.9, 0.5, 0.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(40)))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--test-rows", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--dim", type=int, default=100, help="d")
    parser.add_argument("--scale", type=float, default=1.0, help="c")
    parser.add_argument("--num-sines", type=int, default=10, help="m")
    parser.add_argument("--noise-std", type=float, default=0.1, help="σ (variance σ²)")
    parser.add_argument("--num-experts", type=int, default=8, help="OMoE / MMoE")
    parser.add_argument("--expert-units", type=int, default=16)
    parser.add_argument(
        "--bottom-units",
        type=int,
        nargs="+",
        default=list(PAPER_BOTTOM),
        help="Shared-Bottom's bottom layers (the paper: one of 113)",
    )
    parser.add_argument("--ple-specific", type=int, default=2, help="PLE experts per task")
    parser.add_argument("--ple-shared", type=int, default=4, help="PLE shared experts")
    parser.add_argument("--tower-units", type=int, default=8)
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="seeds trained at once, one process and thread each (default: the cores available)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2 correlations, 1 seed, 300 steps; writes only what --out / --plot name",
    )
    parser.add_argument("--out", default=None, help=f"raw results as JSON (default {DEFAULT_OUT})")
    parser.add_argument("--plot", default=None, help=f"PNG plot (default {DEFAULT_PLOT})")
    parser.add_argument(
        "--replot",
        metavar="JSON",
        default=None,
        help="train nothing: redraw the plot (--plot) and rewrite the report "
        "section (unless --no-report) from an earlier run's --out file",
    )
    parser.add_argument(
        "--reuse",
        metavar="JSON",
        default=None,
        help="also take the seeds an earlier --out file holds for these models "
        "and correlations, where it ran the same configuration (it may "
        "have run more models and correlations)",
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="do not rewrite the report section of docs/benchmarks.md",
    )
    parser.add_argument(
        "--section",
        default="synthetic",
        help="name of the docs/benchmarks.md section to rewrite (default "
        "synthetic; a variant run can write its own section)",
    )
    args = parser.parse_args(argv)
    if args.steps % args.eval_every:
        parser.error(
            f"--steps must be a multiple of --eval-every; received "
            f"{args.steps} and {args.eval_every}"
        )
    if args.quick:
        args.correlations, args.seeds = [1.0, 0.0], [0]
        args.steps, args.eval_every, args.test_rows = 300, 100, 2000
        args.no_report = True
    else:
        args.out = args.out or DEFAULT_OUT
        args.plot = args.plot or DEFAULT_PLOT
    if args.jobs is None:
        args.jobs = max(1, min(_harness.cores() or 1, len(args.seeds)))
    return args


# ---------------------------------------------------------------- worker side


def build(name, args):
    import keras_mtl

    # every model's own widths; each builder takes those it has (_harness.COMMON)
    return _harness.build(
        name,
        [keras_mtl.DenseFeat("x", dimension=args.dim)],
        task_names=TASKS,
        task_types=("regression", "regression"),
        tower_units=(args.tower_units,),
        bottom_units=tuple(args.bottom_units),
        num_experts=args.num_experts,
        expert_units=(args.expert_units,),
        num_levels=2,
        num_specific_experts=args.ple_specific,
        num_shared_experts=args.ple_shared,
    )


def train(name, data, args, seed):
    """Test-loss curve (one point per --eval-every steps), train-loss curve, parameters, seconds."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    model = build(name, args)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(args.learning_rate),
        steps_per_execution=min(50, args.eval_every),
        jit_compile=True,
    )
    n = args.steps * args.batch_size
    train = (
        tf.data.Dataset.from_tensor_slices(({"x": data["x"][:n]}, {t: data[t][:n] for t in TASKS}))
        .batch(args.batch_size, drop_remainder=True)
        .prefetch(8)
    )  # every row seen once
    test = ({"x": data["x"][n:]}, {t: data[t][n:] for t in TASKS})
    with _harness.Timer() as timer:
        history = model.fit(
            train,
            steps_per_epoch=args.eval_every,
            epochs=args.steps // args.eval_every,
            validation_data=test,
            validation_batch_size=5000,
            verbose=0,
        ).history

    def mean_over_tasks(prefix):  # (evaluations,)
        return np.mean([history[f"{prefix}{t}_loss"] for t in TASKS], axis=0).tolist()

    test_curve = mean_over_tasks("val_")
    return {
        "test_loss": test_curve[-1],
        "test_mean": float(np.mean(test_curve)),
        "test_curve": test_curve,
        "train_curve": mean_over_tasks(""),
        "params": int(model.count_params()),
        "seconds": timer.wall_s,
    }


def worker(settings, seed):
    """Every (correlation, model) of one seed (`settings`: CONFIG and jobs), in its own process."""
    import tensorflow as tf

    args = argparse.Namespace(**settings)
    tf.get_logger().setLevel("ERROR")
    if args.jobs > 1:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    from keras_mtl.data import make_correlated_tasks

    runs = {}
    for p in args.correlations:
        data = make_correlated_tasks(
            rows=args.steps * args.batch_size + args.test_rows,
            correlation=p,
            dim=args.dim,
            scale=args.scale,
            num_sines=args.num_sines,
            noise_std=args.noise_std,
            seed=seed,
        )
        for name in args.models:
            runs.setdefault(name, {})[str(p)] = {"seed": seed, **train(name, data, args, seed)}
        del data
    return runs


# ---------------------------------------------------------- orchestrator side

# what a seed's results depend on: a saved run is reused only where all agree
CONFIG = (
    "correlations",
    "models",
    "steps",
    "eval_every",
    "test_rows",
    "batch_size",
    "learning_rate",
    "dim",
    "scale",
    "num_sines",
    "noise_std",
    "num_experts",
    "expert_units",
    "bottom_units",
    "ple_specific",
    "ple_shared",
    "tower_units",
)


def _same(saved, value):
    """Equal settings; a single number equals a one-element list (older files)."""
    return np.atleast_1d(saved).tolist() == np.atleast_1d(value).tolist()


def _load_runs(path, args, subset):
    """`(runs, seconds)` that `path` holds for args.models × args.correlations.

    Empty unless it ran the same configuration; with `subset`, its models and
    correlations may be a superset of these.
    """
    if not path or not os.path.exists(path):
        return {}, 0.0
    with open(path, encoding="utf-8") as f:
        saved = json.load(f)
    keys = [k for k in CONFIG if k not in ("models", "correlations")] if subset else CONFIG
    differ = [key for key in keys if not _same(saved["args"].get(key), getattr(args, key))]
    if subset:
        missing = [
            f"{name} at p={p:g}"
            for name in args.models
            for p in args.correlations
            if str(p) not in saved["runs"].get(name, {})
        ]
        differ += [f"it lacks {', '.join(missing)}"] if missing else []
    if differ:
        print(
            f"{path} holds another configuration ({', '.join(differ)} differ): "
            "not reusing its seeds",
            flush=True,
        )
        return {}, 0.0
    runs = {
        name: {str(p): saved["runs"][name][str(p)] for p in args.correlations}
        for name in args.models
    }
    return runs, saved.get("seconds", 0.0)


def saved_runs(args):
    """`(runs, seconds)` of the seeds already in --out (and --reuse), if they ran this setup.

    A run that stops part way (or a later run with more seeds) then trains only
    the seeds that are missing; seeds in both files are taken from --out.
    """
    runs, seconds = _load_runs(args.out, args, subset=False)
    reused, _ = _load_runs(args.reuse, args, subset=True)
    for name, by_p in reused.items():
        for p, extra in by_p.items():
            have = {run["seed"] for run in runs.get(name, {}).get(p, [])}
            runs.setdefault(name, {}).setdefault(p, []).extend(
                run for run in extra if run["seed"] not in have
            )
    return runs, seconds


def _save(args, runs, seconds, **extra):
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        # compact: the curves of 200 seeds add up; losses are float32, so 7 digits hold them
        json.dump(
            _rounded({"args": vars(args), "seconds": seconds, **extra, "runs": runs}),
            out,
            separators=(",", ":"),
        )


def _rounded(value):
    """`value` with every float cut to 7 significant digits."""
    if isinstance(value, float):
        return float(f"{value:.7g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item) for item in value]
    return value


def run_seeds(args, saved=None, saved_seconds=0.0):
    """{model: {p: [per-seed result]}} of args.seeds, --jobs at a time; reuses `saved` runs."""
    runs = {name: {str(p): [] for p in args.correlations} for name in args.models}
    have = {
        run["seed"]
        for run in (saved or {}).get(args.models[0], {}).get(str(args.correlations[0]), [])
    }
    for name in args.models:
        for p in args.correlations:
            runs[name][str(p)] = (
                [run for run in saved[name][str(p)] if run["seed"] in args.seeds] if have else []
            )
    pending = [seed for seed in args.seeds if seed not in have]
    if have & set(args.seeds):
        print(
            f"reusing seeds {sorted(have & set(args.seeds))} from "
            + " and ".join(f for f in (args.out, args.reuse) if f),
            flush=True,
        )
    settings = {key: getattr(args, key) for key in CONFIG + ("jobs",)}
    active, timer = {}, _harness.Timer().start()
    while pending or active:
        while pending and len(active) < args.jobs:
            seed = pending.pop(0)
            active[seed] = _harness.Worker(__file__, "worker", {"settings": settings, "seed": seed})
        time.sleep(0.5)
        for seed, proc in list(active.items()):
            if not proc.done():
                continue
            del active[seed]
            try:
                result = proc.result()
            except _harness.WorkerError:
                for other in active.values():
                    other.kill()
                raise
            for name in args.models:
                for p in args.correlations:
                    runs[name][str(p)].append(result[name][str(p)])
            if args.out:  # progress survives an interruption
                _save(args, runs, saved_seconds + timer.wall_s)
            print(
                f"[{timer.wall_s:5.0f} s] seed {seed}: "
                + "; ".join(
                    f"p={p:g} "
                    + " ".join(
                        f"{name} {result[name][str(p)]['test_loss']:.4f}" for name in args.models
                    )
                    for p in args.correlations
                ),
                flush=True,
            )
    for name in args.models:  # seed order, whatever order the workers finished in
        for p in args.correlations:
            runs[name][str(p)].sort(key=lambda run: args.seeds.index(run["seed"]))
    return runs


# ------------------------------------------------------------------ reporting


def _values(runs, name, p, key):
    return np.array([run[key] for run in runs[name][str(p)]])


def _paired_gap(runs, baseline, p, key):
    """baseline − MMoE per seed: mean and standard error."""
    gap = _harness.paired(_values(runs, baseline, p, key), _values(runs, "MMoE", p, key))
    return gap.mean, gap.se


def summarize(runs, args):
    """{model: {p: {metric: mean}}} and, against MMoE, {baseline: {p: {metric: (gap, sem)}}}."""
    metrics = ("test_loss", "test_mean")
    summary = {
        name: {
            str(p): {key: float(np.mean(_values(runs, name, p, key))) for key in metrics}
            for p in args.correlations
        }
        for name in args.models
    }
    gaps = {}
    if "MMoE" in args.models:
        gaps = {
            name: {
                str(p): {key: _paired_gap(runs, name, p, key) for key in metrics}
                for p in args.correlations
            }
            for name in args.models
            if name != "MMoE"
        }
    return {"loss": summary, "gap_vs_mmoe": gaps}


def growth(runs, args, baseline, p, key):
    """How much the gap baseline − MMoE grew from the highest correlation to p.

    Paired by seed: `(mean, standard error, median, seeds in which it grew)`
    of gap_s(p) − gap_s(p_max); > 0 means MMoE's advantage grows as p falls.
    """
    high = max(args.correlations)
    change = _harness.paired(
        _values(runs, baseline, p, key) - _values(runs, "MMoE", p, key),
        _values(runs, baseline, high, key) - _values(runs, "MMoE", high, key),
    )
    return change.mean, change.se, change.median, change.higher


def _count(seeds):
    return f"{len(seeds)} seed" + ("" if len(seeds) == 1 else "s")


def _ranges(seeds):
    """`0–39, 50` for [0, 1, …, 39, 50]."""
    parts, start = [], None
    for i, seed in enumerate(seeds):
        start = seed if start is None else start
        if i + 1 == len(seeds) or seeds[i + 1] != seed + 1:
            parts.append(str(seed) if seed == start else f"{start}–{seed}")
            start = None
    return ", ".join(parts)


def _short_seeds(command):
    """The command with a long run of consecutive --seeds written as `$(seq …)`."""
    words = command.split()
    if "--seeds" not in words:
        return command
    i = words.index("--seeds") + 1
    j = i
    while j < len(words) and words[j].isdigit():
        j += 1
    seeds = [int(w) for w in words[i:j]]
    if len(seeds) < 6 or seeds != list(range(seeds[0], seeds[0] + len(seeds))):
        return command
    return " ".join(words[:i] + [f"$(seq -s ' ' {seeds[0]} {seeds[-1]})"] + words[j:])


def _variant(args):
    """How the models differ from the paper's, for the section title."""
    paper = np.atleast_1d(args.bottom_units).tolist() == list(PAPER_BOTTOM)
    return "" if paper else ", " + _describe("SharedBottom", args)


def _describe(name, args):
    if name == "SharedBottom":
        return f"Shared-Bottom bottom {np.atleast_1d(args.bottom_units).tolist()}"
    if name == "PLE":
        return (
            f"PLE 2 levels × ({args.ple_specific} per task + {args.ple_shared} shared) "
            f"experts [{args.expert_units}]"
        )
    return f"{name} {args.num_experts} experts [{args.expert_units}]"


def markdown(summary, runs, args, total_seconds, command, machine):
    names, ps = args.models, args.correlations
    params = {name: runs[name][str(ps[0])][0]["params"] for name in names}
    baselines = [n for n in names if n != "MMoE"] if "MMoE" in names else []
    lines = [
        f"## Synthetic data, c = {args.scale:g}, {_count(args.seeds)}{_variant(args)}: loss vs "
        "task correlation (MMoE paper §3.2, §5.1)",
        "",
        f"Command: `{_short_seeds(command)}`  ",
        f"Machine: {machine}; {total_seconds / 60:.1f} min in all.",
        "",
        f"Data (`keras_mtl.data.make_correlated_tasks`): d = {args.dim}, c = {args.scale:g}, "
        f"m = {args.num_sines}, α_i, β_i ~ N(0, 1), noise variance σ² = {args.noise_std**2:g}; "
        f"seeds {_ranges(args.seeds)}. Each seed draws new u1, u2, α, β, x, ε; "
        "within a seed only p changes, so every comparison is paired by seed.",
        "",
        f"Training: Adam (learning rate {args.learning_rate:g}), batch {args.batch_size}, "
        f"{args.steps:,} steps, each training row seen once (fresh data, as the paper's "
        f"generator gives); test loss on {args.test_rows:,} further rows every "
        f"{args.eval_every} steps; Σ of the two task MSEs minimised. Models (towers "
        f"[{args.tower_units}]): "
        + "; ".join(_describe(n, args) for n in names)
        + ". Parameters: "
        + ", ".join(f"{n} {params[n]:,}" for n in names)
        + ". Constants and what the paper leaves unstated: the docstring of "
        "`benchmarks/synthetic.py`.",
        "",
    ]
    for key, title in (
        ("test_loss", f"Test MSE after step {args.steps:,}"),
        (
            "test_mean",
            "Mean test MSE over the training curve (the area under "
            "the paper's Figure 4 curves, divided by their length)",
        ),
    ):
        lines += [
            f"{title}, mean over {_count(args.seeds)} (noise floor {args.noise_std**2:g}); "
            "the gap columns are baseline − MMoE per seed, mean ± standard error "
            "(positive: MMoE better).",
            "",
            "| p | " + " | ".join(names) + "".join(f" | {b} − MMoE" for b in baselines) + " |",
            "|---" * (1 + len(names) + len(baselines)) + "|",
        ]
        for p in ps:
            cells = [f"{summary['loss'][n][str(p)][key]:.4f}" for n in names]
            cells += [
                "{:+.4f} ± {:.4f}".format(*summary["gap_vs_mmoe"][b][str(p)][key])
                for b in baselines
            ]
            lines.append(f"| {p:g} | " + " | ".join(cells) + " |")
        lines.append("")
    if baselines and len(ps) > 1:
        high = max(ps)
        lines += [
            f"Growth of each gap from p = {high:g}: gap(p) − gap({high:g}) per seed, mean ± "
            "standard error (paired, so the seeds' own difficulty cancels), its median, and in "
            "how many seeds it is positive (MMoE's advantage larger at p than at "
            f"{high:g}).",
            "",
            "| baseline − MMoE | measure | "
            + " | ".join(f"p = {p:g}" for p in ps if p != high)
            + " |",
            "|---" * (2 + len(ps) - 1) + "|",
        ]
        for b in baselines:
            for key, label in (("test_loss", "final"), ("test_mean", "curve mean")):
                cells = [
                    "{:+.4f} ± {:.4f}, median {:+.4f} ({}/{})".format(
                        *growth(runs, args, b, p, key), len(args.seeds)
                    )
                    for p in ps
                    if p != high
                ]
                lines.append(f"| {b} | {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Spread of the test MSE after step {args.steps:,} over the {_count(args.seeds)} "
        "(the paper's Figure 6 shows these distributions): median / 90th percentile / worst.",
        "",
        "| p | " + " | ".join(names) + " |",
        "|---" * (1 + len(names)) + "|",
    ]
    for p in ps:
        cells = [
            "{:.4f} / {:.4f} / {:.4f}".format(
                *np.quantile(_values(runs, n, p, "test_loss"), [0.5, 0.9, 1.0])
            )
            for n in names
        ]
        lines.append(f"| {p:g} | " + " | ".join(cells) + " |")
    image = os.path.relpath(
        os.path.abspath(args.plot or DEFAULT_PLOT), os.path.dirname(_report.DOC)
    )
    lines += ["", f"![loss vs correlation]({image})", ""]
    return "\n".join(lines)


def plot(summary, runs, args, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    ps, names = args.correlations, args.models
    color = {name: f"C{i}" for i, name in enumerate(MODELS)}  # one colour per model everywhere
    cols = max(len(ps), 4)
    fig = plt.figure(figsize=(3.8 * cols, 11))
    grid = fig.add_gridspec(3, cols)
    for i, (key, title) in enumerate(
        (
            ("test_loss", f"test loss after {args.steps:,} steps"),
            ("test_mean", "mean test loss over training"),
        )
    ):
        ax = fig.add_subplot(grid[0, i])
        for name in names:
            ax.plot(
                ps,
                [summary["loss"][name][str(p)][key] for p in ps],
                marker="o",
                label=name,
                color=color[name],
            )
        ax.set_xlabel("task correlation p")
        ax.set_ylabel("MSE, mean of 2 tasks and seeds")
        ax.set_title(title)
        ax.invert_xaxis()
        ax.legend()
    if summary["gap_vs_mmoe"]:
        ax = fig.add_subplot(grid[0, 2])
        for name, gaps in summary["gap_vs_mmoe"].items():
            for key, style in (("test_loss", "-"), ("test_mean", "--")):
                mean = [gaps[str(p)][key][0] for p in ps]
                sem = [gaps[str(p)][key][1] for p in ps]
                ax.errorbar(
                    ps,
                    mean,
                    yerr=sem,
                    marker="o",
                    capsize=3,
                    linestyle=style,
                    color=color[name],
                    label=f"{name} ({'final' if key == 'test_loss' else 'curve mean'})",
                )
        ax.axhline(0, color="grey", linestyle=":")
        ax.set_xlabel("task correlation p")
        ax.set_ylabel("baseline loss − MMoE loss")
        ax.set_title("MMoE's advantage (same seed), ± s.e.")
        ax.invert_xaxis()
        ax.legend(fontsize=7)
        ax = fig.add_subplot(grid[0, 3])
        for name in summary["gap_vs_mmoe"]:
            for key, style in (("test_loss", "-"), ("test_mean", "--")):
                points = [growth(runs, args, name, p, key) for p in ps]
                ax.errorbar(
                    ps,
                    [g[0] for g in points],
                    yerr=[g[1] for g in points],
                    marker="o",
                    capsize=3,
                    linestyle=style,
                    color=color[name],
                )
        ax.axhline(0, color="grey", linestyle=":")
        ax.set_xlabel("task correlation p")
        ax.set_ylabel(f"gap(p) − gap({max(ps):g}), paired by seed")
        ax.set_title("growth of that advantage, ± s.e.")
        ax.invert_xaxis()
    steps = np.arange(1, args.steps // args.eval_every + 1) * args.eval_every
    for i, p in enumerate(ps):
        ax = fig.add_subplot(grid[1, i])
        for name in names:
            ax.plot(
                steps,
                np.mean(_values(runs, name, p, "test_curve"), axis=0),
                label=name,
                color=color[name],
            )
        ax.axhline(args.noise_std**2, color="grey", linestyle=":")
        ax.set_yscale("log")
        ax.set_title(f"test loss, p = {p:g}")
        ax.set_xlabel("step")
        if i == 0:
            ax.legend()
    finals = {(n, p): _values(runs, n, p, "test_loss") for n in names for p in ps}
    bins = np.geomspace(
        min(v.min() for v in finals.values()), max(v.max() for v in finals.values()), 30
    )
    for i, p in enumerate(ps):  # the paper's Figure 6: how the runs spread
        ax = fig.add_subplot(grid[2, i])
        for name in names:
            ax.hist(finals[name, p], bins=bins, histtype="step", label=name, color=color[name])
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # no overlapping labels
        ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5) if bins[0] <= t <= bins[-1]]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_title(f"test loss after {args.steps:,} steps, p = {p:g}")
        ax.set_xlabel("MSE")
        ax.set_ylabel("seeds")
        if i == 0:
            ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    if args.replot:
        with open(args.replot, encoding="utf-8") as saved:
            saved = json.load(saved)
        run_args = argparse.Namespace(**saved["args"])
        # the seeds present: a run that stopped part way holds fewer than it asked for
        run_args.seeds = [
            run["seed"] for run in saved["runs"][run_args.models[0]][str(run_args.correlations[0])]
        ]
        summary = summarize(saved["runs"], run_args)
        plot(summary, saved["runs"], run_args, args.plot or DEFAULT_PLOT)
        text = markdown(
            summary,
            saved["runs"],
            run_args,
            saved["seconds"],
            saved.get("command", "(interrupted run)"),
            saved.get("machine", _report.machine()),
        )
        print(text)
        if not args.no_report:
            _report.write_section(args.section, text)
        return summary
    saved, saved_seconds = saved_runs(args)
    with _harness.Timer() as timer:
        runs = run_seeds(args, saved, saved_seconds)
    total = saved_seconds + timer.wall_s
    summary = summarize(runs, args)
    command, machine = _report.command(), _report.machine()
    text = markdown(summary, runs, args, total, command, machine)
    print("\n" + text)
    if args.plot:
        plot(summary, runs, args, args.plot)
    if args.out:
        _save(args, runs, total, machine=machine, command=command, summary=summary)
    if not args.no_report:
        _report.write_section(args.section, text)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])

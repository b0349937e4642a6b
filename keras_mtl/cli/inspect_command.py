"""`keras-mtl inspect`: what an exported SavedModel takes and returns, the
vocabularies of its Keras model (sizes, the last refresh's counts) and (with
`--data`) the expert health of its bundled Keras model."""

import os

from tensorflow.core.framework import types_pb2

from keras_mtl.cli import health_report
from keras_mtl.cli import loading
from keras_mtl.cli.command_error import CommandError
from keras_mtl.export import layout
from keras_mtl.export import show_signature
from keras_mtl.export.signature import signature_def


def _shape(info):
    if info.tensor_shape.unknown_rank:
        return "unknown rank"
    return (
        "("
        + ", ".join(
            "batch" if d.size < 0 and i == 0 else str(d.size)
            for i, d in enumerate(info.tensor_shape.dim)
        )
        + ")"
    )


def summary(path, signature_name="serving_default"):
    """Inputs (features) and outputs (tasks) as aligned text lines."""
    sig = signature_def(path, signature_name)
    lines = []
    for title, tensors in (("inputs (features)", sig.inputs), ("outputs (tasks)", sig.outputs)):
        lines.append(f"{title}:")
        width = max((len(k) for k in tensors), default=0)
        for key in sorted(tensors):
            dtype = types_pb2.DataType.Name(tensors[key].dtype).replace("DT_", "").lower()
            lines.append(f"  {key.ljust(width)}  {dtype:<7} {_shape(tensors[key])}")
    return "\n".join(lines)


def vocabulary_lines(model):
    """Text lines: per vocabulary table, its rows, refreshes and the last refresh's counts."""
    specs = [s for s in model.features or () if getattr(s, "encoding", None) == "lookup"]
    if not specs:
        return ["vocabularies: none recorded (no features, or none with a vocabulary)"]
    tables = {}
    for spec in specs:
        tables.setdefault(spec.embedding_name, []).append(spec)
    lines = ["vocabularies (entries, refreshes, last refresh: kept / admitted / evicted / rare):"]
    width = max(len(t) for t in tables)
    for table, group in tables.items():
        spec = group[0]
        counts = spec.refresh_counts
        last = "never refreshed" if counts is None else " / ".join(str(c) for c in counts)
        names = ", ".join(s.name for s in group)
        lines.append(
            f"  {table.ljust(width)}  {len(spec.vocabulary):>9,}  {spec.refreshes:>3}  {last}"
            + (f"  (features: {names})" if names != table else "")
        )
    return lines


def run_vocabularies(path, print_fn=print):
    """Prints `vocabulary_lines` of the model at `path` (`.keras` file or a
    SavedModel folder with a bundled one)."""
    model = loading.load_model(path, print_fn)
    for line in vocabulary_lines(model):
        print_fn(line)


def run_health(path, data_path, batch_size=1024, separator="|", print_fn=print):
    """Prints the expert health (gate entropy, utilisation, zero and dead
    units) of the model at `path` (`.keras` file or SavedModel folder with a
    bundled one) over the rows of `data_path`; returns the report."""
    from keras_mtl.evaluation import expert_health

    model = loading.load_model(path, print_fn)
    _, arrays = loading.load_rows(model, data_path, separator)
    try:
        health = expert_health.expert_health(model, arrays, batch_size)
    except ValueError as error:
        raise CommandError(str(error)) from None
    print_fn(f"expert health of {model.name!r} over {health['rows']} rows of {data_path}:")
    for group in health["gates"]:
        print_fn(f"  {group['title']}: mean gate weight per expert")
        for row, weights, h in zip(
            group["rows"], group["utilisation"], group["normalized_entropy"]
        ):
            print_fn(
                f"    {row}: entropy {h:.2f} | "
                + " ".join("-" if w != w else f"{w:.2f}" for w in weights)
            )
    for line in health_report.expert_lines(health):
        print_fn("  " + line)
    return health


def run_inspect(
    path, signature_name="serving_default", print_fn=print, data_path=None, batch_size=1024
):
    """Prints the serving signature of the SavedModel at `path` and the
    vocabularies of its bundled Keras model; returns the version folder
    shown. With `data_path`, then prints `run_health`; a `.keras` file
    `path` prints its vocabularies (and the health) only."""
    if str(path).endswith(".keras"):
        run_vocabularies(path, print_fn=print_fn)
        if data_path is not None:
            run_health(path, data_path, batch_size, print_fn=print_fn)
        return path
    version_dir, note = loading.resolve_version(path)
    if note:
        print_fn(note)
    print_fn(f"SavedModel {version_dir}, signature {signature_name!r}")
    try:
        print_fn(summary(version_dir, signature_name))
    except KeyError as error:
        raise CommandError(str(error.args[0])) from None
    bundled = os.path.join(version_dir, layout.BUNDLED_KERAS)
    if os.path.isfile(bundled):
        print_fn(f"Keras model bundled at {bundled} (plot-gates reads it)")
    print_fn("")
    show_signature(version_dir, signature_name=signature_name, print_fn=print_fn)
    if os.path.isfile(bundled):
        print_fn("")
        run_vocabularies(version_dir, print_fn=print_fn)
    if data_path is not None:
        print_fn("")
        run_health(version_dir, data_path, batch_size, print_fn=print_fn)
    return version_dir

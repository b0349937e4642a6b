"""The `keras-mtl` entry point: `main(argv)` parses and runs one command."""

import argparse
import sys

from keras_mtl.cli.command_error import CommandError
from keras_mtl.cli.config_error import ConfigError


def _parser():
    parser = argparse.ArgumentParser(
        prog="keras-mtl",
        description="Train, inspect and explain keras_mtl multi-task models (docs/cli.md).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train", help="train, evaluate and export a model from a YAML run config"
    )
    train.add_argument("--config", required=True, help="the YAML run config")
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a config value (YAML), e.g. --set training.epochs=1; repeatable",
    )
    train.add_argument(
        "--check", action="store_true", help="validate the config (and data paths) and stop"
    )
    train.add_argument(
        "--warm-start",
        default=None,
        metavar="MODEL.keras",
        help="continue from this model (the previous run's output.keras_model): refresh its "
        "vocabularies on data.train (config section vocabulary:), carry its variables and "
        "optimizer state over, and export the next version into the same folders",
    )

    inspect = commands.add_parser(
        "inspect",
        help="print a SavedModel's serving signature and its vocabularies (and, "
        "with --data, the expert health of its gates and experts)",
    )
    inspect.add_argument(
        "path",
        help="a SavedModel version folder, a base folder of "
        "numbered versions (the newest is shown), or a .keras file",
    )
    inspect.add_argument("--signature", default="serving_default")
    inspect.add_argument(
        "--data",
        default=None,
        help="CSV or Parquet rows: print gate entropy, expert utilisation "
        "and dead units of the bundled Keras model over them",
    )
    inspect.add_argument("--batch-size", type=int, default=1024)

    plot = commands.add_parser(
        "plot-gates", help="heatmap of mean gate weights per task and expert (PNG)"
    )
    plot.add_argument(
        "--model", required=True, help="a .keras file, or a SavedModel folder written by `train`"
    )
    plot.add_argument("--data", required=True, help="CSV or Parquet rows to average over")
    plot.add_argument(
        "--history", default=None, help="history JSON from `train`: adds the weight_<task> curves"
    )
    plot.add_argument("--out", required=True, help="the PNG to write (numbers go to .json)")
    plot.add_argument("--batch-size", type=int, default=1024)
    plot.add_argument("--separator", default="|", help="list separator in text cells")
    return parser


def _run(args):
    if args.command == "train":
        from keras_mtl.cli import config
        from keras_mtl.cli import train

        cfg = config.load_config(args.config, args.overrides)
        if args.check:
            print(
                f"{args.config}: config OK ({cfg.model.builder}, tasks "
                f"{[t.name for t in cfg.tasks]}, {len(cfg.features)} features)"
            )
            return
        train.run_train(cfg, warm_start_from=args.warm_start)
    elif args.command == "inspect":
        from keras_mtl.cli import inspect_command

        inspect_command.run_inspect(
            args.path, args.signature, data_path=args.data, batch_size=args.batch_size
        )
    else:
        from keras_mtl.cli import plot_gates

        if args.batch_size < 1:
            raise CommandError(f"--batch-size: expected a positive integer, got {args.batch_size}")
        plot_gates.run_plot_gates(
            args.model, args.data, args.out, args.history, args.batch_size, args.separator
        )


def main(argv=None):
    """Runs `keras-mtl` with `argv` (default `sys.argv[1:]`).

    Returns:
        The exit code: 0 on success, 1 when a command cannot run (missing
        file, package or gates), 2 for a usage or config error.
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse printed the usage error / help
        return int(exit_.code or 0)
    try:
        _run(args)
    except ConfigError as error:
        print(f"keras-mtl {args.command}: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"keras-mtl {args.command}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

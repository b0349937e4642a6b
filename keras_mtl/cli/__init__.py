"""The `keras-mtl` command line: train from a YAML run config, inspect an
exported SavedModel, plot gate utilisation.

    keras-mtl train --config run.yaml [--set training.epochs=1]
    keras-mtl inspect savedmodels/ranker
    keras-mtl plot-gates --model runs/model.keras --data test.csv --out gates.png

See docs/cli.md for the config schema. `keras_mtl.cli.main.main(argv)` runs a
command in-process and returns its exit code.
"""

from keras_mtl.cli.command_error import CommandError
from keras_mtl.cli.config_error import ConfigError

__all__ = ["CommandError", "ConfigError"]

"""One case per weighting strategy of `keras_mtl.weighting.__all__`, shared by the tests.

Every test that runs "every strategy" takes them from here, so a new strategy is
tested everywhere once it has its line in `TINY`.
"""

import collections

from keras_mtl import weighting

#: How the tests build a strategy and what they expect of it: `kwargs` for its
#: constructor, `moves` whether its logged task weights change during training.
Case = collections.namedtuple("Case", "kwargs moves")

#: One line per strategy of keras_mtl.weighting.__all__ (but the abstract
#: WeightingStrategy).
TINY = {
    "DWA": Case(kwargs={}, moves=True),
    "FixedWeights": Case(kwargs={}, moves=False),
    "GradNorm": Case(kwargs={}, moves=True),
    "MGDA": Case(kwargs={}, moves=True),
    "PCGrad": Case(kwargs={}, moves=False),  # projects gradients, reports weights of 1
    "UncertaintyWeighting": Case(kwargs={}, moves=True),
}

#: The strategies, in the order of keras_mtl.weighting.__all__.
NAMES = tuple(name for name in weighting.__all__ if name != "WeightingStrategy")


def case(name):
    """The `Case` of strategy `name`, with a clear error when it has none."""
    if name not in TINY:
        raise KeyError(
            f"keras_mtl.weighting.{name} has no test case: add one line to TINY in "
            "tests/weighting/strategy_cases.py"
        )
    return TINY[name]


def make(name):
    """A fresh strategy `name`, built with its test arguments."""
    return getattr(weighting, name)(**case(name).kwargs)


def loss_only(name):
    """Whether strategy `name` only weights losses (no per-task gradients)."""
    return not getattr(weighting, name).persistent_tape

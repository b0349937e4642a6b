"""Which optimizer trains which variable of a multi-task model."""

import math
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Optional

import tensorflow as tf

from keras_mtl._types import OptimizerSpec
from keras_mtl.optimizers.adagrad import Adagrad
from keras_mtl.optimizers.lazy_adam import LazyAdam

#: The groups `compile(optimizer={...})` takes, most specific first.
GROUPS = ("embeddings", "shared", "towers")

#: Embedding tables (stacks) of at most this many rows keep the exact (dense)
#: optimizer by default; larger ones get its sparse twin (`OptimizerGroups`).
DENSE_TABLE_MAX_ROWS = 100_000


def lazy_twin(optimizer):
    """keras_mtl's sparse twin of exactly `Adam` / `Adagrad`, same settings; else None.

    `LazyAdam` for Adam, keras_mtl's `Adagrad` (duplicate ids summed, row-wise)
    for Adagrad.
    """
    twins = {tf.keras.optimizers.Adam: LazyAdam, tf.keras.optimizers.Adagrad: Adagrad}
    twin = twins.get(type(optimizer))
    if twin is None:
        return None
    return twin.from_config(dict(optimizer.get_config(), name=f"sparse_{optimizer.name}"))


class OptimizerGroups:
    """The optimizers of a compiled model and the variables each trains.

    Three groups, each variable in the first that claims it:

    - "embeddings": the tables of the model's `tf.keras.layers.Embedding`
      layers (a batch touches few of their rows);
    - "shared": the other variables below the model's last shared layer
      (shared bottom, experts);
    - "towers": everything else (gates, towers, heads, weighting state).

    A group without its own optimizer falls to the next one ("embeddings" to
    "shared", "shared" to "towers"). When the optimizer the embedding tables
    would get is exactly `tf.keras.optimizers.Adam` (`compile`'s default
    "adam") and no "embeddings" optimizer was given, the tables of more than
    `DENSE_TABLE_MAX_ROWS` rows (a stack of tables counts as one) get a
    `keras_mtl.optimizers.LazyAdam` of the same settings, which updates only
    the rows a batch touched (for exactly `Adagrad`: keras_mtl's `Adagrad`);
    smaller tables stay with that Adam itself (the "shared" group's
    optimizer): exact Adam on a small table costs little per step and
    trained better than LazyAdam (figures in docs/benchmarks.md, "The
    small-table optimizer").
    It follows the learning rate of the optimizer it was made from: a
    schedule is copied, a plain rate (which callbacks such as
    ReduceLROnPlateau change) is read every step.
    `optimizer={"embeddings": "adam", "towers": "adam"}` keeps dense Adam
    updates of the tables.

    Args:
        optimizer: one optimizer (or name) for every group, or a dict with
            "towers" and optionally "shared" and "embeddings".
    """

    def __init__(self, optimizer: OptimizerSpec) -> None:
        given = optimizer if isinstance(optimizer, dict) else {"towers": optimizer}
        unknown = sorted(set(given) - set(GROUPS))
        if unknown or "towers" not in given:
            raise ValueError(
                f'expected optimizer groups among {list(GROUPS)}, "towers" '
                f"included. Received: {sorted(given)}"
            )
        self.given = tuple(g for g in GROUPS if g in given)
        self.by_group = {g: tf.keras.optimizers.get(given[g]) for g in self.given}
        self.derived = None if "embeddings" in given else lazy_twin(self.source)
        # a schedule is copied with the settings; a plain rate is followed
        self.follows = self.derived is not None and not isinstance(
            self.source.get_config()["learning_rate"], dict
        )
        self.ids = {g: frozenset() for g in GROUPS}

    @property
    def source(self) -> tf.keras.optimizers.Optimizer:
        """The optimizer the tables would get without a twin ("shared", else "towers")."""
        return self.by_group.get("shared", self.by_group["towers"])

    @property
    def towers(self) -> tf.keras.optimizers.Optimizer:
        return self.by_group["towers"]

    def optimizer(self, group: str) -> tf.keras.optimizers.Optimizer:
        """The optimizer that trains `group`'s variables."""
        if group == "embeddings" and self.derived is not None:
            return self.derived
        for name in GROUPS[GROUPS.index(group) :]:
            if name in self.by_group:
                return self.by_group[name]
        raise AssertionError(group)

    def set_towers(self, optimizer: tf.keras.optimizers.Optimizer) -> None:
        """Uses `optimizer` (the model's compiled one) as the towers group's."""
        self.by_group["towers"] = optimizer

    def set_ids(
        self,
        embeddings: Iterable[int] = (),
        shared: Iterable[int] = (),
        table_rows: Optional[Mapping[int, int]] = None,
    ) -> None:
        """Ids of the embedding tables and of the shared variables.

        `table_rows` (`{id: rows of the whole table}`) decides which tables
        the derived sparse twin trains: those of more than
        `DENSE_TABLE_MAX_ROWS` rows, and those of unknown size. The others
        join the "shared" group.
        """
        embeddings, rows = frozenset(embeddings), dict(table_rows or {})
        small = frozenset()
        if self.derived is not None:
            # a table of unknown size counts as large
            small = frozenset(
                i for i in embeddings if rows.get(i, math.inf) <= DENSE_TABLE_MAX_ROWS
            )
        self.ids = {
            "embeddings": embeddings - small,
            "shared": (frozenset(shared) | small) - (embeddings - small),
            "towers": frozenset(),
        }

    def group_of(self, variable: tf.Variable) -> str:
        for group in GROUPS[:-1]:
            if id(variable) in self.ids[group]:
                return group
        return "towers"

    def optimizer_of(self, variable: tf.Variable) -> tf.keras.optimizers.Optimizer:
        return self.optimizer(self.group_of(variable))

    def distinct(self) -> list[tuple[tf.keras.optimizers.Optimizer, list[str]]]:
        """`[(optimizer, groups)]`: each optimizer once, with the groups it trains."""
        found = {}
        for group in GROUPS:
            optimizer = self.optimizer(group)
            found.setdefault(id(optimizer), (optimizer, []))[1].append(group)
        return list(found.values())

    def build(self, variables: Sequence[tf.Variable]) -> None:
        """Builds each optimizer with exactly the variables it will update."""
        for optimizer, groups in self.distinct():
            own = [v for v in variables if self.group_of(v) in groups]
            optimizer.build(own)

    def follow_learning_rate(self) -> None:
        """Gives the derived LazyAdam the current learning rate of its source."""
        if self.follows:
            # a tensor: Keras 3 would adopt a variable itself as the rate
            self.derived.learning_rate = tf.convert_to_tensor(self.source.learning_rate)

    def extra_optimizers(self) -> dict[str, tf.keras.optimizers.Optimizer]:
        """`{name: optimizer}` of every optimizer other than the towers' that trains variables."""
        towers = self.towers
        return {
            f"{groups[0]}_optimizer": optimizer
            for optimizer, groups in self.distinct()
            if optimizer is not towers and any(self.ids[g] for g in groups)
        }

    def config(self, serialize: Callable[[tf.keras.optimizers.Optimizer], Any]) -> Any:
        """The given groups, serialized (the derived LazyAdam is re-derived)."""
        if self.given == ("towers",):
            return serialize(self.towers)
        return {g: serialize(self.by_group[g]) for g in self.given}

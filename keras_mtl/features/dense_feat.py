"""Spec of a numeric feature."""

import dataclasses
import math
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Optional

from keras_mtl.features import names


@dataclasses.dataclass(frozen=True)
class DenseFeat:
    """A numeric feature of `dimension` float values per row.

    Optional in-graph preprocessing, applied in this order: `log1p`
    (sign(x)·log(1 + |x|), for heavy-tailed counts and amounts), then
    standardisation `(x - mean) / sqrt(variance)`. With `normalize=True` and no
    statistics given, `keras_mtl.features.adapt` computes them from training
    data; serving then takes the raw values.

    With `buckets=N` the raw value is also put in a quantile bucket
    (`tf.keras.layers.Discretization` in the graph) whose embedding of
    `bucket_embedding_dim` values joins the model input, next to the
    transformed value (or instead of it, `keep_value=False`). `adapt` learns
    the edges: the quantiles at levels 1/N, ..., (N-1)/N of the values and
    of the non-zero values (so a mostly-zero count still gets buckets for
    its non-zero part), duplicates dropped: at most 2·(N-1) edges, one
    embedding row per bucket. Value `x` falls in bucket
    `i = #{edges <= x}` (as `numpy.searchsorted(edges, x, side="right")`).

    Args:
        name: input name (the DataFrame column and the serving input key);
            see `keras_mtl.features.names` for the characters it may hold.
        dimension: values per row; 1 means a scalar column.
        log1p: apply the signed log1p transform first.
        normalize: standardise with `mean` / `variance`.
        mean: per-feature mean (after log1p), or None until adapted.
        variance: per-feature variance (after log1p), or None until adapted.
        buckets: quantile levels of the bucket embedding, or None (no bucket).
        bucket_edges: increasing bucket edges in raw units, or None until
            adapted.
        bucket_embedding_dim: width of the bucket embedding.
        keep_value: with buckets, keep the transformed value in the input too.

    Example:
    >>> DenseFeat("age", normalize=True, mean=40.0, variance=100.0).dimension
    1
    >>> DenseFeat("age", bucket_edges=(18, 30, 65)).num_buckets
    4
    """

    name: str
    dimension: int = 1
    log1p: bool = False
    normalize: bool = False
    mean: Optional[float] = None
    variance: Optional[float] = None
    buckets: Optional[int] = None
    bucket_edges: Optional[Sequence[float]] = None
    bucket_embedding_dim: int = 8
    keep_value: bool = True

    def __post_init__(self) -> None:
        names.check_name(self.name)
        if not isinstance(self.dimension, int) or self.dimension < 1:
            raise ValueError(
                f"Feature '{self.name}': expected a positive integer. "
                f"Received: dimension={self.dimension!r}"
            )
        if (self.mean is None) != (self.variance is None):
            raise ValueError(
                f"Feature '{self.name}': expected both mean and variance or "
                f"neither. Received: mean={self.mean!r}, "
                f"variance={self.variance!r}"
            )
        if self.variance is not None:
            if not math.isfinite(self.variance) or self.variance < 0:
                raise ValueError(
                    f"Feature '{self.name}': expected a finite variance >= 0. "
                    f"Received: variance={self.variance!r}"
                )
            if not math.isfinite(self.mean):
                raise ValueError(
                    f"Feature '{self.name}': expected a finite mean. Received: mean={self.mean!r}"
                )
            object.__setattr__(self, "mean", float(self.mean))
            object.__setattr__(self, "variance", float(self.variance))
            object.__setattr__(self, "normalize", True)
        self._validate_buckets()

    def _validate_buckets(self) -> None:
        if self.buckets is not None and (
            isinstance(self.buckets, bool) or not isinstance(self.buckets, int) or self.buckets < 2
        ):
            raise ValueError(
                f"Feature '{self.name}': expected an integer >= 2. "
                f"Received: buckets={self.buckets!r}"
            )
        if (
            isinstance(self.bucket_embedding_dim, bool)
            or not isinstance(self.bucket_embedding_dim, int)
            or self.bucket_embedding_dim < 1
        ):
            raise ValueError(
                f"Feature '{self.name}': expected a positive integer. "
                f"Received: bucket_embedding_dim={self.bucket_embedding_dim!r}"
            )
        if self.bucket_edges is not None:
            edges = tuple(float(e) for e in self.bucket_edges)
            if (
                not edges
                or not all(math.isfinite(e) for e in edges)
                or any(b <= a for a, b in zip(edges, edges[1:]))
            ):
                raise ValueError(
                    f"Feature '{self.name}': expected a non-empty, strictly increasing "
                    f"sequence of finite numbers. Received: bucket_edges={self.bucket_edges!r}"
                )
            object.__setattr__(self, "bucket_edges", edges)
        if self.is_bucketized and self.dimension != 1:
            raise ValueError(
                f"Feature '{self.name}': buckets need a scalar feature (dimension=1). "
                f"Received: dimension={self.dimension!r}"
            )
        if not self.is_bucketized and not self.keep_value:
            raise ValueError(
                f"Feature '{self.name}': keep_value=False needs buckets (the value is "
                "the only input otherwise). Received: buckets=None, bucket_edges=None"
            )

    @property
    def is_bucketized(self) -> bool:
        """True when the feature has (or will learn) a bucket embedding."""
        return self.buckets is not None or self.bucket_edges is not None

    @property
    def num_buckets(self) -> Optional[int]:
        """Rows of the bucket embedding (edges + 1), or None before `adapt`."""
        return None if self.bucket_edges is None else len(self.bucket_edges) + 1

    @property
    def is_adapted(self) -> bool:
        """False while statistics or bucket edges are still to be learned."""
        normalized = not self.normalize or self.mean is not None
        return normalized and (not self.is_bucketized or self.bucket_edges is not None)

    def replace(self, **changes: Any) -> "DenseFeat":
        """A copy with `changes` applied (specs are immutable)."""
        return dataclasses.replace(self, **changes)

    def get_config(self) -> dict[str, Any]:
        config = dataclasses.asdict(self)
        if config["bucket_edges"] is not None:
            config["bucket_edges"] = list(config["bucket_edges"])
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "DenseFeat":
        return cls(**config)

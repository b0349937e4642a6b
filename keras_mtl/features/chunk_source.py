"""What `adapt` reads data through when it is neither a DataFrame nor a tf.data.Dataset."""

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Protocol
from typing import Union
from typing import runtime_checkable

import pandas as pd

from keras_mtl.features.feature_spec import FeatureSpec


@runtime_checkable
class ChunkSource(Protocol):
    """Anything whose `chunks(features)` yields the training rows as DataFrames.

    `keras_mtl.data.DataSource` (files of any format the package reads) is
    one; `adapt(features, source)` takes any other object with this method
    too, without keras_mtl.features knowing where the rows come from.

    Example:
    >>> class Parts:
    ...     def chunks(self, features):
    ...         yield pd.DataFrame({"city": ["rome", "oslo"]})
    ...         yield pd.DataFrame({"city": ["rome"]})
    >>> isinstance(Parts(), ChunkSource)
    True
    >>> keras_mtl.features.adapt([SparseFeat("city")], Parts())[0].vocabulary
    ('rome', 'oslo')
    """

    def chunks(self, features: Sequence[FeatureSpec]) -> Iterable[pd.DataFrame]:
        """DataFrames holding (at least) the features' columns."""
        ...


#: The factory `adapt` turns a file pattern into a `ChunkSource` with.
_file_source: dict[str, Callable[..., ChunkSource]] = {}


def register_file_source(factory: Callable[[Union[str, Sequence[str]]], ChunkSource]) -> None:
    """Sets how `adapt` reads a file pattern (a str, or a list of them).

    `keras_mtl.data` registers `keras_mtl.data.DataSource` when it is
    imported (`import keras_mtl` imports it), so keras_mtl.features reads
    files without importing keras_mtl.data. Register another factory to read
    patterns another way.

    Args:
        factory: a callable taking the pattern and returning a `ChunkSource`.
    """
    if not callable(factory):
        raise TypeError(
            "expected a callable taking a file pattern and returning a chunk source. "
            f"Received {type(factory).__name__}."
        )
    _file_source["factory"] = factory


def open_file_source(pattern: Union[str, Sequence[str]]) -> ChunkSource:
    """The `ChunkSource` the registered factory makes of `pattern`."""
    factory = _file_source.get("factory")
    if factory is None:
        raise TypeError(
            f"expected a file reader to read {pattern!r}: import keras_mtl.data (it registers "
            "one), or pass keras_mtl.data.DataSource(pattern) as the data."
        )
    return factory(pattern)

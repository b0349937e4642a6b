"""The error every config problem raises, located by a dotted key path."""


class ConfigError(ValueError):
    """A run config is invalid at `path` (dotted keys, `[i]` list items).

    `str(error)` is `config error at <path>: <message>`, e.g.
    `config error at model.num_experts: expected a positive integer, got 'eight'`.

    Args:
        path: where the problem is, e.g. "features.sparse.columns[2].embedding_dim";
            "" for the config as a whole.
        message: what was received and what was expected.

    Example:
    >>> str(ConfigError("model.num_experts", "expected a positive integer, got 'eight'"))
    "config error at model.num_experts: expected a positive integer, got 'eight'"
    """

    def __init__(self, path, message):
        self.path = path
        self.message = message
        where = path if path else "<top level>"
        super().__init__(f"config error at {where}: {message}")

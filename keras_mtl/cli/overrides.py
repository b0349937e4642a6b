"""`--set key.path=value` overrides of a run configuration (`keras-mtl train --set ...`)."""

import yaml

from keras_mtl.cli.config_error import ConfigError


def apply_overrides(raw, overrides):
    """Applies `key.path=value` strings (values parsed as YAML) to `raw`.

    Example:
    >>> apply_overrides({"training": {"epochs": 30}, "tasks": [{"name": "ctr"}]},
    ...                 ["training.epochs=1", "tasks.0.label=click"])
    {'training': {'epochs': 1}, 'tasks': [{'name': 'ctr', 'label': 'click'}]}
    """
    for item in overrides or ():
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError("--set", f"expected KEY.PATH=VALUE, got {item!r}")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(key, f"--set value {text!r} is not valid YAML: {error}") from None
        node, parts = raw, key.split(".")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            where = ".".join(parts[: i + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(
                        where, f"--set expected a list index < {len(node)}, got {part!r}"
                    )
                part = int(part)
            elif not isinstance(node, dict):
                raise ConfigError(where, f"--set cannot go into {node!r}")
            if last:
                node[part] = value
            else:
                if isinstance(node, dict) and node.get(part) is None:
                    node[part] = {}
                node = node[part]
    return raw

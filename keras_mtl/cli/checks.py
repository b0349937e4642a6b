"""Value checks for run configs: each raises a ConfigError naming the key."""

import numbers
import re

from keras_mtl.cli.config_error import ConfigError


def join(path, key):
    """`path.key`, or `path[key]` for list indices."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def mapping(path, value, allowed, required=()):
    """A dict whose keys are all in `allowed` and include `required`."""
    if value is None:
        value = {}
    _expect(path, value, isinstance(value, dict), "a mapping")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise ConfigError(
            join(path, unknown[0]),
            f"unknown key {unknown[0]!r}. Allowed keys: {', '.join(sorted(allowed))}",
        )
    for key in required:
        if value.get(key) is None:
            raise ConfigError(join(path, key), "required key is missing")
    return value


def is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _expect(path, value, ok, expected):
    """`value` if `ok`, else a ConfigError "expected <expected>, got <value>"."""
    if not ok:
        raise ConfigError(path, f"expected {expected}, got {value!r}")
    return value


def positive_int(path, value):
    return int(_expect(path, value, is_int(value) and value >= 1, "a positive integer"))


def non_negative_int(path, value):
    return int(_expect(path, value, is_int(value) and value >= 0, "an integer >= 0"))


def integer(path, value):
    return int(_expect(path, value, is_int(value), "an integer"))


def number(path, value, minimum=None, exclusive=False):
    ok = is_number(value)
    if ok and minimum is not None:
        ok = value > minimum if exclusive else value >= minimum
    bound = "" if minimum is None else f" {'>' if exclusive else '>='} {minimum}"
    return _expect(path, value, ok, f"a number{bound}")


def boolean(path, value):
    return _expect(path, value, isinstance(value, bool), "true or false")


def string(path, value):
    return _expect(path, value, isinstance(value, str) and bool(value), "a non-empty string")


def choice(path, value, choices):
    return _expect(path, value, value in choices, f"one of {list(choices)}")


def listing(path, value):
    return _expect(path, value, isinstance(value, list), "a list")


def positive_int_list(path, value):
    return tuple(positive_int(join(path, i), v) for i, v in enumerate(listing(path, value)))


def string_list(path, value):
    return tuple(string(join(path, i), v) for i, v in enumerate(listing(path, value)))


def like_default(path, value, default, name):
    """Checks a builder / strategy argument against its signature default.

    Integers (positive when the default is), numbers, booleans, strings and
    lists (of positive integers for `*_units` and integer defaults) are
    checked here; arguments whose default is None are passed through for the
    builder to check.
    """
    if value is None or default is None:
        return value
    if isinstance(default, bool):
        return boolean(path, value)
    if is_int(default):
        if name.startswith("num_") and isinstance(value, list):
            return positive_int_list(path, value)  # e.g. one count per task
        return positive_int(path, value) if default > 0 else non_negative_int(path, value)
    if isinstance(default, float):
        return float(number(path, value, minimum=0.0 if default >= 0 else None))
    if isinstance(default, str):
        return string(path, value)
    if isinstance(default, (tuple, list)):
        if name.endswith("_units") or (default and all(is_int(d) for d in default)):
            return positive_int_list(path, value)
        if default and all(isinstance(d, str) for d in default):
            return string_list(path, value)
        return tuple(listing(path, value))
    if isinstance(default, dict):
        return mapping(path, value, allowed=value if isinstance(value, dict) else {})
    return value


_RECEIVED = re.compile(r"Received:? (\w+)=")


def located(error, section, args):
    """The config path a builder / spec error names (`Received: key=`)."""
    match = _RECEIVED.search(str(error))
    if match and match.group(1) in args:
        return join(section, match.group(1))
    return section

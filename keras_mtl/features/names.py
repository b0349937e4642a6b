"""The rule for feature names, and the internal names derived from them.

A feature name is the DataFrame column, the key of the model's input dict,
and the input key of the exported `serving_default` signature (TF Serving
requests, warmup records, `show_signature` bodies, ONNX inputs) — the same
string everywhere. TensorFlow is stricter about the names of its graph nodes
and name scopes, and TF 2's Python calling convention rewrites keyword names
that are not identifiers, so everything internal (layer names, signature
TensorSpec names) uses `internal_name(name)`, which is exactly the rewrite
TensorFlow applies to a keyword argument (`tf.function` "Sanitizing"):
characters other than letters and digits become `_`, and `arg_` is prepended
when the result does not start with a letter. A client of the loaded
SavedModel in Python that passes `**{"capital-loss": ...}` therefore reaches
the input TensorFlow named `capital_loss`.

The rule (`check_name`): a non-empty string of printable ASCII characters
(letters, digits, space and punctuation), without `/`. Non-ASCII letters are
refused because TensorFlow keeps them in a keyword (`naïve` stays `naïve`)
but not in a node name, so no internal name could match what a Python client
sends; `/` is refused because Keras 3 refuses it in a layer name. Two names
with the same `internal_name` (`a-b` and `a_b`) cannot be told apart by a
Python client and are refused together by `check_distinct`.
"""

import unicodedata

#: What `check_name` accepts, as its errors state it.
NAME_RULE = (
    "a non-empty string of printable ASCII characters (letters, digits, space "
    "and punctuation such as - . _ ( ) :), without '/'"
)


def internal_name(name):
    """The name TensorFlow gives `name` as a keyword; safe for layers and ops.

    Example:
    >>> internal_name("capital-loss"), internal_name("2nd_id"), internal_name("work class")
    ('capital_loss', 'arg_2nd_id', 'work_class')
    """
    swapped = "".join(c if c.isalnum() else "_" for c in name)
    return swapped if swapped[0].isalpha() else "arg_" + swapped


def _ascii_suggestion(name):
    """`name` with accents dropped and other refused characters as `_`."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if c.isascii() and c.isprintable() and c != "/" else "_" for c in plain)


def check_name(name, field="name"):
    """Raises unless `name` follows the rule of the module docstring.

    Args:
        name: the name to check.
        field: the spec argument it was given as, for the message.

    Example:
    >>> check_name("naïve")
    Traceback (most recent call last):
    ...
    ValueError: Feature name 'naïve' (name=): expected a non-empty string of printable ASCII ...
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"expected a non-empty string feature name. Received: {field}={name!r}")
    bad = sorted({c for c in name if not (c.isascii() and c.isprintable()) or c == "/"})
    if bad:
        why = (
            "Keras refuses '/' in a layer name"
            if bad == ["/"]
            else "TensorFlow cannot name a serving input with it"
        )
        suggestion = _ascii_suggestion(name)
        raise ValueError(
            f"Feature name {name!r} ({field}=): expected {NAME_RULE}. It holds "
            f"{', '.join(repr(c) for c in bad)}. {why}. Fix: rename the column, "
            f"e.g. df = df.rename(columns={{{name!r}: {suggestion!r}}}), and use "
            "that name in the spec."
        )
    return name


def check_distinct(names, what="input"):
    """Raises if two of `names` share an `internal_name`.

    Args:
        names: distinct names (feature or embedding names).
        what: what they name, for the message.
    """
    seen = {}
    for name in names:
        first = seen.setdefault(internal_name(name), name)
        if first != name:
            raise ValueError(
                f"{what.capitalize()} names {first!r} and {name!r} both become "
                f"{internal_name(name)!r} inside TensorFlow (layer names, and "
                "the keyword a Python client of the SavedModel passes). Expected "
                "names that differ in a letter or digit. Fix: rename one column, "
                f"e.g. df = df.rename(columns={{{name!r}: {name + '_2'!r}}})."
            )

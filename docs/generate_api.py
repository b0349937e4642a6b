"""Writes docs/api.md, the API reference, from the package's signatures and docstrings.

Regenerate it after changing a public name, signature or docstring:

    python docs/generate_api.py

`python docs/generate_api.py --check` writes nothing and exits 1, printing a diff, when
docs/api.md is stale; tests/test_api_reference.py runs that check in-process.

The page covers the top-level `keras_mtl.__all__` and, for each subpackage in it, the names
of its `__all__`, in `__all__` order: the signature with its annotations, the docstring's
summary (first paragraph) and its Args, Attributes and Returns sections; for classes also their
documented public methods and properties. It is the same under Keras 3 and tf_keras 2
(`TF_USE_LEGACY_KERAS=1`): Keras and TensorFlow classes print by their public `tf.` name,
defaults print only when they are plain literals (anything else as `...`), constants by
their type, and inherited Keras docstrings are never used.
"""

import argparse
import difflib
import enum
import inspect
import os
import re
import sys
import types
import typing

HERE = os.path.dirname(os.path.abspath(__file__))
OUTPUT = os.path.join(HERE, "api.md")
COMMAND = "python docs/generate_api.py"
LINE = 88  # longer signatures get one parameter a line

#: Where the public classes of TensorFlow, Keras, NumPy and pandas are looked up by name.
#: The most specific first: Keras 3 also exports `tf.keras.Optimizer` (tf_keras does not),
#: `tf.keras.optimizers.Optimizer` is the name both have.
NAMESPACES = (
    "tf.keras.layers",
    "tf.keras.losses",
    "tf.keras.metrics",
    "tf.keras.optimizers.schedules",
    "tf.keras.optimizers",
    "tf.keras.initializers",
    "tf.keras.regularizers",
    "tf.keras.callbacks",
    "tf.keras",
    "tf.data",
    "tf.io",
    "tf",
    "np",
    "pd",
)


def _namespaces():
    import numpy as np
    import pandas as pd
    import tensorflow as tf

    roots = {"tf": tf, "np": np, "pd": pd}
    for name in NAMESPACES:
        root, *rest = name.split(".")
        obj = roots[root]
        for part in rest:
            obj = getattr(obj, part)
        yield name, obj


class Renderer:
    """Annotations, defaults and docstrings as stable Markdown text."""

    def __init__(self, aliases):
        self.aliases = aliases  # {name: annotation} printed by name
        self._public = {}  # external class -> its public dotted name
        self.self_type = None  # the class whose methods are rendered

    # -- annotations -----------------------------------------------------------------------
    def annotation(self, a):
        if isinstance(a, str):
            return a
        if isinstance(a, typing.ForwardRef):
            return a.__forward_arg__
        if a is None or a is type(None):
            return "None"
        if a is Ellipsis:
            return "..."
        if a is typing.Any:
            return "Any"
        for name, alias in self.aliases.items():
            if _same(a, alias):
                return name
        origin, args = typing.get_origin(a), typing.get_args(a)
        if origin is typing.Union:
            rest = [x for x in args if x is not type(None)]
            inner = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]
            if len(rest) < len(args):
                return f"Optional[{self.annotation(inner)}]"
            return "Union[" + ", ".join(self.annotation(x) for x in args) + "]"
        if origin is typing.Literal:
            return "Literal[" + ", ".join(_literal(x) for x in args) + "]"
        if origin is not None:
            name = getattr(a, "_name", None) or self.annotation(origin)
            if not args:
                return name
            parts = []
            for x in args:
                if isinstance(x, (list, tuple)):  # Callable's argument list
                    parts.append("[" + ", ".join(self.annotation(y) for y in x) + "]")
                else:
                    parts.append(self.annotation(x))
            return f"{name}[{', '.join(parts)}]"
        if isinstance(a, typing.TypeVar):  # the self type of a method: its class
            return self.self_type or a.__name__
        if isinstance(a, type):
            return self.class_name(a)
        return re.sub(r"\btyping\.", "", repr(a))

    def class_name(self, cls):
        module = cls.__module__
        if module == "builtins":
            return cls.__qualname__
        if module.startswith("keras_mtl") or module in ("collections.abc", "typing"):
            return cls.__qualname__
        if module.split(".")[0] in ("tensorflow", "keras", "tf_keras", "numpy", "pandas"):
            return self._public_name(cls)
        return f"{module}.{cls.__qualname__}"

    def _public_name(self, cls):
        if cls not in self._public:
            found = None
            for prefix, namespace in _namespaces():
                if getattr(namespace, cls.__name__, None) is cls:
                    found = f"{prefix}.{cls.__name__}"
                    break
            if found is None:  # exported under another name (tf.data.Dataset is DatasetV2)
                for prefix, namespace in _namespaces():
                    for attr in sorted(dir(namespace)):
                        if not attr.startswith("_") and getattr(namespace, attr, None) is cls:
                            found = f"{prefix}.{attr}"
                            break
                    if found:
                        break
            self._public[cls] = found
        return self._public[cls] or cls.__name__

    def public_base(self, cls):
        """The first base of `cls` outside keras_mtl that has a public name, or None.

        Keras 3 puts `Functional` (and its base `tf.keras.Function`) into the bases of a
        model class once the class is built functionally: models are `tf.keras.Model`s.
        """
        import tensorflow as tf

        if issubclass(cls, tf.keras.Model):
            return self._public_name(tf.keras.Model)
        for base in cls.__mro__[1:]:
            module = base.__module__
            if base is object or module.startswith("keras_mtl"):
                continue
            if module == "builtins":
                return base.__qualname__
            if module.split(".")[0] in ("tensorflow", "keras", "tf_keras", "numpy", "pandas"):
                self._public_name(base)
                if self._public[base]:
                    return self._public[base]
                continue
            return self.class_name(base)
        return None

    # -- signatures ------------------------------------------------------------------------
    def signature(self, name, fn, drop_first=False, constructor=False):
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return f"{name}(...)"
        params = list(sig.parameters.values())
        if drop_first and params:
            params = params[1:]
        parts = []
        kinds = [p.kind for p in params]
        for i, p in enumerate(params):
            if p.kind is p.KEYWORD_ONLY and inspect.Parameter.VAR_POSITIONAL not in kinds:
                if i == 0 or params[i - 1].kind is not p.KEYWORD_ONLY:
                    parts.append("*")
            text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
            if p.annotation is not p.empty:
                text += ": " + self.annotation(p.annotation)
            if p.default is not p.empty:
                text += (" = " if p.annotation is not p.empty else "=") + _default(p.default)
            parts.append(text)
            if p.kind is p.POSITIONAL_ONLY and (
                i + 1 == len(params) or params[i + 1].kind is not p.POSITIONAL_ONLY
            ):
                parts.append("/")
        returns = ""
        if sig.return_annotation is not sig.empty and not constructor:
            returns = " -> " + self.annotation(sig.return_annotation)
        one_line = f"{name}({', '.join(parts)}){returns}"
        if len(one_line) <= LINE:
            return one_line
        return f"{name}(\n" + "".join(f"    {p},\n" for p in parts) + f"){returns}"


def _same(a, b):
    try:
        return a == b and typing.get_origin(a) is typing.get_origin(b)
    except TypeError:
        return False


def _literal(value):
    return repr(value.value) if isinstance(value, enum.Enum) else repr(value)


def _is_plain(value):
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return True
    if isinstance(value, (tuple, list, frozenset, set)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    return False


def _default(value):
    if _is_plain(value):
        return repr(value)
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)):
        return value.__name__
    return "..."  # an object whose repr may differ between Keras versions or runs


# -- docstrings ----------------------------------------------------------------------------
def own_doc(obj):
    """The object's own docstring (never one inherited from Keras), cleaned."""
    doc = obj.__doc__ if isinstance(getattr(obj, "__doc__", None), str) else None
    if isinstance(obj, type) and "__doc__" not in vars(obj):
        doc = None
    return inspect.cleandoc(doc) if doc else ""


def summary(doc):
    paragraph = []
    for line in doc.splitlines():
        if not line.strip():
            break
        paragraph.append(line.strip())
    return _escape(" ".join(paragraph))


def section(doc, title):
    """The lines of a Google-style section (`Args:`), dedented, or []."""
    lines = doc.splitlines()
    try:
        start = lines.index(f"{title}:")
    except ValueError:
        return []
    out = []
    for line in lines[start + 1 :]:
        if line.strip() and not line.startswith(" "):
            break
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return [line[4:] if line.startswith("    ") else line.strip() for line in out]


_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_][\w]*(?:, \*{0,2}[A-Za-z_][\w]*)*,?): ?(.*)$")


def args_markdown(lines):
    """`name: text` entries (continuations indented) as a Markdown list."""
    entries = []
    for line in lines:
        if line.strip() and not line.startswith(" "):
            entries.append(line.strip())
        elif entries and line.strip():
            entries[-1] += " " + line.strip()
    items = []
    for text in entries:
        match = _ENTRY.match(text)
        if match:
            names = ", ".join(f"`{n.strip()}`" for n in match.group(1).split(",") if n.strip())
            text = f"{names}: {match.group(2).strip()}"
        items.append("- " + _escape(text))
    return items


def _escape(text):
    """`<` outside code spans, so Markdown renderers keep `<task>`-like words."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;")
    return "`".join(parts)


# -- the page ------------------------------------------------------------------------------
def _anchor(title):
    return re.sub(r"[^a-z0-9_ -]", "", title.lower()).replace(" ", "-")


def _kind(obj):
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "constant"


def _init(cls):
    """The `__init__` a keras_mtl class defines itself or inherits from a keras_mtl class."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("keras_mtl"):
            return None
        init = vars(klass).get("__init__")
        if init is not None:  # a Protocol's placeholder `__init__` is typing's: none
            return init if (getattr(init, "__module__", "") or "").startswith("keras_mtl") else None
    return None


def _members(cls, documented):
    """Documented public methods and properties of `cls` and its undocumented keras_mtl bases."""
    seen, out = set(), []
    for klass in cls.__mro__:
        if not klass.__module__.startswith("keras_mtl"):
            break
        if klass is not cls and klass in documented:
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(value, property):
                fn, kind = value.fget, "property"
            elif isinstance(value, (classmethod, staticmethod)):
                fn, kind = value.__func__, type(value).__name__
            elif inspect.isfunction(value):
                fn, kind = value, "method"
            else:
                continue
            if fn is not None and own_doc(fn) and fn.__module__.startswith("keras_mtl"):
                out.append((name, fn, kind))
    return sorted(out, key=lambda item: item[0])


def _doc_sections(doc):
    lines = []
    if doc:
        lines += [summary(doc), ""]
    for title in ("Args", "Attributes"):
        entries = section(doc, title)
        if entries:
            lines += [f"**{title}**", ""] + args_markdown(entries) + [""]
    returns = section(doc, "Returns")
    if returns:
        lines += ["**Returns**: " + _escape(" ".join(x.strip() for x in returns)), ""]
    return lines


def _code(sig):
    return ["```python", sig, "```", ""]


def entry(render, qualname, obj, documented):
    short = qualname.rsplit(".", 1)[-1]
    kind = _kind(obj)
    lines = [f"### `{qualname}`", ""]
    if kind == "constant":
        return lines + [f"*constant* of type `{render.class_name(type(obj))}`", ""]
    if kind == "module":
        return lines + ["*module*", ""] + _doc_sections(own_doc(obj))[:2]
    if kind == "function":
        return (
            lines
            + ["*function*", ""]
            + _code(render.signature(short, obj))
            + _doc_sections(own_doc(obj))
        )
    init = _init(obj)
    sig = f"{short}(...)"
    if init is not None:
        sig = render.signature(short, init, drop_first=True, constructor=True)
    base = render.public_base(obj)
    label = "*class*" if base is None else f"*class*, a `{base}`"
    lines += [label, ""] + _code(sig) + _doc_sections(own_doc(obj))
    members = _members(obj, documented)
    render.self_type = short
    properties = [(n, fn) for n, fn, k in members if k == "property"]
    if properties:
        lines += ["**Properties**", ""]
        for name, fn in properties:
            returns = inspect.signature(fn).return_annotation
            typed = "" if returns is inspect.Signature.empty else f": {render.annotation(returns)}"
            lines.append(f"- `{name}{typed}`: {summary(own_doc(fn))}")
        lines.append("")
    for name, fn, member_kind in members:
        if member_kind == "property":
            continue
        prefix = "" if member_kind == "method" else f"*{member_kind}* "
        lines += [f"#### `{short}.{name}`", ""]
        if prefix:
            lines += [prefix.strip(), ""]
        lines += _code(render.signature(name, fn, drop_first=member_kind != "staticmethod"))
        lines += _doc_sections(own_doc(fn))
    render.self_type = None
    return lines


def _comment(name, source):
    """The `#:` comment lines right above `name = ...` in `source`."""
    return re.search(rf"((?:^#: .*\n)+)^{name} = ", source, flags=re.M)


def render_page():
    if os.path.dirname(HERE) not in sys.path:  # run as a script from anywhere
        sys.path.insert(0, os.path.dirname(HERE))
    import keras_mtl
    from keras_mtl import _types
    from keras_mtl.features import feature_spec

    render = Renderer(_types.ALIASES)
    subpackages = [n for n in keras_mtl.__all__ if inspect.ismodule(getattr(keras_mtl, n))]
    documented = {}
    for pkg_name in subpackages:
        pkg = getattr(keras_mtl, pkg_name)
        for name in pkg.__all__:
            obj = getattr(pkg, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                documented.setdefault(obj, f"keras_mtl.{pkg_name}.{name}")

    out = [
        "# API reference",
        "",
        f"<!-- Generated by `{COMMAND}` from the signatures and docstrings; do not edit. -->",
        "",
        "Everything below is importable as written; the top-level names are re-exports of",
        "the subpackage entries they link to. Signatures print Keras and TensorFlow types by",
        "their `tf.` names and defaults that are not plain values as `...`.",
        "",
        "## Contents",
        "",
        "- [Top level: `keras_mtl`](#top-level-keras_mtl)",
    ]
    for pkg_name in subpackages:
        title = f"keras_mtl.{pkg_name}"
        out.append(f"- [`{title}`](#{_anchor(title)})")
    out += ["- [Type aliases](#type-aliases)", "", "## Top level: `keras_mtl`", ""]
    out += [summary(own_doc(keras_mtl)), "", "| Name | What it is |", "| --- | --- |"]
    for name in keras_mtl.__all__:
        obj = getattr(keras_mtl, name)
        if inspect.ismodule(obj):
            target = f"keras_mtl.{name}"
            what = summary(own_doc(obj))
        elif obj in documented:
            target = documented[obj]
            what = summary(own_doc(obj))
        else:
            target, what = None, f"constant of type `{render.class_name(type(obj))}`"
        link = f"[`{name}`](#{_anchor(target)})" if target else f"`{name}`"
        out.append(f"| {link} | {what.replace('|', '&#124;')} |")
    out.append("")

    for pkg_name in subpackages:
        pkg = getattr(keras_mtl, pkg_name)
        out += [f"## `keras_mtl.{pkg_name}`", "", summary(own_doc(pkg)), ""]
        for name in pkg.__all__:
            obj = getattr(pkg, name)
            out += entry(render, f"keras_mtl.{pkg_name}.{name}", obj, documented)

    out += [
        "## Type aliases",
        "",
        "Signatures above print these names; `keras_mtl._types` defines them.",
        "",
    ]
    sources = [inspect.getsource(_types), inspect.getsource(feature_spec)]
    for name, alias in _types.ALIASES.items():
        spelled = Renderer({}).annotation(alias)
        notes = [m.group(1) for s in sources for m in [_comment(name, s)] if m]
        note = " ".join(line.strip()[3:] for line in notes[0].splitlines()) if notes else ""
        out += [f"- `{name}` = `{spelled}`" + (f": {_escape(note)}" if note else "")]
    out.append("")
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if docs/api.md is stale; write nothing"
    )
    args = parser.parse_args(argv)
    page = render_page()
    if args.check:
        current = ""
        if os.path.exists(OUTPUT):
            with open(OUTPUT, encoding="utf-8") as f:
                current = f.read()
        if current == page:
            print("docs/api.md is up to date.")
            return 0
        diff = difflib.unified_diff(
            current.splitlines(True), page.splitlines(True), "docs/api.md", "generated"
        )
        sys.stdout.writelines(list(diff)[:200])
        print(f"\ndocs/api.md is stale: run `{COMMAND}`.")
        return 1
    with open(OUTPUT, "w", encoding="utf-8") as f:
        f.write(page)
    print(f"wrote {os.path.relpath(OUTPUT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

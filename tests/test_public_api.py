"""The public API is typed: every parameter and return of the public names is annotated.

Checked: every function of the top-level `keras_mtl.__all__` and of the subpackages in
`ANNOTATED`, and of every class there its `__init__` and the public methods and properties
that keras_mtl defines (in the class or a keras_mtl base class; what Keras defines is not
ours to annotate). `self` / `cls` need no annotation.
"""

import importlib
import inspect

import pytest

import keras_mtl

#: Subpackages whose `__all__` is annotated completely (the top level always is).
ANNOTATED = (
    "keras_mtl.data",
    "keras_mtl.evaluation",
    "keras_mtl.export",
    "keras_mtl.features",
    "keras_mtl.losses",
    "keras_mtl.optimizers",
    "keras_mtl.training",
    "keras_mtl.weighting",
)


def _public_callables(qualname, obj):
    """`(name, function, bound)` to check for one public object."""
    if inspect.isfunction(obj):
        yield qualname, obj, False
        return
    if not inspect.isclass(obj):
        return  # a subpackage, checked by its own entry, or a constant
    seen = set()
    for klass in obj.__mro__:
        if not klass.__module__.startswith("keras_mtl"):
            break
        for name, value in vars(klass).items():
            if name in seen or (name.startswith("_") and name != "__init__"):
                continue
            seen.add(name)
            if isinstance(value, property):
                function, bound = value.fget, True
            elif isinstance(value, (classmethod, staticmethod)):
                function, bound = value.__func__, isinstance(value, classmethod)
            elif inspect.isfunction(value):
                function, bound = value, True
            else:
                continue
            if (function.__module__ or "").startswith("keras_mtl"):  # not Protocol's __init__
                yield f"{qualname}.{name}", function, bound


def _unannotated(function, bound):
    """Names of the parameters (and "return") without an annotation."""
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())[1 if bound else 0 :]
    missing = [p.name for p in parameters if p.annotation is inspect.Parameter.empty]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def _public_names(module_name):
    module = importlib.import_module(module_name)
    return [(f"{module_name}.{name}", getattr(module, name)) for name in module.__all__]


def test_top_level_all_resolves():
    names = keras_mtl.__all__
    assert len(names) == len(set(names)), "duplicate names in keras_mtl.__all__"
    assert [name for name in names if not hasattr(keras_mtl, name)] == []
    assert len(keras_mtl.models.__all__) == 17
    for name in keras_mtl.models.__all__:
        assert getattr(keras_mtl, name) is getattr(keras_mtl.models, name)
    for name in ("DenseFeat", "SparseFeat", "VarLenSparseFeat", "MultiTaskModel"):
        assert name in names


def test_subpackage_all_resolves():
    missing = []
    for name in keras_mtl.__all__:
        package = getattr(keras_mtl, name)
        if inspect.ismodule(package):
            missing += [f"{name}.{n}" for n in package.__all__ if not hasattr(package, n)]
    assert missing == []


@pytest.mark.parametrize("module_name", ("keras_mtl",) + ANNOTATED)
def test_public_names_are_annotated(module_name):
    checked, missing = 0, []
    for qualname, obj in _public_names(module_name):
        for name, function, bound in _public_callables(qualname, obj):
            checked += 1
            absent = _unannotated(function, bound)
            if absent:
                missing.append(f"{name}: {', '.join(absent)}")
    assert checked > 0
    assert missing == [], "unannotated:\n" + "\n".join(missing)


def test_builders_share_their_argument_types():
    """The arguments builders have in common are typed alike (one vocabulary)."""
    seen = {}
    for name in keras_mtl.models.__all__:
        for parameter in inspect.signature(getattr(keras_mtl.models, name)).parameters.values():
            seen.setdefault(parameter.name, set()).add(repr(parameter.annotation))
        returns = inspect.signature(getattr(keras_mtl.models, name)).return_annotation
        assert returns is keras_mtl.MultiTaskModel, name
    common = ("features", "task_names", "task_types", "tower_units", "activation", "dropout")
    for argument in common + ("l2_reg", "l2_reg_embedding", "task_dependencies", "name"):
        assert len(seen[argument]) == 1, (argument, seen[argument])

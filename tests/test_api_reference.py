"""docs/api.md is what docs/generate_api.py writes from the current signatures and docstrings.

CI runs the suite on Keras 3 and on tf_keras 2, so this also checks the page is the same
under both. Regenerate it with `python docs/generate_api.py`.
"""

import difflib
import importlib.util
import os
import re

import pytest

import keras_mtl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def generator():
    path = os.path.join(ROOT, "docs", "generate_api.py")
    spec = importlib.util.spec_from_file_location("generate_api", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def page(generator):
    return generator.render_page()


def test_api_reference_is_current(generator, page):
    with open(generator.OUTPUT, encoding="utf-8") as f:
        written = f.read()
    diff = difflib.unified_diff(written.splitlines(), page.splitlines(), "docs/api.md", "now", n=1)
    assert written == page, f"docs/api.md is stale: run `{generator.COMMAND}`\n" + "\n".join(
        list(diff)[:40]
    )


def test_api_reference_is_stable(page):
    assert not re.search(r"0x[0-9a-f]{6,}", page), "a memory address in the page"
    home = os.path.expanduser("~")
    assert ROOT not in page, "a machine path in the page"
    assert len(home) < 2 or f"{home}/" not in page, "a machine path in the page"
    for module in ("keras.src", "tf_keras", "tensorflow.python"):
        assert module not in page, f"{module} in the page: print the public tf. name"


def test_api_reference_lists_every_public_name(page):
    headings = set(re.findall(r"^### `([\w.]+)`$", page, flags=re.M))
    for name in keras_mtl.__all__:
        package = getattr(keras_mtl, name)
        for member in getattr(package, "__all__", ()):
            assert f"keras_mtl.{name}.{member}" in headings
    assert len([h for h in headings if h.startswith("keras_mtl.layers.")]) == len(
        keras_mtl.layers.__all__
    )
    for name in keras_mtl.__all__:
        assert f"[`{name}`](#" in page or f"| `{name}` |" in page


def test_check_mode_reports_a_stale_page(generator, page, tmp_path, monkeypatch, capsys):
    stale = tmp_path / "api.md"
    stale.write_text(page.replace("# API reference", "# API reference (old)"), encoding="utf-8")
    monkeypatch.setattr(generator, "OUTPUT", str(stale))
    monkeypatch.setattr(generator, "render_page", lambda: page)
    assert generator.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().out
    stale.write_text(page, encoding="utf-8")
    assert generator.main(["--check"]) == 0

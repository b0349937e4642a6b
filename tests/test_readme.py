"""The README's and the user guide's python examples run as written, and their links resolve.

Fenced blocks tagged ```python run; untagged ``` blocks are sketches (fragments with `...`, or a
global setting such as the mixed precision policy) and are not run, nor are ```bash blocks. The
python blocks of one page run in order in one namespace, as one script, in a temporary directory.
"""

import os
import re

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The user guide pages whose python blocks run here (docs/tfrs.md runs in tests/integrations).
GUIDE = (
    "docs/features-and-data.md",
    "docs/training.md",
    "docs/models.md",
    "docs/multi-domain.md",
    "docs/export-and-serving.md",
)


def read(page):
    with open(os.path.join(ROOT, page), encoding="utf-8") as file:
        return file.read()


def python_blocks(page):
    return re.findall(r"^```python\n(.*?)^```", read(page), flags=re.S | re.M)


def run_page(page, tmp_path, monkeypatch):
    """Runs the page's python blocks in order in one namespace; returns the namespace."""
    blocks = python_blocks(page)
    assert blocks, f"{page} has no python block"
    monkeypatch.chdir(tmp_path)  # examples write to ./savedmodels and temporary folders
    namespace = {}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"{page}, python block {number}", "exec"), namespace)
    return namespace


def test_readme_example_runs(tmp_path, monkeypatch):
    ns = run_page("README.md", tmp_path, monkeypatch)
    assert sorted(ns["predictions"]) == ["income", "never_married"]
    assert ns["predictions"]["income"].shape == (1000, 1)
    assert os.path.isfile(tmp_path / "savedmodels" / "census_mmoe" / "1" / "saved_model.pb")


def test_features_and_data_page_runs(tmp_path, monkeypatch):
    ns = run_page("docs/features-and-data.md", tmp_path, monkeypatch)
    assert sorted(ns["vocabulary"]) == ["DE", "FR", "US"]
    assert sum(ns["counts"].values()) == ns["n"] == 1000
    assert len(ns["from_parquet"]) == len(ns["from_tfrecords"]) == 4  # 1,000 rows, batches of 256


def test_training_page_runs(tmp_path, monkeypatch):
    ns = run_page("docs/training.md", tmp_path, monkeypatch)
    for key in ("loss", "regularization_loss", "ctr_loss", "weight_cvr", "ctr_auc", "cvr_rows"):
        assert key in ns["logged"]
    assert ns["model"].history.history["loss"]  # the last compile (Adagrad tables) trained


def test_models_page_runs(tmp_path, monkeypatch):
    ns = run_page("docs/models.md", tmp_path, monkeypatch)
    assert {"cvr_dr_loss", "imputation_loss", "ctcvr_auc"} <= set(ns["history"].history)
    assert sorted(ns["esmm"].output_names) == ["ctcvr", "ctr", "cvr"]
    assert "expert_load" in ns["mmoe"].output_names
    assert ns["health"]["experts"] and ns["health"]["gates"]


def test_multi_domain_page_runs(tmp_path, monkeypatch):
    ns = run_page("docs/multi-domain.md", tmp_path, monkeypatch)
    table = ns["per_domain"]
    assert list(table.index) == [0, 1, 2, "all"]
    assert table.loc["all", "ctr_auc"] > 0.6


def test_export_and_serving_page_runs(tmp_path, monkeypatch):
    ns = run_page("docs/export-and-serving.md", tmp_path, monkeypatch)
    assert ns["result"].custom_ops == "onnxruntime_extensions"  # the page's model hashes strings
    assert ns["bodies"]["rest"]["path"] == "/v1/models/ranker/versions/1:predict"
    assert os.path.isfile(os.path.join(ns["path"], "assets.extra", "tf_serving_warmup_requests"))
    served = ns["served"].numpy().reshape(-1)
    np.testing.assert_allclose(ns["onnx_ctr"].reshape(-1), served, atol=1e-5)


def anchors(page):
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to '-'."""
    headings = re.findall(r"^#+ (.+)$", read(page), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", ("README.md", "CHANGELOG.md") + GUIDE)
def test_links_resolve(page):
    folder = os.path.dirname(page)
    text = re.sub(r"^```.*?^```", "", read(page), flags=re.S | re.M)  # links in code don't count
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        path = os.path.normpath(os.path.join(folder, file)) if file else page
        assert os.path.isfile(os.path.join(ROOT, path)), f"{page} links to missing {path}"
        if anchor and path.endswith(".md"):
            assert anchor in anchors(path), f"{page} links to missing heading {target}"

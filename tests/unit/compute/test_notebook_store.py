"""JupyterLab's notebook store: run for real on pyarrow file systems, and loaded the way Jupyter loads a config file."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from pyarrow.fs import LocalFileSystem, SubTreeFileSystem

from components.compute import jupyter_notebook_store as store
from harness import StackRun

BUCKET = "notebooks"


class FlatKeys(SubTreeFileSystem):
    """A local folder with S3's flat keys: writing `a/b/c` needs no directories first. (The store
    against a real S3 server is in the contract tier.)"""

    def open_output_stream(self, path, *args, **kwargs):
        self.create_dir(path.rsplit("/", 1)[0], recursive=True)
        return super().open_output_stream(path, *args, **kwargs)


@pytest.fixture
def bucket(tmp_path):
    (tmp_path / "s3" / BUCKET).mkdir(parents=True)
    return FlatKeys(str(tmp_path / "s3"), LocalFileSystem())


@pytest.fixture
def work(tmp_path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    return root


def test_only_files_under_the_work_folder_are_kept(work):
    assert store.object_key(work, work / "demo" / "explore.ipynb") == "demo/explore.ipynb"
    assert store.object_key(work, work.parent / "elsewhere.ipynb") is None
    assert store.object_key(work, work / ".ipynb_checkpoints" / "explore-checkpoint.ipynb") is None
    assert store.object_key(work, work / ".hidden") is None


def test_a_save_is_copied_and_a_new_folder_gets_it_back(bucket, work, tmp_path):
    (work / "demo").mkdir()
    (work / "demo" / "explore.ipynb").write_text('{"cells": []}')
    assert store.upload(bucket, BUCKET, work, work / "demo" / "explore.ipynb") == "demo/explore.ipynb"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert store.restore(bucket, BUCKET, fresh) == ["demo/explore.ipynb"]
    assert (fresh / "demo" / "explore.ipynb").read_text() == '{"cells": []}'


def test_restoring_never_overwrites_a_local_file(bucket, work):
    (work / "a.ipynb").write_text("stored")
    store.upload(bucket, BUCKET, work, work / "a.ipynb")
    (work / "a.ipynb").write_text("local edit")
    assert store.restore(bucket, BUCKET, work) == []
    assert (work / "a.ipynb").read_text() == "local edit"


def test_shipped_files_fill_only_what_the_folder_lacks_after_the_restore(bucket, work, tmp_path, monkeypatch):
    seeds = tmp_path / "seeds"
    (seeds / "lakehouse_demo").mkdir(parents=True)
    (seeds / "lakehouse_demo" / "01.ipynb").write_text("shipped 01")
    (seeds / "lakehouse_demo" / "02.ipynb").write_text("shipped 02")
    (work / "lakehouse_demo").mkdir()
    (work / "lakehouse_demo" / "01.ipynb").write_text("the user's 01")
    store.upload(bucket, BUCKET, work, work / "lakehouse_demo" / "01.ipynb")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.setattr(store, "store_from_environment", lambda: (bucket, BUCKET))
    store.configure(SimpleNamespace(FileContentsManager=SimpleNamespace()), fresh, seeds)
    assert (fresh / "lakehouse_demo" / "01.ipynb").read_text() == "the user's 01"  # restored, not replaced
    assert (fresh / "lakehouse_demo" / "02.ipynb").read_text() == "shipped 02"
    assert store.seed(fresh, seeds) == []


def test_loaded_as_a_config_file_it_hooks_saves_even_when_the_store_is_unreachable(work, monkeypatch):
    for name in ("ENDPOINT", "REGION", "ACCESS_KEY", "SECRET_KEY", "BUCKET"):
        monkeypatch.delenv(f"NOTEBOOK_STORE_{name}", raising=False)
    monkeypatch.setenv("NOTEBOOK_STORE_ROOT", str(work))
    config = SimpleNamespace(FileContentsManager=SimpleNamespace())
    runpy.run_path(store.__file__, init_globals={"get_config": lambda: config})
    (work / "a.ipynb").write_text("{}")
    config.FileContentsManager.post_save_hook(model={}, os_path=str(work / "a.ipynb"), contents_manager=None)


def test_jupyterlab_loads_the_store_with_its_own_user_and_keeps_only_a_working_copy(homelab: StackRun):
    lab = "compute-spark-jupyter-container"
    assert homelab.uploads(lab)["/usr/local/etc/jupyter/jupyter_server_config.py"] == Path(store.__file__).read_text()
    env = homelab.envs(lab)
    assert {k: v for k, v in env.items() if k.startswith("NOTEBOOK_STORE_")} == {
        "NOTEBOOK_STORE_ENDPOINT": "http://192.168.10.20:9000", "NOTEBOOK_STORE_REGION": "us-east-1",
        "NOTEBOOK_STORE_BUCKET": "notebooks", "NOTEBOOK_STORE_ACCESS_KEY": "jupyter",
        "NOTEBOOK_STORE_SECRET_KEY": homelab.password("data-jupyter-s3-secret"),
        "NOTEBOOK_STORE_ROOT": "/home/jovyan/work", "NOTEBOOK_STORE_SEEDS": "/opt/lakehouse/notebooks"}
    assert homelab.named("compute-spark-jupyter-work").retain_on_delete is False
    policy = json.loads(homelab.named("data-jupyter-s3-policy").inputs["policy"])
    assert {r for s in policy["Statement"] for r in s["Resource"]} == {
        "arn:aws:s3:::notebooks", "arn:aws:s3:::notebooks/*"}

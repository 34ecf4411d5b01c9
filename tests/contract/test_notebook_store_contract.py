"""JupyterLab's notebook store against a real S3 server, with the environment the stack renders for JupyterLab."""

from __future__ import annotations

import runpy
from types import SimpleNamespace

import pytest

from components.compute import jupyter_notebook_store as store

pytestmark = pytest.mark.contract


@pytest.fixture
def store_env(contract_run, loopback, s3, monkeypatch) -> dict[str, str]:
    env = {k: loopback.value(k, v) for k, v in contract_run.envs("compute-spark-jupyter-container").items()
           if k.startswith("NOTEBOOK_STORE_")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_a_save_lands_in_the_bucket_and_a_new_jupyterlab_restores_it(store_env, s3, tmp_path, monkeypatch):
    old, new = tmp_path / "old-vm", tmp_path / "new-vm"
    old.mkdir(), new.mkdir()
    saves = SimpleNamespace(FileContentsManager=SimpleNamespace())
    monkeypatch.setenv("NOTEBOOK_STORE_ROOT", str(old))
    runpy.run_path(store.__file__, init_globals={"get_config": lambda: saves})
    (old / "demo").mkdir()
    (old / "demo" / "explore.ipynb").write_text('{"cells": [], "nbformat": 4}')
    saves.FileContentsManager.post_save_hook(model={}, os_path=str(old / "demo" / "explore.ipynb"),
                                             contents_manager=None)
    stored = s3.client(store_env["NOTEBOOK_STORE_ACCESS_KEY"], store_env["NOTEBOOK_STORE_SECRET_KEY"]).get_object(
        Bucket="notebooks", Key="demo/explore.ipynb")
    assert stored["Body"].read() == b'{"cells": [], "nbformat": 4}'

    monkeypatch.setenv("NOTEBOOK_STORE_ROOT", str(new))
    runpy.run_path(store.__file__, init_globals={"get_config": lambda: SimpleNamespace(
        FileContentsManager=SimpleNamespace())})
    assert (new / "demo" / "explore.ipynb").read_text() == '{"cells": [], "nbformat": 4}'


def test_jupyterlabs_user_cannot_write_outside_its_bucket(store_env, s3):
    from botocore.exceptions import ClientError

    client = s3.client(store_env["NOTEBOOK_STORE_ACCESS_KEY"], store_env["NOTEBOOK_STORE_SECRET_KEY"])
    with pytest.raises(ClientError):
        client.put_object(Bucket="warehouse", Key="gold/x", Body=b"x")


def test_a_new_jupyterlab_gets_the_users_saved_notebook_and_the_shipped_ones_it_lacks(
        contract_run, store_env, tmp_path, monkeypatch):
    """The demo's notebooks as the stack uploads them (NOTEBOOK_STORE_SEEDS), after a user saved an edited 01."""
    seeds_at = store_env["NOTEBOOK_STORE_SEEDS"]
    seeds = tmp_path / "seeds"
    shipped = {path[len(seeds_at) + 1:]: text
               for path, text in contract_run.uploads("compute-spark-jupyter-container").items()
               if path.startswith(seeds_at + "/")}
    assert len(shipped) == 4
    for relative, text in shipped.items():
        (seeds / relative).parent.mkdir(parents=True, exist_ok=True)
        (seeds / relative).write_text(text)
    first = sorted(shipped)[0]
    old, new = tmp_path / "old-vm", tmp_path / "new-vm"
    (old / first).parent.mkdir(parents=True)
    new.mkdir()
    (old / first).write_text('{"edited": true}')
    saves = SimpleNamespace(FileContentsManager=SimpleNamespace())
    monkeypatch.setenv("NOTEBOOK_STORE_ROOT", str(old))
    monkeypatch.setenv("NOTEBOOK_STORE_SEEDS", str(seeds))
    runpy.run_path(store.__file__, init_globals={"get_config": lambda: saves})
    saves.FileContentsManager.post_save_hook(model={}, os_path=str(old / first), contents_manager=None)

    monkeypatch.setenv("NOTEBOOK_STORE_ROOT", str(new))
    runpy.run_path(store.__file__, init_globals={"get_config": lambda: SimpleNamespace(
        FileContentsManager=SimpleNamespace())})
    folder = new / first.split("/")[0]  # other tests of the session may have saved elsewhere in the bucket
    assert {p.relative_to(new).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()} == {
        **shipped, first: '{"edited": true}'}

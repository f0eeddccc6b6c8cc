"""The bundle's content database: TinyDB (a JSON file), written once by ``build``, read-only after.

TinyDB has one writer at a time; the kiosk never writes a content database it serves — a new
version is a new bundle directory.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from tinydb import TinyDB
from tinydb.storages import JSONStorage

from kiosk.errors import ContentError
from kiosk.ports import Vectors

DB_NAME = "content.json"
VECTORS_NAME = "vectors.npy"
TABLES = ("museum", "exhibits", "faq", "units")


def read_vectors(path: Path) -> np.ndarray:
    """A ``.npy`` table of float32, its header checked against the file's real size before a
    byte is allocated (a header may claim petabytes): ValueError when they disagree."""
    with path.open("rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"npy format {version}")
        if dtype != np.dtype("<f4") or fortran or len(shape) != 2:
            raise ValueError("not a table of float32")
        expected = fh.tell() + math.prod(shape) * 4
        if expected != path.stat().st_size:
            raise ValueError("the header does not match the file's size")
        return np.fromfile(fh, dtype="<f4").reshape(shape)


def write_db(path: Path, records: dict[str, list[dict[str, Any]]]) -> None:
    """Write the tables in a stable order with sorted keys (same content → same bytes)."""
    db = TinyDB(path, storage=JSONStorage, sort_keys=True, indent=None, ensure_ascii=False,
                separators=(",", ":"))
    try:
        for name in TABLES:
            db.table(name).insert_multiple(records.get(name, []))
    finally:
        db.close()


class TinyDbStore:
    """Read-only ContentStore over a bundle directory (implements ``ports.ContentStore``)."""

    def __init__(self, bundle: Path) -> None:
        self.bundle = Path(bundle)
        path = self.bundle / DB_NAME
        if not path.is_file():
            raise ContentError(f"{self.bundle}: no {DB_NAME} — this is not a content bundle; "
                               "build one with `kiosk content build PACK -o BUNDLE`")
        try:
            db = TinyDB(path, storage=JSONStorage, access_mode="r")
            try:
                # the storage's tables as read, documents in insertion order (the file's keys
                # are sorted as text: "10" < "2"); not wrapped one by one as Documents, which
                # took 2 s of opening a bundle of 5,000 works
                raw = db.storage.read() or {}
                self._tables = {
                    name: [dict(raw[name][k]) for k in sorted(raw.get(name, {}), key=int)]
                    for name in TABLES
                }
            finally:
                db.close()
        except ValueError as exc:
            raise ContentError(f"{path} is damaged ({exc}) — sync or build the bundle again") \
                from exc
        try:
            self._vectors = read_vectors(self.bundle / VECTORS_NAME)
        except (OSError, ValueError) as exc:
            raise ContentError(f"{self.bundle / VECTORS_NAME} is missing or damaged — build the "
                               "bundle again") from exc
        if len(self._vectors) != len(self._tables["units"]):
            raise ContentError(f"{self.bundle}: {len(self._vectors)} vectors for "
                               f"{len(self._tables['units'])} texts — build the bundle again")

    def museum(self) -> dict[str, Any]:
        rows = self._tables["museum"]
        if len(rows) != 1:
            raise ContentError(f"{self.bundle}: no museum record — build the bundle again")
        return rows[0]

    def exhibits(self) -> list[dict[str, Any]]:
        return self._tables["exhibits"]

    def faq(self) -> list[dict[str, Any]]:
        return self._tables["faq"]

    def units(self) -> list[dict[str, Any]]:
        return self._tables["units"]

    def vectors(self) -> Vectors:
        return np.asarray(self._vectors, dtype=np.float32)

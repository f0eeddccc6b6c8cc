"""Vectors of content texts already encoded, kept between runs (SQLite in the data directory).

Opening a pack folder or building a bundle encodes every text of the content; a curator who
edits one file and asks again should not wait for all of them again. Only the content's own
texts go in (titles, curated and practical questions and answers, description sentences) —
never a visitor's question. Keyed by the encoder's id and sha256, whether the text was read as
a passage, and the text's sha256. A cache that cannot be read or written is skipped, never an
error: the texts are encoded as if it were empty.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kiosk.ports import Encoder, Vectors

log = logging.getLogger(__name__)

MAX_ROWS = 500_000
"""Rows kept at most (about 1 GB of 512-d vectors); the oldest go first past it."""


class VectorCache:
    """Encoded content texts, per encoder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=5.0)
                db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, "
                           "vector BLOB NOT NULL)")
                self._db = db
            except (OSError, sqlite3.Error) as exc:
                log.warning("vector cache %s not used (%s)", self.path, exc)
                return None
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def encode(self, encoder: Encoder, texts: Sequence[str], passage: bool) -> Vectors:
        """``encoder.encode(texts, passage)``, taking what was encoded before from the cache."""
        db = self._open()
        if db is None or not texts:
            return encoder.encode(texts, passage)
        salt = f"{encoder.model_id}\n{encoder.sha256}\n{int(passage)}\n".encode()
        keys = [hashlib.sha256(salt + t.encode("utf-8", "surrogatepass")).digest()
                for t in texts]
        found: dict[bytes, np.ndarray] = {}
        try:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in db.execute(
                        f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                    found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.Error as exc:
            log.warning("vector cache %s not read (%s)", self.path, exc)
            return encoder.encode(texts, passage)
        missing = [i for i, k in enumerate(keys) if k not in found]
        fresh = encoder.encode([texts[i] for i in missing], passage) if missing else None
        width = fresh.shape[1] if fresh is not None else len(next(iter(found.values())))
        if any(len(v) != width for v in found.values()):
            return encoder.encode(texts, passage)  # written by another build of the encoder
        out = np.zeros((len(texts), width), dtype=np.float32)
        for i, key in enumerate(keys):
            if key in found:
                out[i] = found[key]
        if fresh is not None:
            out[missing] = fresh
            self._store([(keys[i], fresh[k]) for k, i in enumerate(missing)])
        return out

    def _store(self, rows: list[tuple[bytes, np.ndarray]]) -> None:
        db = self._db
        if db is None:
            return
        try:
            with db:
                db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                               [(k, v.astype(np.float32).tobytes()) for k, v in rows])
                count = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
                if count > MAX_ROWS:
                    db.execute("DELETE FROM vectors WHERE rowid IN (SELECT rowid FROM vectors "
                               "ORDER BY rowid LIMIT ?)", (count - MAX_ROWS,))
        except sqlite3.Error as exc:
            log.warning("vector cache %s not written (%s)", self.path, exc)

"""Files that are either the old version or the new one, even across a power cut: write beside,
flush to disk, rename over, flush the folder. The one home of that recipe."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fsync_dir", "fsync_tree", "replace_synced", "write_text_atomic"]


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` (and ``root``) to disk."""
    for top, _dirs, names in os.walk(root):
        for name in names:
            fd = os.open(Path(top) / name, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(top))


def replace_synced(tmp: Path, path: Path) -> None:
    """Put the finished file ``tmp`` in place of ``path`` (same folder), durably."""
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str, tmp_dir: Path | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path``: readers see the old file or the new one, never half.
    The file is written first in ``tmp_dir`` (default: beside ``path``; it must be on the same
    file system), e.g. to keep a half-written file out of a folder whose files are checked."""
    tmp = (tmp_dir or path.parent) / f".{path.name}.{os.getpid()}.tmp"
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)

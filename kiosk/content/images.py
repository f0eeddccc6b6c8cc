"""The works' image files as Pillow sees them: what is wrong with one, said in a few words
(the validator and the touchscreen both report it)."""

from __future__ import annotations

import warnings
from pathlib import Path


def reason(exc: Exception, path: str | Path) -> str:
    """Why Pillow could not read ``path``, without the path it repeats."""
    text = str(exc).replace(f"'{path}'", "").replace(str(path), "").strip(" :")
    return text or type(exc).__name__


def check(path: Path) -> tuple[str, tuple[int, int]]:
    """What is wrong with an image file ('' if nothing) and its size, from its header (PNG:
    every chunk's checksum too) — without decoding its pixels."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                size = image.size
                image.verify()
    except Image.DecompressionBombError:
        return "too many pixels to decode safely", (0, 0)
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad files
        return reason(exc, path), (0, 0)
    return "", size

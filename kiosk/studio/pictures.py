"""Pictures uploaded in the studio, made ready to store: their type told by their bytes (PNG,
JPEG or WebP), checked against the size limits, turned upright and reduced for the kiosk's
screen. ``yamledit.PackFiles.save_image`` writes them into the pack.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from kiosk.errors import ContentError

MAX_UPLOAD_BYTES = 20 * 2**20
"""Largest image file accepted for upload."""
MAX_SIDE = 2000
"""An uploaded image is reduced to this many pixels on its long side (the kiosk's screen is
smaller; the validator warns from ``checks.LARGE_IMAGE_SIDE``)."""
MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
"""How a PNG and a JPEG file begin (a WebP: ``RIFF````WEBP``)."""
IMAGE_TYPES = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def prepare_image(name: str, data: bytes) -> tuple[str, bytes]:
    """(extension, bytes to store) of an uploaded image, or ContentError saying what to do."""
    from PIL import Image, ImageOps

    from kiosk.content import images

    again = "export it again as PNG or JPEG"
    if len(data) > MAX_UPLOAD_BYTES:
        raise ContentError(f"{name} is {len(data) / 2**20:.0f} MB, more than the "
                           f"{MAX_UPLOAD_BYTES // 2**20} MB an image may be — {again}, "
                           f"about {MAX_SIDE} pixels wide")
    if not (data.startswith(MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")):
        raise ContentError(f"{name} is not a PNG, JPEG or WebP image — {again}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            problem = images.pixels_problem(image.size)
            if problem:
                raise ContentError(f"{name}: {problem} — {again}, about {MAX_SIDE} pixels wide")
            kind = IMAGE_TYPES.get(str(image.format))
            if kind is None:
                raise ContentError(f"{name} is not a PNG, JPEG or WebP image — {again}")
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            options: dict[str, Any] = {"icc_profile": image.info.get("icc_profile")}
            if kind == "png":
                options["optimize"] = True
            else:
                options["quality"] = 90
            if kind == "jpg" and upright.mode not in ("RGB", "L", "CMYK"):
                upright = upright.convert("RGB")
            upright.save(out, format=str(image.format), **options)  # (no EXIF kept)
    except ContentError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ContentError(f"{name} cannot be read ({images.reason(exc, name)}) — "
                           f"{again}") from None
    return kind, out.getvalue()

"""The works' images, decoded off the UI thread at the size the screen shows them and kept
in a cache with a byte budget.

Curators' files can be anything a camera or a collection database gives: a 6000×4000 JPEG
decoded whole is 96 MB, and a browse grid of thirty of them would not fit in a Raspberry
Pi's memory. So Kivy's own loading (full size, on the UI thread, 60 s cache per file) is not
used: Pillow decodes a reduced copy on a worker thread, the UI thread only uploads it, and
the least recently shown pictures leave the cache once it holds ``budget_mb``.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from kiosk.content import images
from kiosk.errors import shown

log = logging.getLogger(__name__)

CARD_SIDE = 480
"""Longest side, in pixels, of a picture on a browse card."""

Key = tuple[str, int, int, int]
"""A picture asked for: path, modification time (ns), file size, longest side."""


@dataclass(frozen=True)
class Decoded:
    """Pixels ready for a texture: rows bottom-up, as OpenGL wants them."""

    size: tuple[int, int]
    pixels: bytes
    mode: ClassVar[str] = "rgba"
    """Always: 4 bytes a pixel keep every row aligned as OpenGL reads them, whatever the
    width (RGB rows of an odd width would come out skewed)."""


def decode(path: str, max_side: int) -> Decoded:
    """The picture at ``path`` no larger than ``max_side`` on its longest side, turned as
    its EXIF says. Its header is read first: more than ``images.max_pixels()`` raises
    ``Image.DecompressionBombError``; OSError or ValueError for what Pillow cannot read."""
    from PIL import Image, ImageOps

    with images.opened(path) as image:
        image.draft("RGB", (max_side, max_side))  # JPEG: decode at 1/2, 1/4, 1/8 directly
        picture: Image.Image = image
        if image.mode == "1" and "transparency" not in image.info:
            picture = image.convert("L")  # a byte a pixel, as it is kept already
        elif image.mode not in _RESIZABLE or "transparency" in image.info:
            picture = image.convert("RGBA")  # palette, 16-bit, a transparent colour
        # reduced before anything copies it: the file's own pixels are the only full-size ones
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
        picture = ImageOps.exif_transpose(picture).convert("RGBA")
        flipped = picture.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        return Decoded(flipped.size, flipped.tobytes())


_RESIZABLE = ("L", "LA", "RGB", "RGBA", "CMYK")
"""Modes Pillow resizes smoothly as they are (palette and 1-bit only by nearest neighbour)."""


def _key(path: str, max_side: int) -> Key | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (path, stat.st_mtime_ns, stat.st_size, max_side)


class Pictures:
    """Textures of the works' images, by path and size; one worker thread decodes. Used from
    the UI thread only (the worker hands its results back through ``schedule``)."""

    def __init__(self, budget_mb: float = 64.0,
                 schedule: Callable[[Callable[[], None]], None] | None = None) -> None:
        self.budget = int(budget_mb * 1024 * 1024)
        self._cache: OrderedDict[Key, tuple[Any, int]] = OrderedDict()
        self._waiting: dict[Key, list[Callable[[Any], None]]] = {}
        self._failed: set[tuple[str, int, int]] = set()
        """Files that could not be decoded (whatever the size asked), until they change."""
        self._pool: ThreadPoolExecutor | None = None
        self._schedule = schedule or _on_ui_thread
        self.decoded = 0
        """Pictures decoded so far (a cache miss each)."""

    @property
    def cached_bytes(self) -> int:
        return sum(size for _texture, size in self._cache.values())

    @property
    def pending(self) -> bool:
        """Pictures still being decoded."""
        return bool(self._waiting)

    def __len__(self) -> int:
        return len(self._cache)

    def get(self, path: str, max_side: int, done: Callable[[Any], None]) -> Any:
        """The texture now if cached; else None, and ``done(texture or None)`` is called on
        the UI thread once it is decoded (None: the file cannot be read; logged once)."""
        key = _key(path, max_side)
        if key is None or key[:3] in self._failed:
            return None
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key][0]
        if key in self._waiting:
            self._waiting[key].append(done)
            return None
        self._waiting[key] = [done]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="kiosk-pictures")
        self._pool.submit(self._decode, key)
        return None

    def _decode(self, key: Key) -> None:
        try:
            decoded: Decoded | None = decode(key[0], key[3])
        except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad files
            why = images.reason(exc, key[0])
            log.warning("image %s cannot be shown (%s) — replace it with %s", shown(key[0]),
                        why, "a copy about 2000 pixels wide" if images.TOO_MANY_PIXELS in why
                        else "a PNG or JPEG file")
            decoded = None
        self._schedule(lambda: self._upload(key, decoded))

    def _upload(self, key: Key, decoded: Decoded | None) -> None:
        texture = None
        if decoded is None:
            self._failed.add(key[:3])
        else:
            from kivy.graphics.texture import Texture

            texture = Texture.create(size=decoded.size, colorfmt=decoded.mode)
            texture.blit_buffer(decoded.pixels, colorfmt=decoded.mode, bufferfmt="ubyte")
            self._cache[key] = (texture, len(decoded.pixels))
            self.decoded += 1
            self._evict()
        for done in self._waiting.pop(key, []):
            done(texture)

    def _evict(self) -> None:
        total = self.cached_bytes
        while total > self.budget and len(self._cache) > 1:
            _key_, (_texture, size) = self._cache.popitem(last=False)
            total -= size

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _on_ui_thread(call: Callable[[], None]) -> None:
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: call(), 0)

"""The works' image files as Pillow sees them: what is wrong with one, said in a few words
(the validator and the touchscreen both report it), and opening one whose header is safe to
decode: no more than ``[limits] image_megapixels``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk import limits

if TYPE_CHECKING:
    from PIL import Image as PILImage


def max_pixels() -> int:
    """Most pixels an image file may have (``[limits] image_megapixels``; the default, 50, is
    8660×5773, 200 MB once decoded as RGBA): the kiosk refuses a larger one rather than decode
    it, whatever size it is shown at."""
    return int(limits.current().image_megapixels * 1e6)


TOO_MANY_PIXELS = "too many pixels to decode safely"


def reason(exc: Exception, path: str | Path) -> str:
    """Why Pillow could not read ``path``, without the path it repeats."""
    from PIL import Image

    if isinstance(exc, Image.DecompressionBombError) and TOO_MANY_PIXELS not in str(exc):
        return TOO_MANY_PIXELS  # Pillow's own words name its limit, not what to do
    text = str(exc).replace(f"'{path}'", "").replace(str(path), "").strip(" :")
    return text or type(exc).__name__


def pixels_problem(size: tuple[int, int]) -> str:
    """'' if an image of ``size`` may be decoded, else why not."""
    width, height = size
    if width * height <= max_pixels():
        return ""
    return (f"{TOO_MANY_PIXELS}: {width}×{height} is {width * height / 1e6:.0f} megapixels, "
            f"the kiosk decodes at most {max_pixels() / 1e6:g} ([limits] image_megapixels)")


@contextmanager
def opened(path: str | Path) -> Iterator[PILImage.Image]:
    """The image at ``path``, its header read and its pixels not yet decoded. Raises
    ``Image.DecompressionBombError`` (message: ``pixels_problem``) for more than
    ``max_pixels()``, OSError or ValueError for what Pillow cannot read."""
    from PIL import Image

    with warnings.catch_warnings():
        # Pillow warns from 89 megapixels; the stricter limit below decides instead
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(path)
    with image:
        problem = pixels_problem(image.size)
        if problem:
            raise Image.DecompressionBombError(problem)
        yield image


def check(path: Path) -> tuple[str, tuple[int, int]]:
    """What is wrong with an image file ('' if nothing) and its size, from its header (PNG:
    every chunk's checksum too) — without decoding its pixels."""
    try:
        with opened(path) as image:
            size = image.size
            image.verify()
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad files
        return reason(exc, path), (0, 0)
    return "", size

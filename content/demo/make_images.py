#!/usr/bin/env python3
"""Generate placeholder cards for the demo exhibits.

Each exhibit in ``exhibits/*.yaml`` gets an 800x600 PNG in ``images/``:
a calm background colour derived from the exhibit id, a thin frame, the
English title (large, wrapped) and the artist and date (smaller).

These are NOT reproductions of the artworks, just neutral placeholders.

Usage (from anywhere):
    python content/demo/make_images.py

Requires Pillow and ruamel.yaml. DejaVu fonts are used when available
(/usr/share/fonts/truetype/dejavu/), otherwise PIL's built-in font.
"""

from __future__ import annotations

import colorsys
import hashlib
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
EXHIBITS_DIR = HERE / "exhibits"
IMAGES_DIR = HERE / "images"

WIDTH, HEIGHT = 800, 600
MARGIN = 28          # distance from the edge to the frame
TEXT_MARGIN = 80     # horizontal padding of the text inside the card
MAX_BYTES = 40_000

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
TITLE_FONT = FONT_DIR / "DejaVuSerif-Bold.ttf"
BODY_FONT = FONT_DIR / "DejaVuSans.ttf"


def load_font(path: Path, size: int) -> ImageFont.ImageFont:
    """Return a TrueType font, falling back to PIL's default font."""
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        try:
            return ImageFont.load_default(size=size)  # Pillow >= 10.1
        except TypeError:
            return ImageFont.load_default()


def colours_for(exhibit_id: str) -> tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]:
    """Deterministic calm palette (background, frame, text) from the id."""
    digest = hashlib.sha256(exhibit_id.encode("utf-8")).digest()
    hue = digest[0] / 255.0
    sat = 0.18 + (digest[1] / 255.0) * 0.17   # muted: 0.18-0.35
    light = 0.80 + (digest[2] / 255.0) * 0.08  # pale: 0.80-0.88

    def rgb(h: float, l: float, s: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hls_to_rgb(h, l, s)
        return round(r * 255), round(g * 255), round(b * 255)

    background = rgb(hue, light, sat)
    frame = rgb(hue, 0.35, min(sat + 0.15, 0.5))
    text = rgb(hue, 0.16, min(sat + 0.1, 0.4))
    return background, frame, text


def text_width(draw: ImageDraw.ImageDraw, text: str, font) -> float:
    return draw.textlength(text, font=font)


def wrap(draw: ImageDraw.ImageDraw, text: str, font, max_width: float) -> list[str]:
    """Greedy word wrap so that every line fits in max_width."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if not current or text_width(draw, candidate, font) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def line_height(font) -> int:
    left, top, right, bottom = font.getbbox("ÉgjpqyÀ")
    return bottom - top


def fit_title(draw: ImageDraw.ImageDraw, title: str, max_width: float, max_lines: int = 4):
    """Largest title size (from 64 down to 28) that wraps into max_lines."""
    for size in range(64, 27, -2):
        font = load_font(TITLE_FONT, size)
        lines = wrap(draw, title, font, max_width)
        if len(lines) <= max_lines and all(text_width(draw, l, font) <= max_width for l in lines):
            return font, lines
    font = load_font(TITLE_FONT, 28)
    return font, wrap(draw, title, font, max_width)


def per_language(value, lang: str = "en") -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or next(iter(value.values())))
    return str(value)


def make_card(exhibit: dict) -> Image.Image:
    exhibit_id = exhibit["id"]
    title = per_language(exhibit["title"])
    artist = per_language(exhibit["artist"])
    date = per_language(exhibit["date"])
    background, frame, text = colours_for(exhibit_id)

    img = Image.new("RGB", (WIDTH, HEIGHT), background)
    draw = ImageDraw.Draw(img)

    # Thin double frame.
    draw.rectangle([MARGIN, MARGIN, WIDTH - MARGIN - 1, HEIGHT - MARGIN - 1], outline=frame, width=2)
    inner = MARGIN + 8
    draw.rectangle([inner, inner, WIDTH - inner - 1, HEIGHT - inner - 1], outline=frame, width=1)

    max_width = WIDTH - 2 * TEXT_MARGIN
    title_font, title_lines = fit_title(draw, title, max_width)
    body_font = load_font(BODY_FONT, 26)
    small_font = load_font(BODY_FONT, 15)

    title_lh = line_height(title_font)
    title_gap = int(title_lh * 0.35)
    body_lh = line_height(body_font)
    rule_space = 44
    block_height = len(title_lines) * title_lh + (len(title_lines) - 1) * title_gap + rule_space + body_lh

    y = (HEIGHT - block_height) // 2 - 10
    for line in title_lines:
        w = text_width(draw, line, title_font)
        draw.text(((WIDTH - w) / 2, y), line, font=title_font, fill=text, anchor="la")
        y += title_lh + title_gap
    y = y - title_gap + rule_space // 2

    # Short rule between title and caption.
    draw.line([(WIDTH / 2 - 40, y), (WIDTH / 2 + 40, y)], fill=frame, width=2)
    y += rule_space // 2

    caption = f"{artist} · {date}"
    cap_font = body_font
    if text_width(draw, caption, cap_font) > max_width:
        cap_font = load_font(BODY_FONT, 20)
    w = text_width(draw, caption, cap_font)
    draw.text(((WIDTH - w) / 2, y), caption, font=cap_font, fill=text)

    note = "placeholder image"
    w = text_width(draw, note, small_font)
    draw.text(((WIDTH - w) / 2, HEIGHT - MARGIN - 34), note, font=small_font, fill=frame)
    return img


def save_small(img: Image.Image, path: Path) -> int:
    """Save as an optimised palette PNG, reducing colours if needed."""
    for colours in (64, 32, 16):
        pal = img.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        pal.save(path, format="PNG", optimize=True)
        size = path.stat().st_size
        if size < MAX_BYTES:
            return size
    return size


def main() -> int:
    yaml = YAML(typ="safe")
    IMAGES_DIR.mkdir(exist_ok=True)
    files = sorted(EXHIBITS_DIR.glob("*.yaml"))
    if not files:
        print(f"no exhibit files found in {EXHIBITS_DIR}", file=sys.stderr)
        return 1
    for file in files:
        with file.open(encoding="utf-8") as fh:
            exhibit = yaml.load(fh)
        out = IMAGES_DIR / f"{exhibit['id']}.png"
        size = save_small(make_card(exhibit), out)
        flag = "" if size < MAX_BYTES else "  (WARNING: over 40 KB)"
        print(f"{out.relative_to(HERE)}  {size / 1024:.1f} KB{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The works page: every work of the pack as a card (thumbnail, room, dates on view, priority,
a badge per missing translation and per problem), searched and filtered; add, duplicate, and
delete with undo. Also the works' pictures, reduced (``/works/{id}/picture``).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kiosk.content import images
from kiosk.content.checks import Issue
from kiosk.errors import ContentError
from kiosk.studio import suite, web
from kiosk.studio.web import Studio
from kiosk.studio.web_form import LONG, SHORT, iso

PAGE = 60
"""Works shown on one page of the works page (a pack of a thousand works has 17 pages)."""
SIZES = {"small": 360, "large": 1200}
"""Longest side of a picture as the studio shows it, in pixels."""
PLACEHOLDER = Path(__file__).parent / "static" / "placeholder.svg"


@dataclass(frozen=True)
class Card:
    """One work as the works page shows it."""

    id: str
    title: str
    artist: str
    room: str
    on_view: str
    """'' (always), or 'from … until …'."""
    priority: int
    picture: str
    """The picture's URL ('' when the work has none)."""
    missing: list[str] = field(default_factory=list)
    """Languages some text of the work is not written in."""
    problems: list[Issue] = field(default_factory=list)
    """What ``kiosk content validate`` says of its file."""
    words: str = ""
    """Everything searched, folded."""

    @property
    def errors(self) -> int:
        return sum(i.error for i in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors


def fold(text: str) -> str:
    """Lowercase, without accents: what search compares."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slug(text: str) -> str:
    """An id made of a title: ``La Laitière`` → ``la-laitiere``."""
    out = "".join(c if c.isalnum() else "-" for c in fold(text) if c.isascii())
    return "-".join(part for part in out.split("-") if part)[:60]


def missing_languages(data: Mapping[str, Any], langs: list[str]) -> list[str]:
    """The languages some localized text of a work lacks (a single text counts for all)."""
    values: list[Any] = [data.get(name) for name in (*SHORT, *LONG)]
    for item in _list(data.get("qa")):
        if isinstance(item, Mapping):
            values += [item.get("questions"), item.get("answer")]
    out = []
    for lang in langs:
        for value in values:
            if isinstance(value, Mapping) and not _written(value.get(lang)):
                out.append(lang)
                break
    return out


def _written(value: Any) -> bool:
    if isinstance(value, list):
        return any(str(v).strip() for v in value)
    return bool(value is not None and str(value).strip())


def card(studio: Studio, work: str, issues: list[Issue]) -> Card:
    """The card of ``work``, made of its file's values as last checked; ``issues`` are its
    file's."""
    rel = studio.files.exhibit_rel(work)
    langs, default = studio.languages()
    data = studio.values(rel)
    if not isinstance(data, Mapping):
        data = {}
    title = web.localized_text(data.get("title"), default, default)
    on_view = data.get("on_view") if isinstance(data.get("on_view"), Mapping) else {}
    start, end = iso(on_view.get("from")), iso(on_view.get("until"))
    dates = " ".join(p for p in (f"from {start}" if start else "",
                                 f"until {end}" if end else "") if p)
    picture = str(data.get("image") or "")
    version = _picture_version(studio, picture)
    texts = [work, title, *(_texts(data.get(n)) for n in ("title", "artist")),
             *(str(a) for a in _list(data.get("aliases"))),
             *(str(t) for t in _list(data.get("tags")))]
    try:
        priority = int(data.get("priority") or 0)
    except (TypeError, ValueError):
        priority = 0
    return Card(
        id=work, title=title or work,
        artist=web.localized_text(data.get("artist"), default, default),
        room=web.localized_text(data.get("room"), default, default),
        on_view=dates, priority=priority,
        picture=f"/works/{work}/picture?size=small&v={version}" if version else "",
        missing=missing_languages(data, langs), words=fold(" ".join(texts)),
        problems=sorted(issues, key=lambda i: i.line or 0))


def _texts(value: Any) -> str:
    if isinstance(value, Mapping):
        return " ".join(str(v) for v in value.values())
    return str(value or "")


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _picture_version(studio: Studio, rel: str) -> str:
    """'' when the picture is not a file inside the pack, else its time (busts the cache)."""
    path = _inside(studio, rel)
    if path is None:
        return ""
    return str(path.stat().st_mtime_ns)


def _inside(studio: Studio, rel: str) -> Path | None:
    if not rel:
        return None
    path = (studio.pack_dir / rel).resolve()
    if not path.is_relative_to(studio.pack_dir) or not path.is_file():
        return None
    return path


def cards(studio: Studio) -> list[Card]:
    """Every work's card (made again when a file of the pack changed)."""
    def make() -> list[Card]:
        _, issues = studio.check()
        by_file: dict[str, list[Issue]] = {}
        for issue in issues:
            by_file.setdefault(issue.file, []).append(issue)
        return [card(studio, work, by_file.get(studio.files.exhibit_rel(work), []))
                for work in studio.files.exhibit_ids()]
    return studio.cached("cards", studio.stamp(), make)


def chosen(all_cards: list[Card], q: str, room: str, missing: str, problems: str) -> list[Card]:
    """The cards the search and filters keep."""
    words = fold(q).split()
    out = []
    for c in all_cards:
        if words and not all(w in c.words for w in words):
            continue
        if room and c.room != room:
            continue
        if missing and missing not in c.missing:
            continue
        if problems == "errors" and not c.errors:
            continue
        if problems == "any" and not c.problems:
            continue
        out.append(c)
    return out


async def works_page(request: Request) -> Response:
    studio = web.studio_of(request)
    all_cards = await web.blocking(cards, studio)
    langs, default = studio.languages()
    q, room = web.query(request, "q"), web.query(request, "room")
    missing, problems = web.query(request, "missing"), web.query(request, "problems")
    matched = chosen(all_cards, q, room, missing, problems)
    pages = max(1, -(-len(matched) // PAGE))
    page = min(max(_number(web.query(request, "page")), 1), pages)
    _, issues = studio.check()
    carded = {studio.files.exhibit_rel(c.id) for c in all_cards}
    undo = web.query(request, "undo")
    filters = {k: v for k, v in (("q", q), ("room", room), ("missing", missing),
                                 ("problems", problems)) if v}
    return web.render(
        request, "works.html", cards=matched[(page - 1) * PAGE:page * PAGE],
        matched=len(matched), total=len(all_cards), page=page, pages=pages,
        first=(page - 1) * PAGE + 1, page_url=lambda n: "/works?" + urlencode(
            {**filters, "page": str(n)}),
        langs=langs, default=default,
        rooms=sorted({c.room for c in all_cards if c.room}), q=q, room=room, missing=missing,
        problems=problems, undo=undo if web.TOKEN.fullmatch(undo) else "",
        pack_issues=[i for i in issues if i.file not in carded])


def _number(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 7 else 1


async def add_work(request: Request) -> Response:
    studio = web.studio_of(request)
    form = web.fields(await web.posted(request))
    langs, default = studio.languages()
    title = {lang: form.get(f"title.{lang}", "").strip() for lang in langs}
    title = {lang: t for lang, t in title.items() if t}
    given = form.get("id", "").strip() or slug(title.get(default, next(iter(title.values()), "")))
    work = web.new_id(given)
    try:
        with studio.lock:
            await web.blocking(studio.files.new_exhibit, work, title or {default: work})
    except ContentError as exc:
        raise HTTPException(400, str(exc)) from None
    return web.redirect(f"/works/{work}/edit", done="added")


async def duplicate_work(request: Request) -> Response:
    studio = web.studio_of(request)
    form = web.fields(await web.posted(request))
    work = web.work_id(studio, request.path_params["work"])
    copy = web.new_id(form.get("new_id", "") or f"{work}-copy")
    try:
        with studio.lock:
            await web.blocking(studio.files.duplicate, work, copy)
    except ContentError as exc:
        raise HTTPException(400, str(exc)) from None
    return web.redirect(f"/works/{copy}/edit", done="duplicated")


async def rename_work(request: Request) -> Response:
    studio = web.studio_of(request)
    form = web.fields(await web.posted(request))
    work = web.work_id(studio, request.path_params["work"])
    new = web.new_id(form.get("new_id", ""))
    if new == work:
        return web.redirect(f"/works/{work}/edit")
    try:
        with studio.lock:
            await web.blocking(studio.files.rename, work, new)
            await web.blocking(suite.renamed, studio.pack_dir, work, new)
    except ContentError as exc:
        raise HTTPException(400, str(exc)) from None
    return web.redirect(f"/works/{new}/edit", done="renamed")


async def delete_work(request: Request) -> Response:
    studio = web.studio_of(request)
    await web.posted(request)
    work = web.work_id(studio, request.path_params["work"])
    with studio.lock:
        token = await web.blocking(studio.files.delete, work)
    return web.redirect("/works", done="deleted", undo=token)


async def undo_delete(request: Request) -> Response:
    studio = web.studio_of(request)
    form = web.fields(await web.posted(request))
    token = form.get("token", "")
    if not web.TOKEN.fullmatch(token):
        raise HTTPException(400, "Nothing to undo.")
    try:
        with studio.lock:
            work = await web.blocking(studio.files.undelete, token)
    except ContentError as exc:
        raise HTTPException(400, str(exc)) from None
    return web.redirect(f"/works/{work}/edit", done="restored")


def reduced(path: Path, side: int) -> bytes:
    """The picture turned upright and no longer than ``side`` pixels, as JPEG."""
    from PIL import Image, ImageOps

    with images.opened(path) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((side, side))
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        elif image.mode != "RGB":
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, "JPEG", quality=82, optimize=True)
        return out.getvalue()


async def picture(request: Request) -> Response:
    """A work's picture, reduced (``size=small`` for cards, ``large`` for the editor)."""
    studio = web.studio_of(request)
    work = web.work_id(studio, request.path_params["work"])
    side = SIZES.get(request.query_params.get("size", "small"), SIZES["small"])
    try:
        data = studio.files.read(studio.files.exhibit_rel(work)).data
        path = _inside(studio, str(data.get("image") or "")) if isinstance(data, Mapping) \
            else None
    except ContentError:
        path = None
    body: bytes | None = None
    if path is not None:
        st = path.stat()
        try:
            body = await web.blocking(lambda: studio.cached(
                f"picture:{work}:{side}", (str(path), st.st_mtime_ns, st.st_size),
                lambda: reduced(path, side)))
        except Exception:  # noqa: BLE001 — a broken picture: the card says why (validate)
            body = None
    if body is None:
        return Response(PLACEHOLDER.read_bytes(), media_type="image/svg+xml",
                        headers={"cache-control": "no-cache"})
    return Response(body, media_type="image/jpeg",
                    headers={"cache-control": "private, max-age=3600"})


def home(request: Request) -> Response:
    return RedirectResponse("/works", status_code=303)

"""What every page of the studio shares: the ``Studio`` (the pack folder and what is cached
about it), pages rendered from Jinja2 templates (autoescaped), posted forms checked against the
browser's token, ids checked before they name a file, and the pack validated as
``kiosk content validate`` validates it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse

from kiosk.content import loader, memo, schema
from kiosk.content.checks import Issue
from kiosk.content.model import Pack
from kiosk.errors import ContentError
from kiosk.paths import DataDir
from kiosk.ports import Encoder
from kiosk.settings import Settings
from kiosk.studio.web_form import field_of
from kiosk.studio.yamledit import PackFiles

T = TypeVar("T")
TEMPLATES = Path(__file__).parent / "templates"
LANG = re.compile(schema.LANG_CODE)
TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,80}")
"""An undo token, a draft's or a job's id: nothing that can name another folder."""
MB = 1 << 20
FLASH = {
    "saved": "Saved.", "added": "Work added.", "duplicated": "Work duplicated.",
    "deleted": "Work deleted.", "restored": "Work restored.", "merged": "Merged and saved.",
    "image": "Image stored.", "imported": "Insights imported.", "test-added": "Test saved.",
    "museum-saved": "The museum's texts are saved.", "renamed": "Id changed.",
    "faq-saved": "FAQ entry saved.", "faq-added": "FAQ entry added.",
}
"""The short notes a redirect may ask a page to show (``?done=saved``): fixed texts only."""


class JSON(JSONResponse):
    """JSON with ``<``, ``>`` and ``&`` written as escapes: no text in it can be read as HTML,
    whatever reads it."""

    def render(self, content: Any) -> bytes:
        raw = super().render(content)
        return raw.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&",
                                                                                b"\\u0026")


@dataclass
class Studio:
    """One pack folder being edited, and what the pages cache about it (each cache is keyed by
    the pack's files' sizes and times, so an edit on disk is seen at the next page)."""

    pack_dir: Path
    """The pack folder (resolved)."""
    settings: Settings
    """The kiosk's settings ([studio], [qa], [limits]...)."""
    encoder: Encoder
    """The question encoder (the real one; tests pass ``kiosk.testing.HashingEncoder``)."""
    data: DataDir | None = None
    """The data directory (its vector cache); None in tests."""
    sign_keys: list[Path] = field(default_factory=list)
    """The private key files publications may be signed with (``[studio] sign_keys``); only
    their names and key ids are ever shown."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    """Held while a file is written or a cache is filled."""
    memos: dict[str, tuple[Hashable, Any]] = field(default_factory=dict)
    """One cached value per name, with the key it was made for."""
    making: dict[str, threading.Lock] = field(default_factory=dict)
    """Held while the value of that name is being made."""
    store: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    """Drafts, stashed edits and jobs by random id (the newest few hundred)."""
    scratch_dir: Path | None = None
    """Where edits are validated before they are saved (made on first use)."""
    checked: loader.FileMemo = field(default_factory=dict)
    """Each exhibit file as it was last checked: after an edit, only the edited file is read
    again."""
    memo_lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while the memo is written to the data folder."""
    memo_made: int = 0
    """How many memos were handed to a writer thread."""
    memo_written: int = 0
    """The newest of them written."""
    memo_thread: threading.Thread | None = None
    """The last writer thread."""

    def __post_init__(self) -> None:
        self.pack_dir = Path(self.pack_dir).resolve()
        self.files = PackFiles(self.pack_dir)

    def cached(self, name: str, key: Hashable, make: Callable[[], T]) -> T:
        """The value ``make`` made for ``key`` (made again when the key changed). One value is
        made at a time per name, and making one never holds up the others (the answerer
        of a thousand works, made at the first question, does not stop the works page)."""
        with self.lock:
            held = self.memos.get(name)
            if held is not None and held[0] == key:
                return held[1]  # type: ignore[no-any-return]
            making = self.making.setdefault(name, threading.Lock())
        with making:
            with self.lock:
                held = self.memos.get(name)
                if held is not None and held[0] == key:  # made meanwhile by another page
                    return held[1]  # type: ignore[no-any-return]
            value = make()
            with self.lock:
                self.memos[name] = (key, value)
            return value

    def keep(self, value: Any) -> str:
        """Store ``value`` under a new random id (the oldest go past 200)."""
        key = secrets.token_urlsafe(12)
        self.remember(key, value)
        return key

    def remember(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` (as ``keep`` does, with a key of the caller's)."""
        with self.lock:
            self.store[key] = value
            self.store.move_to_end(key)
            while len(self.store) > 200:
                self.store.popitem(last=False)

    def kept(self, key: str) -> Any:
        """The value stored under ``key``, or None."""
        return self.store.get(key) if TOKEN.fullmatch(key or "") else None

    def stamp(self) -> tuple[tuple[str, int, int], ...]:
        """The pack's YAML files and images, by name, time and size."""
        out = []
        for folder, pattern in (("", "*.yaml"), ("exhibits", "*.y*ml"), ("images", "*")):
            for path in sorted((self.pack_dir / folder).glob(pattern)):
                try:
                    st = path.stat()
                except OSError:
                    continue
                out.append((path.relative_to(self.pack_dir).as_posix(), st.st_mtime_ns,
                            st.st_size))
        return tuple(out)

    def check(self) -> tuple[Pack | None, list[Issue]]:
        """The pack validated as ``kiosk content validate`` does (cached; a file that did not
        change is not read again)."""
        return self.cached("check", self.stamp(), self._check)

    def _check(self) -> tuple[Pack | None, list[Issue]]:
        kept = self.memo_file()
        if kept is not None and not self.checked:
            self.checked.update(memo.load(kept))
        before = {rel: id(found) for rel, (_, found) in self.checked.items()}
        result = loader.load_pack(self.pack_dir, self.checked)
        if kept is not None and before != {rel: id(f) for rel, (_, f) in self.checked.items()}:
            self._keep_memo(kept)
        return result

    def _keep_memo(self, kept: Path) -> None:
        """Write the memo on a thread of its own (a quarter of a second at a thousand works:
        not on the way of a save); an older one never overwrites a newer."""
        snapshot = dict(self.checked)
        with self.lock:
            self.memo_made += 1
            made = self.memo_made

        def write() -> None:
            with self.memo_lock:
                if made > self.memo_written:
                    memo.save(snapshot, kept)
                    self.memo_written = made
        self.memo_thread = threading.Thread(target=write, name="studio-memo", daemon=True)
        self.memo_thread.start()

    def memo_file(self) -> Path | None:
        """Where the files' checks are kept between runs (None without a data folder)."""
        if self.data is None:
            return None
        return memo.memo_path(self.data.root / "cache", self.pack_dir)

    def values(self, rel: str) -> Any:
        """The values of exhibit file ``rel`` as ``check`` last read them (plain dicts and
        lists), None when it is not YAML."""
        held = self.checked.get(rel)
        if held is not None:
            return held[1].data
        try:  # not checked: the pack has too many works to be checked at all
            return self.files.read(rel).data
        except ContentError:
            return None

    def languages(self) -> tuple[list[str], str]:
        """The pack's languages and its default one (``['en'], 'en'`` while museum.yaml
        cannot say)."""
        def read() -> tuple[list[str], str]:
            try:
                data = self.files.read("museum.yaml").data
                langs = [str(x) for x in data["languages"] if LANG.fullmatch(str(x))]
                default = str(data.get("default_language") or langs[0])
                return (langs or ["en"]), default if default in langs else langs[0]
            except Exception:  # noqa: BLE001 — a broken header: the works page says why
                return ["en"], "en"
        path = self.pack_dir / "museum.yaml"
        key = path.stat().st_mtime_ns if path.exists() else 0
        return self.cached("languages", key, read)

    def museum_name(self) -> str:
        """The museum's name in the pack's language (the folder's name while it has none)."""
        def read() -> str:
            try:
                name = self.files.read("museum.yaml").data.get("name")
            except Exception:  # noqa: BLE001 — a broken header: the works page says why
                return ""
            return localized_text(name, self.languages()[1], self.languages()[1])
        path = self.pack_dir / "museum.yaml"
        key = path.stat().st_mtime_ns if path.exists() else 0
        return self.cached("museum", key, read) or self.pack_dir.name

    def scratch(self) -> Path:
        """A private folder for trial copies of the pack's files (``close`` removes it)."""
        with self.lock:
            if self.scratch_dir is None or not self.scratch_dir.is_dir():
                self.scratch_dir = Path(tempfile.mkdtemp(prefix="kiosk-studio-"))
            return self.scratch_dir

    def close(self) -> None:
        """Finish writing the memo; remove the scratch folder."""
        if self.memo_thread is not None:
            self.memo_thread.join(30)
        with self.lock:
            if self.scratch_dir is not None:
                shutil.rmtree(self.scratch_dir, ignore_errors=True)
                self.scratch_dir = None


def studio_of(request: Request) -> Studio:
    studio: Studio = request.app.state.studio
    return studio


def environment() -> jinja2.Environment:
    """The templates, every value HTML-escaped unless a template says otherwise (none does)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["lang_name"] = schema.language_name
    env.filters["local_time"] = local_time
    return env


def local_time(iso: Any) -> str:
    """A time written as ISO 8601 (``2026-12-03T10:17:27Z``), as this computer's clock reads
    it (``3 Dec 2026, 11:17``); the text itself when it is no such time."""
    try:
        when = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso or "")
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone()
    return f"{local.day} {local:%b %Y, %H:%M}"


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``name`` with ``context`` and what every page shows (museum, nav, token)."""
    studio = studio_of(request)
    env: jinja2.Environment = request.app.state.templates
    done = request.query_params.get("done", "")
    page = env.get_template(name).render(
        csrf=request.state.csrf, museum=studio.museum_name(), path=request.url.path,
        flash=FLASH.get(done, ""), **context)
    return HTMLResponse(page, status_code=status)


def redirect(url: str, **query: str) -> RedirectResponse:
    """See ``url`` (303: the browser GETs it after a POST)."""
    return RedirectResponse(url + ("?" + urlencode(query) if query else ""), status_code=303)


async def posted(request: Request, max_files: int = 0) -> FormData:
    """The posted form, refused (403) unless it repeats this browser's token."""
    form = await request.form(max_files=max_files, max_fields=4000, max_part_size=MB)
    token = form.get("csrf")
    cookie = request.state.csrf
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), cookie.encode()):
        await form.close()
        raise HTTPException(403, "This form has expired (or came from elsewhere) — reload the "
                                 "page and send it again.")
    return form


def fields(form: FormData) -> dict[str, str]:
    """The form's text fields (files left out)."""
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def upload(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def work_id(studio: Studio, given: str) -> str:
    """``given`` when it is the id of a work of the pack; 404 otherwise (nothing else — a
    path, a dot, a slash — ever names a file)."""
    if not loader.ID.fullmatch(given or "") or given not in studio.files.exhibit_ids():
        raise HTTPException(404, "There is no such work in this pack.")
    return given


def new_id(given: str) -> str:
    """A new work's or entry's id as typed, or 400 with what to type instead."""
    given = (given or "").strip()
    if not loader.ID.fullmatch(given):
        raise HTTPException(400, f"'{given[:80]}' is not a valid id — use lowercase letters, "
                                 "digits and hyphens, e.g. the-milkmaid")
    return given


def file_issues(issues: list[Issue], rel: str) -> list[Issue]:
    """The issues of one file, by line."""
    return sorted((i for i in issues if i.file == rel), key=lambda i: i.line or 0)


def issue_json(issue: Issue, prefix: str = "") -> dict[str, Any]:
    """An issue as the editors show it, with the form field it is about."""
    return {"file": issue.file, "line": issue.line, "message": issue.message,
            "error": issue.error, "text": str(issue), "field": field_of(issue.message, prefix)}


async def blocking(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on a worker thread (the event loop keeps serving)."""
    return await run_in_threadpool(fn, *args)


def query(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:200]


def localized_text(value: Any, lang: str, default: str) -> str:
    """One text of a text-or-mapping: ``lang``'s, else the default language's, else any."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        for key in (lang, default, *value.keys()):
            text = value.get(key)
            if isinstance(text, str) and text.strip():
                return text.strip()
    return ""

"""Visitors: a kiosk's insights imported (an archive uploaded, or a folder on this machine: a
USB stick, the synced folder), the questions the kiosk could not answer grouped by meaning, and
the answers it gave without much confidence; one click makes a group a new curated Q&A on a
work (or an FAQ entry), pre-filled with the visitors' phrasings, in the editor.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kiosk.content.loader import ID
from kiosk.errors import KioskError
from kiosk.studio import visitors, web
from kiosk.studio.web import Studio
from kiosk.studio.web_try import choices
from kiosk.studio.web_works import cards, fold

ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar")
"""The archives a technician may bring."""
GROUP_KEY = re.compile(r"[0-9a-f]{6,64}")


def current_report(studio: Studio) -> visitors.Report:
    """The report over every imported folder (made again when one is added)."""
    folders = visitors.imported(studio.pack_dir)
    key = tuple((str(f), f.stat().st_mtime_ns) for f in folders if f.exists())
    return studio.cached("report", (key, studio.stamp()),
                         lambda: visitors.report(studio.pack_dir, studio.encoder))


def group(studio: Studio, key: str) -> visitors.VisitorGroup:
    if GROUP_KEY.fullmatch(key or ""):
        for g in current_report(studio).groups:
            if g.key == key:
                return g
    raise HTTPException(404, "That group of questions is no longer in the report.")


async def visitors_page(request: Request) -> Response:
    studio = web.studio_of(request)
    try:
        report: visitors.Report | None = await web.blocking(current_report, studio)
        problem = ""
    except KioskError as exc:
        report, problem = None, str(exc)
    works = [(w, t) for w, t in await web.blocking(choices, studio) if not t.startswith("FAQ: ")]
    return web.render(request, "visitors.html", report=report, problem=problem, works=works,
                      folders=[f.name for f in visitors.imported(studio.pack_dir)])


async def import_insights(request: Request) -> Response:
    studio = web.studio_of(request)
    form = await web.posted(request, max_files=1)
    archive = web.upload(form, "archive")
    folder = str(form.get("folder") or "").strip()
    if archive is None:
        await form.close()  # (a browser posts the empty file field too, as a temporary file)
    if archive is not None:
        try:
            source = await _received(studio, archive)
        finally:
            await form.close()
    elif folder:
        source = Path(folder).expanduser()
        if not source.is_absolute() or not source.exists():
            raise HTTPException(400, "Give the full path of a folder or archive on this "
                                     "machine, e.g. /media/usb/kiosk-insights.")
    else:
        raise HTTPException(400, "Choose an archive to upload, or give a folder's path.")
    try:
        await web.blocking(visitors.import_insights, studio.pack_dir, source)
    except KioskError as exc:
        raise HTTPException(400, str(exc)) from None
    finally:
        if archive is not None:
            shutil.rmtree(source.parent, ignore_errors=True)
    return web.redirect("/visitors", done="imported")


async def _received(studio: Studio, archive: Any) -> Path:
    """The uploaded archive saved to a scratch file (its ending kept, its name not)."""
    limit = int(studio.settings.studio.archive_mb * web.MB)
    name = (archive.filename or "").lower()
    ending = next((e for e in ARCHIVES if name.endswith(e)), None)
    if ending is None:
        raise HTTPException(415, "Upload a .zip, .tar.gz or .tar archive of the kiosk's "
                                 "insights folder.")
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=studio.scratch()))
    target = folder / f"insights{ending}"
    size = 0
    with target.open("wb") as out:
        while chunk := await archive.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise HTTPException(413, f"The archive is larger than {limit // web.MB} MB — "
                                         "bring the insights folder on a USB stick instead.")
            out.write(chunk)
    return target


async def group_to_qa(request: Request) -> Response:
    studio = web.studio_of(request)
    form = web.fields(await web.posted(request))
    g = await web.blocking(group, studio, request.path_params["key"])
    work = await web.blocking(work_named, studio, form.get("work", ""))
    langs, _ = studio.languages()
    draft = studio.keep(visitors.group_to_qa(g, langs))
    return web.redirect(f"/works/{work}/edit", draft=draft)


def work_named(studio: Studio, given: str) -> str:
    """The work ``given`` names: its id, or its title in any of the pack's languages (one work
    only); 400 with what to do otherwise."""
    given = given.strip()
    if given in studio.files.exhibit_ids():
        return web.work_id(studio, given)
    wanted = fold(given)
    found = [c.id for c in cards(studio)
             if wanted and wanted in {fold(t) for t in titles(studio, c.id)}]
    if len(found) == 1:
        return found[0]
    what = f"Several works are called “{given[:80]}”" if found else \
        f"No work of this pack is called “{given[:80]}”"
    raise HTTPException(400, f"{what} — start typing its title and choose it from the list.")


def titles(studio: Studio, work: str) -> list[str]:
    """Every title of ``work`` as its file gives them."""
    data = studio.values(studio.files.exhibit_rel(work))
    title = data.get("title") if isinstance(data, dict) else None
    if isinstance(title, dict):
        return [str(t) for t in title.values()]
    return [str(title)] if title else []


async def group_to_faq(request: Request) -> Response:
    studio = web.studio_of(request)
    await web.posted(request)
    g = await web.blocking(group, studio, request.path_params["key"])
    langs, _ = studio.languages()
    faq = studio.files.read("faq.yaml").data if (studio.pack_dir / "faq.yaml").is_file() else []
    taken = {str(e.get("id")) for e in faq if isinstance(e, dict)} if isinstance(faq, list) \
        else set()
    fid, questions, answer = visitors.group_to_faq(g, langs, taken | set(studio.files
                                                                         .exhibit_ids()))
    draft = studio.keep((fid if ID.fullmatch(fid) else "", questions, answer))
    return web.redirect("/faq/new", draft=draft)

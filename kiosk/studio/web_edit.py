"""Editing one work: the form (every field, the pack's languages side by side, the curated Q&A,
the picture), its problems as you type (the edit tried on a scratch copy and validated as
``kiosk content validate`` does), and saving through ``yamledit`` — a file changed on disk since
the form was opened is never overwritten: the curator reloads, or merges the two versions.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kiosk.content.checks import Issue
from kiosk.content.loader import load_pack
from kiosk.errors import ContentError
from kiosk.studio import web, yamledit, yamltree
from kiosk.studio.web import Studio
from kiosk.studio.web_form import Changes, apply, work_changes, work_fields
from kiosk.studio.yamledit import Conflict, PackFiles

IMAGE_TYPES = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff",
               ".webp": b"RIFF"}
"""The picture files a curator may upload, by ending and first bytes."""

ChangesOf = Callable[[Any], Changes]


@dataclass(frozen=True)
class Stash:
    """A form that met a file changed on disk: kept until the curator reloads or merges."""

    rel: str
    """The file."""
    base: Any
    """The tree the form was opened on (None when the studio no longer has it)."""
    values: dict[str, str]
    """The posted fields."""
    url: str
    """The editor's address."""


def base_key(rel: str, stamp: str) -> str:
    return f"base:{rel}:{stamp}"


def opened(studio: Studio, rel: str) -> yamledit.Doc:
    """The file read for a form, its tree kept to merge with later."""
    doc = studio.files.read(rel)
    studio.remember(base_key(rel, doc.stamp), copy.deepcopy(doc.data))
    return doc


def trial(studio: Studio, rel: str, changes_of: ChangesOf) -> list[Issue]:
    """What ``kiosk content validate`` would say of ``rel`` with the edit made: the file and
    museum.yaml copied to a scratch folder (with the work's picture), edited there, validated."""
    folder = Path(tempfile.mkdtemp(prefix="trial-", dir=studio.scratch()))
    try:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        for name in ("museum.yaml", rel):
            if (studio.pack_dir / name).is_file():
                shutil.copyfile(studio.pack_dir / name, folder / name)
        files = PackFiles(folder)
        doc = files.read(rel)
        changes = changes_of(doc.data)
        apply(doc.data, changes)
        files.write(doc)
        image = doc.data.get("image") if isinstance(doc.data, Mapping) else None
        if isinstance(image, str):
            _bring_picture(studio, folder, image)
        _, issues = load_pack(folder)
        return [Issue(rel, None, p) for p in changes.problems] + web.file_issues(issues, rel)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _bring_picture(studio: Studio, folder: Path, rel: str) -> None:
    """The pack's picture ``rel`` into the trial folder (linked to a copy kept in scratch)."""
    source = (studio.pack_dir / rel).resolve()
    if not source.is_relative_to(studio.pack_dir) or not source.is_file():
        return
    st = source.stat()
    kept = studio.scratch() / "pictures" / f"{st.st_mtime_ns}-{st.st_size}-{source.name}"
    if not kept.exists():
        kept.parent.mkdir(exist_ok=True)
        shutil.copyfile(source, kept)
    target = folder / rel
    if not target.resolve().is_relative_to(folder.resolve()):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(kept, target)
    except OSError:
        shutil.copyfile(kept, target)


def save(studio: Studio, rel: str, values: dict[str, str],
         changes_of: ChangesOf) -> tuple[str, Any]:
    """Write the posted edit: ``('saved', changes)``, ``('problems', changes)`` (nothing
    written) or ``('conflict', Conflict)``."""
    with studio.lock:
        doc = studio.files.read(rel)
        if doc.stamp != values.get("stamp", ""):
            return "conflict", Conflict(rel, (studio.pack_dir / rel).read_text("utf-8"))
        changes = changes_of(doc.data)
        if changes.problems:
            return "problems", changes
        if changes.edits or changes.new_qa is not None or changes.new_faq is not None:
            apply(doc.data, changes)
            try:
                studio.files.write(doc)
            except Conflict as exc:
                return "conflict", exc
        return "saved", changes


def merged(studio: Studio, stash: Stash, changes_of: ChangesOf) -> list[str]:
    """The stashed edit merged with the file as it is now, and written; returns the fields
    both sides changed differently (there the file's version was kept)."""
    with studio.lock:
        theirs = studio.files.read(stash.rel)
        mine = copy.deepcopy(stash.base)
        apply(mine, changes_of(mine))
        result, clashes = yamltree.merge(stash.base, mine, theirs.data)
        studio.files.write(yamledit.Doc(stash.rel, result, theirs.stamp, theirs.text))
    return [".".join(str(k) for k in path) for path in clashes]


def conflict_page(request: Request, studio: Studio, exc: Conflict, values: dict[str, str],
                  url: str, title: str) -> Response:
    base = studio.store.get(base_key(exc.rel, values.get("stamp", "")))
    token = studio.keep(Stash(exc.rel, copy.deepcopy(base), values, url))
    return web.render(request, "conflict.html", status=409, title=title, rel=exc.rel,
                      disk_text=exc.disk_text, token=token, can_merge=base is not None, url=url,
                      merge_url=url.rsplit("/", 1)[0] + "/merge")


async def stored_picture(studio: Studio, work: str, file: UploadFile) -> str:
    """An uploaded picture checked (type, size) and stored under images/; its path."""
    limit = int(studio.settings.studio.image_mb * web.MB)
    name = (file.filename or "").lower()
    ending = os.path.splitext(name)[1]
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"The picture is larger than {limit // web.MB} MB — export a "
                                 "smaller copy (about 2000 pixels wide is plenty).")
    magic = IMAGE_TYPES.get(ending)
    if magic is None or not data.startswith(magic) or (ending == ".webp"
                                                       and data[8:12] != b"WEBP"):
        raise HTTPException(415, "That file is not a PNG, JPEG or WebP picture — export it "
                                 "again in one of those formats.")
    try:
        with studio.lock:
            rel: str = await web.blocking(studio.files.save_image, work, name, data)
    except ContentError as exc:
        raise HTTPException(400, str(exc)) from None
    return rel


def editor(request: Request, studio: Studio, work: str, doc: yamledit.Doc, status: int = 200,
           data: Any = None, notes: list[str] | None = None) -> Response:
    """The editor of ``work`` showing ``data`` (default: the file's tree)."""
    langs, default = studio.languages()
    _, issues = studio.check()
    draft = studio.kept(web.query(request, "draft"))
    new_qa = draft if isinstance(draft, tuple) and len(draft) == 2 else ({}, {})
    tree = doc.data if data is None else data
    return web.render(
        request, "edit.html", status=status, work=work, rel=doc.rel, stamp=doc.stamp,
        langs=langs, default=default, f=work_fields(tree, langs),
        title=web.localized_text(tree.get("title") if isinstance(tree, Mapping) else None,
                                 default, default) or work,
        problems=[web.issue_json(i) for i in web.file_issues(issues, doc.rel)],
        new_questions={lang: "\n".join(new_qa[0].get(lang, [])) for lang in langs},
        new_answer={lang: new_qa[1].get(lang, "") for lang in langs},
        has_draft=bool(draft), notes=notes or [], has_picture=bool(tree.get("image"))
        if isinstance(tree, Mapping) else False)


async def edit_page(request: Request) -> Response:
    studio = web.studio_of(request)
    work = web.work_id(studio, request.path_params["work"])
    doc = await web.blocking(opened, studio, studio.files.exhibit_rel(work))
    return editor(request, studio, work, doc)


async def save_work(request: Request) -> Response:
    studio = web.studio_of(request)
    work = web.work_id(studio, request.path_params["work"])
    form = await web.posted(request, max_files=1)
    try:
        values = web.fields(form)
        file = web.upload(form, "image_file")
        if file is not None:
            values["image"] = await stored_picture(studio, work, file)
    finally:
        await form.close()
    rel = studio.files.exhibit_rel(work)
    langs, _ = studio.languages()
    outcome, result = await web.blocking(save, studio, rel, values,
                                         lambda data: work_changes(data, values, langs))
    url = f"/works/{work}/edit"
    if outcome == "conflict":
        return conflict_page(request, studio, result, values, url, work)
    if outcome == "problems":
        doc = studio.files.read(rel)
        mine = copy.deepcopy(doc.data)
        apply(mine, Changes(work_changes(mine, values, langs).edits))
        return editor(request, studio, work, doc, 400, mine, result.problems)
    await web.blocking(studio.check)
    return web.redirect(url, done="image" if file is not None else "saved")


async def validate_work(request: Request) -> Response:
    """The problems of the work with the posted (unsaved) edit, as JSON."""
    studio = web.studio_of(request)
    work = web.work_id(studio, request.path_params["work"])
    values = web.fields(await web.posted(request))
    langs, _ = studio.languages()
    rel = studio.files.exhibit_rel(work)
    issues = await web.blocking(trial, studio, rel,
                                lambda data: work_changes(data, values, langs))
    stamp = studio.files.read(rel).stamp
    return web.JSON({"problems": [web.issue_json(i) for i in issues],
                         "changed_on_disk": stamp != values.get("stamp", "")})


async def posted_stash(request: Request, studio: Studio, rel: str, what: str) -> Stash:
    """The edit a conflict page kept for ``rel``, as its merge form names it; 400 when the
    studio no longer has it (or the version it started from)."""
    form = web.fields(await web.posted(request))
    stash = studio.kept(form.get("token", ""))
    if not isinstance(stash, Stash) or stash.rel != rel or stash.base is None:
        raise HTTPException(400, f"There is nothing left to merge — reload {what} and make "
                                 "the edit again.")
    return stash


def merge_notes(clashes: list[str]) -> list[str]:
    """What an editor says after a merge."""
    return ["Merged and saved."] + ([
        "Both you and the file on disk changed " + ", ".join(clashes)
        + ": the version on disk was kept there — check it below."] if clashes else [])


async def merge_work(request: Request) -> Response:
    studio = web.studio_of(request)
    work = web.work_id(studio, request.path_params["work"])
    rel = studio.files.exhibit_rel(work)
    stash = await posted_stash(request, studio, rel, "the work")
    langs, _ = studio.languages()
    clashes = await web.blocking(merged, studio, stash,
                                 lambda data: work_changes(data, stash.values, langs))
    doc = await web.blocking(opened, studio, rel)
    return editor(request, studio, work, doc, notes=merge_notes(clashes))

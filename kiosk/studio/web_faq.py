"""The museum's practical questions (faq.yaml): the list, one entry's editor (phrasings and
answer, the pack's languages side by side), and a new entry — blank, or pre-filled with what
visitors asked (``?draft=``). Saved, checked and merged as a work is (``web_edit``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kiosk.content.loader import ID
from kiosk.studio import web
from kiosk.studio.web import Studio
from kiosk.studio.web_edit import (
    conflict_page,
    merge_notes,
    merged,
    opened,
    posted_stash,
    save,
    trial,
)
from kiosk.studio.web_form import Changes, faq_changes, lines, qa_fields, text

FAQ = "faq.yaml"


def entries(data: Any) -> list[Mapping[str, Any]]:
    return [e for e in data if isinstance(e, Mapping)] if isinstance(data, list) else []


def index_of(data: Any, fid: str) -> int:
    """The position of entry ``fid`` in faq.yaml's list; 404 when there is none."""
    if ID.fullmatch(fid or "") and isinstance(data, list):
        for i, entry in enumerate(data):
            if isinstance(entry, Mapping) and str(entry.get("id")) == fid:
                return i
    raise HTTPException(404, "There is no such entry in faq.yaml.")


def new_entry(values: dict[str, str], langs: list[str]) -> Changes:
    fid = web.new_id(values.get("id", ""))
    questions = {lang: lines(values.get(f"questions.{lang}")) for lang in langs}
    answer = {lang: text(values.get(f"answer.{lang}")) for lang in langs}
    return Changes(new_faq=(fid, {k: v for k, v in questions.items() if v},
                            {k: v for k, v in answer.items() if v}))


async def faq_page(request: Request) -> Response:
    studio = web.studio_of(request)
    doc = await web.blocking(studio.files.read, FAQ)
    langs, default = studio.languages()
    _, issues = studio.check()
    rows = []
    for i, entry in enumerate(entries(doc.data)):
        fields = qa_fields(entry, langs)
        first = fields["questions"].get(default, "").split("\n")[0]
        mine = [x for x in web.file_issues(issues, FAQ) if f"'[{i}]" in x.message]
        rows.append({"id": str(entry.get("id", "")), "question": first,
                     "missing": [lang for lang in langs if not fields["answer"][lang]
                                 or not fields["questions"][lang]],
                     "errors": sum(x.error for x in mine), "warnings": sum(not x.error
                                                                          for x in mine)})
    return web.render(request, "faq.html", rows=rows, langs=langs,
                      problems=web.file_issues(issues, FAQ))


def faq_editor(request: Request, studio: Studio, fid: str, entry: Any, stamp: str,
               status: int = 200, notes: list[str] | None = None, new: bool = False) -> Response:
    langs, _ = studio.languages()
    _, issues = studio.check()
    doc_data = studio.files.read(FAQ).data
    prefix = "" if new else f"[{index_of(doc_data, fid)}]."
    problems = [] if new else [web.issue_json(i, prefix) for i in web.file_issues(issues, FAQ)
                               if f"'{prefix[:-1]}" in i.message]
    return web.render(request, "faq_edit.html", status=status, fid=fid, new=new, stamp=stamp,
                      langs=langs, f=qa_fields(entry, langs), problems=problems,
                      notes=notes or [])


async def faq_edit_page(request: Request) -> Response:
    studio = web.studio_of(request)
    doc = await web.blocking(opened, studio, FAQ)
    fid = request.path_params["fid"]
    entry = doc.data[index_of(doc.data, fid)]
    return faq_editor(request, studio, fid, entry, doc.stamp)


async def faq_new_page(request: Request) -> Response:
    studio = web.studio_of(request)
    doc = await web.blocking(opened, studio, FAQ)
    draft = studio.kept(web.query(request, "draft"))
    fid, questions, answer = draft if isinstance(draft, tuple) and len(draft) == 3 \
        else ("", {}, {})
    return faq_editor(request, studio, fid, {"questions": questions, "answer": answer},
                      doc.stamp, new=True)


async def save_faq(request: Request) -> Response:
    studio = web.studio_of(request)
    values = web.fields(await web.posted(request))
    langs, _ = studio.languages()
    fid = request.path_params.get("fid", "")
    if fid:
        index = index_of(studio.files.read(FAQ).data, fid)

        def changes_of(data: Any) -> Changes:
            return faq_changes(data, index, values, langs)
        url = f"/faq/{fid}/edit"
    else:
        changes = new_entry(values, langs)
        assert changes.new_faq is not None
        fid = changes.new_faq[0]
        if fid in {str(e.get("id")) for e in entries(studio.files.read(FAQ).data)} or \
                fid in studio.files.exhibit_ids():
            raise HTTPException(400, f"'{fid}' is already taken — choose another id.")

        def changes_of(data: Any) -> Changes:
            return changes
        url = "/faq/new"  # (an entry added to the file as it is now: nothing to lose)
        values["stamp"] = studio.files.read(FAQ).stamp
    outcome, result = await web.blocking(save, studio, FAQ, values, changes_of)
    if outcome == "conflict":
        return conflict_page(request, studio, result, values, url, fid)
    await web.blocking(studio.check)
    return web.redirect(f"/faq/{fid}/edit", done="faq-added" if url == "/faq/new"
                        else "faq-saved")


async def validate_faq(request: Request) -> Response:
    studio = web.studio_of(request)
    values = web.fields(await web.posted(request))
    langs, _ = studio.languages()
    fid = request.path_params.get("fid", "")
    data = studio.files.read(FAQ).data
    if fid:
        index = index_of(data, fid)

        def changes_of(tree: Any) -> Changes:
            return faq_changes(tree, index, values, langs)
    else:
        index = len(entries(data))
        try:
            changes = new_entry(values, langs)
        except HTTPException as exc:
            return web.JSON({"problems": [{"message": exc.detail, "error": True,
                                               "field": "id", "line": None}]})

        def changes_of(tree: Any) -> Changes:
            return changes
    issues = await web.blocking(trial, studio, FAQ, changes_of)
    prefix = f"[{index}]."
    return web.JSON({"problems": [web.issue_json(i, prefix) for i in issues
                                      if f"'{prefix[:-1]}" in i.message or i.line is None]})


async def merge_faq(request: Request) -> Response:
    studio = web.studio_of(request)
    stash = await posted_stash(request, studio, FAQ, "the entry")
    fid = request.path_params["fid"]
    langs, _ = studio.languages()
    index = index_of(stash.base, fid)
    clashes = await web.blocking(merged, studio, stash,
                                 lambda data: faq_changes(data, index, stash.values, langs))
    doc = await web.blocking(opened, studio, FAQ)
    return faq_editor(request, studio, fid, doc.data[index_of(doc.data, fid)], doc.stamp,
                      notes=merge_notes(clashes))

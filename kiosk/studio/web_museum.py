"""The museum page (museum.yaml): the museum's name, what the kiosk says when it greets a
visitor, does not know, is not sure which work is meant or is asked about something else — in
the pack's languages side by side, the kiosk's own words shown where the museum wrote none —
and the pack's languages. Saved, checked and merged as a work is (``web_edit``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kiosk.content import schema
from kiosk.qa.intents import load_table
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
from kiosk.studio.web_form import (
    Changes,
    Edit,
    apply,
    commas,
    get,
    localized,
    localized_edits,
)

MUSEUM = "museum.yaml"
REPLIES = {
    "greeting": "Greeting — said when a visitor says hello, and shown when the kiosk wakes",
    "unknown": "When the kiosk does not know — it then offers what it does know",
    "clarify": "When the question could be about several works — it then asks which one",
    "out_of_scope": "When the question is about something else than the museum",
}
"""The replies a museum may word itself (``replies:`` in museum.yaml), with what each is for."""


def builtin_replies(langs: Sequence[str]) -> dict[str, dict[str, str]]:
    """What the kiosk says where the museum wrote nothing (its own words, per language)."""
    table = load_table()["replies"]
    return {name: {lang: str(table.get(name, {}).get(lang) or "") for lang in langs}
            for name in REPLIES}


def museum_changes(data: Any, form: Mapping[str, str], langs: Sequence[str]) -> Changes:
    """What the posted museum form changes in museum.yaml's tree."""
    out = Changes()
    data = data if isinstance(data, Mapping) else {}
    out.edits += localized_edits(data, ("name",), "name", form, langs)
    written: list[Edit] = []
    emptied: list[str] = []
    for name in REPLIES:
        field = f"replies.{name}"
        if any(form.get(f"{field}.{lang}", "").strip() for lang in langs) or \
                not isinstance(get(data, ("replies", name)), Mapping):
            written += localized_edits(data, ("replies", name), field, form, langs)
        elif any(f"{field}.{lang}" in form for lang in langs):
            emptied.append(name)  # every box emptied
    replies = get(data, ("replies",))
    if emptied and not written and isinstance(replies, Mapping) and set(replies) <= set(emptied):
        out.edits.append(Edit(("replies",), delete=True))  # the last one: no empty 'replies:'
    else:
        out.edits += written + [Edit(("replies", name), delete=True) for name in emptied]
    if "languages" in form:
        codes = [code.lower() for code in commas(form["languages"])]
        bad = [code for code in codes if not web.LANG.fullmatch(code)]
        if bad or not codes:
            out.problems.append(f"'languages': '{bad[0] if bad else ''}' is not a language "
                                "code — write two-letter codes separated by commas, e.g. "
                                "fr, en, es")
        else:
            codes = list(dict.fromkeys(codes))
            old = data.get("languages")
            if [str(x) for x in old or []] != codes:
                out.edits.append(Edit(("languages",), codes))
    default = form.get("default_language", "").strip()
    if default and default != str(data.get("default_language") or ""):
        out.edits.append(Edit(("default_language",), default))
    return out


def museum_page_of(request: Request, studio: Studio, data: Any, stamp: str, status: int = 200,
                   notes: list[str] | None = None, languages: str | None = None) -> Response:
    langs, default = studio.languages()
    _, issues = studio.check()
    data = data if isinstance(data, Mapping) else {}
    replies = {name: localized(get(data, ("replies", name)), langs) for name in REPLIES}
    declared = [str(x) for x in data.get("languages") or []] or langs
    return web.render(
        request, "museum.html", status=status, stamp=stamp, langs=langs, default=default,
        names=localized(data.get("name"), langs), replies=replies, purposes=REPLIES,
        builtin=builtin_replies(langs),
        languages=", ".join(declared) if languages is None else languages,
        known=sorted(schema.LANGUAGE_NAMES), notes=notes or [],
        problems=[web.issue_json(i) for i in web.file_issues(issues, MUSEUM)],
        others=sum(1 for i in issues if i.file != MUSEUM and i.error))


async def museum_page(request: Request) -> Response:
    studio = web.studio_of(request)
    doc = await web.blocking(opened, studio, MUSEUM)
    return museum_page_of(request, studio, doc.data, doc.stamp)


async def save_museum(request: Request) -> Response:
    studio = web.studio_of(request)
    values = web.fields(await web.posted(request))
    langs, _ = studio.languages()

    def changes_of(data: Any) -> Changes:
        return museum_changes(data, values, langs)
    outcome, result = await web.blocking(save, studio, MUSEUM, values, changes_of)
    if outcome == "conflict":
        return conflict_page(request, studio, result, values, "/museum/edit", "The museum")
    if outcome == "problems":  # nothing written: the form again, as typed, and why
        doc = studio.files.read(MUSEUM)
        mine = copy.deepcopy(doc.data)
        apply(mine, Changes(museum_changes(mine, values, langs).edits))
        return museum_page_of(request, studio, mine, doc.stamp, 400, result.problems,
                              languages=values.get("languages"))
    await web.blocking(studio.check)
    return web.redirect("/museum", done="museum-saved")


async def validate_museum(request: Request) -> Response:
    studio = web.studio_of(request)
    values = web.fields(await web.posted(request))
    langs, _ = studio.languages()
    issues = await web.blocking(trial, studio, MUSEUM,
                                lambda data: museum_changes(data, values, langs))
    return web.JSON({"problems": [web.issue_json(i) for i in issues]})


async def merge_museum(request: Request) -> Response:
    studio = web.studio_of(request)
    stash = await posted_stash(request, studio, MUSEUM, "the page")
    langs, _ = studio.languages()
    clashes = await web.blocking(merged, studio, stash,
                                 lambda data: museum_changes(data, stash.values, langs))
    doc = await web.blocking(opened, studio, MUSEUM)
    return museum_page_of(request, studio, doc.data, doc.stamp, notes=merge_notes(clashes))

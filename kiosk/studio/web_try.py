"""Try it: a question asked of the pack as it is on disk, answered as the kiosk answers it (the
text, its source line, the work's picture, the suggestions or the "which one?" choice), with the
evidence behind it (``kiosk ask --explain``); saved test questions ("the kiosk should answer
this with that"), run all at once, with what changed since the last run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kiosk.assembly import VISITOR_LANGUAGES
from kiosk.commands.ask import answer_json
from kiosk.content.checks import Issue
from kiosk.content.loader import ID
from kiosk.content.model import Pack, pick
from kiosk.errors import KioskError
from kiosk.events import Answer, AnswerKind, Question
from kiosk.i18n import translate
from kiosk.qa.answerer import KioskAnswerer
from kiosk.qa.index import build_units, encode_units
from kiosk.qa.sources import WEIGHT_NAME
from kiosk.session import Session
from kiosk.studio import suite, web
from kiosk.studio.web import Studio
from kiosk.studio.web_works import cards


@dataclass(frozen=True)
class Opened:
    """The pack as the kiosk would answer from it (``answerer`` None while it has errors)."""

    pack: Pack | None
    answerer: KioskAnswerer | None
    issues: list[Issue]


def opened(studio: Studio) -> Opened:
    """The answerer over the pack's files as they are now (made again after each change)."""
    def make() -> Opened:
        pack, issues = studio.check()
        if pack is None:
            return Opened(None, None, issues)
        from kiosk.qa.vector_cache import VectorCache

        cache = VectorCache(studio.data.vector_cache) if studio.data is not None else None
        units = build_units(pack)
        vectors = encode_units(units, studio.encoder, cache=cache)
        s = studio.settings
        return Opened(pack, KioskAnswerer(pack, units, vectors, studio.encoder, s.qa,
                                          room=s.kiosk.room), issues)
    return studio.cached("answerer", studio.stamp(), make)


def source_line(answer: Answer, pack: Pack) -> str:
    """Where the answer comes from, in the words ``kiosk ask`` prints."""
    if answer.kind is not AnswerKind.ANSWER:
        return ""
    src = answer.source
    exhibit = pack.exhibit(src.exhibit_id) if src.exhibit_id else None
    if exhibit is not None:
        title, _ = pick(exhibit.title, answer.lang, pack.museum.default_language)
        where = translate(answer.lang, "from the museum's notes on “{title}”", title=title)
    else:
        where = translate(answer.lang, "visitor information ({faq})", faq=src.faq_id)
    return f"{where}, {src.detail} · {answer.confidence:.2f}"


def reply(answer: Answer, pack: Pack) -> dict[str, Any]:
    """The reply as the kiosk shows it."""
    work = answer.exhibit_id if answer.kind is AnswerKind.ANSWER else None
    return {
        "kind": str(answer.kind), "text": answer.text, "notice": answer.notice,
        "lang": answer.lang, "source": source_line(answer, pack), "ref": answer.source.ref or "",
        "work": work if work and pack.exhibit(work) else "",
        "could_ask": translate(answer.lang, "You could ask:")
        if answer.suggestions and answer.kind is AnswerKind.ANSWER else "",
        "suggestions": [{"label": s.label, "question": s.question, "about": s.exhibit_id or ""}
                        for s in answer.suggestions],
        "out_of_scope": answer.out_of_scope,
    }


def explained(answerer: KioskAnswerer, question: str, lang: str,
              about: str | None) -> dict[str, Any]:
    """The evidence ``kiosk ask --explain`` prints, as data."""
    ev = answerer.explain(Question(question, lang), about)
    a = ev.analysis
    order = sorted(range(len(ev.candidates)), key=lambda i: -ev.probabilities[i])
    return {
        "names": {k: round(v, 2) for k, v in a.mentions.titles.items() if v >= 0.3},
        "artists": sorted(a.mentions.artists), "subjects": sorted(a.subjects),
        "intents": [(k, round(v, 2)) for k, v in
                    sorted(a.intents[0].items(), key=lambda kv: -kv[1])[:5]],
        "decision": ev.decision.action, "none": round(float(ev.none), 3),
        "candidates": [{"p": round(float(ev.probabilities[i]), 3),
                        "kind": WEIGHT_NAME[ev.candidates[i].kind],
                        "ref": ev.candidates[i].ref, "item": str(ev.candidates[i].item)}
                       for i in order[:8]],
    }


def ask(studio: Studio, question: str, lang: str, about: str) -> dict[str, Any]:
    """One question asked as a new visitor would (what the page and the JSON show)."""
    state = opened(studio)
    if state.answerer is None or state.pack is None:
        return {"issues": [str(i) for i in state.issues if i.error]}
    museum = state.pack.museum
    session = Session(museum.default_language, sorted({*museum.languages, *VISITOR_LANGUAGES}))
    start = time.perf_counter()
    answer = session.ask(state.answerer, question, lang or None, about or None)
    ms = (time.perf_counter() - start) * 1000
    return {"reply": reply(answer, state.pack), "json": answer_json(question, session.language,
                                                                     answer, ms),
            "explain": explained(state.answerer, question, session.language, about or None),
            "lang": session.language, "issues": []}


def choices(studio: Studio) -> list[tuple[str, str]]:
    """(id, name) of every work, then of every FAQ entry (``FAQ: id``), even while the pack
    has errors: for "looking at" and "should be answered by"."""
    works = [(c.id, c.title) for c in cards(studio)]
    try:
        faq = studio.files.read("faq.yaml").data if (studio.pack_dir / "faq.yaml").is_file() \
            else []
    except KioskError:
        faq = []
    ids = [str(e.get("id")) for e in faq if isinstance(e, dict) and e.get("id")] \
        if isinstance(faq, list) else []
    return works + [(fid, f"FAQ: {fid}") for fid in ids if ID.fullmatch(fid)]


async def try_page(request: Request) -> Response:
    studio = web.studio_of(request)
    q, lang, about = web.query(request, "q"), web.query(request, "lang"), \
        web.query(request, "about")
    langs, _ = studio.languages()
    if lang and lang not in {*langs, *VISITOR_LANGUAGES}:
        lang = ""
    if about and not ID.fullmatch(about):
        about = ""
    result = await web.blocking(ask, studio, q, lang, about) if q else None
    cases = await web.blocking(suite.load, studio.pack_dir)
    shown_run = studio.kept(web.query(request, "run"))
    last = shown_run[0] if isinstance(shown_run, tuple) else \
        await web.blocking(suite.last_run, studio.pack_dir)
    changed = shown_run[1] if isinstance(shown_run, tuple) else None
    everything = await web.blocking(choices, studio)
    works = [(w, t) for w, t in everything if not t.startswith("FAQ: ")]
    return web.render(request, "try.html", q=q, lang=lang, about=about,
                      langs=sorted({*langs, *VISITOR_LANGUAGES}), result=result, cases=cases,
                      run=last, changed=changed, works=works, answerers=everything,
                      decline=suite.DECLINE, titles=dict(everything))


async def try_json(request: Request) -> Response:
    """The reply and the evidence as JSON (``kiosk ask --json`` plus ``explain``)."""
    studio = web.studio_of(request)
    q = web.query(request, "q")
    if not q:
        raise HTTPException(400, "Ask a question: ?q=...")
    lang, about = web.query(request, "lang"), web.query(request, "about")
    result = await web.blocking(ask, studio, q, lang, about if ID.fullmatch(about) else "")
    if result["issues"]:
        return web.JSON(result, status_code=409)
    return web.JSON({**result["json"], "explain": result["explain"]})


async def add_test(request: Request) -> Response:
    studio = web.studio_of(request)
    form = web.fields(await web.posted(request))
    question = form.get("question", "").strip()
    expect = form.get("expect", "").strip()
    lang = form.get("lang", "").strip()
    known = {w for w, _ in await web.blocking(choices, studio)} | {suite.DECLINE}
    if not question or expect not in known or not web.LANG.fullmatch(lang):
        raise HTTPException(400, "A test needs the question, its language and the work or "
                                 "entry that should answer it.")
    case = suite.Case(question=question[:500], lang=lang, expect=expect,
                      note=form.get("note", "").strip()[:500])
    with studio.lock:
        await web.blocking(suite.add, studio.pack_dir, case)
    return web.redirect("/try", done="test-added")


async def delete_test(request: Request) -> Response:
    studio = web.studio_of(request)
    await web.posted(request)
    case_id = request.path_params["case"]
    if not web.TOKEN.fullmatch(case_id) or \
            case_id not in {c.id for c in suite.load(studio.pack_dir)}:
        raise HTTPException(404, "There is no such test.")
    with studio.lock:
        await web.blocking(suite.remove, studio.pack_dir, case_id)
    return web.redirect("/try")


async def run_tests(request: Request) -> Response:
    studio = web.studio_of(request)
    await web.posted(request)
    state = await web.blocking(opened, studio)
    answerer = state.answerer
    if answerer is None:
        raise HTTPException(409, "The pack has errors, so the kiosk cannot answer from it — "
                                 "fix them on the works page first.")

    def run_all() -> tuple[suite.Run, list[Any]]:
        now = suite.run(studio.pack_dir, answerer)
        return now, now.changed_since(now.previous)
    with studio.lock:
        result = await web.blocking(run_all)
    return web.redirect("/try", run=studio.keep(result))

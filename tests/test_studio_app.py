"""The curator studio's web pages (``kiosk studio``), driven through Starlette's TestClient on
a copy of the demo pack with the model-free ``HashingEncoder``: every page renders; an edit
round-trips to the YAML (one changed line; an untouched form changes nothing); problems come
in the validator's words; a file changed on disk is merged, never overwritten; and the guards
hold (token on every POST, ``<script>`` escaped everywhere, no path tricks, bounded uploads, a
password off this computer).
"""

from __future__ import annotations

import difflib
import html
import io
import re
import shutil
import time
from dataclasses import asdict, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from kiosk.cli import main as kiosk_main
from kiosk.content.loader import load_pack
from kiosk.insights.log import Turn, append_turns
from kiosk.settings import Settings, StudioSettings
from kiosk.studio.app import create_app
from kiosk.studio.web import Studio
from kiosk.studio.web_guard import COOKIE
from kiosk.testing import HashingEncoder

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "content" / "demo"
MILKMAID = "exhibits/the-milkmaid.yaml"
SCRIPT = "<script>alert(1)</script>"
ENCODER = HashingEncoder()


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    shutil.copytree(DEMO, tmp_path / "pack")
    return tmp_path / "pack"


def client_for(studio: Studio, **options: Any) -> TestClient:
    return TestClient(create_app(studio, hosts=["testserver"], **options))


@pytest.fixture
def studio(pack: Path) -> Studio:
    return Studio(pack, Settings(), ENCODER)


@pytest.fixture
def client(studio: Studio) -> TestClient:
    c = client_for(studio)
    assert c.get("/works").status_code == 200  # (the browser's token arrives with a page)
    return c


def token(client: TestClient) -> str:
    value = client.cookies.get(COOKIE)
    assert value
    return value


class Form(HTMLParser):
    """The fields a browser would post from the form with ``id``: name → value."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.values = form_id, False, {}  # type: ignore[var-annotated]
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if self.inside and tag == "option" and self.select and (
                "selected" in a or self.select not in self.values):
            self.values[self.select] = a.get("value", "")
        if not self.inside or "name" not in a:
            return
        if tag == "input" and a.get("type") not in ("file", "checkbox", "radio", "submit"):
            self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.values[a["name"]] = ""
        elif tag == "select":
            self.select = a["name"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea] += data


def pack_of(client: TestClient) -> Path:
    studio: Studio = client.app.state.studio  # type: ignore[attr-defined]
    return studio.pack_dir


def form_of(page: str, form_id: str = "editor") -> dict[str, str]:
    parser = Form(form_id)
    parser.feed(page)
    # a browser posts a textarea's lines with CR LF
    return {k: v.replace("\n", "\r\n") for k, v in parser.values.items()}


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")]


# -- pages ------------------------------------------------------------------------------------

PAGES = {
    "/works": 'id="works"', "/works?q=vermeer&room=Salle+3": "La Laitière",
    "/works/the-milkmaid/edit": 'id="editor"', "/faq": 'id="faq"',
    "/faq/toilets/edit": 'id="faq-editor"', "/faq/new": 'id="faq-editor"',
    "/try": 'id="question"', "/visitors": 'id="import-form"', "/publish": 'id="publish-form"',
    "/museum": 'id="museum-editor"',
}


def test_every_page_renders_with_the_security_headers(client: TestClient) -> None:
    for url, mark in PAGES.items():
        r = client.get(url)
        assert r.status_code == 200, url
        assert mark in r.text, url
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in r.text and " on" + "click=" not in r.text  # no inline script
    assert client.get("/", follow_redirects=False).headers["location"] == "/works"
    for asset in ("/static/studio.css", "/static/studio.js", "/static/placeholder.svg"):
        assert client.get(asset).status_code == 200


def test_works_are_searched_and_filtered(client: TestClient, pack: Path) -> None:
    page = client.get("/works?q=vermeer").text
    assert page.count('class="card work"') == 3  # the Milkmaid, the Pearl Earring, the letter
    assert 'data-id="the-milkmaid"' in client.get("/works?room=Salle+3").text
    text = (pack / MILKMAID).read_text(encoding="utf-8")
    (pack / MILKMAID).write_text(text.replace(', es: "La lechera"', ""), encoding="utf-8")
    page = client.get("/works?missing=es").text
    assert page.count('class="card work"') == 1 and 'data-lang="es"' in page
    assert page.count('class="card work"') == client.get("/works?problems=errors").text.count(
        'class="card work"')
    from PIL import Image

    picture = client.get("/works/the-milkmaid/picture?size=small")
    assert picture.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(picture.content)) as image:
        assert max(image.size) == 360  # reduced for a card


def test_a_big_pack_is_shown_a_page_at_a_time(client: TestClient, pack: Path) -> None:
    from kiosk.studio.web_works import PAGE

    text = (pack / MILKMAID).read_text(encoding="utf-8")
    for n in range(2 * PAGE):
        (pack / "exhibits" / f"study-{n:03}.yaml").write_text(
            text.replace("id: the-milkmaid", f"id: study-{n:03}"), encoding="utf-8")
    works = len(list((pack / "exhibits").glob("*.yaml")))
    pages = -(-works // PAGE)
    first = client.get("/works").text
    assert first.count('class="card work"') == PAGE
    assert f"page 1 of {pages}" in first and f">{works:,}<" in first.replace(" ", "")
    last = client.get(f"/works?page={pages}").text
    assert last.count('class="card work"') == works - (pages - 1) * PAGE
    assert client.get("/works?page=999").text == last  # past the end: the last page
    assert client.get("/works?page=nope").text == first
    found = client.get("/works?q=vermeer&page=2").text  # 3 demo works and the copies
    assert 'href="/works?q=vermeer&amp;page=3"' in found
    assert found.count('class="card work"') == PAGE and "Works 61–120 of" in found


def test_a_file_whose_name_is_no_id_is_named_not_a_crash(client: TestClient,
                                                         pack: Path) -> None:
    text = (pack / MILKMAID).read_text(encoding="utf-8")
    (pack / "exhibits" / "Milkmaid Copy.yaml").write_text(
        text.replace("id: the-milkmaid\n", ""), encoding="utf-8")
    page = client.get("/works")
    assert page.status_code == 200
    problems = page.text.split('id="pack-problems"')[1].split("</section>")[0]
    assert "exhibits/Milkmaid Copy.yaml: error: the file name" in problems
    assert "is not a valid id" in problems
    assert client.get("/works/Milkmaid%20Copy/edit").status_code == 404


def test_the_museum_page_edits_museum_yaml_line_by_line(client: TestClient,
                                                        pack: Path) -> None:
    museum = pack / "museum.yaml"
    before = museum.read_text(encoding="utf-8")
    values = form_of(client.get("/museum").text, "museum-editor")
    assert values["name.en"] == "Demonstration Museum" and values["default_language"] == "fr"
    assert values["languages"] == "fr, en, es"
    assert client.post("/museum/edit", data=values).status_code == 200  # untouched
    assert museum.read_text(encoding="utf-8") == before

    values = form_of(client.get("/museum").text, "museum-editor")
    values["replies.greeting.en"] = "Welcome to the museum! Ask me anything about the works."
    client.post("/museum/edit", data=values)
    after = museum.read_text(encoding="utf-8")
    assert changed_lines(before, after) == [
        '-    en: "Hello and welcome! Ask me about the works in the museum or about your '
        'visit."', '+    en: "Welcome to the museum! Ask me anything about the works."']
    read, _ = load_pack(pack)
    assert read is not None
    assert read.museum.replies["greeting"]["en"].startswith("Welcome to the museum!")


def test_a_reply_left_empty_is_the_kiosks_own(client: TestClient, pack: Path) -> None:
    page = client.get("/museum").text
    values = form_of(page, "museum-editor")
    for lang in ("fr", "en", "es"):
        values[f"replies.unknown.{lang}"] = ""
    client.post("/museum/edit", data=values)
    read, issues = load_pack(pack)
    assert read is not None and "unknown" not in read.museum.replies
    assert "unknown:" not in (pack / "museum.yaml").read_text(encoding="utf-8")
    page = client.get("/museum").text
    own = re.search(r'id="f-replies-unknown-en"[^>]*placeholder="([^"]+)"', page)
    assert own and "know" in own.group(1)  # the kiosk's own words, shown in grey
    values = form_of(page, "museum-editor")
    for key in [k for k in values if k.startswith("replies.")]:
        values[key] = ""  # every reply left to the kiosk: no empty 'replies:' left behind
    assert client.post("/museum/edit", data=values).status_code == 200
    text = (pack / "museum.yaml").read_text(encoding="utf-8")
    assert "replies" not in text and text.startswith("name: ")
    read, _ = load_pack(pack)
    assert read is not None and read.museum.replies == {}


def test_a_language_added_shows_what_to_translate(client: TestClient, pack: Path) -> None:
    values = form_of(client.get("/museum").text, "museum-editor")
    values["languages"] = "fr, en, es, de"
    assert client.post("/museum/edit", data=values).status_code == 200
    assert "languages: [fr, en, es, de]" in (pack / "museum.yaml").read_text(encoding="utf-8")
    works = len(list((pack / "exhibits").glob("*.yaml")))
    missing = client.get("/works?missing=de").text
    assert f'id="works-count">{works}<' in missing.replace(" of ", "<")
    page = client.get("/museum").text
    assert 'name="name.de"' in page and "has no German text" in page

    before = (pack / "museum.yaml").read_bytes()
    values = form_of(page, "museum-editor")
    values["languages"] = "fr, english"
    refused = client.post("/museum/edit", data=values)
    assert refused.status_code == 400
    assert "'english' is not a language code" in html.unescape(refused.text)
    assert 'value="fr, english"' in refused.text  # as typed, to be fixed
    assert (pack / "museum.yaml").read_bytes() == before


# -- editing ----------------------------------------------------------------------------------

def test_an_untouched_form_changes_no_file(client: TestClient, pack: Path) -> None:
    works = sorted(p.stem for p in (pack / "exhibits").glob("*.yaml"))
    before = {p: p.read_bytes() for p in pack.rglob("*.yaml")}
    for work in works:
        values = form_of(client.get(f"/works/{work}/edit").text)
        r = client.post(f"/works/{work}/edit", data=values, follow_redirects=False)
        assert r.status_code == 303, (work, r.text[:500])
    values = form_of(client.get("/faq/toilets/edit").text, "faq-editor")
    assert client.post("/faq/toilets/edit", data=values, follow_redirects=False).status_code == 303
    assert {p: p.read_bytes() for p in pack.rglob("*.yaml")} == before


def test_one_edited_field_is_one_changed_line(client: TestClient, pack: Path) -> None:
    before = (pack / MILKMAID).read_text(encoding="utf-8")
    values = form_of(client.get("/works/the-milkmaid/edit").text)
    values["title.es"] = "La lechera de Vermeer"
    r = client.post("/works/the-milkmaid/edit", data=values)
    assert r.status_code == 200 and "Saved." in r.text
    after = (pack / MILKMAID).read_text(encoding="utf-8")
    assert changed_lines(before, after) == [
        '-title: {fr: "La Laitière", en: "The Milkmaid", es: "La lechera"}',
        '+title: {fr: "La Laitière", en: "The Milkmaid", es: "La lechera de Vermeer"}']
    assert 'value="La lechera de Vermeer"' in r.text
    # an answer in a block of a Q&A, a phrasing added, and a new Q&A: the pack still validates
    values = form_of(r.text)
    values["qa.0.questions.en"] += "\r\nWhat is in the bowl?"
    values["new.questions.en"] = "Who was the maid?"
    values["new.questions.fr"] = "Qui était la servante ?"
    values["new.questions.es"] = "¿Quién era la criada?"
    for lang, text in (("en", "Nobody knows."), ("fr", "Personne ne le sait."),
                       ("es", "Nadie lo sabe.")):
        values[f"new.answer.{lang}"] = text
    assert client.post("/works/the-milkmaid/edit", data=values).status_code == 200
    pack_read, issues = load_pack(pack)
    assert pack_read is not None, [str(i) for i in issues if i.error]
    work = pack_read.exhibit("the-milkmaid")
    assert work is not None and work.qa[-1].answer["en"] == "Nobody knows."
    assert "What is in the bowl?" in work.qa[0].questions["en"]


def test_a_faq_answer_edit_is_one_line(client: TestClient, pack: Path) -> None:
    before = (pack / "faq.yaml").read_text(encoding="utf-8")
    values = form_of(client.get("/faq/cafe/edit").text, "faq-editor")
    values["answer.en"] = "The café is next to the garden."
    assert client.post("/faq/cafe/edit", data=values).status_code == 200
    lines = changed_lines(before, (pack / "faq.yaml").read_text(encoding="utf-8"))
    assert len(lines) == 2 and lines[1].endswith('en: "The café is next to the garden."')


def test_problems_as_you_type_are_the_validators_words(client: TestClient, pack: Path) -> None:
    before = (pack / MILKMAID).read_bytes()
    values = form_of(client.get("/works/the-milkmaid/edit").text)
    values["priority"] = "1000"
    r = client.post("/works/the-milkmaid/validate", data=values)
    assert [(p["field"], p["error"]) for p in r.json()["problems"]] == [("priority", True)]
    values = form_of(client.get("/works/the-milkmaid/edit").text)
    values["title.es"] = ""
    values["on_view.from"], values["on_view.until"] = "2026-05-01", "2026-01-01"
    values["qa.1.answer.fr"] = " "
    r = client.post("/works/the-milkmaid/validate", data=values)
    assert r.status_code == 200 and not r.json()["changed_on_disk"]
    shown = {p["message"]: p["field"] for p in r.json()["problems"]}
    assert (pack / MILKMAID).read_bytes() == before  # only tried, on a scratch copy
    # the same edit saved, then validated as `kiosk content validate` does: the same words
    assert client.post("/works/the-milkmaid/edit", data=values).status_code == 200
    _, issues = load_pack(pack)
    assert set(shown) == {i.message for i in issues if i.file == MILKMAID}
    assert set(shown.values()) == {"title.es", "on_view", "qa.1.answer.fr"}


def test_a_file_changed_on_disk_is_merged_never_overwritten(client: TestClient,
                                                             pack: Path) -> None:
    values = form_of(client.get("/works/the-milkmaid/edit").text)
    text = (pack / MILKMAID).read_text(encoding="utf-8")
    (pack / MILKMAID).write_text(text.replace("about 1658", "c. 1658"), encoding="utf-8")
    values["room.en"] = "Room 4"
    r = client.post("/works/the-milkmaid/edit", data=values)
    assert r.status_code == 409 and 'id="conflict"' in r.text and "c. 1658" in r.text
    assert "Room 4" not in (pack / MILKMAID).read_text(encoding="utf-8")
    merge = form_of(r.text.replace('class="choice">', 'class="choice" id="merge-form">', 1),
                    "merge-form")
    r = client.post("/works/the-milkmaid/merge", data=merge)
    assert r.status_code == 200 and "Merged and saved." in r.text
    after = (pack / MILKMAID).read_text(encoding="utf-8")
    assert "c. 1658" in after and "Room 4" in after
    assert len(changed_lines(text, after)) == 4  # the date on disk, the room in the studio


def test_a_picture_is_uploaded_checked_and_bounded(client: TestClient, pack: Path,
                                                   studio: Studio) -> None:
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (3000, 1500), (200, 40, 40)).save(png, "PNG")
    values = form_of(client.get("/works/the-kiss/edit").text)
    r = client.post("/works/the-kiss/edit", data=values,
                    files={"image_file": ("../../../evil name.png", png.getvalue(),
                                          "image/png")})
    assert r.status_code == 200 and "Image stored." in r.text
    assert not (pack.parent / "evil name.png").exists()
    stored = load_pack(pack)[0]
    assert stored is not None and stored.exhibit("the-kiss").image == "images/the-kiss.png"  # type: ignore[union-attr]
    with Image.open(pack / "images" / "the-kiss.png") as image:
        assert max(image.size) <= 2000  # reduced as it is stored
    values = form_of(client.get("/works/the-kiss/edit").text)
    for name, body in (("notes.png", b"just text"), ("page.html", b"<html>"),
                       ("fake.webp", b"RIFF0000AVI ")):
        r = client.post("/works/the-kiss/edit", data=values, files={"image_file": (name, body)})
        assert r.status_code == 415, name
    studio.settings = replace(Settings(), studio=StudioSettings(image_mb=0.01))
    r = client.post("/works/the-kiss/edit", data=values,
                    files={"image_file": ("big.png", png.getvalue(), "image/png")})
    assert r.status_code == 413
    r = client.post("/visitors/import", data={"csrf": token(client)},
                    files={"archive": ("insights.exe", b"MZ", "application/octet-stream")})
    assert r.status_code == 415
    huge = client.post("/works/new", content=b"x", headers={
        "content-length": str(10 << 30), "content-type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413


def test_add_duplicate_delete_and_undo(client: TestClient, pack: Path) -> None:
    csrf = token(client)
    r = client.post("/works/new", data={"csrf": csrf, "title.fr": "Le Désespéré",
                                        "title.en": "Desperate Man"})
    assert r.status_code == 200 and str(r.url).endswith("/works/le-desespere/edit?done=added")
    assert (pack / "exhibits/le-desespere.yaml").is_file()
    r = client.post("/works/the-milkmaid/duplicate", data={"csrf": csrf, "new_id": "milkmaid-2"})
    assert r.status_code == 200 and (pack / "exhibits/milkmaid-2.yaml").is_file()
    r = client.post("/works/milkmaid-2/delete", data={"csrf": csrf})
    assert r.status_code == 200 and not (pack / "exhibits/milkmaid-2.yaml").exists()
    undo = form_of(r.text, "undo-form")
    assert client.post("/works/undo", data=undo).status_code == 200
    assert (pack / "exhibits/milkmaid-2.yaml").is_file()
    assert client.post("/works/new", data={"csrf": csrf, "id": "the-kiss"}).status_code == 400


def test_a_work_renamed_keeps_its_text_and_its_tests(client: TestClient, pack: Path) -> None:
    csrf = token(client)
    before = (pack / MILKMAID).read_text(encoding="utf-8")
    r = client.post("/try/tests", data={"csrf": csrf, "question": "Who painted The Milkmaid?",
                                        "lang": "en", "expect": "the-milkmaid"})
    assert r.status_code == 200
    r = client.post("/works/the-milkmaid/rename", data={"csrf": csrf, "new_id": "milkmaid"})
    assert r.status_code == 200 and str(r.url).endswith("/works/milkmaid/edit?done=renamed")
    assert not (pack / MILKMAID).exists()
    after = (pack / "exhibits/milkmaid.yaml").read_text(encoding="utf-8")
    assert changed_lines(before, after) == ["-id: the-milkmaid", "+id: milkmaid"]
    from kiosk.studio import suite

    assert [c.expect for c in suite.load(pack)] == ["milkmaid"]
    read, _ = load_pack(pack)
    assert read is not None and read.exhibit("milkmaid") is not None
    for taken in ("the-kiss", "Not An Id", ""):
        r = client.post("/works/milkmaid/rename", data={"csrf": csrf, "new_id": taken})
        assert r.status_code == 400, taken
    assert (pack / "exhibits/milkmaid.yaml").read_text(encoding="utf-8") == after
    assert client.post("/works/the-milkmaid/rename",
                       data={"csrf": csrf, "new_id": "x"}).status_code == 404


# -- try it, tests, visitors, publish ---------------------------------------------------------

def test_try_it_answers_a_demo_question_as_the_kiosk_does(client: TestClient) -> None:
    r = client.get("/try", params={"q": "Who painted The Milkmaid?", "lang": "en"})
    assert r.status_code == 200
    text = re.search(r'id="answer-text">(.*?)</p>', r.text, re.S)
    assert text is not None and "Vermeer" in text.group(1)
    assert "the museum&#39;s notes on “The Milkmaid”" in r.text  # the source line
    assert 'id="answer-image"' in r.text and 'id="candidates"' in r.text
    data = client.get("/try.json", params={"q": "Who painted The Milkmaid?",
                                           "lang": "en"}).json()
    assert data["got"] == "the-milkmaid" and data["kind"] == "answer"
    assert data["explain"]["candidates"][0]["ref"] == "the-milkmaid"


def test_saved_tests_run_and_say_what_changed(client: TestClient, pack: Path) -> None:
    csrf = token(client)
    for q, expect in (("Who painted The Milkmaid?", "the-milkmaid"),
                      ("Where are the toilets?", "toilets")):
        r = client.post("/try/tests", data={"csrf": csrf, "question": q, "lang": "en",
                                            "expect": expect})
        assert r.status_code == 200
    r = client.post("/try/tests/run", data={"csrf": csrf})
    assert r.status_code == 200 and 'id="changes"' in r.text
    assert r.text.count("outcome-right") == 2
    text = (pack / MILKMAID).read_text(encoding="utf-8")  # the work no longer answers it
    (pack / MILKMAID).write_text(text.replace("artist: Johannes Vermeer", "artist: Unknown"),
                                 encoding="utf-8")
    r = client.post("/try/tests/run", data={"csrf": csrf})
    changes = r.text.split('id="changes"')[1].split("</div>")[0]
    assert "Who painted The Milkmaid?" in changes and "Where are the toilets?" not in changes


def test_a_visitors_group_becomes_a_prefilled_qa(client: TestClient, tmp_path: Path) -> None:
    folder = tmp_path / "kiosk" / "insights"
    folder.mkdir(parents=True)
    asked = ["Is the painting insured?", "Is this painting insured?",
             "How much is the painting insured for?"]
    append_turns(folder / "2025-03-01.json", [asdict(Turn(
        time=f"2025-03-01T10:0{i}:00+01:00", lang="en", text=q, outcome="unknown"))
        for i, q in enumerate(asked * 2)])
    csrf = token(client)
    r = client.post("/visitors/import", data={"csrf": csrf, "folder": str(tmp_path / "kiosk")})
    assert r.status_code == 200 and "Insights imported." in r.text
    key = re.search(r'data-key="([0-9a-f]+)"', r.text)
    assert key is not None
    assert r.text.count("<option") == len(list((pack_of(client) / "exhibits").glob("*.yaml")))
    r = client.post(f"/visitors/{key.group(1)}/qa", data={"csrf": csrf, "work": "the-kiss"})
    assert r.status_code == 200 and "/works/the-kiss/edit?draft=" in str(r.url)
    values = form_of(r.text)
    assert "insured" in values["new.questions.en"] and values["new.answer.en"] == ""
    r = client.post(f"/visitors/{key.group(1)}/faq", data={"csrf": csrf})
    assert "insured" in form_of(r.text, "faq-editor")["questions.en"]
    for typed in ("El beso", "  le baiser ", "THE KISS"):  # a title in any language
        r = client.post(f"/visitors/{key.group(1)}/qa", data={"csrf": csrf, "work": typed})
        assert "/works/the-kiss/edit?draft=" in str(r.url), typed
    r = client.post(f"/visitors/{key.group(1)}/qa", data={"csrf": csrf, "work": "The Kis"})
    assert r.status_code == 400
    assert "No work of this pack is called “The Kis”" in html.unescape(r.text)


def test_publish_builds_a_signed_bundle_and_never_shows_the_key(
        client: TestClient, studio: Studio, tmp_path: Path) -> None:
    from kiosk.content.keys import generate

    private, _, kid = generate(tmp_path / "keys" / "museum")
    studio.sign_keys = [private]
    page = client.get("/publish").text
    secret = private.read_text(encoding="ascii")
    assert kid in page and secret.splitlines()[1] not in page
    r = client.post("/publish", data={"csrf": token(client), "target": "other",
                                      "folder": str(tmp_path / "out"), "key": "0"})
    assert r.status_code == 200 and 'id="progress"' in r.text
    job = str(r.url).rsplit("/", 1)[1]
    deadline = time.monotonic() + 120
    while (state := client.get(f"/publish/jobs/{job}.json").json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state["state"] == "done", state["message"]
    assert "the-milkmaid" in state["summary"]["added"]
    bundles = list((tmp_path / "out").iterdir())
    assert len(bundles) == 1 and (bundles[0] / "signature.json").is_file()
    page = client.get("/publish").text
    assert bundles[0].name in page and kid in page and secret.splitlines()[1] not in page


# -- guards -----------------------------------------------------------------------------------

def post_routes(client: TestClient) -> list[str]:
    params = {"work": "the-milkmaid", "fid": "toilets", "case": "t1", "key": "0123456789ab"}
    out = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and "POST" in (route.methods or ()):
            out.append(re.sub(r"{(\w+)}", lambda m: params[m.group(1)], route.path))
    return out


def test_every_post_is_refused_without_the_browsers_token(client: TestClient,
                                                          pack: Path) -> None:
    before = {p: p.read_bytes() for p in pack.rglob("*") if p.is_file()}
    routes = post_routes(client)
    assert len(routes) >= 18
    for url in routes:
        assert client.post(url, data={"title.en": "x"}).status_code == 403, url
        assert client.post(url, data={"csrf": "A" * 43}).status_code == 403, url
        r = client.post(url, data={"csrf": token(client)}, headers={
            "origin": "http://evil.example", "sec-fetch-site": "cross-site"})
        assert r.status_code == 403, url
        r = client.post(url, data={"csrf": token(client)}, headers={"origin": "null"})
        assert r.status_code == 403, url
    assert {p: p.read_bytes() for p in pack.rglob("*") if p.is_file()} == before
    r = client.post("/works/new", data={"csrf": token(client), "title.fr": "Un essai"},
                    headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"})
    assert r.status_code == 200  # what a browser sends from the studio's own page
    fresh = client_for(Studio(pack, Settings(), ENCODER))  # a new browser, no cookie yet
    assert fresh.post("/works/new", data={"csrf": "", "id": "x"}).status_code == 403


def test_script_is_escaped_in_every_field_and_page(client: TestClient, pack: Path) -> None:
    values = form_of(client.get("/works/the-milkmaid/edit").text)
    for name in list(values):
        if name not in ("csrf", "stamp", "priority", "on_view.from", "on_view.until"):
            values[name] = SCRIPT
    for lang in ("fr", "en", "es"):
        values[f"new.questions.{lang}"] = values[f"new.answer.{lang}"] = SCRIPT
    assert client.post("/works/the-milkmaid/edit", data=values).status_code == 200
    faq = form_of(client.get("/faq/cafe/edit").text, "faq-editor")
    faq.update({k: SCRIPT for k in faq if k.startswith(("questions.", "answer."))})
    assert client.post("/faq/cafe/edit", data=faq).status_code == 200
    museum = form_of(client.get("/museum").text, "museum-editor")
    museum.update({k: SCRIPT for k in museum if k.startswith(("name.", "replies."))})
    assert client.post("/museum/edit", data=museum).status_code == 200
    assert (pack / MILKMAID).read_text(encoding="utf-8").count(SCRIPT) > 10
    pages = [client.get(u) for u in (
        "/works", "/works/the-milkmaid/edit", "/faq", "/faq/cafe/edit", "/publish",
        f"/works?q={SCRIPT}", f"/try?q={SCRIPT}&lang=en&about=the-milkmaid",
        f"/try?q={SCRIPT}", "/visitors", f"/works/{SCRIPT}/edit", "/museum")]
    pages.append(client.post("/works/new", data={"csrf": token(client), "id": SCRIPT}))
    pages.append(client.post("/works/the-milkmaid/validate", data=values))
    for r in pages:
        assert "<script>alert" not in r.text, r.url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1].text
    assert "&lt;script&gt;" in pages[5].text and "&lt;script&gt;" in pages[11].text
    assert pages[10].text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 15  # the museum


@pytest.mark.parametrize("url", [
    "/works/..%2F..%2Fmuseum/edit", "/works/../museum.yaml", "/works/%2e%2e/edit",
    "/works/MUSEUM/edit", "/works/.hidden/edit", "/works/the-milkmaid%00/edit",
    "/works/..%5cmuseum/picture", "/faq/..%2Ffaq/edit", "/faq/%2e%2e/edit",
    "/static/../web.py", "/static/%2e%2e/web.py", "/static/..%2Fweb.py",
    "/publish/jobs/..%2F..%2Fetc/", "/try/tests/..%2Fx/delete", "/works/nope/picture",
])
def test_path_tricks_lead_nowhere(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code in (400, 404, 405), (url, r.status_code)
    assert "default_language" not in r.text and "import " not in r.text


def test_tokens_and_pictures_cannot_name_other_files(client: TestClient, pack: Path) -> None:
    csrf = token(client)
    for bad in ("../../museum.yaml", "../exhibits/the-kiss.yaml", "/etc/passwd", ""):
        assert client.post("/works/undo", data={"csrf": csrf, "token": bad}).status_code == 400
    assert (pack / "museum.yaml").is_file() and (pack / "exhibits/the-kiss.yaml").is_file()
    text = (pack / MILKMAID).read_text(encoding="utf-8")
    (pack / MILKMAID).write_text(text.replace("images/the-milkmaid.png", "../../../etc/passwd"),
                                 encoding="utf-8")
    r = client.get("/works/the-milkmaid/picture")
    assert r.headers["content-type"] == "image/svg+xml"  # the placeholder, nothing else
    r = client.post("/visitors/0123456789ab/qa", data={"csrf": csrf, "work": "../museum"})
    assert r.status_code == 404


def test_another_host_name_and_a_wrong_password_are_refused(studio: Studio) -> None:
    c = client_for(studio)
    assert c.get("/works", headers={"host": "evil.example"}).status_code == 400
    locked = client_for(studio, password="s3cret stays")
    assert locked.get("/works").status_code == 401
    assert "basic" in locked.get("/works").headers["www-authenticate"].lower()
    assert locked.get("/works", auth=("curator", "wrong")).status_code == 401
    assert locked.get("/works", auth=("curator", "s3cret stays")).status_code == 200


def test_a_host_off_this_computer_needs_a_password(tmp_path: Path, pack: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("# defaults\n", encoding="utf-8")
    code = kiosk_main(["studio", str(pack), "--host", "0.0.0.0", "--no-browser",
                       "--settings", str(settings)])
    err = capsys.readouterr().err
    assert code == 2 and "password" in err and "[studio] password" in err
    code = kiosk_main(["studio", str(tmp_path), "--no-browser", "--settings", str(settings)])
    assert code == 2 and "museum.yaml" in capsys.readouterr().err


def test_a_new_faq_entry_is_added_and_validates(client: TestClient, pack: Path) -> None:
    values = form_of(client.get("/faq/new").text, "faq-editor")
    values["id"] = "lockers"
    for lang, q, a in (("fr", "Y a-t-il des casiers ?", "Oui, au vestiaire."),
                       ("en", "Are there lockers?", "Yes, in the cloakroom."),
                       ("es", "¿Hay taquillas?", "Sí, en el guardarropa.")):
        values[f"questions.{lang}"], values[f"answer.{lang}"] = q, a
    r = client.post("/faq/new", data=values)
    assert r.status_code == 200 and str(r.url).endswith("/faq/lockers/edit?done=faq-added")
    read, _ = load_pack(pack)
    assert read is not None and read.faq[-1].id == "lockers"
    assert read.faq[-1].answer["en"] == "Yes, in the cloakroom."
    again = client.post("/faq/new", data=values)
    assert again.status_code == 400 and "already taken" in again.text


def test_which_one_is_shown_as_choices(pack: Path) -> None:
    from kiosk.events import Answer, AnswerKind, Source, SourceKind, Suggestion
    from kiosk.studio.web import environment
    from kiosk.studio.web_try import reply

    read, _ = load_pack(pack)
    assert read is not None
    answer = Answer(AnswerKind.CLARIFY, "Which work are you asking about?", "en",
                    Source(SourceKind.REPLY, detail="clarify"), 0.4, (
                        Suggestion("The Milkmaid", "who painted it", "the-milkmaid"),
                        Suggestion("The Kiss", "who painted it", "the-kiss")))
    shown = reply(answer, read)
    assert shown["source"] == "" and shown["work"] == "" and shown["could_ask"] == ""
    explain = {"names": {}, "artists": [], "subjects": [], "intents": [], "decision": "clarify",
               "none": 0.1, "candidates": []}
    page = environment().get_template("try.html").render(
        csrf="t", museum="M", path="/try", flash="", q="who painted it", lang="en", about="",
        langs=["en"], result={"reply": shown, "explain": explain, "lang": "en", "issues": []},
        cases=[], run=None, changed=None, works=[], answerers=[], decline="decline", titles={})
    choices = page.split('id="choices"')[1].split("</ul>")[0]
    assert "about=the-milkmaid" in choices and "The Kiss" in choices
    assert 'id="suggestions"' not in page


def test_a_publication_that_cannot_be_written_stops_in_one_line(
        client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    r = client.post("/publish", data={"csrf": token(client), "target": "other",
                                      "folder": str(tmp_path / "a-file"), "key": "none"})
    job = str(r.url).rsplit("/", 1)[1]
    deadline = time.monotonic() + 60
    while (state := client.get(f"/publish/jobs/{job}.json").json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state["state"] == "failed" and "\n" not in state["message"]
    assert "cannot write" in state["message"]
    r = client.post("/publish", data={"csrf": token(client), "target": "other",
                                      "folder": str(tmp_path / "a-file" / "out"), "key": "none"})
    assert r.status_code == 400
    r = client.post("/publish", data={"csrf": token(client), "target": "9", "key": "none"})
    assert r.status_code == 400
    r = client.post("/publish", data={"csrf": token(client), "target": "0", "key": "/etc/shadow"})
    assert r.status_code == 400


def test_only_loopback_addresses_count_as_this_computer() -> None:
    from kiosk.commands.studio import is_loopback, listening_socket

    assert all(map(is_loopback, ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2")))
    assert not any(map(is_loopback, ("0.0.0.0", "192.168.1.20", "::", "studio.local")))
    sock = listening_socket("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0  # a free port
    finally:
        sock.close()


def test_published_times_read_as_the_curators_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.studio.web import local_time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        assert local_time("2026-12-03T10:17:27Z") == "3 Dec 2026, 11:17"
        assert local_time("2026-07-01T22:05:00+00:00") == "2 Jul 2026, 00:05"
        assert local_time("not a time") == "not a time"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_slow_value_being_made_holds_up_no_other_page(studio: Studio) -> None:
    import threading

    started, release = threading.Event(), threading.Event()
    made: list[str] = []

    def slow() -> str:
        started.set()
        assert release.wait(30)
        made.append("answerer")
        return "the answerer"

    first = threading.Thread(target=lambda: studio.cached("answerer", 1, slow))
    first.start()
    assert started.wait(30)
    cards_done = threading.Event()
    other = threading.Thread(target=lambda: (studio.cached("cards", 1, lambda: "cards"),
                                             cards_done.set()))
    other.start()
    assert cards_done.wait(30)  # made while the answerer is still being made
    second: list[str] = []
    waiting = threading.Thread(target=lambda: second.append(
        studio.cached("answerer", 1, lambda: "made twice")))
    waiting.start()
    release.set()
    for t in (first, other, waiting):
        t.join(30)
    assert made == ["answerer"] and second == ["the answerer"]  # made once, then shared

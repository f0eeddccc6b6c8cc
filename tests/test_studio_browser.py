"""The curator studio in a real browser: Debian's ``chromium`` driven by Playwright for Python
(pointed at the system browser; Playwright's own browser download is never used).

A curator's whole path on a copy of the demo pack, served by uvicorn on a free port of
127.0.0.1 in a background thread: find the work with a missing translation on the works page
and fix it in the editor (the problem goes away as it is typed; the YAML changes by one line),
add a curated Q&A in every language, ask it on the Try page and see the answer and its source,
save it as a test and run the suite, import a kiosk's insights and turn a group of unanswered
questions into a new Q&A, publish a signed bundle and install it with ``kiosk content sync``
on a fresh kiosk data folder. The path runs with the model-free ``HashingEncoder``; one test
asks through the real encoder (``kiosk.qa.encoder.load_encoders``) as a visitor would.

``KIOSK_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_studio_browser.py -k screenshots``
writes ``docs/screenshots/studio-*.png`` (1280×800, and the works page at 390×844).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from kiosk.commands.studio import listening_socket, sign_keys
from kiosk.content import keys
from kiosk.content.loader import load_pack
from kiosk.content.sync import current_version, sync
from kiosk.insights.log import Turn, append_turns
from kiosk.paths import DataDir
from kiosk.ports import Encoder
from kiosk.settings import load_settings
from kiosk.studio.app import create_app
from kiosk.studio.web import Studio
from kiosk.testing import HashingEncoder

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "content" / "demo"
SHOTS = ROOT / "docs" / "screenshots"
MILKMAID = "exhibits/the-milkmaid.yaml"
LANGS = ("fr", "en", "es")
WAIT_MS = 60_000
"""How long the browser waits for a page or an element before the test fails as hung (a
bound against hanging, not a measure: nothing asserts on time)."""
NEW_QA = {
    "fr": ("Qui a posé pour La Laitière ?", "Personne ne sait qui a posé pour la servante de "
           "Vermeer ; c'était peut-être une domestique de sa maison."),
    "en": ("Who posed for The Milkmaid?", "Nobody knows who posed for Vermeer's maid; she "
           "may have been a servant in his own household."),
    "es": ("¿Quién posó para La lechera?", "Nadie sabe quién posó para la criada de Vermeer; "
           "quizá fue una sirvienta de su propia casa."),
}
INSURED = {
    "fr": ("Le tableau est-il assuré ?", "Oui : toutes les œuvres sont assurées, mais la "
           "valeur n'est jamais rendue publique."),
    "en": ("Is the painting insured?", "Yes: every work is insured, but the museum never "
           "makes the value public."),
    "es": ("¿Está asegurado el cuadro?", "Sí: todas las obras están aseguradas, pero el museo "
           "nunca hace público su valor."),
}
VISITORS_ASKED = [
    ("en", "Is the painting insured?"), ("en", "Is this painting insured?"),
    ("en", "How much is the painting insured for?"), ("en", "Is the kiss insured?"),
    ("fr", "Le tableau est-il assuré ?"),
]


def _browser_or_skip() -> tuple[Any, str]:
    """Playwright's sync API and the system chromium (skipped when either is absent — but CI
    installs both, so there it fails instead)."""
    try:
        from playwright import sync_api
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Playwright for Python is not installed (pip install playwright)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return sync_api, chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api, chromium = _browser_or_skip()
    sync_api.expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@contextlib.contextmanager
def served(studio: Studio) -> Iterator[str]:
    """The studio served on a free port of 127.0.0.1 by uvicorn on a thread; its address."""
    import uvicorn

    sock = listening_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(studio), log_level="warning",
                                           access_log=False, server_header=False))
    started = threading.Event()

    def run() -> None:
        server.run(sockets=[sock])
        started.set()  # (it stopped: never leave the test waiting)

    thread = threading.Thread(target=run, name="studio-under-test", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        started.wait(0.02)
    assert server.started, "the studio did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


@contextlib.contextmanager
def page_of(browser: Any, width: int = 1280, height: int = 800) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  device_scale_factor=1)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "leave with unsaved changes?"
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors  # the studio's script threw


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Any]:
    """A copy of the demo pack whose Milkmaid has no Spanish title, a signing key named in the
    settings' ``[studio] sign_keys``, and an output folder for publications."""
    pack = tmp_path / "pack"
    shutil.copytree(DEMO, pack)
    text = (pack / MILKMAID).read_text(encoding="utf-8")
    assert ', es: "La lechera"}' in text
    (pack / MILKMAID).write_text(text.replace(', es: "La lechera"}', "}", 1), encoding="utf-8")
    private, public, kid = keys.generate(tmp_path / "keys" / "museum")
    settings_file = tmp_path / "settings.toml"
    output = tmp_path / "published"
    settings_file.write_text(f'[studio]\nsign_keys = "keys/museum.key"\noutput = "{output}"\n',
                             encoding="utf-8")
    settings = load_settings(settings_file)
    return {"pack": pack, "settings": settings, "keys": sign_keys(settings, settings_file),
            "public": public, "kid": kid, "output": output, "tmp": tmp_path}


def studio_of(site: dict[str, Any], encoder: Encoder) -> Studio:
    return Studio(site["pack"], site["settings"], encoder, sign_keys=site["keys"])


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def insights_folder(root: Path) -> Path:
    """A kiosk's insights folder as its log writes it: visitors asked, five times and in two
    languages, whether the painting is insured, and the kiosk did not know."""
    folder = root / "from-the-kiosk" / "insights"
    folder.mkdir(parents=True)
    turns = [Turn(time=f"2025-03-0{day}T1{i}:0{day}:00+01:00", lang=lang, text=text,
                  outcome="unknown", confidence=0.2)
             for day in (1, 2) for i, (lang, text) in enumerate(VISITORS_ASKED)]
    for day in (1, 2):
        append_turns(folder / f"2025-03-0{day}.json",
                     [asdict(t) for t in turns if t.time.startswith(f"2025-03-0{day}")])
    return folder.parent


# -- the steps of the path -------------------------------------------------------------------

def fix_the_missing_translation(page: Any, base: str, pack: Path) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/works")
    milkmaid = page.locator("#work-the-milkmaid")
    expect(milkmaid.locator('.badge.missing[data-lang="es"]')).to_be_visible()
    page.select_option("#filter-missing", "es")  # a filter applies as soon as it is chosen
    page.wait_for_url(re.compile(r"missing=es"))
    expect(page.locator("#works article.card")).to_have_count(1)
    page.click("#work-the-milkmaid a.edit")
    page.wait_for_url(f"{base}/works/the-milkmaid/edit")
    expect(page.locator("#problems-count")).to_have_text("1")
    expect(page.locator("#problems-list")).to_contain_text("'title' has no Spanish text")
    before = (pack / MILKMAID).read_text(encoding="utf-8")
    page.locator("#f-title-es").press_sequentially("La lechera")
    expect(page.locator("#problems-count")).to_have_text("0")  # checked as it is typed
    expect(page.locator("#problems")).to_have_class(re.compile(r"\bempty\b"))
    expect(page.locator("#save-status")).to_contain_text("no error")
    assert (pack / MILKMAID).read_text(encoding="utf-8") == before  # tried, not saved
    page.click("#save")
    expect(page.locator("#flash")).to_have_text("Saved.")
    assert changed_lines(before, (pack / MILKMAID).read_text(encoding="utf-8")) == [
        '-title: {fr: "La Laitière", en: "The Milkmaid"}',
        '+title: {fr: "La Laitière", en: "The Milkmaid", es: "La lechera"}']
    page.goto(f"{base}/works?missing=es")
    expect(page.locator("#no-works")).to_be_visible()


def add_a_curated_qa(page: Any, base: str, pack: Path) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/works/the-milkmaid/edit")
    count = page.locator("#qa fieldset.qa").count()
    for lang, (question, answer) in NEW_QA.items():
        page.fill(f"#f-new-qa-questions-{lang}", question)
        page.fill(f"#f-new-qa-answer-{lang}", answer)
    expect(page.locator("#save-status")).to_contain_text("no error")
    page.click("#save")
    expect(page.locator("#flash")).to_have_text("Saved.")
    expect(page.locator("#qa fieldset.qa")).to_have_count(count + 1)
    expect(page.locator(f"#f-qa-{count - 1}-answer-en")).to_have_value(NEW_QA["en"][1])
    read, issues = load_pack(pack)
    assert read is not None, [str(i) for i in issues if i.error]
    work = read.exhibit("the-milkmaid")
    assert work is not None and work.title["es"] == "La lechera"
    assert {lang: (work.qa[-1].questions[lang], work.qa[-1].answer[lang]) for lang in LANGS} \
        == {lang: ([q], a) for lang, (q, a) in NEW_QA.items()}


def try_it_and_keep_it_as_a_test(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/try")
    page.fill("#question", NEW_QA["en"][0])
    page.select_option("#lang", "en")
    page.click("#ask")
    page.wait_for_url(re.compile(r"/try\?q="))
    expect(page.locator("#answer-text")).to_have_text(NEW_QA["en"][1])
    expect(page.locator("#answer-source")).to_contain_text("the museum's notes on “The Milkmaid”")
    expect(page.locator("#answer-image")).to_be_visible()
    page.click("#explain summary")
    expect(page.locator("#candidates tbody tr").first).to_contain_text("the-milkmaid")
    expect(page.locator("#expect")).to_have_value("the-milkmaid")  # as answered
    page.click("#save-test-button")
    expect(page.locator("#flash")).to_have_text("Test saved.")
    row = page.locator("#test-results tbody tr", has_text=NEW_QA["en"][0])
    expect(row).to_contain_text("—")  # not run yet
    page.click("#run-tests")
    expect(page.locator("#changes")).to_contain_text(NEW_QA["en"][0])
    expect(row.locator(".badge")).to_have_text("right")
    expect(page.locator("#last-run")).to_contain_text("1 of 1 right")


def turn_a_visitors_group_into_a_qa(page: Any, base: str, pack: Path, tmp: Path) -> None:
    from playwright.sync_api import expect

    folder = insights_folder(tmp)
    page.goto(f"{base}/visitors")
    page.fill("#folder", str(folder))
    page.click("#import")
    expect(page.locator("#flash")).to_have_text("Insights imported.")
    group = page.locator("#groups li.group-item").filter(has_text="insured").first
    expect(group).to_contain_text("times")
    group.locator("input[name=work]").fill("The Kiss")  # a title, as typed
    before = (pack / "exhibits/the-kiss.yaml").read_text(encoding="utf-8")
    group.locator("button[name=to_qa]").click()
    page.wait_for_url(re.compile(r"/works/the-kiss/edit\?draft="))
    expect(page.locator("#draft-note")).to_be_visible()
    expect(page.locator("#f-new-qa-questions-en")).to_have_value(re.compile("insured"))
    asked = page.locator("#f-new-qa-questions-en").input_value().splitlines()
    assert set(asked) <= {text for lang, text in VISITORS_ASKED if lang == "en"} and asked
    assert (pack / "exhibits/the-kiss.yaml").read_text(encoding="utf-8") == before  # a draft
    for lang, (question, answer) in INSURED.items():
        if not page.locator(f"#f-new-qa-questions-{lang}").input_value().strip():
            page.fill(f"#f-new-qa-questions-{lang}", question)  # nobody asked it in this one
        page.fill(f"#f-new-qa-answer-{lang}", answer)
    expect(page.locator("#save-status")).to_contain_text("no error")
    page.click("#save")
    expect(page.locator("#flash")).to_have_text("Saved.")
    read, _ = load_pack(pack)
    assert read is not None
    kiss = read.exhibit("the-kiss")
    assert kiss is not None and kiss.qa[-1].answer == {k: a for k, (_, a) in INSURED.items()}
    assert "Is the painting insured?" in kiss.qa[-1].questions["en"]


def publish_signed(page: Any, base: str, site: dict[str, Any]) -> str:
    """Publish to the output folder, signed; the published bundle's id."""
    from playwright.sync_api import expect

    page.goto(f"{base}/publish")
    expect(page.locator("#change-added")).to_contain_text("the-milkmaid")  # never published
    expect(page.locator("#key option").first).to_contain_text(site["kid"])
    expect(page.locator("#target-0")).to_be_checked()
    assert "PRIVATE KEY" not in page.content()
    page.select_option("#key", index=0)
    page.click("#publish")
    page.wait_for_url(re.compile(r"/publish/jobs/"))
    expect(page.locator("#publish-job")).to_have_attribute("data-state", "done")
    expect(page.locator("#publish-summary")).to_be_visible()
    expect(page.locator('#publish-summary [data-key="added"]')).to_contain_text("the-kiss")
    status = page.locator("#publish-status").inner_text()
    shown = re.search(r"Bundle ([0-9a-f]{12}) written", status)
    assert shown is not None, status
    page.click("#back-to-publish")
    expect(page.locator("#published tbody tr")).to_have_count(1)
    row = page.locator("#published tbody tr").first
    expect(row).to_contain_text(shown.group(1))
    expect(row).to_contain_text(site["kid"])
    bundles = [p for p in site["output"].iterdir() if p.is_dir()]
    assert len(bundles) == 1 and (bundles[0] / "signature.json").is_file()
    manifest = json.loads((bundles[0] / "manifest.json").read_text(encoding="utf-8"))
    assert str(manifest["id"]).startswith(shown.group(1))
    return str(manifest["id"])


# -- the tests --------------------------------------------------------------------------------

def test_a_curators_whole_path(browser: Any, site: dict[str, Any]) -> None:
    encoder = HashingEncoder()
    pack = site["pack"]
    with served(studio_of(site, encoder)) as base, page_of(browser) as page:
        fix_the_missing_translation(page, base, pack)
        add_a_curated_qa(page, base, pack)
        try_it_and_keep_it_as_a_test(page, base)
        turn_a_visitors_group_into_a_qa(page, base, pack, site["tmp"])
        bundle_id = publish_signed(page, base, site)
    # a kiosk that trusts only the museum's key installs it
    data = DataDir(site["tmp"] / "kiosk-data")
    trusted = keys.trusted_keys(str(site["public"]))
    message = sync(data, site["output"], encoder.model_id, encoder.sha256, trusted=trusted)
    assert current_version(data) == bundle_id, message
    assert f"signed by {site['kid']}" in message


@pytest.mark.models
def test_try_it_answers_as_a_visitor_hears_it_with_the_real_encoder(
        browser: Any, site: dict[str, Any], encoder: Encoder) -> None:
    """While a work has an error the kiosk cannot answer, and the Try page says why; once it
    is fixed, a question in Spanish, in words of its own, with the language left to guess, is
    answered in Spanish from the Milkmaid's notes; then the curator's new Q&A, asked in other
    words than the curator wrote, is what answers."""
    from playwright.sync_api import expect

    with served(studio_of(site, encoder)) as base, page_of(browser) as page:
        page.goto(f"{base}/try?q=Who+painted+the+Milkmaid%3F")
        expect(page.locator("#answer")).to_contain_text("'title' has no Spanish text")
        fix_the_missing_translation(page, base, site["pack"])
        page.goto(f"{base}/try")
        page.fill("#question", "¿Quién pintó la lechera de la ventana?")
        page.click("#ask")
        expect(page.locator("#answer")).to_have_attribute("data-kind", "answer")
        expect(page.locator("#answer-kind")).to_contain_text("Spanish")
        expect(page.locator("#answer-text")).to_contain_text("Vermeer")
        expect(page.locator("#answer-source")).to_contain_text("“La lechera”")
        expect(page.locator("#answer-image")).to_have_attribute(
            "src", re.compile("/works/the-milkmaid/picture"))
        page.click("#explain summary")
        expect(page.locator("#candidates tbody tr").first).to_contain_text("the-milkmaid")
        add_a_curated_qa(page, base, site["pack"])
        page.goto(f"{base}/try?about=the-milkmaid")
        page.fill("#question", "Do we know who the model for this maid was?")
        page.select_option("#lang", "en")
        page.click("#ask")
        expect(page.locator("#answer-text")).to_have_text(NEW_QA["en"][1])
        expect(page.locator("#answer-source")).to_contain_text("“The Milkmaid”")


# -- screenshots (a script, not a test: KIOSK_SCREENSHOTS=1) ----------------------------------

SHOT_MAX_BYTES = 300_000
SCREENSHOT_VISITORS = [
    # (turns, lang, text, outcome, source, confidence)
    (4, "en", "Is the painting insured?", "unknown", None, 0.21),
    (2, "en", "How much is this painting insured for?", "unknown", None, 0.18),
    (2, "fr", "Le tableau est-il assuré ?", "unknown", None, 0.2),
    (1, "es", "¿Está asegurado el cuadro?", "unknown", None, 0.2),
    (3, "en", "Is this the real painting or a copy?", "unknown", None, 0.3),
    (2, "fr", "C'est le vrai tableau ou une copie ?", "unknown", None, 0.28),
    (2, "en", "Can I touch the frame?", "unknown", None, 0.25),
    (2, "es", "¿Hay wifi en el museo?", "unknown", None, 0.15),
    (3, "en", "How old was Vermeer when he painted it?", "answer", "the-milkmaid", 0.52),
    (2, "fr", "Combien de temps a duré la peinture de La Ronde de nuit ?", "answer",
     "the-night-watch", 0.48),
]


def real_or_hashing_encoder() -> Encoder:
    """The kiosk's own encoder when it is installed (the Try page as visitors get it)."""
    from kiosk.errors import ModelError
    from kiosk.paths import resolve_data_dir
    from kiosk.qa.encoder import load_encoders
    from kiosk.settings import Settings

    try:
        return load_encoders(DataDir(resolve_data_dir()), Settings().models.encoder)
    except ModelError as exc:
        print(f"screenshots: the real encoder is not installed ({exc}); using HashingEncoder")
        return HashingEncoder()


def shoot(page: Any, name: str) -> None:
    """``docs/screenshots/<name>.png`` of the viewport, quantized when it is too large."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.wait_for_load_state("networkidle")
    page.evaluate("""() => Promise.all([...document.images].map(i => {
                         i.loading = "eager";  // (a lazy picture out of sight never loads)
                         return i.complete ? null :
                             new Promise(done => { i.onload = i.onerror = done; });
                     }))""")
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), type="png")
    if path.stat().st_size > SHOT_MAX_BYTES:
        from PIL import Image

        with Image.open(path) as shot:
            small = shot.convert("RGB").quantize(colors=192, dither=Image.Dither.NONE)
        out = io.BytesIO()
        small.save(out, "PNG", optimize=True)
        path.write_bytes(out.getvalue())
    assert path.stat().st_size <= SHOT_MAX_BYTES, (path, path.stat().st_size)


def screenshot_insights(root: Path) -> Path:
    folder = root / "kiosk-usb" / "insights"
    folder.mkdir(parents=True)
    turns = []
    for n, (times, lang, text, outcome, source, confidence) in enumerate(SCREENSHOT_VISITORS):
        for i in range(times):
            turns.append(asdict(Turn(
                time=f"2025-03-{1 + i % 7:02d}T{10 + n % 8}:{10 + i:02d}:00+01:00", lang=lang,
                text=text, outcome=outcome, source=source,
                source_kind="description" if source else None, confidence=confidence)))
    for day in sorted({t["time"][:10] for t in turns}):
        append_turns(folder / f"{day}.json", [t for t in turns if t["time"].startswith(day)])
    return folder.parent


@pytest.mark.skipif(not os.environ.get("KIOSK_SCREENSHOTS"),
                    reason="writes docs/screenshots/studio-*.png: set KIOSK_SCREENSHOTS=1")
def test_screenshots(browser: Any, site: dict[str, Any]) -> None:
    """The studio's pages as docs/screenshots/studio-*.png, on a copy of the demo pack that a
    curator is part-way through: one work lacks its Spanish title, one is on view for a
    season, a kiosk's insights are imported, one version is published."""

    pack = site["pack"]
    shutil.copyfile(DEMO / MILKMAID, pack / MILKMAID)  # (this one is whole here)
    pearl = pack / "exhibits/girl-with-a-pearl-earring.yaml"
    text = pearl.read_text(encoding="utf-8")
    pearl.write_text(re.sub(r'(title: \{[^}\n]*), es: "[^"]*"\}', r"\1}", text, count=1),
                     encoding="utf-8")
    bridge = pack / "exhibits/bridge-over-a-pond-of-water-lilies.yaml"
    text = bridge.read_text(encoding="utf-8")
    bridge.write_text(text.replace("\npriority: 0\n",
                                   "\npriority: 10\non_view: {from: 2025-04-01, until: "
                                   "2025-09-30}\n", 1), encoding="utf-8")
    read, issues = load_pack(pack)
    assert read is None or read.exhibit("girl-with-a-pearl-earring") is not None
    assert any("'title' has no Spanish text" in str(i) for i in issues)
    # publications go to a folder whose name a reader may see (not pytest's own)
    shown = Path(tempfile.gettempdir()) / "museum"
    shutil.rmtree(shown, ignore_errors=True)
    settings = site["settings"]
    site["settings"] = replace(settings, studio=replace(settings.studio,
                                                        output=str(shown / "published")))
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        take_screenshots(browser, site)
    finally:
        shutil.rmtree(shown, ignore_errors=True)


def take_screenshots(browser: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    with served(studio_of(site, real_or_hashing_encoder())) as base:
        with page_of(browser, 390, 844) as phone:
            phone.goto(f"{base}/works")
            shoot(phone, "studio-phone-works")
        with page_of(browser) as page:
            page.goto(f"{base}/works")
            expect(page.locator('#work-girl-with-a-pearl-earring .badge.missing')).to_be_visible()
            shoot(page, "studio-works")

            page.goto(f"{base}/museum")
            for lang in ("fr", "en", "es"):  # emptied: the kiosk's own words, in grey
                page.fill(f"#f-replies-greeting-{lang}", "")
            page.fill("#f-name-es", "")  # and a problem, shown at its field as you type
            expect(page.locator("#f-name-es + .field-problem")).to_be_visible()
            scroll_under_header(page, "#museum-editor")
            shoot(page, "studio-museum")

            page.goto(f"{base}/works/girl-with-a-pearl-earring/edit")
            field = page.locator("#f-title-es")
            field.press_sequentially("La joven")
            field.fill("")  # typed, then rubbed out: the problem is shown at the field too
            expect(page.locator("#save-status")).to_contain_text("1 error")
            expect(page.locator("#f-title-es + .field-problem")).to_be_visible()
            shoot(page, "studio-edit")
            field.fill("La joven de la perla")
            expect(page.locator("#save-status")).to_contain_text("no error")
            page.click("#save")
            expect(page.locator("#flash")).to_have_text("Saved.")

            page.goto(f"{base}/try")
            page.fill("#question", "Why is the bread so shiny?")
            page.select_option("#about", "the-milkmaid")
            page.click("#ask")
            expect(page.locator("#answer-text")).to_contain_text("Vermeer")
            page.click("#explain summary")
            page.click("#save-test-button")
            page.goto(f"{base}/try?" + "q=%C2%BFQui%C3%A9n+pint%C3%B3+la+lechera+de+la+ventana%3F")
            page.click("#explain summary")
            scroll_under_header(page, "#ask-form")
            shoot(page, "studio-try")

            page.goto(f"{base}/visitors")
            page.fill("#folder", str(screenshot_insights(site["tmp"])))
            page.click("#import")
            expect(page.locator("#flash")).to_have_text("Insights imported.")
            page.locator("#groups details").first.locator("summary").click()
            scroll_under_header(page, "#h-groups")
            shoot(page, "studio-visitors")

            publish_signed_for_screenshot(page, base)
            # then the curator's next edits: a Q&A added, a work added; published again
            add_qa_and_save(page, f"{base}/works/the-milkmaid/edit", NEW_QA)
            publish_signed_for_screenshot(page, base)
            add_qa_and_save(page, f"{base}/works/the-kiss/edit", INSURED)
            page.goto(f"{base}/works")
            page.click("#add-work-open")
            for lang, title in (("fr", "Le Baiser, étude"), ("en", "The Kiss, study"),
                                ("es", "El beso, estudio")):
                page.fill(f"#new-title-{lang}", title)
            page.click("#add")
            page.wait_for_url(re.compile(r"/works/le-baiser-etude/edit"))
            for lang, about in (("fr", "Une première idée du Baiser, au crayon."),
                                ("en", "A first idea for The Kiss, in pencil."),
                                ("es", "Una primera idea de El beso, a lápiz.")):
                page.fill(f"#f-artist-{lang}", "Gustav Klimt")
                page.fill(f"#f-description-{lang}", about)
            expect(page.locator("#save-status")).to_contain_text("no error")
            page.click("#save")
            expect(page.locator("#flash")).to_have_text("Saved.")
            page.goto(f"{base}/publish")
            expect(page.locator("#change-edited")).to_contain_text("the-kiss")
            expect(page.locator("#published tbody tr")).to_have_count(2)
            # the list of versions in full, and as much of the changes above it as fits
            page.locator("#published").scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, document.querySelector('#published')"
                          ".getBoundingClientRect().bottom - window.innerHeight + 40)")
            shoot(page, "studio-publish")


def add_qa_and_save(page: Any, editor: str, qa: dict[str, tuple[str, str]]) -> None:
    """Open a work's editor, fill in a new Q&A (question and answer per language), save."""
    from playwright.sync_api import expect

    page.goto(editor)
    for lang, (question, answer) in qa.items():
        page.fill(f"#f-new-qa-questions-{lang}", question)
        page.fill(f"#f-new-qa-answer-{lang}", answer)
    page.click("#save")
    expect(page.locator("#flash")).to_have_text("Saved.")


def scroll_under_header(page: Any, selector: str) -> None:
    """Scroll the page so that ``selector`` starts just below the studio's sticky header."""
    page.evaluate("""s => window.scrollBy(0, document.querySelector(s).getBoundingClientRect()
                     .top - document.querySelector("header.top").offsetHeight - 16)""", selector)


def publish_signed_for_screenshot(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/publish")
    page.select_option("#key", index=0)
    page.click("#publish")
    expect(page.locator("#publish-job")).to_have_attribute("data-state", "done")

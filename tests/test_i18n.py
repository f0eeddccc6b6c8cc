"""The interface's words in gettext catalogs: complete, compiled, and a new language is a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog

from kiosk.i18n import LOCALE, catalog, language_name, languages, placeholders, translate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import strings  # noqa: E402  (scripts/strings.py: `make strings`)


def test_the_catalogs_are_up_to_date() -> None:
    """Every marked message is in the template and translated in fr and es; the .mo are fresh."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "strings.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "the catalogs are up to date"
    assert languages() == ["es", "fr"]


def test_the_screen_speaks_each_language() -> None:
    assert translate("fr", "Room {room}", room="3") == "Salle 3"
    assert translate("es", "You asked: “{question}”", question="¿qué?") == "Ha preguntado: «¿qué?»"
    assert translate("fr", "You could ask:") == "Vous pouvez demander :"
    assert translate("ko", "Room {room}", room="3") == "Room 3"  # no catalog: English
    assert translate("en", "Back") == "Back"
    assert language_name("fr") == "Français" and language_name("sv") == "SV"


def test_the_check_catches_what_a_translator_can_get_wrong(tmp_path: Path) -> None:
    """A dropped {placeholder}, an empty message in a shipped language, a stale .mo."""
    template = strings.extract()
    fr = strings.read(strings.catalog_path("fr"), "fr")
    fr["Room {room}"].string = "Salle"
    fr["Back"].string = ""
    compiled = strings.catalog_path("fr", ".mo", tmp_path)
    compiled.parent.mkdir(parents=True)
    compiled.write_bytes((LOCALE / "fr" / "LC_MESSAGES" / "kiosk.mo").read_bytes())
    found = list(strings.problems("fr", fr, template, tmp_path))
    assert any("“Room {room}” is translated with [] where it has ['room']" in p for p in found)
    assert any("“Back” is not translated" in p for p in found)
    assert any("kiosk.mo is not compiled from kiosk.po" in p for p in found)
    del fr["Stop"]
    assert any("not updated (1 new messages)" in p
               for p in strings.problems("fr", fr, template, tmp_path))


def test_a_new_language_is_one_catalog(tmp_path: Path) -> None:
    """What `make strings ADD=de` starts, translated in part and compiled, is what the kiosk
    reads: the translated messages in German, the rest in English."""
    template = strings.read(strings.TEMPLATE)
    de = Catalog(**strings.HEADER, locale="de", fuzzy=False)
    de.update(template)
    de["Back"].string = "Zurück"
    de["Room {room}"].string = "Saal {room}"
    compiled = strings.catalog_path("de", ".mo", tmp_path)
    compiled.parent.mkdir(parents=True)
    compiled.write_bytes(strings.mo_bytes(de))
    german = catalog("de", tmp_path)
    assert german.gettext("Back") == "Zurück"
    assert german.gettext("Room {room}").format(room="2") == "Saal 2"
    assert german.gettext("Stop") == "Stop"
    assert languages(tmp_path) == ["de"]
    assert list(strings.problems("de", de, template, tmp_path)) == []  # (not shipped: may lag)


def test_placeholders() -> None:
    assert placeholders("From the museum's notes on {title}") == {"title"}
    assert placeholders("{title} — {value}.") == {"title", "value"}
    assert placeholders("Stop") == frozenset()


def test_a_message_inside_an_f_string_is_caught(tmp_path: Path) -> None:
    """Babel's extractor misses a marked call inside an f-string; the check reads the code's
    syntax tree too, so such a message cannot silently stay in English."""
    (tmp_path / "screen.py").write_text(
        'print(f"  {translate(lang, \'You could ask:\')}")\nprint(translate(lang, "Back"))\n'
        'label = N_("Stop")\n', encoding="utf-8")
    extracted = {str(m.id) for m in strings.extract(tmp_path) if m.id}
    assert extracted == {"Back", "Stop"}
    assert set(strings.marked_in_python(tmp_path)) == {"You could ask:", "Back", "Stop"}

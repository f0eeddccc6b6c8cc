"""Hostile or broken pack files (the red team's list) give one line naming the file and what to
do: never a traceback, a hang, or unbounded memory or time. Every file is made here, in tmp_path.

The heavy ones run `kiosk content validate` in a child process held to 2 GB of memory and a
time limit, as a curator's machine would run it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.content.loader import load_pack
from kiosk.settings import LimitSettings
from tests.packs import MILKMAID, MUSEUM, make_pack

LIMITS = LimitSettings()

MEMORY = 2 * 1024**3
"""The child's address-space limit (bytes): the billion laughs used to take 4 GB."""
SECONDS = 120
"""The child's time limit: each case takes about a second (the 100,000-value one, six)."""


def errors_of(root: Path) -> list[str]:
    pack, issues = load_pack(root)
    errors = [str(i) for i in issues if i.error]
    assert (pack is None) == bool(errors)
    assert all("\n" not in str(i) for i in issues)
    return errors


def only_error(root: Path) -> str:
    errors = errors_of(root)
    assert len(errors) == 1, "\n".join(errors)
    return errors[0]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def validate_in_child(root: Path, rel: str) -> str:
    """Run `kiosk content validate` on ``root``; return the one output line naming ``rel``."""
    run = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "content", "validate", str(root)],
        capture_output=True, text=True, timeout=SECONDS, preexec_fn=_limit_memory)
    out = run.stdout + run.stderr
    assert "Traceback" not in out, out[-3000:]
    assert run.returncode in (1, 2), out[-3000:]
    lines = [line for line in out.splitlines() if rel in line]
    assert len(lines) == 1, out[-3000:]
    assert len(lines[0]) < 400, lines[0][:400]
    return lines[0]


def exhibit(**fields: str) -> str:
    """A valid one-language exhibit, some fields replaced by raw YAML."""
    base = {"title": "T", "artist": "A", "date": "about 1658", "medium": "oil", "room": "Room 1",
            "description": "{en: D}"}
    return "".join(f"{k}: {v}\n" for k, v in (base | fields).items())


ONE_LANGUAGE = {"museum.yaml": "name: M\nlanguages: [en]\ndefault_language: en\n",
                "exhibits/the-milkmaid.yaml": exhibit(), "exhibits/the-great-wave.yaml": None,
                "faq.yaml": None}


# --- the heavy ones, in a child process -------------------------------------------------------

def test_billion_laughs_is_refused_before_it_expands(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    root = make_pack(tmp_path, {"exhibits/laughs.yaml": "\n".join(lines) + "\n"})
    line = validate_in_child(root, "exhibits/laughs.yaml")
    assert line.endswith("exhibits/laughs.yaml:1: error: YAML anchor '&a' — content packs may "
                         "not use anchors or aliases (&name, *name, <<:); write each value out "
                         "in full"), line


def test_an_alias_alone_is_refused(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"exhibits/the-milkmaid.yaml": MILKMAID + "aliases: [*x]\n"})
    assert "exhibits/the-milkmaid.yaml:21: error: YAML alias '*x' — content packs may not use" \
        in only_error(root)


def test_a_50_mb_faq_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    entry = ('- id: q{i}\n  questions: {{en: ["Where are the toilets {i}?"]}}\n'
             '  answer: {{en: "On the ground floor, next to the cloakroom."}}\n')
    root = make_pack(tmp_path)
    with (root / "faq.yaml").open("w", encoding="utf-8") as fh:
        for i in range(380_000):
            fh.write(entry.format(i=i))
    assert (root / "faq.yaml").stat().st_size > 40 * 1024**2
    line = validate_in_child(root, "faq.yaml")
    assert line.endswith("faq.yaml: error: the file is larger than 2 MB ([limits] file_mb), "
                         "far more than any museum's content — split it or check that it is "
                         "the right file"), line


@pytest.mark.parametrize("nesting", ["flow", "block"])
def test_deep_nesting_is_refused_at_its_line(tmp_path: Path, nesting: str) -> None:
    if nesting == "flow":
        text = "title: " + "[" * 200_000 + "]" * 200_000 + "\n"
    else:
        text = "".join(" " * i + f"k{i}:\n" for i in range(2_000)) + " " * 2_000 + "end\n"
    root = make_pack(tmp_path, {"exhibits/deep.yaml": text})
    line = validate_in_child(root, "exhibits/deep.yaml")
    where = "deep.yaml:1:" if nesting == "flow" else "deep.yaml:50:"
    assert f"{where} error: nested more than 50 levels deep — a pack needs 6 at most; check " \
           "the indentation and the brackets" in line, line


def test_a_fifo_is_never_opened(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"faq.yaml": None})
    os.mkfifo(root / "exhibits" / "pipe.yaml")  # opening it for reading would wait forever
    os.mkfifo(root / "faq.yaml")
    for rel in ("exhibits/pipe.yaml", "faq.yaml"):
        line = validate_in_child(root, rel)
        assert line.endswith(f"{rel}: error: it is a named pipe (FIFO), not a file — replace it "
                             "with a YAML text file"), line


@pytest.mark.slow
def test_too_many_values_are_refused(tmp_path: Path) -> None:
    rows = ",".join("[" + ",".join(["a"] * 1_999) + "]" for _ in range(60))
    root = make_pack(tmp_path, {"exhibits/x.yaml": f"tags: [{rows}]\n"})
    line = validate_in_child(root, "exhibits/x.yaml")
    assert ("exhibits/x.yaml:1: error: more than 100,000 values in one file ([limits] "
            "values_per_file) — split it") in line


# --- the rest, in this process ----------------------------------------------------------------

def test_too_many_records_are_refused(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"faq.yaml": "- a\n" * 2_001})
    assert only_error(root) == ("faq.yaml:2001: error: the file has more than 2,000 entries "
                                "([limits] entries_per_list) — no museum needs so many; split "
                                "the file or remove entries")
    qa = "qa:\n" + "  - {questions: {en: [q]}, answer: {en: a}}\n" * 2_001
    root = make_pack(tmp_path / "qa", ONE_LANGUAGE | {"exhibits/the-milkmaid.yaml": exhibit()
                                                      + qa})
    assert "the-milkmaid.yaml:2008: error: 'qa' has more than 2,000 entries" in only_error(root)


CONTROL = [
    ("NUL", "\x00", "U+0000"), ("escape", "\x1b", "U+001B"), ("backspace", "\x08", "U+0008"),
]


@pytest.mark.parametrize(("name", "char", "code"), CONTROL, ids=[c[0] for c in CONTROL])
def test_a_control_character_names_file_and_line(tmp_path: Path, name: str, char: str,
                                                 code: str) -> None:
    root = make_pack(tmp_path, {"exhibits/the-milkmaid.yaml": MILKMAID.replace(
        "oil on canvas", f"oil on{char} canvas")})
    assert only_error(root) == (
        f"exhibits/the-milkmaid.yaml:4: error: a control character ({code}) is in the text — "
        "delete it (copying from a PDF or a word processor can leave one) and save again")


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    root = make_pack(tmp_path)
    (root / "museum.yaml").write_bytes(MUSEUM.encode() + b"# caf\xe9 (Latin-1)\n")
    assert only_error(root) == "museum.yaml:6: error: not UTF-8 text — save the file as UTF-8"


TOO_LONG = [
    ("title", {"title": "x" * 1_000_000}, "exhibits/the-milkmaid.yaml:1: error: 'title' is "
     "1,000,000 characters long, more than the 500 allowed ([limits] short_text_chars) — "
     "shorten it"),
    ("translated title", {"title": "{en: " + "x" * 501 + "}"}, "exhibits/the-milkmaid.yaml:1: "
     "error: 'title.en' is 501 characters long, more than the 500 allowed ([limits] "
     "short_text_chars) — shorten it"),
    ("description", {"description": "{en: " + "x" * 20_001 + "}"}, "exhibits/the-milkmaid.yaml:"
     "6: error: 'description.en' is 20,001 characters long, more than the 20,000 allowed"),
    ("question", {"qa": "[{questions: {en: [" + "x" * 501 + "]}, answer: {en: a}}]"},
     "exhibits/the-milkmaid.yaml:7: error: 'qa[0].questions.en[0]' is 501 characters long"),
    ("field name", {"x" * 600: "1"}, "exhibits/the-milkmaid.yaml:7: error: a field name is 600 "
     "characters long, more than the 500 allowed ([limits] short_text_chars) — shorten it"),
]


@pytest.mark.parametrize(("name", "fields", "expected"), TOO_LONG, ids=[c[0] for c in TOO_LONG])
def test_an_over_long_text_is_refused(tmp_path: Path, name: str, fields: dict[str, str],
                                      expected: str) -> None:
    root = make_pack(tmp_path, ONE_LANGUAGE | {"exhibits/the-milkmaid.yaml": exhibit(**fields)})
    assert only_error(root).startswith(expected)


def test_texts_up_to_the_limits_are_fine(tmp_path: Path) -> None:
    long = exhibit(title="t" * LIMITS.short_text_chars,
                   description="{en: " + "d" * LIMITS.long_text_chars + "}",
                   qa="[{questions: {en: [" + "q" * LIMITS.short_text_chars + "]}, answer: {en: "
                      + "a" * LIMITS.long_text_chars + "}}]")
    assert errors_of(make_pack(tmp_path, ONE_LANGUAGE | {"exhibits/the-milkmaid.yaml": long})) \
        == []


def test_a_folder_named_like_a_pack_file(tmp_path: Path) -> None:
    root = make_pack(tmp_path)
    (root / "exhibits" / "old.yaml").mkdir()
    assert only_error(root) == (
        "exhibits/old.yaml: error: it is a folder, not a file — move it out of the pack, or "
        "rename it so that its name does not end in .yaml")
    root = make_pack(tmp_path / "museum", {"museum.yaml": None})
    (root / "museum.yaml").mkdir()
    assert only_error(root).startswith("museum.yaml: error: it is a folder, not a file")


def test_links_that_lead_nowhere_or_to_a_device(tmp_path: Path) -> None:
    root = make_pack(tmp_path)
    (root / "exhibits" / "gone.yaml").symlink_to("nowhere.yaml")
    (root / "exhibits" / "loop.yaml").symlink_to("loop.yaml")
    (root / "exhibits" / "zero.yaml").symlink_to("/dev/zero")
    assert errors_of(root) == [
        "exhibits/gone.yaml: error: it is a link to 'nowhere.yaml', which does not exist — copy "
        "the file itself into the pack",
        "exhibits/loop.yaml: error: it cannot be read (Too many levels of symbolic links) — "
        "check the file and the folders above it",
        "exhibits/zero.yaml: error: it is a device, not a file — replace it with a YAML text file",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file(tmp_path: Path) -> None:
    root = make_pack(tmp_path)
    (root / "faq.yaml").chmod(0)
    assert only_error(root) == ("faq.yaml: error: it cannot be read (Permission denied) — make "
                                "it readable by the user who runs kiosk (e.g. chmod a+r)")


IDS = [
    ("file name with a space", {"exhibits/My Work.yaml": MILKMAID},
     "exhibits/My Work.yaml: error: the file name 'My Work' is not a valid id — rename the file "
     "to 'my-work.yaml' (lowercase letters, digits and hyphens), or add an 'id:' line"),
    ("file name with accents", {"exhibits/Nymphéas (1914).yml": MILKMAID},
     "exhibits/Nymphéas (1914).yml: error: the file name 'Nymphéas (1914)' is not a valid id — "
     "rename the file to 'nympheas-1914.yml'"),
    ("file name with a line break", {"exhibits/two\nlines.yaml": MILKMAID},
     "exhibits/two\\nlines.yaml: error: the file name 'two\\nlines' is not a valid id — rename "
     "the file to 'two-lines.yaml'"),
    ("id field", {"exhibits/the-milkmaid.yaml": "id: My Work\n" + MILKMAID},
     "exhibits/the-milkmaid.yaml:1: error: 'id' = 'My Work' is not a valid id — use lowercase "
     "letters, digits and hyphens, e.g. 'my-work'"),
    ("id field ending in a line break", {"exhibits/the-milkmaid.yaml": 'id: "work\\n"\n'
                                         + MILKMAID},
     "exhibits/the-milkmaid.yaml:1: error: 'id' = 'work\\n' is not a valid id"),
    ("FAQ id", {"faq.yaml": '- {id: "Toilets!", questions: {en: [q], fr: [q], es: [q]}, '
                            'answer: {en: a, fr: a, es: a}}\n'},
     "faq.yaml:1: error: '[0].id' = 'Toilets!' is not a valid id — use lowercase letters, "
     "digits and hyphens, e.g. 'toilets'"),
]


@pytest.mark.parametrize(("name", "files", "expected"), IDS, ids=[c[0] for c in IDS])
def test_an_id_the_bundle_would_refuse_is_refused_now(tmp_path: Path, name: str,
                                                      files: dict[str, str],
                                                      expected: str) -> None:
    root = make_pack(tmp_path, {"exhibits/the-milkmaid.yaml": None} | files)
    assert only_error(root).startswith(expected)


def test_an_id_the_bundle_accepts_is_accepted(tmp_path: Path) -> None:
    assert errors_of(make_pack(tmp_path, {"exhibits/the_milkmaid_2.yaml": MILKMAID,
                                          "exhibits/the-milkmaid.yaml": None})) == []


def test_a_huge_priority_is_out_of_range(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"exhibits/the-milkmaid.yaml": MILKMAID.replace(
        "priority: 1", "priority: " + "9" * 400)})
    assert only_error(root).startswith("exhibits/the-milkmaid.yaml:7: error: 'priority' = 99999")
    assert only_error(root).endswith("… is out of range — use a whole number from -100 to 100")

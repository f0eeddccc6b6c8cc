"""The editor's form and the YAML tree, both ways: the fields a work (or an FAQ entry) shows,
with the pack's languages side by side, and the few edits a posted form makes to the tree.

Only what the curator changed becomes an edit, so that everything else keeps its text and
formatting (``git diff`` after one changed field shows one line). A localized field written
once for every language (``artist: Johannes Vermeer``) stays one text while its languages agree.
Field names are the value's path, dotted: ``title.fr``, ``qa.2.questions.en`` (one phrasing a
line), ``on_view.from``; ``qa.2.remove`` drops a Q&A, ``new.questions.en`` / ``new.answer.en``
add one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.content import schema
from kiosk.studio import yamltree

Key = str | int

SHORT = ("title", "artist", "date", "medium", "dimensions", "room")
"""Localized one-line fields of a work, in the editor's order."""
LONG = ("description",)
"""Localized paragraphs."""
LABELS = {
    "title": "Title", "artist": "Artist", "date": "Date", "medium": "Medium",
    "dimensions": "Dimensions", "room": "Room", "description": "Description",
}
ISO_DATE = re.compile(schema.ISO_DATE)


@dataclass(frozen=True)
class Edit:
    """One change to the tree."""

    path: tuple[Key, ...]
    """Where, from the file's root."""
    value: Any = None
    """The new value (ignored when ``delete``)."""
    delete: bool = False
    """Remove the key or list item instead."""


@dataclass
class Changes:
    """What one posted form does to a file."""

    edits: list[Edit] = field(default_factory=list)
    """Values set or removed (list items removed last, highest index first)."""
    new_qa: tuple[dict[str, list[str]], dict[str, str]] | None = None
    """A curated Q&A to append: phrasings and answer per language."""
    new_faq: tuple[str, dict[str, list[str]], dict[str, str]] | None = None
    """An FAQ entry to append: id, phrasings and answer per language."""
    problems: list[str] = field(default_factory=list)
    """Fields that could not be read (a priority that is not a number)."""


def get(data: Any, path: Sequence[Key]) -> Any:
    """The value at ``path``, or None when any step is missing."""
    node = data
    for key in path:
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return None
    return node


def text(value: Any) -> str:
    """A text as posted or read: Windows line ends folded, outer blanks cut."""
    return "" if value is None else str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def lines(value: Any) -> list[str]:
    """One entry per non-blank line."""
    return [line.strip() for line in text(value).split("\n") if line.strip()]


def commas(value: Any) -> list[str]:
    return [part.strip() for part in text(value).split(",") if part.strip()]


def iso(value: Any) -> str:
    """A date as the editor shows it (YAML may hold a date or a text)."""
    return value.isoformat()[:10] if isinstance(value, dt.date) else text(value)


# -- the tree → the fields ----------------------------------------------------------------------


def localized(value: Any, langs: Sequence[str]) -> dict[str, str]:
    """A text-or-mapping as one text per language ('' where none is written)."""
    if isinstance(value, str):
        return {lang: text(value) for lang in langs}
    if isinstance(value, Mapping):
        return {lang: text(value.get(lang)) for lang in langs}
    return {lang: "" for lang in langs}


def phrasings(value: Any, langs: Sequence[str]) -> dict[str, str]:
    """Questions per language, one a line."""
    value = value if isinstance(value, Mapping) else {}
    out = {}
    for lang in langs:
        items = value.get(lang)
        out[lang] = "\n".join(text(q) for q in items) if isinstance(items, list) else text(items)
    return out


def work_fields(data: Any, langs: Sequence[str]) -> dict[str, Any]:
    """Everything the editor shows of one work."""
    data = data if isinstance(data, Mapping) else {}
    on_view = data.get("on_view") if isinstance(data.get("on_view"), Mapping) else {}
    qa = data.get("qa") if isinstance(data.get("qa"), list) else []
    return {
        "short": [(name, LABELS[name], localized(data.get(name), langs)) for name in SHORT],
        "long": [(name, LABELS[name], localized(data.get(name), langs)) for name in LONG],
        "image": text(data.get("image")),
        "aliases": "\n".join(text(a) for a in _items(data.get("aliases"))),
        "tags": ", ".join(text(t) for t in _items(data.get("tags"))),
        "priority": text(data.get("priority")) or "0",
        "on_view_from": iso(on_view.get("from")),
        "on_view_until": iso(on_view.get("until")),
        "qa": [qa_fields(item, langs) for item in qa],
    }


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def qa_fields(item: Any, langs: Sequence[str]) -> dict[str, dict[str, str]]:
    """One curated Q&A (or FAQ entry) as phrasings and answer per language."""
    item = item if isinstance(item, Mapping) else {}
    return {"questions": phrasings(item.get("questions"), langs),
            "answer": localized(item.get("answer"), langs)}


# -- the form → edits ---------------------------------------------------------------------------


def localized_edits(data: Any, path: tuple[Key, ...], name: str, form: Mapping[str, str],
                    langs: Sequence[str]) -> list[Edit]:
    """The edits that make the text-or-mapping at ``path`` say what ``name.<lang>`` posts."""
    if not any(f"{name}.{lang}" in form for lang in langs):
        return []
    old = get(data, path)
    new = {lang: text(form.get(f"{name}.{lang}")) for lang in langs}
    if isinstance(old, str):
        if all(v == text(old) for v in new.values()):
            return []
        values = set(new.values())
        if len(values) == 1:  # still one text for every language
            only = values.pop()
            return [Edit(path, delete=True)] if not only else [Edit(path, _like(old, only))]
        return [Edit(path, {lang: v for lang, v in new.items() if v})]
    if not isinstance(old, Mapping):
        written = {lang: v for lang, v in new.items() if v}
        return [Edit(path, written)] if written else []
    out = []
    for lang, value in new.items():
        before = old.get(lang)
        if value == text(before):
            continue
        if not value:
            out.append(Edit((*path, lang), delete=True))
        else:
            out.append(Edit((*path, lang), _like(before, value)))
    return out


def _like(old: Any, value: str) -> str:
    """``value`` ending as the text it replaces did (a block text ends with a line break)."""
    return value + "\n" if isinstance(old, str) and old.endswith("\n") else value


def questions_edits(data: Any, path: tuple[Key, ...], name: str, form: Mapping[str, str],
                    langs: Sequence[str]) -> list[Edit]:
    """The edits for phrasings posted one a line as ``name.<lang>``."""
    old = get(data, path)
    old = old if isinstance(old, Mapping) else {}
    out = []
    for lang in langs:
        key = f"{name}.{lang}"
        if key not in form:
            continue
        new = lines(form[key])
        before = old.get(lang)
        before_list = [text(q) for q in before] if isinstance(before, list) else \
            lines(before) if before is not None else []
        if new == before_list:
            continue
        out.append(Edit((*path, lang), delete=True) if not new else Edit((*path, lang), new))
    return out


def list_edit(data: Any, key: str, new: list[str]) -> list[Edit]:
    old = data.get(key)
    before = [text(v) for v in old] if isinstance(old, list) else None
    if new == (before or []):
        return []
    return [Edit((key,), delete=True)] if not new else [Edit((key,), new)]


def work_changes(data: Any, form: Mapping[str, str], langs: Sequence[str]) -> Changes:
    """What the posted editor form changes in a work's tree."""
    out = Changes()
    data = data if isinstance(data, Mapping) else {}
    for name in (*SHORT, *LONG):
        out.edits += localized_edits(data, (name,), name, form, langs)
    if "image" in form and text(form["image"]) != text(data.get("image")):
        image = text(form["image"])
        out.edits.append(Edit(("image",), delete=True) if not image else Edit(("image",), image))
    if "aliases" in form:
        out.edits += list_edit(data, "aliases", lines(form["aliases"]))
    if "tags" in form:
        out.edits += list_edit(data, "tags", commas(form["tags"]))
    if "priority" in form:
        out.edits += _priority(data, form["priority"], out.problems)
    out.edits += _on_view(data, form)
    qa = data.get("qa") if isinstance(data.get("qa"), list) else []
    removed = []
    for i in range(len(qa)):
        if form.get(f"qa.{i}.remove"):
            removed.append(i)
            continue
        out.edits += questions_edits(data, ("qa", i, "questions"), f"qa.{i}.questions", form,
                                     langs)
        out.edits += localized_edits(data, ("qa", i, "answer"), f"qa.{i}.answer", form, langs)
    out.edits += [Edit(("qa", i), delete=True) for i in sorted(removed, reverse=True)]
    out.new_qa = new_entry(form, "new", langs)
    return out


def new_entry(form: Mapping[str, str], name: str,
              langs: Sequence[str]) -> tuple[dict[str, list[str]], dict[str, str]] | None:
    """Phrasings and answer posted as ``<name>.questions.<lang>`` / ``<name>.answer.<lang>``
    (None when all are blank)."""
    questions = {lang: lines(form.get(f"{name}.questions.{lang}")) for lang in langs}
    answer = {lang: text(form.get(f"{name}.answer.{lang}")) for lang in langs}
    questions = {lang: q for lang, q in questions.items() if q}
    answer = {lang: a for lang, a in answer.items() if a}
    return (questions, answer) if questions or answer else None


def _priority(data: Mapping[str, Any], posted: str, problems: list[str]) -> list[Edit]:
    old = data.get("priority")
    raw = text(posted)
    if not raw:
        return [Edit(("priority",), delete=True)] if old is not None else []
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"priority '{raw[:20]}' is not a whole number — write one from "
                        f"-{schema.MAX_PRIORITY} to {schema.MAX_PRIORITY}")
        return []
    if value == old or (old is None and value == 0):
        return []
    return [Edit(("priority",), value)]


def _on_view(data: Mapping[str, Any], form: Mapping[str, str]) -> list[Edit]:
    if "on_view.from" not in form and "on_view.until" not in form:
        return []
    old = data.get("on_view") if isinstance(data.get("on_view"), Mapping) else None
    new = {key: text(form.get(f"on_view.{key}")) for key in ("from", "until")}
    if not any(new.values()):
        return [Edit(("on_view",), delete=True)] if old is not None else []
    if old is None:
        return [Edit(("on_view",), {k: _date(v) for k, v in new.items() if v})]
    out = []
    for key, value in new.items():
        if value == iso(old.get(key)):
            continue
        out.append(Edit(("on_view", key), delete=True) if not value
                   else Edit(("on_view", key), _date(value)))
    return out


def _date(value: str) -> dt.date | str:
    """A date typed as YYYY-MM-DD written as a YAML date, anything else as typed (the
    validator then says what is wrong with it)."""
    if ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def faq_changes(data: Any, index: int, form: Mapping[str, str], langs: Sequence[str]) -> Changes:
    """What the posted FAQ form changes in entry ``index`` of faq.yaml's list."""
    out = Changes()
    out.edits += questions_edits(data, (index, "questions"), "questions", form, langs)
    out.edits += localized_edits(data, (index, "answer"), "answer", form, langs)
    return out


def apply(data: Any, changes: Changes) -> int | None:
    """Make ``changes`` in the tree (in place); returns the index of a Q&A added."""
    for edit in changes.edits:
        if edit.delete:
            yamltree.delete_value(data, list(edit.path))
        else:
            yamltree.set_value(data, list(edit.path), edit.value)
    if changes.new_faq is not None:
        yamltree.add_faq(data, *changes.new_faq)
    if changes.new_qa is not None:
        return yamltree.add_qa(data, *changes.new_qa)
    return None


MISSING_LANGUAGE = re.compile(r"has no (\w+) (?:text|question)")
LANGUAGE_CODES = {name: code for code, name in schema.LANGUAGE_NAMES.items()}
PATH_IN_MESSAGE = re.compile(r"'((?:[a-z_]+|\[\d+\])(?:\.[a-z_]+|\[\d+\]|\.\d+)*)'")


def field_of(message: str, prefix: str = "") -> str:
    """The form field a validation message is about ('' when it names none): ``'qa[2].answer.es'
    is empty`` → ``qa.2.answer.es``; ``prefix`` is cut first (``[3].`` for an FAQ entry)."""
    for match in PATH_IN_MESSAGE.finditer(message):
        path = match.group(1)
        if prefix:
            if not path.startswith(prefix):
                continue
            path = path[len(prefix):]
        path = re.sub(r"\[(\d+)\]", r".\1", path).strip(".")
        missing = MISSING_LANGUAGE.search(message)
        code = LANGUAGE_CODES.get(missing.group(1), missing.group(1)) if missing else ""
        if re.fullmatch(schema.LANG_CODE, code):  # that language's own box
            path = f"{path}.{code}"
        if path and (path.split(".")[0] in LABELS or path.split(".")[0] in
                     ("qa", "questions", "answer", "image", "aliases", "tags", "priority",
                      "on_view", "id", "name", "replies", "languages", "default_language")):
            return path
    return ""

"""Reading one pack file, bounded: a pack may come from anyone, so a file is read only if it is
a small regular UTF-8 file, and it is refused, before anything expands, if it uses anchors or
aliases, nests too deep, holds too many values or has an over-long text (the ``[limits]``
settings, far above any museum's, and ``MAX_DEPTH``). ``kiosk.content.loader`` reads packs
with it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml.composer import Composer
from ruamel.yaml.events import AliasEvent, ScalarEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode

from kiosk import limits

MAX_EXHIBITS_BYTES = 64 * 1024 * 1024
"""Most bytes of all exhibit files together, added up before any is read (a few thousand works
take a few megabytes)."""
MAX_DEPTH = 50
"""Deepest nesting of mappings, lists and texts in one file. A pack needs 6 (qa, an item,
questions, a language, the list, a question)."""
LONG_FIELDS = frozenset({"description", "answer", "replies"})
"""The fields whose texts may be up to ``[limits] long_text_chars`` long; all others
``short_text_chars``."""

def dotted(path: Iterable[Any]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "(top level)"


def quoted(value: Any, limit: int = 80) -> str:
    """Curator text quoted in a message, cut to ``limit`` characters."""
    text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class Refused(Exception):
    """A pack file refused before it is read further (what is wrong and what to do)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def file_size(path: Path) -> int:
    """The size of a regular file; 0 for anything else (which ``read_text`` refuses)."""
    try:
        info = os.stat(path)
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def read_text(path: Path) -> str | None:
    """The text of a small, regular, UTF-8 file; None when there is no such file.

    Anything else is refused with ``Refused``; a FIFO or device is never opened (it could
    block forever or never end).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if not path.is_symlink():
            return None
        raise Refused(None, f"it is a link to '{quoted(os.readlink(path))}', which does not "
                       "exist — copy the file itself into the pack") from None
    except OSError as exc:
        raise Refused(None, f"it cannot be read ({exc.strerror}) — check the file and the "
                       "folders above it") from None
    if stat.S_ISDIR(info.st_mode):
        raise Refused(None, "it is a folder, not a file — move it out of the pack, or rename "
                       "it so that its name does not end in .yaml")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in KINDS if test(info.st_mode)), "not a regular file")
        raise Refused(None, f"it is {kind}, not a file — replace it with a YAML text file")
    most = int(limits.current().file_mb * 2**20)
    too_big = Refused(None, f"the file is larger than {limits.current().file_mb:g} MB "
                       "([limits] file_mb), far more than any museum's content — split it or "
                       "check that it is the right file")
    if info.st_size > most:
        raise too_big
    try:  # O_NONBLOCK: should it have become a FIFO since the stat, opening does not wait
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise Refused(None, "it changed while being read — copy the pack again")
            data = fh.read(most + 1)  # a file that grows is still read no further
    except OSError as exc:
        raise Refused(None, f"it cannot be read ({exc.strerror}) — make it readable by the "
                       "user who runs kiosk (e.g. chmod a+r)") from None
    if len(data) > most:
        raise too_big
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(data.count(b"\n", 0, exc.start) + 1,
                       "not UTF-8 text — save the file as UTF-8") from None


class BoundedComposer(Composer):
    """ruamel's composer, refusing before it goes on: anchors and aliases (a few lines of
    them expand to gigabytes), nesting deeper than ``MAX_DEPTH``, more than ``[limits]
    values_per_file`` values, lists longer than ``entries_per_list`` and texts longer than
    their field's limit."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.limits = limits.current()
        self.nodes = 0
        self.path: list[Any] = []  # keys and indexes down to the node being composed

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent) or event.anchor is not None:
            sign, kind = ("*", "alias") if isinstance(event, AliasEvent) else ("&", "anchor")
            raise Refused(line, f"YAML {kind} '{sign}{quoted(event.anchor, 40)}' — content "
                           "packs may not use anchors or aliases (&name, *name, <<:); write "
                           "each value out in full")
        self.nodes += 1
        if self.nodes > self.limits.values_per_file:
            raise Refused(line, f"more than {self.limits.values_per_file:,} values in one file "
                           "([limits] values_per_file) — split it (one file per work in "
                           "exhibits/)")
        if len(self.path) >= MAX_DEPTH:
            raise Refused(line, f"nested more than {MAX_DEPTH} levels deep — a pack needs 6 at "
                           "most; check the indentation and the brackets")
        is_key = isinstance(parent, MappingNode) and index is None
        if isinstance(index, int) and index >= self.limits.entries_per_list:
            where = f"'{dotted(self.steps())}'" if self.steps() else "the file"
            raise Refused(line, f"{where} has more than {self.limits.entries_per_list:,} entries "
                           "([limits] entries_per_list) — no museum needs so many; split the "
                           "file or remove entries")
        step = index if isinstance(index, int) else (
            index.value if isinstance(index, ScalarNode) else "?")
        if is_key or parent is None:  # a field name, or the top of the file
            step = None
        self.path.append(step)
        try:
            if isinstance(event, ScalarEvent):
                self.check_text(event.value, line, is_key)
            return super().compose_node(parent, index)
        finally:
            self.path.pop()

    def steps(self) -> list[Any]:
        """The keys and indexes of the node being composed (what the loader finds lines by)."""
        return [step for step in self.path if step is not None]

    def check_text(self, text: str, line: int, is_key: bool) -> None:
        path = self.steps()
        long = not is_key and any(step in LONG_FIELDS for step in path)
        limit, name = ((self.limits.long_text_chars, "long_text_chars") if long
                       else (self.limits.short_text_chars, "short_text_chars"))
        if len(text) > limit:
            what = "a field name" if is_key else f"'{dotted(path)}'"
            raise Refused(line, f"{what} is {len(text):,} characters long, more than the "
                           f"{limit:,} allowed ([limits] {name}) — shorten it")

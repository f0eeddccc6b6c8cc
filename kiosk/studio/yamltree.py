"""A pack file's YAML tree, edited in memory: a value set or removed, a Q&A or an FAQ entry
added, two versions merged.

A new value takes the shape of what is beside it (its quoting, flow ``{fr: .., en: ..}`` or
block style, a blank line between list items) and a new field goes where the content format
puts it, so that ``yamledit``, writing the tree back, changes only the lines of what was edited.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from kiosk.content import schema
from kiosk.content.yamlfile import quoted
from kiosk.errors import ContentError, shown

Path_ = list[str | int]
"""Where a value is in a file: keys and list indexes, e.g. ``["qa", 0, "answer", "en"]``."""
Where = Sequence[str | int]
"""A ``Path_`` given (a list or a tuple)."""
ORDER = ("id", "title", "aliases", "artist", "date", "medium", "dimensions", "room", "image",
         "tags", "priority", "on_view", "description", "qa", "questions", "answer")
"""Where a new field goes among those present: the order of the demo pack's files."""
BLOCK = ("description", "answer", "questions", "replies", "qa")
"""Fields whose new mapping is written as a block (one line per language), not ``{..}``."""
ID = re.compile(schema.SLUG)
ISO_DATE = re.compile(schema.ISO_DATE)

ODD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
"""Characters a text keeps only in double quotes (as escapes)."""

_MISSING = object()


def plain(value: Any) -> Any:
    """A ruamel tree as plain Python values (dicts, lists, str; dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if isinstance(value, str):
        return str(value)
    return value


def check_id(id: str) -> None:
    """ContentError unless ``id`` is a valid id (lowercase letters, digits, hyphens)."""
    if not isinstance(id, str) or not ID.fullmatch(id) or len(id) > 100:
        raise ContentError(f"'{quoted(shown(id), 60)}' is not a valid id — use lowercase "
                           "letters, digits and hyphens, e.g. the-milkmaid")


# -- edits -----------------------------------------------------------------------------------

def _strings(container: Any) -> list[Any]:
    values = container.values() if isinstance(container, dict) else container
    return [v for v in values if isinstance(v, str)]


def _flow(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node.fa.flow_style())


def _styled(text: str, like: Any, flow: bool) -> Any:
    """``text`` quoted as ``like`` is (a literal block stays one, but not in a flow mapping);
    plain when there is nothing to copy, a literal block when it runs over several lines."""
    if ODD.search(text):  # (escaped only in double quotes: a block would break at U+2028)
        return DoubleQuotedScalarString(text)
    if isinstance(like, LiteralScalarString | FoldedScalarString) and not flow:
        if str(like).endswith("\n") and not text.endswith("\n"):
            text += "\n"
        return type(like)(text)
    if isinstance(like, DoubleQuotedScalarString | LiteralScalarString | FoldedScalarString):
        return DoubleQuotedScalarString(text)
    if isinstance(like, SingleQuotedScalarString):
        return SingleQuotedScalarString(text)
    if "\n" in text.rstrip("\n"):
        return DoubleQuotedScalarString(text) if flow else LiteralScalarString(text)
    return text


def _first(values: Any, kind: type | tuple[type, ...]) -> Any:
    items = values.values() if isinstance(values, dict) else values \
        if isinstance(values, list) else []
    return next((v for v in items if isinstance(v, kind)), None)


def _node(value: Any, like: Any, flow: bool, key: Any = None) -> Any:
    """``value`` as a ruamel node shaped and quoted like ``like`` (an existing node, or None)."""
    if isinstance(value, str):
        if key in ("from", "until") and ISO_DATE.fullmatch(value):
            try:  # (an ISO date is written plain, as curators write it)
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        return _styled(value, like if isinstance(like, str) else None, flow)
    if isinstance(value, dict):
        out = CommentedMap()
        if flow or (_flow(like) and key not in BLOCK):
            out.fa.set_flow_style()
        for k, v in value.items():
            child = like.get(k) if isinstance(like, dict) and k in like else \
                _first(like, type(v) if isinstance(v, str | dict | list) else ())
            out[k] = _node(v, child, _flow(out), k)
        return out
    if isinstance(value, list | tuple):
        seq = CommentedSeq()
        if flow or not isinstance(like, list) or _flow(like):
            seq.fa.set_flow_style()
        for item in value:
            kind = type(item) if isinstance(item, str | dict | list) else ()
            seq.append(_node(item, _first(like, kind), _flow(seq)))
        return seq
    return value


def _put(parent: Any, key: Any, value: Any) -> None:
    """Set ``parent[key]``: a new field goes where the content format puts it."""
    if isinstance(parent, list):
        if key == len(parent):
            parent.append(value)
        else:
            parent[key] = value
        return
    if key in parent or key not in ORDER or not isinstance(parent, CommentedMap) or not parent:
        parent[key] = value
        return
    rank = ORDER.index(key)
    before = [i for i, k in enumerate(parent) if k in ORDER and ORDER.index(k) < rank]
    position = before[-1] + 1 if before else 0
    if position >= len(parent):
        parent[key] = value
    else:
        parent.insert(position, key, value)


def _step(node: Any, key: Any, path: Where) -> Any:
    if isinstance(node, dict) and isinstance(key, str):
        return node.get(key, _MISSING)
    if isinstance(node, list) and isinstance(key, int) and not isinstance(key, bool):
        return node[key] if 0 <= key < len(node) else _MISSING
    raise ValueError(f"{path}: {key!r} cannot index a {type(node).__name__}")


def set_value(data: Any, path: Where, value: Any) -> None:
    """Set the value at ``path``, creating missing mappings; a new value takes the quoting of
    its siblings, and a new key of a flow mapping (``{fr: .., en: ..}``) stays in flow style.
    A list index may be one past the end (appends); ValueError for a path that cannot be."""
    if not path:
        raise ValueError("set_value needs a path")
    node, parents = data, []
    for depth, key in enumerate(path[:-1]):
        child = _step(node, key, path)
        if child is _MISSING or child is None:
            if isinstance(node, list) and key != len(node):
                raise ValueError(f"{path}: no item {key}")
            child = CommentedMap()  # like the mappings beside it: ``medium`` for ``dimensions``
            if _flow(node) or (depth == len(path) - 2 and key not in BLOCK
                               and _flow(_first(node, dict))):
                child.fa.set_flow_style()
            _put(node, key, child)
        parents.append(node)
        node = child
    key = path[-1]
    old = _step(node, key, path)
    if isinstance(node, list) and old is _MISSING and key != len(node):
        raise ValueError(f"{path}: no item {key}")
    if old is not _MISSING and plain(old) == plain(value):
        return
    kind = type(value) if isinstance(value, str | dict | list) else ()
    like = old if old is not _MISSING else _first(node, kind)
    if like is None and parents:  # a mapping just made: copy its cousins
        like = _first(_first(parents[-1], dict), kind)
    _put(node, key, _node(value, like, _flow(node), key))


def delete_value(data: Any, path: Where) -> None:
    """Remove the key or list item at ``path`` (nothing when it is not there)."""
    node = data
    for key in path[:-1]:
        node = _step(node, key, path)
        if node is _MISSING or node is None:
            return
    if _step(node, path[-1], path) is not _MISSING:
        del node[path[-1]]


def _entry(like: Any, fields: dict[str, Any]) -> CommentedMap:
    """A Q&A or FAQ item shaped like ``like`` (an existing item) or like the demo pack."""
    item = CommentedMap()
    for name, value in fields.items():
        if name == "id":
            item["id"] = value
            continue
        old = like.get(name) if isinstance(like, dict) else None
        sample = next(iter(old.values()), None) if isinstance(old, dict) and old else None
        part = CommentedMap()
        if _flow(old):
            part.fa.set_flow_style()
        for lang, text in value.items():
            if isinstance(text, list):
                seq = CommentedSeq()
                if sample is None or _flow(sample):
                    seq.fa.set_flow_style()
                texts = _strings(sample) if isinstance(sample, list) else []
                for q in text:
                    seq.append(_styled(q, texts[0] if texts else DoubleQuotedScalarString(""),
                                       _flow(seq)))
                part[lang] = seq
            else:
                part[lang] = _styled(text, sample if isinstance(sample, str)
                                     else DoubleQuotedScalarString(""), _flow(part))
        item[name] = part
    return item


def _gap(node: Any) -> bool:
    """Whether ``node`` (a list item) is followed by a blank line."""
    while isinstance(node, CommentedMap | CommentedSeq) and node:
        last = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        tokens = node.ca.items.get(last) or []
        if any("\n\n" in str(getattr(t, "value", "")) for t in tokens if t is not None):
            return True
        node = node[last]
    return False


def _append(items: Any, item: CommentedMap) -> None:
    """Add ``item`` to a list, after a blank line when the items before are so spaced."""
    spaced = len(items) >= 2 and _gap(items[-2])
    items.append(item)
    if spaced:
        items.yaml_set_comment_before_after_key(len(items) - 1, before="\n")


def add_qa(data: Any, questions: dict[str, list[str]], answer: dict[str, str]) -> int:
    """Append a curated Q&A to an exhibit's ``qa`` (created if missing); returns its index."""
    items = data.get("qa")
    if not isinstance(items, list):
        items = CommentedSeq()
        _put(data, "qa", items)
    _append(items, _entry(items[0] if items else None,
                           {"questions": questions, "answer": answer}))
    return len(items) - 1


def add_faq(data: Any, id: str, questions: dict[str, list[str]], answer: dict[str, str]) -> None:
    """Append an entry to faq.yaml's list: ``{id, questions, answer}``. ContentError for an id
    that is not valid or already used in the list."""
    check_id(id)
    if not isinstance(data, list):
        raise ContentError("faq.yaml is not a list of entries — fix it in a text editor")
    if any(isinstance(e, dict) and e.get("id") == id for e in data):
        raise ContentError(f"faq.yaml has an entry '{id}' already — choose another id")
    _append(data, _entry(data[0] if data else None,
                         {"id": id, "questions": questions, "answer": answer}))


# -- merge -----------------------------------------------------------------------------------

def merge(base: Any, mine: Any, theirs: Any) -> tuple[Any, list[Path_]]:
    """Three-way merge by path: what ``mine`` changed from ``base``, applied to ``theirs`` (the
    file as it is on disk now, whose formatting the result keeps). Returns the merged tree and
    the paths both sides changed differently (there ``theirs`` is kept). Mappings merge key by
    key; lists item by item, items added at the end on both sides are all kept; a list whose
    items were removed on one side and changed on the other is one conflict."""
    if plain(theirs) == plain(base):
        return copy.deepcopy(mine), []
    result = copy.deepcopy(theirs)
    conflicts: list[Path_] = []
    _merge(base, mine, theirs, result, [], conflicts)
    return result, conflicts


def _merge(base: Any, mine: Any, theirs: Any, result: Any, path: Path_,
           conflicts: list[Path_]) -> None:
    b, m, t = (_MISSING if v is _MISSING else plain(v) for v in (base, mine, theirs))
    if m == b or m == t:
        return
    if t == b:
        parent = _at(result, path[:-1])
        if mine is _MISSING:
            del parent[path[-1]]
        else:
            _put(parent, path[-1], copy.deepcopy(mine))
        return
    if all(isinstance(v, dict) for v in (base, mine, theirs)):
        for key in [*mine, *(k for k in base if k not in mine)]:
            _merge(base.get(key, _MISSING), mine.get(key, _MISSING), theirs.get(key, _MISSING),
                   result, [*path, key], conflicts)
        return
    if all(isinstance(v, list) for v in (base, mine, theirs)) and \
            len(mine) >= len(base) and len(theirs) >= len(base):
        for i in range(len(base)):
            _merge(base[i], mine[i], theirs[i], result, [*path, i], conflicts)
        extra = [copy.deepcopy(v) for v in mine[len(base):]
                 if plain(v) not in plain(theirs[len(base):])]
        _at(result, path).extend(extra)
        return
    conflicts.append(path)


def _at(data: Any, path: Where) -> Any:
    for key in path:
        data = data[key]
    return data

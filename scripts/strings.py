"""The interface's gettext catalogs (``kiosk/locale``), kept with Babel: ``make strings``.

Run ``.venv/bin/python scripts/strings.py`` (what ``make strings`` does). It

1. extracts every message the code marks — ``translate(lang, "…")``, ``N_("…")`` and, in the
   kv rules, ``app.t("…", lang)`` — into ``kiosk/locale/kiosk.pot``;
2. with ``--add de``, starts ``kiosk/locale/de/LC_MESSAGES/kiosk.po`` (every message empty);
3. updates every ``kiosk.po`` from the template (new messages empty, changed ones marked fuzzy
   for the translator to check, gone ones kept as obsolete at the end);
4. compiles each ``kiosk.po`` into the ``kiosk.mo`` the kiosk reads (fuzzy and empty messages
   left out: they show in English).

``--check`` changes nothing: it prints what is out of date (a message in the code and not in the
template, a catalog not updated or not compiled, a translation that drops or invents a
``{placeholder}``, an empty or fuzzy message in a shipped language) and exits 1 if anything is.
``tests/test_i18n.py`` runs it.
"""

from __future__ import annotations

import argparse
import ast
import gettext
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kiosk"
sys.path.insert(0, str(ROOT))

from kiosk.i18n import DOMAIN, LOCALE, placeholders  # noqa: E402

TEMPLATE = LOCALE / f"{DOMAIN}.pot"
SHIPPED = ("fr", "es")
"""The languages every message must be translated into before a release."""
METHODS = [("**.py", "python"), ("**.kv", "python")]  # kv rules are Python expressions
KEYWORDS = {"translate": (2,), "N_": None, "t": (1,)}
HEADER = {"project": "gallery kiosk", "domain": DOMAIN,
          "copyright_holder": "the gallery kiosk's authors", "msgid_bugs_address": ""}


def extract(package: Path = PACKAGE) -> Catalog:
    """Every marked message in ``kiosk/``, with where it is used (as a translator's comment)."""
    template = Catalog(**HEADER, fuzzy=False)
    for path, line, message, _comments, context in extract_from_dir(
            package, METHODS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)):
        if isinstance(message, str) and message:
            template.add(message, locations=[(f"kiosk/{path}", line)], context=context)
    return template


def marked_in_python(package: Path = PACKAGE) -> dict[str, str]:
    """Every literal message a marked call holds in ``kiosk/**.py``, read by ``ast`` — which,
    unlike the extractor, also sees calls inside f-strings (where Babel misses them)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            spec = KEYWORDS.get(name or "", ...)
            if spec is ...:
                continue
            index = (spec or (1,))[0] - 1
            arg = node.args[index] if len(node.args) > index else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found[arg.value] = f"{shown(path)}:{node.lineno}"
    return found


def catalog_path(lang: str, suffix: str = ".po", locale: Path = LOCALE) -> Path:
    return locale / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def catalogs() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=100, sort_output=True, include_previous=True,
             include_lineno=False)  # (line numbers would change with every edit of the code)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def ids(catalog: Catalog) -> set[str]:
    return {str(m.id) for m in catalog if m.id if isinstance(m.id, str)}


def problems(lang: str, catalog: Catalog, template: Catalog,
             locale: Path = LOCALE) -> Iterator[str]:
    """What is wrong with one language's catalog, a line each."""
    where = shown(catalog_path(lang, locale=locale))
    missing = ids(template) - ids(catalog)
    if missing:
        yield f"{where}: not updated ({len(missing)} new messages) — run `make strings`"
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        text = message.string if isinstance(message.string, str) else ""
        if text and placeholders(text) != placeholders(message.id):
            yield (f"{where}: “{message.id}” is translated with "
                   f"{sorted(placeholders(text))} where it has {sorted(placeholders(message.id))}"
                   " — keep exactly the same {names}")
        elif lang in SHIPPED and (not text or message.fuzzy):
            yield f"{where}: “{message.id}” is {'fuzzy' if text else 'not translated'}"
    compiled = catalog_path(lang, ".mo", locale)
    if not compiled.is_file():
        yield f"{shown(compiled)} is missing — run `make strings`"
        return
    with compiled.open("rb") as f:
        have = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    with io.BytesIO(mo_bytes(catalog)) as f:
        want = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    have.pop("", None), want.pop("", None)  # (the header: dates and the tool's version)
    if have != want:
        yield f"{shown(compiled)} is not compiled from {where.name} — run `make strings`"


def check() -> list[str]:
    template, found = read(TEMPLATE), extract()
    out = [f"{TEMPLATE.relative_to(ROOT)} lacks “{m}” — run `make strings`"
           for m in sorted(ids(found) - ids(template))]
    out += [f"{TEMPLATE.relative_to(ROOT)} still has “{m}”, which no code uses — run `make strings`"
            for m in sorted(ids(template) - ids(found))]
    out += [f"{where}: “{m}” is marked but the extractor cannot see it (inside an f-string?) — "
            "translate it outside the f-string"
            for m, where in sorted(marked_in_python().items()) if m not in ids(found)]
    for lang in catalogs():
        out += problems(lang, read(catalog_path(lang), lang), found)
    out += [f"{catalog_path(lang).relative_to(ROOT)} is missing" for lang in SHIPPED
            if lang not in catalogs()]
    return out


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add", metavar="LANG", help="start a catalog for a new language")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    if args.check:
        lines = check()
        print("\n".join(lines) or "the catalogs are up to date")
        return 1 if lines else 0
    template = extract()
    if not TEMPLATE.is_file() or ids(read(TEMPLATE)) != ids(template):
        write_if_changed(TEMPLATE, po_bytes(template))  # (else: no new creation date)
        print(f"wrote {TEMPLATE.relative_to(ROOT)} ({len(ids(template))} messages)")
    template = read(TEMPLATE)
    if args.add and not catalog_path(args.add).is_file():
        new = Catalog(**HEADER, locale=args.add, fuzzy=False,
                      language_team=f"{args.add} <the museum's translator>")
        new.update(template)
        write_if_changed(catalog_path(args.add), po_bytes(new))
        print(f"started {catalog_path(args.add).relative_to(ROOT)}: translate it, then "
              "run `make strings` again")
    for lang in catalogs():
        catalog = read(catalog_path(lang), lang)
        catalog.update(template)
        if write_if_changed(catalog_path(lang), po_bytes(catalog)):
            print(f"updated {catalog_path(lang).relative_to(ROOT)}")
        catalog = read(catalog_path(lang), lang)
        if write_if_changed(catalog_path(lang, ".mo"), mo_bytes(catalog)):
            print(f"compiled {catalog_path(lang, '.mo').relative_to(ROOT)}")
        done = sum(1 for m in catalog if m.id and m.string and not m.fuzzy)
        print(f"{lang}: {done} of {len(ids(template))} messages translated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

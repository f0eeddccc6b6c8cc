"""`kiosk content import-csv`: a collection-management export (CSV, one row per object) → a
content-pack skeleton curators then enrich (descriptions, questions visitors ask).

The mapping (a TOML file, documented in ``content/import-example/mapping.toml``, parsed and
checked in ``kiosk.content.mapping``) says how to read the CSV and which column fills which
exhibit field. Nothing is written when the mapping names a column the export lacks; existing
files in the pack are kept, never overwritten.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import itertools
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from kiosk import limits
from kiosk.content import schema
from kiosk.content.checks import IMAGE_SUFFIXES
from kiosk.content.loader import YEAR
from kiosk.content.mapping import (
    LIST_FIELDS,
    TEXT_FIELDS,
    Mapping,
    MappingError,
    parse_mapping,
)
from kiosk.errors import shown

DELIMITERS = ",;\t|"
# ``[limits] import_rows`` (default 20,000) is the rows an export may hold (checked while
# reading, before anything is written). A kiosk's pack is the works on view and their
# neighbours, not the whole reserve; 20,000 is a large museum's collection export (a regional
# museum holds 5,000-50,000 objects) and imports in well under a minute here (a few minutes on a
# Raspberry Pi, with progress shown). A bigger export is split and imported file by file into
# the same pack, which keeps the files already there.
MAX_LINE_CHARS = 1 << 24
"""Characters a physical line may hold (16 Mi), so that a file with no line ends is refused
before it is read whole into memory. Each cell is also held to ``csv.field_size_limit()``
(131,072 characters unless changed): longer is a quote left open, or not a label."""
PROGRESS_EVERY = 1_000
"""A progress line on stderr every so many rows (none for smaller exports)."""


@dataclass
class Report:
    """What the import did, printed for the curator."""

    export: str
    lines: list[str] = field(default_factory=list)
    written: int = 0
    kept: int = 0
    skipped: int = 0
    warnings: int = 0
    images: int = 0

    def skip(self, line: int, why: str) -> None:
        self.skipped += 1
        self.lines.append(f"{self.export}:{line}: skipped: {why}")

    def warn(self, line: int | None, why: str) -> None:
        self.warnings += 1
        where = f"{self.export}:{line}" if line else self.export
        self.lines.append(f"{where}: warning: {why}")


class ExportError(MappingError):
    """The export cannot be imported as it is: one line saying where, what, and that nothing
    was written."""


def read_rows(export: Path, mapping: Mapping, max_rows: int | None = None,
              ) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and every (first line, cells) of the export; quoted newlines kept. Read as a
    stream, held to ``max_rows`` rows, ``MAX_LINE_CHARS`` a line and the csv module's cell size."""
    try:
        with export.open(encoding=mapping.encoding, newline="") as f:
            return _parse(export, f, mapping.delimiter,
                          max_rows or limits.current().import_rows)
    except FileNotFoundError as exc:
        raise MappingError(f"{export}: no such file — give the export's path") from exc
    except UnicodeDecodeError as exc:
        raise MappingError(f"{export}:{_undecodable_line(export, mapping.encoding)}: not "
                           f"{mapping.encoding} text — set [csv] encoding to the export's "
                           "(often \"cp1252\" from Excel on Windows)") from exc
    except OSError as exc:
        raise ExportError(f"{export}: cannot read it ({exc.strerror or exc}) — nothing was "
                          "written; give the path of the CSV file") from exc


def _parse(export: Path, f: TextIO, delimiter: str, max_rows: int,
           ) -> tuple[list[str], list[tuple[int, list[str]]]]:
    lines = _lines(export, f)
    first = next(lines, "")
    if delimiter == "auto":
        delimiter = max(DELIMITERS, key=first.count)
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    last = 0
    try:
        for cells in reader:
            start, last = last + 1, reader.line_num
            if header is None:
                header = [c.strip() for c in cells]
            elif any(c.strip() for c in cells):
                if len(rows) == max_rows:
                    raise ExportError(
                        f"{export}: more than {max_rows:,} rows — nothing was written; split "
                        f"it into files of at most {max_rows:,} rows and import each into the "
                        "same pack (the files already there are kept), or raise [limits] "
                        "import_rows")
                rows.append((start, cells))
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise ExportError(
                f"{export}:{last + 1}: a cell is longer than {csv.field_size_limit():,} "
                "characters (a quote left open?) — nothing was written; close the quote or "
                "shorten the cell") from exc
        raise ExportError(f"{export}:{reader.line_num}: not CSV ({exc}) — nothing was written; "
                          "export it again as CSV") from exc
    if header is None:
        raise MappingError(f"{export}: the file is empty — export the collection with a header row")
    return header, rows


def _lines(export: Path, f: TextIO) -> Iterator[str]:
    """The physical lines of ``f``, each held to ``MAX_LINE_CHARS``."""
    for number in itertools.count(1):
        line = f.readline(MAX_LINE_CHARS)
        if not line:
            return
        if len(line) == MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise ExportError(f"{export}:{number}: a line longer than {MAX_LINE_CHARS:,} "
                              "characters — nothing was written; is it a CSV export?")
        yield line


def _undecodable_line(export: Path, encoding: str) -> int:
    """The first line of ``export`` that is not ``encoding`` text."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with export.open("rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                decoder.decode(raw)
            except UnicodeDecodeError:
                return number
    return 1


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60].strip("-")


def _one_line(text: str) -> str:
    return "; ".join(part.strip() for part in text.strip().splitlines() if part.strip())


class Importer:
    """Turns rows into exhibit files in ``output`` (existing files are kept)."""

    def __init__(self, export: Path, mapping: Mapping, output: Path, langs: list[str]) -> None:
        self.export, self.mapping, self.output, self.langs = export, mapping, output, langs
        self.report = Report(export.name)
        self.yaml = YAML()
        self.yaml.width = 96
        self.yaml.indent(mapping=2, sequence=4, offset=2)
        self.ids: dict[str, str] = {}
        for path in sorted((output / "exhibits").glob("*.y*ml")):
            self.ids[path.stem] = f"exhibits/{path.name} (already in the pack)"
        self.suffix: dict[str, int] = {}
        """Title slug → the next "-n" to try for a work of that title (ids from titles)."""
        self._images: dict[str, Path] | None = None

    def check_columns(self, header: list[str]) -> list[str]:
        """Every column the mapping names that the header lacks, as a message."""
        named = [("[id] column", self.mapping.id_column)] if self.mapping.id_column else []
        for name, spec in self.mapping.columns.items():
            if isinstance(spec, str):
                named.append((f"[fields] {name}", spec))
            else:
                named += [(f"[fields] {name}.{lang}", col) for lang, col in spec.items()]
        out = []
        for where, column in named:
            if column not in header:
                close = difflib.get_close_matches(column, header, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "fix the name"
                out.append(f"{where} = '{column}' is not a column of {self.export.name} — "
                           f"{hint} (columns: {', '.join(header)})")
        for name, spec in self.mapping.columns.items():
            if isinstance(spec, dict):
                for lang in set(spec) - set(self.langs):
                    out.append(f"[fields] {name}.{lang}: the pack's languages are "
                               f"{', '.join(self.langs)} — add '{lang}' to them or remove it")
        return out

    def text(self, name: str, cells: dict[str, str]) -> str | dict[str, str] | None:
        """One text field of a row: a text for every language, per-language texts, or None."""
        spec = self.mapping.columns.get(name)
        one = _one_line if name != "description" else str.strip
        value: str | dict[str, str] | None = None
        if isinstance(spec, str) and one(cells.get(spec, "")):
            cell = one(cells[spec])
            value = cell if name in self.mapping.same_in_every_language else \
                {self.mapping.language: cell}
        elif isinstance(spec, dict):
            found = {lang: one(cells.get(col, "")) for lang, col in spec.items()}
            value = {lang: found[lang] for lang in self.langs if found.get(lang)} or None
        return value if value else self.mapping.defaults.get(name)

    def cell(self, name: str, cells: dict[str, str]) -> str:
        """The stripped cell of a one-column field ('' when unmapped or empty)."""
        column = self.mapping.columns.get(name)
        return cells.get(column, "").strip() if isinstance(column, str) else ""

    def run(self, header: list[str], rows: list[tuple[int, list[str]]],
            progress: Callable[[int, int], None] = lambda done, total: None) -> None:
        """Import the rows; ``progress(done, total)`` every ``PROGRESS_EVERY`` rows."""
        first_line: dict[str, int] = {}
        id_col = self.mapping.id_column
        title_col = self.mapping.columns["title"]
        title_cols = title_col if isinstance(title_col, str) else " / ".join(title_col.values())
        for done, (line, raw) in enumerate(rows):
            if done and not done % PROGRESS_EVERY:
                progress(done, len(rows))
            cells = dict(zip(header, raw, strict=False))
            if len(raw) > len(header):
                self.report.warn(line, f"{len(raw)} cells for {len(header)} columns — a "
                                 "delimiter inside an unquoted cell? The extra cells are ignored")
            title = self.text("title", cells)
            if not title:
                self.report.skip(line, f"no title — fill in '{title_cols}' or delete the row")
                continue
            first_title = title if isinstance(title, str) else next(iter(title.values()))
            if id_col:
                ex_id = slug(cells.get(id_col, ""))
                if not ex_id:
                    self.report.skip(line, f"no '{id_col}' — fill it in (it names the file)")
                    continue
                if ex_id in first_line:
                    self.report.skip(line, f"duplicate id '{ex_id}' (also line "
                                     f"{first_line[ex_id]}) — give each object its own "
                                     f"'{id_col}'; the first row was imported")
                    continue
            else:  # the first work of a title gets its slug, the next ones -2, -3…
                base = slug(first_title) or f"work-{line}"
                ex_id, n = base, self.suffix.get(base, 2)
                while ex_id in first_line:
                    ex_id, n = f"{base}-{n}", n + 1
                self.suffix[base] = n
            first_line[ex_id] = line
            if ex_id in self.ids:
                self.report.kept += 1
                self.report.lines.append(f"{self.export.name}:{line}: kept {self.ids[ex_id]} — "
                                         "delete it to import this row again")
                continue
            self.write(line, ex_id, cells, title)

    def write(self, line: int, ex_id: str, cells: dict[str, str],
              title: str | dict[str, str]) -> None:
        report, cols = self.report, self.mapping.columns
        doc = CommentedMap(id=ex_id)
        doc["title"] = self._flow(title)
        artist = self.text("artist", cells)
        if not artist:
            report.skip(line, f"no artist — fill in '{cols.get('artist', 'artist')}' or set "
                        "[defaults] artist = \"Unknown artist\" in the mapping")
            return
        doc["artist"] = self._flow(artist)
        for name in ("date", "medium", "room", "dimensions"):
            value = self.text(name, cells)
            if name == "date" and value and not all(
                    YEAR.search(v) for v in ([value] if isinstance(value, str)
                                             else list(value.values()))):
                report.warn(line, f"date {value!r} has no year — left out; add it if known")
                value = None
            if value:
                doc[name] = self._flow(value)
        image = self.image(line, ex_id, cells)
        if image:
            doc["image"] = image
        sep = self.mapping.list_separator
        for name in LIST_FIELDS:
            cell = self.cell(name, cells)
            items = [i.strip() for i in cell.replace("\n", sep).split(sep) if i.strip()]
            if items:
                doc[name] = CommentedSeq(items)
                doc[name].fa.set_flow_style()
        priority = self.cell("priority", cells)
        if priority:
            try:
                doc["priority"] = int(priority)
            except ValueError:
                report.warn(line, f"priority '{shown(priority)}' is not a whole number — left out")
        on_view = CommentedMap()
        for key in ("from", "until"):
            cell = self.cell(f"on_view_{key}", cells)
            try:
                if cell:
                    on_view[key] = dt.date.fromisoformat(cell).isoformat()
            except ValueError:
                report.warn(line, f"on view {key} '{shown(cell)}' is not a date — write it as "
                            "YYYY-MM-DD; left out (the work is shown every day)")
        if len(on_view) == 2 and on_view["from"] > on_view["until"]:
            report.warn(line, f"on view ends ({on_view['until']}) before it starts "
                        f"({on_view['from']}) — left out; swap the dates")
            on_view = CommentedMap()
        if on_view:
            doc["on_view"] = self._flow(on_view)
        description = self.text("description", cells)
        todo = ""
        if not description:
            description = self._label(doc)
            todo = "# TODO: this description only repeats the label — write what visitors " \
                   "should hear.\n"
            report.warn(line, "no description — the file repeats the label instead; write one")
        texts = {lang: description for lang in self.langs} if isinstance(description, str) \
            else description
        doc["description"] = CommentedMap(
            {lang: LiteralScalarString(text) if "\n" in text else text
             for lang, text in texts.items()})
        missing = sorted({lang for name in ("title", "description") for lang in self.langs
                          if isinstance(doc[name], dict) and lang not in doc[name]})
        if missing:
            names = ", ".join(schema.language_name(m) for m in missing)
            report.warn(line, f"no {names} title or description — translate them in "
                        f"exhibits/{ex_id}.yaml (`kiosk content validate` lists each)")
        self.save(line, ex_id, doc, todo)

    def _flow(self, value: str | dict[str, str] | CommentedMap) -> str | CommentedMap:
        if isinstance(value, str):
            return value
        out = CommentedMap(value)
        out.fa.set_flow_style()
        return out

    def _label(self, doc: CommentedMap) -> dict[str, str]:
        """A stand-in description from the label fields, per language."""
        out = {}
        for lang in self.langs:
            parts = []
            for name in ("title", "artist", "date"):
                value = doc.get(name)
                text = value if isinstance(value, str) else (value or {}).get(lang)
                if text:
                    parts.append(text)
            medium = doc.get("medium")
            medium = medium if isinstance(medium, str) else (medium or {}).get(lang)
            if parts:
                out[lang] = ", ".join(parts) + "." + (f" {medium}." if medium else "")
        return out

    def image(self, line: int, ex_id: str, cells: dict[str, str]) -> str:
        """Copy the row's image into the pack; its path there, or '' (with a warning)."""
        name = self.cell("image", cells)
        if not name:
            return ""
        folder = self.mapping.images
        if folder is None:
            self.report.warn(line, f"image '{name}': the mapping has no [images] folder — "
                             "set one to copy the images")
            return ""
        source = folder / name
        if not (Path(name).is_absolute() or ".." in Path(name).parts) and not source.is_file():
            source = self.images().get(Path(name).name.lower(), source)  # another case
        if Path(name).is_absolute() or ".." in Path(name).parts or not _inside(source, folder):
            self.report.warn(line, f"image '{shown(name)}' is outside the images folder "
                             f"{folder} — refused; give the name of a file in that folder")
            return ""
        if not source.is_file():
            self.report.warn(line, f"image '{shown(name)}' not found in {folder} — copy it "
                             "there and import again, or add it to the pack by hand")
            return ""
        if source.suffix.lower() not in IMAGE_SUFFIXES:
            self.report.warn(line, f"image '{shown(name)}' is not PNG, JPEG or WebP — convert "
                             "it and add it by hand")
            return ""
        target = self.output / "images" / f"{ex_id}{source.suffix.lower()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            shutil.copyfile(source, target)
            self.report.images += 1
        return f"images/{target.name}"

    def images(self) -> dict[str, Path]:
        """The images folder's files by lowercase name (listed once, not once a row)."""
        if self._images is None:
            folder = self.mapping.images
            self._images = {}
            if folder is not None and folder.is_dir():
                for path in sorted(folder.iterdir(), reverse=True):
                    self._images[path.name.lower()] = path
        return self._images

    def save(self, line: int, ex_id: str, doc: CommentedMap, todo: str) -> None:
        body = io.StringIO()
        self.yaml.dump(doc, body)
        header = (f"# Imported from {self.export.name}, line {line}, by `kiosk content "
                  f"import-csv` on {dt.date.today().isoformat()}.\n"
                  "# Check the facts against the label. The kiosk answers who / when / medium /"
                  " room / size\n# from the fields below: no questions are needed for those.\n")
        footer = ("# TODO: add the questions visitors ask about this work, with your answers:\n"
                  "# qa:\n#   - questions:\n"
                  + "".join(f"#       {lang}: [\"…?\", \"…?\"]\n" for lang in self.langs)
                  + "#     answer:\n" + "".join(f"#       {lang}: \"…\"\n" for lang in self.langs))
        path = self.output / "exhibits" / f"{ex_id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + todo + body.getvalue() + footer, encoding="utf-8")
        self.ids[ex_id] = f"exhibits/{path.name}"
        self.report.written += 1


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is in ``folder`` once links are followed."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):  # a loop of links, a NUL in the name
        return False


def pack_languages(output: Path, mapping: Mapping) -> tuple[list[str], bool]:
    """The pack's languages, and whether museum.yaml must be written."""
    museum = output / "museum.yaml"
    if museum.is_file():
        try:
            tree = YAML(typ="safe").load(museum.read_text(encoding="utf-8"))
            return [str(x) for x in tree["languages"]], False
        except (YAMLError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise MappingError(f"{museum}: cannot read its languages — run `kiosk content "
                               f"validate {output}` and fix it first") from exc
    if output.exists() and any(output.iterdir()):
        raise MappingError(f"{output} is not empty and has no museum.yaml — import into a new "
                           "folder or into an existing content pack")
    langs = mapping.museum.get("languages") or [mapping.language]
    return [str(x) for x in langs], True


def write_museum(output: Path, mapping: Mapping, langs: list[str]) -> None:
    name = mapping.museum.get("name") or {langs[0]: "My museum"}
    languages = CommentedSeq(langs)
    languages.fa.set_flow_style()
    museum = {"name": name, "languages": languages,
              "default_language": mapping.museum.get("default_language", langs[0])}
    yaml = YAML()
    out = io.StringIO()
    yaml.dump(museum, out)
    output.mkdir(parents=True, exist_ok=True)
    (output / "museum.yaml").write_text(
        "# Written by `kiosk content import-csv`. See the README, \"The content format\".\n"
        + out.getvalue(), encoding="utf-8")
    (output / "faq.yaml").write_text(
        "# Practical questions (toilets, hours, café…): see the README for the format.\n[]\n",
        encoding="utf-8")


def run_import(export: Path, mapping: Path, output: Path) -> int:
    """The CLI verb: 0 when something was imported, 1 when nothing was, 2 on a mapping error."""
    try:
        spec = parse_mapping(mapping)
        langs, new_pack = pack_languages(output, spec)
        header, rows = read_rows(export, spec)
        importer = Importer(export, spec, output, langs)
        problems = importer.check_columns(header)
        if problems:
            raise MappingError("\n".join(problems))
    except ExportError as exc:
        print(shown(exc), file=sys.stderr)
        return 2
    except MappingError as exc:
        for problem in str(exc).splitlines():
            print(f"{mapping}: error: {problem}", file=sys.stderr)
        print(f"{mapping}: nothing was written — fix the mapping and run again", file=sys.stderr)
        return 2
    for name in TEXT_FIELDS:
        col = spec.columns.get(name)
        given = set(col) if isinstance(col, dict) else {spec.language} if col else set()
        lacking = [schema.language_name(lang) for lang in langs if lang not in given]
        if col and lacking and name not in spec.same_in_every_language:
            importer.report.warn(None, f"no column gives the {name} in {', '.join(lacking)} — "
                                 "translate them after the import")
    if new_pack:
        write_museum(output, spec, langs)
    importer.run(header, rows, progress=lambda done, total: print(
        f"{export.name}: {done:,} of {total:,} rows imported…", file=sys.stderr, flush=True))
    report = importer.report
    for line in report.lines:
        print(line)
    print(f"{report.written} exhibits written to {output / 'exhibits'}, {report.images} images "
          f"copied; {report.skipped} rows skipped, {report.kept} kept as they were, "
          f"{report.warnings} warnings ({len(rows)} rows read).")
    if not report.written:
        print("Nothing new was imported.")
    else:
        print(f"Next: `kiosk content validate {output}`, then add the questions visitors ask "
              "(qa) to each file.")
    return 0 if report.written else 1

"""The curator studio's speed: opening it, its pages at 1,000 works, and "try it".

    .venv/bin/python bench/studio.py                 # the demo and a 1,000-work pack
    .venv/bin/python bench/studio.py --works 2000 --runs 5

Each opening is ``kiosk studio PACK --no-browser`` started as its own process, timed from its
start until the address it prints serves the works page (polled), the median of ``--runs``.
Then, on one studio per pack: the works page and the editor of different works, and "try it"
(``GET /try.json?q=...``) — its first question (the studio starts reading every text of the
pack into vectors in the background when it opens; this is the wait that is left after the
pages above), then ``--questions`` questions, p50/p95. The 1,000-work pack is written from the Tate
facts in ``../shared/eval`` (``bench/packs.py``), or made of the demo's works copied over when
they are not there. The real encoder answers; the data folder is a fresh one (the installed
models linked in), so each run starts with no vector cached. Nothing is asserted: a table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.packs import TATE_FILE, write_tate_pack  # noqa: E402
from bench.tables import percentile  # noqa: E402
from kiosk.content.loader import load_pack  # noqa: E402
from kiosk.evaluation import load_questions  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402

DEMO = ROOT / "content" / "demo"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
DEMO_QUESTIONS = ROOT / "tests" / "data" / "dev" / "demo-heldout.yaml"
ADDRESS = re.compile(r"(http://\S+/) \(Ctrl-C")
ASKED = {
    "en": ("Who painted {t}?", "When was {t} made?", "What is {t} made of?"),
    "fr": ("Qui a peint {t} ?", "De quand date {t} ?", "Où est {t} ?"),
    "es": ("¿Quién pintó {t}?", "¿De qué está hecho {t}?", "¿En qué sala está {t}?"),
}


class Studio:
    """``kiosk studio PACK`` in a process of its own; ``opened`` is the seconds from its start
    until its works page answered."""

    def __init__(self, pack: Path, data: Path) -> None:
        env = {**os.environ, "KIOSK_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"}
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        start = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "studio", str(pack), "--no-browser"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        found: list[str] = []
        printed = threading.Event()

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                match = ADDRESS.search(line)
                if match and not found:
                    found.append(match.group(1))
                    printed.set()
            printed.set()

        threading.Thread(target=read, daemon=True).start()
        printed.wait(600)
        if not found:
            self.stop()
            raise SystemExit(f"bench/studio.py: kiosk studio {pack} printed no address:\n"
                             + (self.process.stderr.read() if self.process.stderr else ""))
        self.url = found[0]
        self.printed = time.perf_counter() - start
        while True:
            try:
                with urllib.request.urlopen(self.url + "works", timeout=600) as r:
                    if r.status == 200:
                        r.read()
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.01)
        self.opened = time.perf_counter() - start

    def get(self, path: str) -> float:
        """Milliseconds to GET ``path`` (and read it)."""
        start = time.perf_counter()
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=600) as r:
            r.read()
        return (time.perf_counter() - start) * 1000

    def ask(self, question: str, lang: str = "") -> tuple[float, dict[str, object]]:
        query = urllib.parse.urlencode({"q": question, "lang": lang})
        start = time.perf_counter()
        with urllib.request.urlopen(f"{self.url}try.json?{query}", timeout=600) as r:
            body = json.loads(r.read())
        return (time.perf_counter() - start) * 1000, body

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class EditorForm(HTMLParser):
    """The fields a browser posts from the editor (``form#editor``): name → value."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.values, self.textarea = False, {}, ""  # type: ignore[var-annotated]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == "editor"
        elif self.inside and "name" in a:
            if tag == "input" and a.get("type") not in ("file", "checkbox", "submit"):
                self.values[a["name"]] = a.get("value", "")
            elif tag == "textarea":
                self.textarea = a["name"]
                self.values[self.textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        self.inside = self.inside and tag != "form"
        self.textarea = "" if tag == "textarea" else self.textarea

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea] += data


def save_ms(studio: Studio, work: str) -> float:
    """Milliseconds to save a one-field edit of ``work`` (the English title) as the editor
    posts it, until the editor it leads back to is read."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{studio.url}works/{work}/edit", timeout=600) as r:
        form = EditorForm()
        form.feed(r.read().decode("utf-8"))
    values = form.values
    title = next(k for k in values if k.startswith("title."))
    values[title] += " (edited)"
    body = urllib.parse.urlencode(values).encode()
    start = time.perf_counter()
    with opener.open(f"{studio.url}works/{work}/edit", data=body, timeout=600) as r:
        r.read()
        assert "done=saved" in r.url, r.url
    return (time.perf_counter() - start) * 1000


def fresh_data(models: Path) -> Path:
    """A data folder with nothing cached, the installed models linked in."""
    data = Path(tempfile.mkdtemp(prefix="bench-studio-data-"))
    (data / "models").symlink_to(models)
    return data


def big_pack(root: Path, works: int) -> tuple[Path, str]:
    """A pack of ``works`` works and where its works come from."""
    tate = SHARED_EVAL / TATE_FILE
    if tate.is_file():
        return write_tate_pack(root / f"tate-{works}", works, tate), "Tate facts"
    pack = root / f"demo-x-{works}"
    shutil.copytree(DEMO, pack, ignore=shutil.ignore_patterns("exhibits"))
    (pack / "exhibits").mkdir()
    sources = sorted((DEMO / "exhibits").glob("*.yaml"))
    for i in range(works):
        src, n = sources[i % len(sources)], i // len(sources)
        lines = src.read_text(encoding="utf-8").split("\n")
        if n:
            lines = [f"{line}-{n}" if line.startswith("id: ") else
                     re.sub(r'"([^"]+)"', rf'"\1 ({n})"', line) if line.startswith("title: ")
                     else line for line in lines]
        name = f"{src.stem}-{n}" if n else src.stem
        (pack / "exhibits" / f"{name}.yaml").write_text("\n".join(lines), encoding="utf-8")
    return pack, "the demo's works, copied"


def questions_for(pack: Path, count: int) -> list[tuple[str, str]]:
    """(question, language): questions about ``count`` of the pack's works, by their titles,
    in turn in English, French and Spanish."""
    read, _ = load_pack(pack)
    if read is None:
        raise SystemExit(f"bench/studio.py: {pack} does not validate")
    works = sorted(read.exhibits, key=lambda e: e.id)
    out: list[tuple[str, str]] = []
    for i, work in enumerate(works[:: max(1, len(works) // count)][:count]):
        lang = ("en", "fr", "es")[i % 3]
        title = work.title.get(lang) or next(iter(work.title.values()))
        out.append((ASKED[lang][i // 3 % 3].format(t=title), lang))
    return out


def ms(values: list[float], q: float) -> str:
    value = percentile(values, q)
    return "—" if value is None else f"{value:,.0f}"


def measure(name: str, pack: Path, models: Path, runs: int,
            questions: list[tuple[str, str]]) -> list[list[str]]:
    works = sorted(p.stem for p in (pack / "exhibits").glob("*.yaml"))
    openings, printed = [], []
    for _ in range(runs):
        data = fresh_data(models)
        studio = Studio(pack, data)
        openings.append(studio.opened)
        printed.append(studio.printed)
        studio.stop()
        shutil.rmtree(data, ignore_errors=True)
    data = fresh_data(models)
    studio = Studio(pack, data)
    try:
        works_page = [studio.get("/works") for _ in range(10)]
        chosen = works[:: max(1, len(works) // 10)][:10]
        editor = [studio.get(f"/works/{w}/edit") for w in chosen]
        saves = [save_ms(studio, w) for w in chosen[1:4]]
        studio.get("/works")
        first, _ = studio.ask(*questions[0])
        tries: list[float] = []
        kinds: Counter[str] = Counter()
        for question, lang in questions:
            took, body = studio.ask(question, lang)
            tries.append(took)
            kinds[str(body.get("kind"))] += 1
        # a curator's edit (one work's description), then the next question
        path = pack / "exhibits" / f"{chosen[0]}.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("description:", "description: # edited", 1)
                        .replace(" the ", " this ", 1), encoding="utf-8")
        after_edit, _ = studio.ask(*questions[1])
        path.write_text(text, encoding="utf-8")
    finally:
        studio.stop()
    studio = Studio(pack, data)  # opened again: the vectors are cached in the data folder
    reopened = studio.opened
    try:
        cached, _ = studio.ask(*questions[0])
    finally:
        studio.stop()
        shutil.rmtree(data, ignore_errors=True)
    n = f"{len(works):,}"
    outcomes = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
    return [
        [name, n, "open: start → address printed (s)", f"{statistics.median(printed):.2f}",
         "", f"median of {runs}"],
        [name, n, "open: start → first works page (s)", f"{statistics.median(openings):.2f}",
         "", f"median of {runs}"],
        [name, n, "open again, same data folder (s)", f"{reopened:.2f}", "",
         "files checked last time are not read again"],
        [name, n, "works page (ms)", ms(works_page, 50), ms(works_page, 95), "10 loads"],
        [name, n, "editor of a work (ms)", ms(editor, 50), ms(editor, 95),
         f"{len(editor)} works"],
        [name, n, "save a one-line edit (ms)", ms(saves, 50), ms(saves, 95),
         f"{len(saves)} works, each back to its editor"],
        [name, n, "try it: first question, nothing cached (ms)", f"{first:,.0f}", "",
         "after the pages above; what the studio did not yet encode in the background"],
        [name, n, "try it: GET /try.json (ms)", ms(tries, 50), ms(tries, 95),
         f"{len(tries)} questions: {outcomes}"],
        [name, n, "try it: first question after an edit (ms)", f"{after_edit:,.0f}", "",
         "one work changed on disk"],
        [name, n, "try it: first question, reopened (ms)", f"{cached:,.0f}", "",
         "vectors cached in the data folder"],
    ]


def markdown(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(
        "---" if i < 3 else "---:" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--works", type=int, default=1000, help="works in the big pack")
    parser.add_argument("--runs", type=int, default=3, help="openings timed per pack")
    parser.add_argument("--questions", type=int, default=30, help="questions asked per pack")
    args = parser.parse_args()
    models = DataDir(resolve_data_dir()).models
    if not models.is_dir():
        sys.exit(f"bench/studio.py: no models in {models} — `kiosk models install` first")
    root = Path(tempfile.mkdtemp(prefix="bench-studio-"))
    try:
        demo = root / "demo"
        shutil.copytree(DEMO, demo)
        pack, made_of = big_pack(root, args.works)
        held_out = [(q.q, q.lang) for q in load_questions(DEMO_QUESTIONS)[:args.questions]]
        rows = measure("demo", demo, models, args.runs, held_out)
        rows += measure(f"{args.works:,} works", pack, models, args.runs,
                        questions_for(pack, args.questions))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    command = "python bench/studio.py" + "".join(
        f" --{k} {v}" for k, v in (("works", args.works), ("runs", args.runs),
                                   ("questions", args.questions))
        if v != parser.get_default(k))
    print(f"`{command}` — kiosk studio, real encoder, fresh data folder, {os.cpu_count()} "
          f"CPUs; the big pack is made of {made_of}\n")
    print(markdown(["pack", "works", "what", "p50 or value", "p95", "over"], rows))


if __name__ == "__main__":
    main()

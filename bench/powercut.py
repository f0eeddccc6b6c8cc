"""Power cuts during `kiosk content sync`: kill -9 a sync at a random instant, then boot.

Each run copies a kiosk serving the old version, starts a sync of the new one in a child
process (a bundle folder on even runs, a .tar.gz on odd ones), and kills it with SIGKILL at a
seeded random instant spread over the whole sync (its length measured first). A fresh process
then opens the content the way the kiosk does at start (``runtime.default_content`` +
``open_content``): it must load a complete, verified version — the old or the new one, its
records, vectors and images all from that one version — and never fail or mix the two. Every
tenth run also checks that the next sync completes and serves the new version.

    .venv/bin/python -m bench.powercut [--runs 200] [--seed 1]

Prints a table and exits 1 on any failure. (SIGKILL loses no written page: it tests the
order of the steps and what the loader accepts, not the disk's own write cache.)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from kiosk.content import bundle
from kiosk.content.sync import sync
from kiosk.content.unpack import write_archive
from kiosk.paths import DataDir
from kiosk.testing import HashingEncoder
from tests.packs import FAQ, make_pack

ROOT = Path(__file__).resolve().parent.parent
ENC = HashingEncoder()
SYNC = """
import sys
from pathlib import Path
from kiosk.content.sync import sync
from kiosk.paths import DataDir
from kiosk.testing import HashingEncoder
enc = HashingEncoder()
print("go", flush=True)
sync(DataDir(Path(sys.argv[1])), Path(sys.argv[2]), enc.model_id, enc.sha256)
"""
LOAD = """
import json, sys
from pathlib import Path
from kiosk.paths import DataDir
from kiosk.runtime import default_content, open_content
from kiosk.testing import HashingEncoder
content = open_content(default_content(DataDir(Path(sys.argv[1]))), HashingEncoder())
print(json.dumps({"id": content.manifest["id"], "answer": content.pack.faq[0].answer["en"],
                  "exhibits": len(content.pack.exhibits), "vectors": len(content.vectors)}))
"""


def noise(path: Path, kb: int, rng: random.Random) -> None:
    """A real PNG of about ``kb`` KB: random pixels do not compress."""
    from PIL import Image

    side = max(1, int((kb * 1024 / 3) ** 0.5))
    Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(path)


def make_versions(work: Path, images: int = 24,
                  image_kb: int = 384) -> dict[str, dict[str, object]]:
    """Old and new bundles (the new one also as .tar.gz): each with its own FAQ answer and
    ``images`` exhibits whose images are ``image_kb`` KB, so a sync takes a while."""
    rng = random.Random(0)
    out: dict[str, dict[str, object]] = {}
    for n, name in enumerate(("old", "new")):
        answer = f"On floor {n}, next to the cloakroom."
        pack = make_pack(work / f"pack-{name}", {"faq.yaml": FAQ.replace(
            "On the ground floor, next to the cloakroom.", answer)})
        for i in range(images + n):  # the new version has one more work
            (pack / "exhibits" / f"work-{i}.yaml").write_text(
                f'title: "Work {i}"\nartist: "Artist {i}"\ndate: "19{i:02d}"\n'
                f'image: images/work-{i}.png\ndescription: {{en: "Painting number {i}.", '
                f'fr: "Tableau numéro {i}.", es: "Cuadro número {i}."}}\n',
                encoding="utf-8")
            noise(pack / "images" / f"work-{i}.png", image_kb, rng)
        manifest = bundle.build(pack, work / f"bundle-{name}", ENC)
        out[name] = {"id": manifest["id"], "answer": answer,
                     "exhibits": manifest["counts"]["exhibits"]}
    write_archive(work / "bundle-new", work / "bundle-new.tar.gz")
    return out


def _python(code: str, *args: str, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]


def _sync_seconds(work: Path, template: Path, source: Path) -> float:
    """How long a whole sync takes in the child, from its "go" to its exit."""
    times = []
    for n in range(3):
        data = work / f"calibrate-{n}"
        shutil.copytree(template, data, symlinks=True)
        child = _python(SYNC, str(data), str(source))
        assert child.stdout is not None and child.stdout.readline() == "go\n"
        start = time.perf_counter()
        child.communicate()
        times.append(time.perf_counter() - start)
        shutil.rmtree(data)
    return sorted(times)[1]


def run(runs: int, seed: int, work: Path, log: bool = False) -> tuple[Counter[str], list[str]]:
    """``runs`` kill-then-boot runs; the tally and one line per failure."""
    versions = make_versions(work)
    template = work / "template"
    sync(DataDir(template), work / "bundle-old", ENC.model_id, ENC.sha256)
    sources = [work / "bundle-new", work / "bundle-new.tar.gz"]
    spans = [_sync_seconds(work, template, s) for s in sources]
    rng = random.Random(seed)
    tally: Counter[str] = Counter()
    failures: list[str] = []
    for n in range(runs):
        data = work / f"run-{n}"
        shutil.copytree(template, data, symlinks=True)
        source = sources[n % 2]
        delay = rng.uniform(0, spans[n % 2] * 1.1)
        child = _python(SYNC, str(data), str(source))
        assert child.stdout is not None and child.stdout.readline() == "go\n"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.communicate()
        tally["finished before the kill" if child.returncode == 0 else "killed"] += 1
        loader = _python(LOAD, str(data))
        out, err = loader.communicate(timeout=120)
        problem = ""
        if loader.returncode != 0:
            problem = f"loader failed: {err.strip().splitlines()[-1] if err.strip() else '?'}"
        else:
            got = json.loads(out)
            which = next((k for k, v in versions.items() if v["id"] == got["id"]), None)
            if which is None:
                problem = f"loaded an unknown version {got['id'][:12]}"
            elif got["answer"] != versions[which]["answer"] or \
                    got["exhibits"] != versions[which]["exhibits"]:
                problem = f"loaded a mix: id of {which}, content {got}"
            else:
                tally[f"{which} loaded"] += 1
        if not problem and n % 10 == 9:  # the next sync recovers and completes
            message = sync(DataDir(data), source, ENC.model_id, ENC.sha256)
            if not message.startswith(("now serving", "bundle")) or \
                    os.readlink(data / "versions" / "current") != versions["new"]["id"]:
                problem = f"the sync after the cut did not complete: {message}"
            tally["resynced"] += 1
        if problem:
            failures.append(f"run {n} ({source.name}, kill at {delay:.3f} s): {problem}")
        if log:
            print(f"run {n:3d} kill at {delay:.3f} s: {problem or 'ok'}", file=sys.stderr)
        shutil.rmtree(data, ignore_errors=True)
    tally["failures"] = len(failures)
    tally["runs"] = runs
    return tally, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="one line per run on stderr")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kiosk-powercut-") as tmp:
        start = time.perf_counter()
        tally, failures = run(args.runs, args.seed, Path(tmp), args.verbose)
    print(f"power cut during `kiosk content sync` ({args.runs} runs, seed {args.seed}, "
          f"{time.perf_counter() - start:.0f} s)")
    print(f"| {'runs':>5} | {'old loaded':>10} | {'new loaded':>10} | {'killed':>6} | "
          f"{'resynced':>8} | {'failures':>8} |")
    print(f"| {'-' * 5} | {'-' * 10} | {'-' * 10} | {'-' * 6} | {'-' * 8} | {'-' * 8} |")
    print(f"| {tally['runs']:>5} | {tally['old loaded']:>10} | {tally['new loaded']:>10} | "
          f"{tally['killed']:>6} | {tally['resynced']:>8} | {tally['failures']:>8} |")
    for line in failures:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

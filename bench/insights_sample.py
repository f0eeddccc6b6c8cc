"""A realistic sample of the insights log, made by real turns, to look at ``kiosk report``.

Run ``.venv/bin/python bench/insights_sample.py /tmp/sample`` then
``.venv/bin/kiosk report --data-dir /tmp/sample -o /tmp/report.html --csv /tmp/turns.csv``.

Visitors' questions are the demo pack's own phrasings (popular works asked more) mixed with
questions it cannot answer (wifi, parking, dogs, works it does not hold, the weather...), in
French, English and Spanish, over several days. Every turn runs through the real pipeline
(encoder, answerer, session) and is logged by ``InsightsLog``; the sample data directory gets
the demo pack built and synced as its content (for the works' titles) and a link to the
installed models.
Spoken turns get simulated recognition and voice timings (no audio is played here).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.content import bundle as bundles  # noqa: E402
from kiosk.content.sync import sync  # noqa: E402
from kiosk.events import Answered, HeardNothing, PipelineEvent  # noqa: E402
from kiosk.insights.log import InsightsLog  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402
from kiosk.pipeline import Pipeline  # noqa: E402
from kiosk.qa.answerer import KioskAnswerer  # noqa: E402
from kiosk.qa.encoder import load_encoder  # noqa: E402
from kiosk.runtime import open_content  # noqa: E402
from kiosk.session import Session  # noqa: E402
from kiosk.settings import InsightsSettings, Settings  # noqa: E402

DEMO = ROOT / "content" / "demo"
LANGS = ("en", "fr", "es")
LANG_WEIGHTS = (0.45, 0.35, 0.20)

UNANSWERABLE: dict[str, list[str]] = {
    "en": ["Is there wifi here?", "What is the wifi password?", "Where can I park my car?",
           "Is there a car park nearby?", "Can I bring my dog?", "Do you have any Picasso?",
           "Where is the Mona Lisa?", "What's the weather like tomorrow?",
           "Can I charge my phone somewhere?", "Who won the football last night?",
           "Is there a temporary exhibition?", "When is the next bus to the station?"],
    "fr": ["Il y a du wifi ?", "Quel est le code du wifi ?", "Où est-ce que je peux me garer ?",
           "Y a-t-il un parking ?", "Les chiens sont-ils admis ?", "Avez-vous des Picasso ?",
           "Où est la Joconde ?", "Quel temps fera-t-il demain ?",
           "Où puis-je recharger mon téléphone ?", "Y a-t-il une exposition temporaire ?"],
    "es": ["¿Hay wifi?", "¿Cuál es la contraseña del wifi?", "¿Dónde puedo aparcar?",
           "¿Puedo entrar con mi perro?", "¿Tienen obras de Picasso?", "¿Dónde está la Mona Lisa?",
           "¿Qué tiempo hará mañana?", "¿Dónde puedo cargar el móvil?"],
}


def pack_questions(pack: Any) -> dict[str, list[str]]:
    """The demo's phrasings per language, popular works (lower priority number) weighted up."""
    out: dict[str, list[str]] = {lang: [] for lang in LANGS}
    for exhibit in pack.exhibits:
        weight = 3 if exhibit.priority == 1 else 1
        for pair in exhibit.qa:
            for lang in LANGS:
                out[lang] += list(pair.questions.get(lang, [])) * weight
    for entry in pack.faq:
        for lang in LANGS:
            out[lang] += list(entry.questions.get(lang, [])) * 2
    return out


def make_sample(data: DataDir, encoder: Any, days: int = 14, per_day: int = 40,
                seed: int = 1, end: datetime | None = None) -> int:
    """Log ``days`` days of turns into ``data``; returns the number of turns."""
    rng = random.Random(seed)
    content = open_content(DEMO, encoder)
    answerer = KioskAnswerer(content.pack, content.units, content.vectors, encoder,
                             Settings().qa)
    museum = content.pack.museum
    session = Session(museum.default_language, list(museum.languages))
    questions = pack_questions(content.pack)
    end = end or datetime.now().astimezone().replace(hour=17, minute=0, second=0, microsecond=0)
    now = [end]
    log = InsightsLog(data, InsightsSettings(enabled=True, retention_days=max(days, 90)),
                      clock=lambda: now[0])
    spoken = [False]

    def listener(event: PipelineEvent) -> None:
        if isinstance(event, Answered) and spoken[0]:
            event = replace(event, timings_ms={**event.timings_ms,
                                               "asr": rng.lognormvariate(7.2, 0.25),
                                               "end_of_speech_to_voice":
                                                   rng.lognormvariate(7.45, 0.2)})
        log.observe(event)

    pipeline = Pipeline(answerer, session, listener=listener)
    turns = 0
    for back in range(days - 1, -1, -1):
        day = end - timedelta(days=back)
        if day.weekday() == 0:  # closed on Mondays
            continue
        count = int(per_day * rng.uniform(0.5, 1.5) * (1.6 if day.weekday() >= 5 else 1))
        for minute in sorted(rng.sample(range(8 * 60), count)):
            now[0] = day.replace(hour=10) + timedelta(minutes=minute, seconds=rng.randrange(60))
            if rng.random() < 0.3:
                session.reset()
            lang = rng.choices(LANGS, LANG_WEIGHTS)[0]
            spoken[0] = rng.random() < 0.7
            if spoken[0] and rng.random() < 0.06:
                listener(HeardNothing())
            else:
                pool = UNANSWERABLE[lang] if rng.random() < 0.18 else questions[lang]
                pipeline.ask_text(rng.choice(pool), lang)
            turns += 1
    log.close()
    return turns


def install(data: DataDir, real: DataDir, encoder: Any) -> None:
    """The sample's data directory uses the installed models and serves the demo pack (built
    and synced as a bundle, so the report shows the works' titles)."""
    data.root.mkdir(parents=True, exist_ok=True)
    if not data.models.exists():
        data.models.symlink_to(real.models.resolve(), target_is_directory=True)
    if not (data.versions / "current").exists():
        bundle = data.root / "demo-bundle"
        bundles.build(DEMO, bundle, encoder)
        sync(data, bundle, encoder.model_id, encoder.sha256)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the sample's data directory")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--per-day", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    real = DataDir(resolve_data_dir())
    data = DataDir(args.out)
    encoder = load_encoder(real, Settings().models.encoder)
    install(data, real, encoder)
    turns = make_sample(data, encoder, args.days, args.per_day, args.seed)
    print(f"{turns} turns logged in {data.root / 'insights'} — now run:\n"
          f"  kiosk report --data-dir {data.root} -o /tmp/report.html --csv /tmp/turns.csv")


if __name__ == "__main__":
    main()

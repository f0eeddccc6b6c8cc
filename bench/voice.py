"""Voice turns on real speech: the streaming pipeline beside a naive sequential baseline.

    .venv/bin/python bench/voice.py            # everything (about 10 minutes here)
    .venv/bin/python bench/voice.py --quick    # latency tables only

Latency is measured from the end of speech (the end of the last frame Silero VAD called
speech before the end-pointer fired) to the first answer audio, on the same clips, in one run:
- streaming (the kiosk, ``Pipeline.ask_by_voice``): audio is fed at the pace of speech from a
  virtual microphone; the recognizer works while the visitor speaks (Vosk: decoding every
  chunk; Whisper: a guess decoded as soon as the visitor pauses); the answer's first sentence
  plays while the next ones are synthesised. First audio = the first word handed to the
  speakers.
- sequential baseline: record until the end-pointer fires → transcribe it all → answer →
  synthesise the whole answer → play.
Whisper base on real en/fr/es recordings (../shared/eval/audio); Vosk on the only Vosk model
installable here, Korean (vosk-ko), with Korean questions said by espeak-ng about the Korean
test pack (tests/data/packs/ko-small). Then: WER per language with and without content
hotwords, the error rate on names in generated questions (bench/names.py), cold start, and
peak memory with every model loaded. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from kiosk.asr.engines import load_recognizers  # noqa: E402
from kiosk.assembly import synthesizer  # noqa: E402
from kiosk.audio.endpoint import EndPointer, Outcome  # noqa: E402
from kiosk.audio.vad import SileroVad  # noqa: E402
from kiosk.audio.wav import RATE, read_wav  # noqa: E402
from kiosk.events import EventType, PipelineEvent  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402
from kiosk.pipeline import Pipeline  # noqa: E402
from kiosk.runtime import open_answerer  # noqa: E402
from kiosk.session import Session  # noqa: E402
from kiosk.settings import AsrSettings, Settings  # noqa: E402
from kiosk.testing import FakeSpeakers, SamplesMicrophone  # noqa: E402
from kiosk.tts.espeak import EspeakSynth  # noqa: E402
from kiosk.tts.speaker import Speaker  # noqa: E402
from kiosk.tts.synth import Synth  # noqa: E402

AUDIO = ROOT.parent / "shared" / "eval" / "audio"
KO_PACK = ROOT / "tests" / "data" / "packs" / "ko-small"
KO_QUESTIONS = [  # (question, the exhibit or FAQ entry it is about)
    ("모나리자는 누가 그렸나요", "mona-lisa"),
    ("모나리자의 모델은 누구였나요", "mona-lisa"),
    ("별이 빛나는 밤은 언제 그려졌나요", "starry-night"),
    ("하늘은 왜 소용돌이치나요", "starry-night"),
    ("진주 귀걸이를 한 소녀는 누가 그렸나요", "girl-with-a-pearl-earring"),
    ("터번은 왜 파란색인가요", "girl-with-a-pearl-earring"),
    ("화장실은 어디에 있나요", "toilets"),
    ("몇 시에 문을 닫나요", "opening-hours"),
]
SILENCE_S = 1.5


def clips() -> list[tuple[str, str]]:
    manifest = json.loads((AUDIO / "manifest.json").read_text())
    chosen = [m for m in manifest if m["file"].startswith(("rhasspy/", "leopard/"))]
    for lang in ("en", "fr", "es"):
        chosen += [m for m in manifest if m["file"].startswith(f"fleurs/fleurs-{lang}")][:3]
    return [(m["file"], m["lang"]) for m in chosen]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


class Turns:
    """Runs one clip both ways with the same models."""

    def __init__(self, settings: Settings, answerer: Any, recognizer: Any, synth: Synth,
                 vad: SileroVad, session: tuple[str, list[str]]) -> None:
        self.settings, self.answerer, self.recognizer = settings, answerer, recognizer
        self.synth, self.vad, self.session = synth, vad, session

    def endpointer(self) -> EndPointer:
        au = self.settings.audio
        self.ep = EndPointer(threshold=au.vad_threshold,
                             trailing_silence_ms=au.trailing_silence_ms,
                             max_utterance_s=au.max_utterance_s, no_speech_s=au.no_speech_s)
        return self.ep

    def streaming(self, audio: np.ndarray, lang: str,
                  synth: Synth | None = None) -> dict[str, Any] | None:
        first: list[float] = []
        partials: list[float] = []

        def listen(event: PipelineEvent) -> None:
            if event.type is EventType.CAPTION and not first:
                first.append(time.perf_counter())
            elif event.type is EventType.PARTIAL_TRANSCRIPT:
                partials.append(time.perf_counter())

        pipeline = Pipeline(self.answerer, Session(*self.session), self.recognizer,
                            listener=listen, speaker=Speaker(synth or self.synth, FakeSpeakers()),
                            endpointer=self.endpointer)
        mic = SamplesMicrophone(audio, silence_s=SILENCE_S + 1.0, realtime=True)
        turn = pipeline.ask_by_voice(mic, self.vad, lang)
        if turn is None or not first:
            return None
        end = mic.t0 + self.ep.speech_end_s
        return {"ms": (first[0] - end) * 1000, "text": turn[0].text, "end_s": self.ep.speech_end_s,
                "answer": turn[1], "partials": len(partials)}

    def sequential(self, audio: np.ndarray, lang: str) -> dict[str, Any] | None:
        ep = self.endpointer()
        self.vad.reset()
        stream = np.concatenate([audio, np.zeros(int((SILENCE_S + 1.0) * RATE), np.float32)])
        fired_at = None
        for i in range(0, len(stream), RATE // 10):
            chunk = stream[i:i + RATE // 10]
            if ep.push(chunk, self.vad.feed(chunk)) is Outcome.UTTERANCE:
                fired_at = (i + len(chunk)) / RATE
                break
        if fired_at is None:
            return None
        t = time.perf_counter()
        heard = self.recognizer.transcribe(ep.audio(), lang)
        answer = Session(*self.session).ask(self.answerer, heard.text, lang)
        self.synth.synthesize(f"{answer.notice} {answer.text}".strip(), answer.lang)
        return {"ms": (fired_at - ep.speech_end_s) * 1000 + (time.perf_counter() - t) * 1000,
                "text": heard.text, "answer": answer}


def latency_table(title: str, rows: list[tuple[float, float]], budget_ms: float,
                  silence_ms: float) -> None:
    s = [r[0] for r in rows]
    q = [r[1] for r in rows]
    print(f"\n{title}: end of speech → first answer audio, {len(rows)} clips (ms)")
    print(f"{'':<22} {'p50':>6} {'p95':>6}")
    print(f"{'streaming (kiosk)':<22} {pct(s, 50):>6.0f} {pct(s, 95):>6.0f}   budget ≤ "
          f"{budget_ms:.0f}; {pct(s, 50) / silence_ms:.2f}× the end-pointing silence "
          f"({silence_ms:.0f} ms)")
    print(f"{'sequential baseline':<22} {pct(q, 50):>6.0f} {pct(q, 95):>6.0f}   "
          f"baseline/streaming: p50 {pct(q, 50) / pct(s, 50):.2f}×, "
          f"p95 {pct(q, 95) / pct(s, 95):.2f}×")


def window(recognizer: Any, name: str) -> None:
    """Whisper's window for the next turns ("short": the kiosk's; "full": 30 s, as before)."""
    if hasattr(recognizer, "window"):
        recognizer.window = name


def whisper_part(settings: Settings, data: DataDir, synth: Synth, vad: SileroVad,
                 espeak: EspeakSynth) -> tuple[Any, Any]:
    answerer, content, _ = open_answerer(settings, data, ROOT / "content" / "demo")
    recognizers = load_recognizers(settings.asr, data, content.pack, ["fr", "en", "es"])
    whisper = recognizers.default
    whisper.transcribe(np.zeros(RATE, np.float32), "en")  # warm-up
    print(f"\n## Whisper base (int8, {settings.asr.threads} threads) on real speech; "
          f"trailing silence {settings.audio.trailing_silence_ms:.0f} ms, guess after "
          f"{settings.asr.whisper_pause_ms:.0f} ms of pause")
    print(f"voice: {synth.engine}; 'before' is the kiosk before the short window and Pico "
          "(Whisper's full 30 s window, espeak-ng), streaming the same way; the sequential "
          f"baseline records all, transcribes with the full window, answers, says the whole "
          f"answer with {synth.engine}, then plays")
    print(f"{'clip':<34} {'lang':<4} {'speech to':>9} {'kiosk':>7} {'before':>7} "
          f"{'sequential':>10}  heard")
    rows, before = [], []
    for name, lang in clips():
        audio = read_wav(AUDIO / name)
        turns = Turns(settings, answerer, whisper, synth, vad, (lang, ["fr", "en", "es"]))
        window(whisper, "short")
        fast = turns.streaming(audio, lang)
        window(whisper, "full")
        old = turns.streaming(audio, lang, espeak)
        slow = turns.sequential(audio, lang)
        window(whisper, "short")
        if fast is None or slow is None or old is None:
            print(f"{name:<34} {lang:<4} (the end-pointer did not fire)")
            continue
        rows.append((fast["ms"], slow["ms"]))
        before.append(old["ms"])
        print(f"{name:<34} {lang:<4} {fast['end_s']:>9.1f} {fast['ms']:>7.0f} {old['ms']:>7.0f} "
              f"{slow['ms']:>10.0f}  {fast['text'][:50]}")
    latency_table("Whisper base", rows, 1000, settings.audio.trailing_silence_ms)
    s = [r[0] for r in rows]
    print(f"{'before (full, espeak)':<22} {pct(before, 50):>6.0f} {pct(before, 95):>6.0f}   "
          f"before/kiosk: p50 {pct(before, 50) / pct(s, 50):.2f}×, "
          f"p95 {pct(before, 95) / pct(s, 95):.2f}×")
    return answerer, recognizers


def vosk_part(settings: Settings, data: DataDir, synth: Synth, vad: SileroVad,
              encoder: Any) -> Any:
    from kiosk.errors import ModelError

    ko_settings = Settings(asr=AsrSettings(engine_by_language="ko=vosk-ko"))
    try:
        answerer, content, _ = open_answerer(ko_settings, data, KO_PACK, encoder=encoder)
        recognizers = load_recognizers(ko_settings.asr, data, content.pack, ["ko"])
        plain = load_recognizers(AsrSettings(engine_by_language="ko=vosk-ko",
                                             vosk_grammar=False), data, content.pack, ["ko"])
    except ModelError as exc:
        print(f"\n## Vosk: skipped ({exc})")
        return None
    print("\n## Vosk (vosk-ko, Korean questions said by espeak-ng, with the content grammar); "
          f"trailing silence {settings.audio.trailing_silence_ms:.0f} ms")
    print(f"{'question':<26} {'streaming':>9} {'sequential':>10} {'partials':>8}  heard "
          "(grammar) │ heard (no grammar)")
    rows, right, right_plain, titles, titles_plain = [], 0, 0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for question, expect in KO_QUESTIONS:
            wav = Path(tmp) / "q.wav"
            subprocess.run(["espeak-ng", "-v", "ko", "-s", "140", "-w", str(wav), question],
                           check=True)
            audio = read_wav(wav)
            turns = Turns(settings, answerer, recognizers.by_lang["ko"], synth, vad,
                          ("ko", ["ko"]))
            fast = turns.streaming(audio, "ko")
            slow = turns.sequential(audio, "ko")
            bare = Turns(settings, answerer, plain.by_lang["ko"], synth, vad, ("ko", ["ko"]))
            unbiased = bare.sequential(audio, "ko")
            if fast is None or slow is None or unbiased is None:
                print(f"{question:<26} (the end-pointer did not fire)")
                continue
            rows.append((fast["ms"], slow["ms"]))
            right += fast["answer"].source.ref == expect
            right_plain += unbiased["answer"].source.ref == expect
            name = _ko_name(content.pack, expect)
            titles += bool(name) and name in fast["text"].replace(" ", "")
            titles_plain += bool(name) and name in unbiased["text"].replace(" ", "")
            print(f"{question:<26} {fast['ms']:>9.0f} {slow['ms']:>10.0f} {fast['partials']:>8}"
                  f"  {fast['text'][:24]} │ {unbiased['text'][:24]}")
    latency_table("Vosk (Korean)", rows, 800, settings.audio.trailing_silence_ms)
    named = sum(1 for _q, e in KO_QUESTIONS if _ko_name(content.pack, e))
    print(f"\nVosk content grammar (biasing), {len(rows)} Korean questions:")
    print(f"{'':<16} {'right answer':>12} {'title heard':>11}")
    print(f"{'with grammar':<16} {right:>7}/{len(rows):<4} {titles:>7}/{named}")
    print(f"{'without':<16} {right_plain:>7}/{len(rows):<4} {titles_plain:>7}/{named}")
    return recognizers


def _ko_name(pack: Any, ref: str) -> str:
    exhibit = pack.exhibit(ref)
    return exhibit.title["ko"].replace(" ", "") if exhibit else ""


def words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def wer_part(whisper: Any, hotwords: list[str]) -> None:
    import jiwer

    manifest = [c for c in json.loads((AUDIO / "manifest.json").read_text())
                if c.get("transcript")]
    print(f"\n## Whisper base WER on real speech, without and with {len(hotwords)} content "
          "hotwords (the demo pack's titles and artists)")
    print(f"{'lang':<5} {'clips':>5} {'WER':>7} {'WER hotwords':>12}")
    for lang in ("en", "fr", "es"):
        rows = [c for c in manifest if c["lang"] == lang]
        refs = [words(c["transcript"]) for c in rows]
        plain, hot = [], []
        for c in rows:
            audio = read_wav(AUDIO / c["file"])
            plain.append(words(whisper.transcribe(audio, lang).text))
            hot.append(words(whisper.transcribe(audio, lang, hotwords).text))
        print(f"{lang:<5} {len(rows):>5} {jiwer.wer(refs, plain) * 100:>6.1f}% "
              f"{jiwer.wer(refs, hot) * 100:>11.1f}%")


def names_part(whisper: Any, answerer: Any, synth: Synth) -> None:
    from bench.names import name_rows, print_rows

    print("\n## Names of works and artists in questions generated about the demo pack "
          "(espeak-ng → Whisper base; bench/names.py)")
    print_rows(name_rows(whisper, answerer, synth))


CHILD_IMPORTS = ("from pathlib import Path;"
                 "from kiosk.settings import Settings, AsrSettings;"
                 "from kiosk.paths import DataDir, resolve_data_dir;"
                 "from kiosk.runtime import open_answerer;"
                 "from kiosk.asr.engines import load_recognizers;"
                 "from kiosk.audio.vad import SileroVad;"
                 "from kiosk.tts.espeak import EspeakSynth; from kiosk.events import Question;"
                 "d=DataDir(resolve_data_dir());")
"""What a new process needs to load a kiosk's models (for memory and cold start)."""


def run_child(code: str) -> float:
    """Run ``code`` in a new Python; the number it prints last."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def peak_memory(pack: str, engines: str, both: bool = False) -> float:
    """MB at peak of a new process that loads what `kiosk listen` loads (plus Whisper)."""
    code = (CHILD_IMPORTS +
            "import numpy as np;"
            f"asr=AsrSettings(engine_by_language={engines!r});"
            f"a,c,_=open_answerer(Settings(asr=asr), d, Path({pack!r}));"
            f"langs=sorted(set(c.pack.museum.languages) | ({{'en'}} if {both} else set()));"
            "r=load_recognizers(asr, d, c.pack, langs); v=SileroVad();"
            "[r.transcribe(np.zeros(16000, np.float32), l) for l in langs];"
            "v.feed(np.zeros(16000, np.float32)); s=EspeakSynth(); s.synthesize('ready','en');"
            "s.close();"
            # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec
            "print(next(int(x.split()[1]) for x in open('/proc/self/status')"
            " if x.startswith('VmHWM')) / 1024)")
    return run_child(code)


def cold_start() -> float:
    """Seconds from a new process to every model loaded and one answer ready."""
    code = ("import time; t=time.perf_counter();" + CHILD_IMPORTS +
            "a,c,_=open_answerer(Settings(), d, Path('content/demo'));"
            "r=load_recognizers(AsrSettings(), d, c.pack, ['fr','en','es']);"
            "v=SileroVad(); s=EspeakSynth(); s.synthesize('ready','en');"
            "a.answer(Question('who painted the milkmaid','en')); s.close();"
            "print(time.perf_counter()-t)")
    return run_child(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="latency tables only")
    parser.add_argument("--only", choices=["whisper", "vosk"],
                        help="one recognizer's latency table (implies --quick)")
    parser.add_argument("--silence-ms", type=float, metavar="MS",
                        help="end-pointing trailing silence (default: the setting's)")
    args = parser.parse_args()
    if not AUDIO.is_dir():
        print(f"no outside audio at {AUDIO}: nothing to measure")
        return
    settings = Settings()
    if args.silence_ms is not None:
        settings = dataclasses.replace(settings, audio=dataclasses.replace(
            settings.audio, trailing_silence_ms=args.silence_ms))
    data = DataDir(resolve_data_dir())
    vad = SileroVad()
    synth = synthesizer(settings)
    espeak = EspeakSynth(rate=settings.speech.rate)
    for lang in ("en", "fr", "es"):
        synth.synthesize("warm up", lang)
        espeak.synthesize("warm up", lang)
    print(f"$ .venv/bin/python bench/voice.py {' '.join(sys.argv[1:])}")
    if args.only == "vosk":
        from kiosk.qa.encoder import load_encoder

        vosk_part(settings, data, synth, vad, load_encoder(data, settings.models.encoder))
        synth.close()
        espeak.close()
        return
    answerer, recognizers = whisper_part(settings, data, synth, vad, espeak)
    if args.only == "whisper":
        synth.close()
        espeak.close()
        return
    vosk_part(settings, data, synth, vad, answerer.encoder)
    if not args.quick:
        from kiosk.asr.vocabulary import phrases

        wer_part(recognizers.default, phrases(answerer.pack, 40))
        names_part(recognizers.default, answerer, synth)
    synth.close()
    espeak.close()
    print("\npeak memory (MB) of a new process with the models a kiosk loads (encoder, VAD, "
          "recognizers, one decode each; + the espeak worker, a few MB); budget ≤ 700")
    for label, pack, engines, both in (
            ("Whisper base (fr/en/es demo)", "content/demo", "", False),
            ("vosk-ko (ko pack)", str(KO_PACK.relative_to(ROOT)), "ko=vosk-ko", False),
            ("vosk-ko and Whisper base", str(KO_PACK.relative_to(ROOT)), "ko=vosk-ko", True)):
        print(f"  {label:<30} {peak_memory(pack, engines, both):>6.0f}")
    print(f"  (this bench process, everything twice over: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f})")
    print(f"cold start to ready (new process: content, encoder, Whisper, VAD, speech): "
          f"{cold_start():.1f} s; budget ≤ 8 s")


if __name__ == "__main__":
    main()

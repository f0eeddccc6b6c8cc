"""The doctor's checks of the kiosk's own parts, then of the whole: every configured model
(sizes, and sha256 unless quick), the content version it would serve, and one question end to
end — answered by the real answerer, said by each voice engine (Pico, espeak-ng), heard back
by the recognizer.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kiosk.doctor.check import FAIL, OK, SKIP, WARN, Check, Probe, split_fix

WHO_PAINTED = {"en": "Who painted {}?", "fr": "Qui a peint {} ?", "es": "¿Quién pintó {}?"}


# -- models and content ------------------------------------------------------------------------
def configured_models(p: Probe) -> list[str]:
    """Catalog ids the settings use: the encoder and each language's recognizer."""
    from kiosk.asr.engines import engine_map

    languages = p.found.get("languages") or ["fr", "en", "es"]
    asr = engine_map(p.settings.asr, languages)
    from kiosk.qa.encoder import encoder_ids

    return list(dict.fromkeys([*encoder_ids(p.settings.models.encoder), p.settings.asr.engine,
                               *asr.values()]))


def check_model(p: Probe, model_id: str) -> Check:
    """Every file of the model present, at its size and (unless quick) its sha256."""
    from kiosk import models
    from kiosk.engines import engine_for
    from kiosk.errors import ModelError

    name = f"model {model_id}"
    spec = models.get_spec(model_id)
    target, command = p.data.model_dir(model_id), models.install_command(spec)
    files = {f.name: (f.size, f.sha256) for f in spec.files}
    if spec.source.get("kind") == "archive":
        try:
            recorded = json.loads((target / models.MANIFEST).read_text(encoding="utf-8"))
            files = {n: (f["size"], f["sha256"]) for n, f in recorded["files"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            files = {}
    if not files or not any((target / n).exists() for n in files):
        return Check(name, FAIL, f"not installed in {p.data.models}", f"run `{command}`")
    for rel, (size, sha) in files.items():
        path = target / rel
        if not path.is_file() or path.stat().st_size != size:
            return Check(name, FAIL, f"{rel} is missing or the wrong size",
                         f"run `{command}` again")
        if not p.quick and models.sha256_file(path) != sha:
            return Check(name, FAIL, f"{rel} does not match its sha256 (damaged)",
                         f"run `{command}` again")
    how = "sizes checked (quick)" if p.quick else "sha256 verified"
    try:
        engine_for(spec)  # an engine this kiosk can run it with
    except ModelError as exc:
        return Check(name, FAIL, *split_fix(str(exc)))
    return Check(name, OK, f"{len(files)} file{'s' * (len(files) != 1)}, {how}")


def check_vad(p: Probe) -> Check:
    """Silero VAD (inside faster-whisper), sha256-checked as the kiosk does at start-up."""
    from kiosk.audio.vad import silero_path

    silero_path()
    return Check("model silero-vad", OK, "sha256 verified (inside faster-whisper)")


def check_content(p: Probe) -> Check:
    """The version the kiosk would serve: complete, every file matching, the right encoder."""
    from kiosk.content import bundle
    from kiosk.content.sync import current_version
    from kiosk.errors import ContentError
    from kiosk.runtime import default_content, previous_folder

    if p.serving is not None and not (p.serving / bundle.MANIFEST).is_file():
        return Check("content", OK, f"pack {p.serving} (given with --content; validated when "
                     "the kiosk started)")
    try:
        folder = p.serving or default_content(p.data)
        if p.serving is not None:
            bundle.verify(folder)
    except ContentError as exc:
        return Check("content", FAIL, split_fix(str(exc))[0],
                     "sync a bundle: `kiosk content sync SRC` (a bundle folder, archive or "
                     "USB stick)")
    manifest = bundle.read_manifest(folder)
    try:  # the records, checked with each other as a sync checks them (no encoder needed)
        bundle.load(folder, manifest)
    except ContentError as exc:
        broken = f"{folder.name[:12]} does not open: {split_fix(str(exc))[0]}"
        fallback = [f for f in previous_folder(p.data) if f != folder] if p.serving is None \
            else []
        if not fallback:
            return Check("content", FAIL, broken, "sync a good bundle (`kiosk content sync "
                         "SRC`) or roll back (`kiosk content rollback`)")
        return Check("content", WARN, f"{broken}; the kiosk serves the previous version "
                     f"{fallback[0].name[:12]}", "sync a good bundle (`kiosk content sync SRC`)"
                     " or roll back (`kiosk content rollback`)")
    p.found.update(content=folder, manifest=manifest, languages=manifest.get("languages"))
    built = str(manifest.get("created", "?"))[:16].replace("T", " ") + " UTC"
    what = (f"{folder.name[:12]}: {manifest.get('museum', '?')}, "
            f"{manifest.get('counts', {}).get('exhibits', '?')} works, built {built}")
    from kiosk.qa.encoder import identity

    encoder_id, encoder_sha = identity(p.settings.models.encoder)
    encoder = manifest.get("encoder") or {}
    if encoder.get("id") != encoder_id or encoder.get("sha256") != encoder_sha:
        return Check("content", FAIL, f"{what}: built for encoder {encoder.get('id')}, the "
                     f"kiosk uses {encoder_id}", "build the bundle again with this encoder")
    if p.serving is None and folder.name != current_version(p.data):
        return Check("content", WARN, f"serving the previous version {what}: the current one "
                     "is damaged", "sync the current bundle again (`kiosk content sync SRC`)")
    return Check("content", OK, what)


# -- end to end ----------------------------------------------------------------------------------
def check_answer(p: Probe) -> Check:
    """"Who painted <the first work on view>?" in the content's language, answered for real."""
    from kiosk.assembly import assemble
    from kiosk.events import AnswerKind, Question

    if "content" not in p.found:
        return Check("end-to-end", SKIP, "no content to ask about (see content)")
    today = p.now().date()
    kiosk = assemble(p.settings, p.data, p.found["content"], today=today)
    answerer, pack = kiosk.answerer, kiosk.content.pack
    work = next((e for e in pack.exhibits if e.on_view(today)), None)
    if work is None:
        return Check("end-to-end", WARN, f"no work is on view on {today}",
                     "check the clock and the content's on_view dates")
    lang = pack.museum.default_language if pack.museum.default_language in WHO_PAINTED \
        else "en"
    title = work.title.get(lang) or next(iter(work.title.values()))
    question = WHO_PAINTED[lang].format(title)
    started = time.perf_counter()
    answer = answerer.answer(Question(question, lang))
    ms = (time.perf_counter() - started) * 1000
    p.found.update(answerer=answerer, pack=pack, question=question, lang=lang, work=work.id,
                   answer=answer.text)
    asked = f"{question!r} → "
    if answer.kind is not AnswerKind.ANSWER or answer.exhibit_id != work.id:
        return Check("end-to-end", FAIL, f"{asked}{answer.kind} {answer.exhibit_id or ''}, "
                     f"expected {work.id}", "try `kiosk ask` with that question; check the "
                     "content and the qa settings")
    return Check("end-to-end", OK, f"{asked}{answer.text!r} ({ms:.0f} ms)")


@contextmanager
def _synth(p: Probe) -> Iterator[Any]:
    from kiosk.assembly import synthesizer

    synth = synthesizer(p.settings)
    try:
        yield synth
    finally:
        synth.close()


SPEECH_ENGINES = {"pico": "pico", "espeak": "espeak-ng"}
"""``[speech] engine`` value → the name its check line has ("speech pico")."""


def check_speech(p: Probe, engine: str | None = None) -> Check:
    """The answer said by one voice engine alone (default: ``[speech] engine``), not played.
    Pico failing is a warning (espeak-ng speaks instead); espeak-ng failing is a failure when
    it is the engine, or when Pico has no voice for the answer's language."""
    from kiosk.errors import SpeechError
    from kiosk.tts.espeak import EspeakSynth
    from kiosk.tts.pico import VOICES, PicoSynth

    sp = p.settings.speech
    engine = engine or sp.engine
    name = f"speech {SPEECH_ENGINES[engine]}"
    if "answer" not in p.found:
        return Check(name, SKIP, "no answer to say (see end-to-end)")
    lang = p.found["lang"]
    if engine == "pico":
        synth: Any = PicoSynth(sp.voice_map(), rate=sp.rate, volume=sp.volume,
                               timeout_s=sp.timeout_s)
        if not synth.speaks(lang):
            synth.close()
            return Check(name, SKIP, f"Pico has no voice for '{lang}': espeak-ng says it")
        bad = WARN
        fix = ("`pip install py-nanotts==0.1.1` (see requirements.lock), or set [speech] "
               "engine = \"espeak\"")
    else:
        pico_lacks = sp.engine == "pico" and lang not in {**VOICES, **sp.voice_map()}
        bad = FAIL if sp.engine == "espeak" or pico_lacks else WARN
        if shutil.which("espeak-ng") is None:
            return Check(name, bad, "espeak-ng is not installed", "`apt install espeak-ng`")
        synth = EspeakSynth(rate=sp.rate, volume=sp.volume, timeout_s=sp.timeout_s)
        fix = "`apt install --reinstall espeak-ng`; try `espeak-ng -v fr bonjour`"
    try:
        started = time.perf_counter()
        audio = synth.synthesize(p.found["answer"], lang)
        ms = (time.perf_counter() - started) * 1000
    except SpeechError as exc:
        return Check(name, bad, f"cannot say the answer: {exc}", fix)
    finally:
        synth.close()
    if len(audio) == 0 or float(abs(audio).max()) < 0.01:
        return Check(name, bad, "the answer came out silent", fix)
    return Check(name, OK, f"the answer as {len(audio) / 16000:.1f} s of audio in {ms:.0f} ms "
                 f"({synth.voice(lang)})")


def check_recognition(p: Probe) -> Check:
    """The question said by espeak-ng, heard by the language's recognizer, answered again.
    A miss is a warning: synthetic speech is not a visitor (espeak-ng French, Whisper base)."""
    from kiosk.asr.engines import engine_map
    from kiosk.assembly import recognizers_for
    from kiosk.events import Question

    if "question" not in p.found or shutil.which("espeak-ng") is None:
        return Check("recognition", SKIP, "no question to say (see end-to-end and speech)")
    lang = p.found["lang"]
    model_id = engine_map(p.settings.asr, [lang])[lang]
    recognizers = recognizers_for(p.settings, p.data, p.found["pack"], [lang])
    with _synth(p) as synth:
        audio = synth.synthesize(p.found["question"], lang)
    heard = recognizers.transcribe(audio, lang).text.strip()
    again = p.found["answerer"].answer(Question(heard, lang))
    what = f"{model_id} heard {heard!r}"
    if again.exhibit_id != p.found["work"]:
        return Check("recognition", WARN, f"{what}: not the question asked",
                     "synthetic speech is hard for it (README, Speech); try a real voice "
                     "with `kiosk listen --once`")
    return Check("recognition", OK, f"{what} → {p.found['work']}")

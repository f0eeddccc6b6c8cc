"""SVOX Pico for real (py-nanotts in its worker): fr, en and es said; the rate and the volume
measured on the audio; captions timed against the audio itself; espeak-ng when Pico lacks the
language or fails; the engine the settings choose; the speaker with Pico."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from multiprocessing.connection import Connection

import numpy as np
import pytest

from kiosk.assembly import synthesizer
from kiosk.errors import SettingsError, SpeechError
from kiosk.settings import Settings, SpeechSettings, load_settings
from kiosk.testing import FakeSpeakers
from kiosk.tts import timing
from kiosk.tts.espeak import EspeakSynth
from kiosk.tts.pico import PicoSynth, plain
from kiosk.tts.speaker import EspeakSpeaker, Speaker
from kiosk.tts.synth import Fallback, Spoken

SAID = {"fr": "La Laitière est une œuvre de Johannes Vermeer.",
        "en": "The Milkmaid is a painting by Johannes Vermeer.",
        "es": "La lechera es una obra de Johannes Vermeer."}


@pytest.fixture(scope="module")
def pico() -> Iterator[PicoSynth]:
    synth = PicoSynth()
    yield synth
    synth.close()


@pytest.fixture(scope="module")
def espeak() -> Iterator[EspeakSynth]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    synth = EspeakSynth()
    yield synth
    synth.close()


def voiced_s(audio: np.ndarray) -> float:
    start, end, _ = timing.voiced(audio)
    return end - start


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))


# -- Pico itself ----------------------------------------------------------------------------
def test_pico_says_french_english_and_spanish(pico: PicoSynth) -> None:
    for lang, text in SAID.items():
        spoken = pico.speak(text, lang)
        assert 1.5 < len(spoken.audio) / 16_000 < 6.0, lang
        assert 0.2 < float(np.abs(spoken.audio).max()) < 1.0, lang
        assert [text[a:b] for _t, a, b in spoken.words] == text.rstrip(".").split(), lang
    assert pico.voice("fr") == "fr-FR" and pico.restarts == 0


def test_the_same_text_always_gives_the_same_audio(pico: PicoSynth) -> None:
    """py-nanotts leaves Pico's working memory uncleared: without fresh memory for every call
    (``tts.picoworker``) what a text sounds like depends on what was said before it."""
    text = "Look closely, on the left, at the little girl holding a basket of flowers."
    first = pico.synthesize(text, "en")
    for lang, other in SAID.items():
        pico.synthesize(other, lang)
    again = pico.synthesize(text, "en")
    assert np.array_equal(first, again)  # (without: 20 ms shorter, other samples)
    _start, _end, pauses = timing.voiced(again)
    assert len(pauses) == 2  # one at each comma


def test_slower_rate_is_longer_audio_by_the_same_share(pico: PicoSynth) -> None:
    """The visitor's "slower speech" (rate × 0.75) makes every language 1/0.75 as long."""
    for lang, text in SAID.items():
        pico.rate = 165
        normal = voiced_s(pico.synthesize(text, lang))
        pico.rate = round(165 * 0.75)
        slow = voiced_s(pico.synthesize(text, lang))
        pico.rate = 165
        assert slow / normal == pytest.approx(165 / 124, rel=0.08), lang


def test_volume_scales_the_audio_and_full_volume_does_not_clip(pico: PicoSynth) -> None:
    text = {"es": "¡Bienvenidos! Este cuadro enorme muestra una batalla al amanecer.",
            "en": "Welcome! This huge painting shows a battle at dawn."}
    for lang, said in text.items():
        full = pico.synthesize(said, lang)
        pico.volume = 0.5
        half = pico.synthesize(said, lang)
        pico.volume = 1.0
        assert rms(half) / rms(full) == pytest.approx(0.5, rel=0.1), lang
        assert float(np.abs(full).max()) < 0.999, lang  # Pico's own 100 clips; GAIN is 50


def test_markup_in_a_text_is_not_obeyed(pico: PicoSynth) -> None:
    text = 'A <speed level="20">slow</speed> word.'
    assert plain(text) == "A                   slow         word." and len(plain(text)) == len(text)
    tagged = voiced_s(pico.synthesize(text, "en"))
    assert tagged < 1.5 * voiced_s(pico.synthesize("A slow word.", "en"))  # not at speed 20
    assert len(pico.synthesize("", "en")) == 0  # and nothing is nothing


# -- caption timing against the audio -------------------------------------------------------
# The true start of word k+1 is found in the audio itself: the words before it and the words
# from it on are said apart, and the two clips, end to end, are aligned to the whole sentence
# (DTW over MFCCs, both ends fixed); where the join lands is the word's start (past any
# silence). At 214 commas of the demo pack's sentences, where the start is known exactly (the
# voice comes back after the pause), this truth was within 20 ms of the pause's end every time.
# Against it, on 120 sentences of the demo pack's answers (2,016 words, not used to choose
# kiosk.tts.timing's weights), the captions are off by 65-91 ms a word on average (en, fr,
# es), 186-295 ms at the 95th percentile; words spread evenly over the clip by 249-331 ms.
# On the three sentences below: 37-93 ms on average, 214 ms at most (even spread: 206-276 ms
# on average, so the mean tolerance tells the two apart).
MEAN_TOLERANCE_S = 0.15
WORD_TOLERANCE_S = 0.35
COMMA_TOLERANCE_S = 0.03

TIMED = {"fr": "Regardez bien, à gauche, la petite fille qui tient un panier de fleurs.",
         "en": "Look closely, on the left, at the little girl holding a basket of flowers.",
         "es": "Mire bien, a la izquierda, a la niña que sostiene una cesta de flores."}


def _mel_bank(win: int = 400, bands: int = 40) -> np.ndarray:
    mel = np.linspace(2595 * np.log10(1 + 80 / 700), 2595 * np.log10(1 + 7600 / 700), bands + 2)
    edges = 700 * (10 ** (mel / 2595) - 1)
    freqs = np.fft.rfftfreq(win, 1 / 16_000)
    return np.stack([np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)),
                             0, None)
                     for lo, mid, hi in zip(edges, edges[1:], edges[2:], strict=False)])


MEL = _mel_bank()
DCT = np.cos(np.pi / 40 * (np.arange(40)[None, :] + 0.5) * np.arange(13)[:, None])
WINDOW = np.hanning(400)


HOP = 160
"""Samples between two MFCC frames (10 ms)."""


def _mfcc(audio: np.ndarray) -> np.ndarray:
    """13 MFCCs every 10 ms (25 ms windows)."""
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(audio, (0, 400)), 400)[::HOP]
    power = np.abs(np.fft.rfft(frames * WINDOW, axis=1)) ** 2
    out: np.ndarray = np.log(power @ MEL.T + 1e-8) @ DCT.T
    return out


def _join_frame(parts: np.ndarray, whole: np.ndarray, join: int) -> int:
    """The frame of ``whole`` that frame ``join`` of ``parts`` is aligned with (DTW with
    steps of 0, 1 or 2 frames of ``whole`` per frame of ``parts``; both ends fixed)."""
    cost = np.sqrt(np.maximum((parts ** 2).sum(1)[:, None] + (whole ** 2).sum(1)[None, :]
                              - 2 * parts @ whole.T, 0))
    n = len(whole)
    total = np.full(n, np.inf)
    total[0] = cost[0, 0]
    moves = np.zeros(cost.shape, dtype=np.int64)
    shifted = np.full((3, n), np.inf)
    columns = np.arange(n)
    for i in range(1, len(parts)):
        shifted[0], shifted[1, 1:], shifted[2, 2:] = total, total[:-1], total[:-2]
        moves[i] = np.argmin(shifted, axis=0)
        total = cost[i] + shifted[moves[i], columns]
    j = len(whole) - 1
    for i in range(len(parts) - 1, join, -1):
        j -= int(moves[i, j])
    return int(j)


def true_starts(synth: PicoSynth, text: str, lang: str, audio: np.ndarray) -> list[float]:
    def trimmed(part: str) -> np.ndarray:
        said = synth.synthesize(part, lang)
        start, end, _ = timing.voiced(said)
        return said[int(start * 16_000):int(end * 16_000)]

    start, end, _ = timing.voiced(audio)
    whole = _mfcc(audio[int(start * 16_000):int(end * 16_000)])
    whole -= whole.mean(axis=0)
    level = timing.loudness(audio)
    silent = level.max() - timing.SILENCE_DB
    spans = timing.words(text)
    out = [start]
    for (_a, end_before), (start_from, _b) in zip(spans, spans[1:], strict=False):
        before, after = _mfcc(trimmed(text[:end_before])), _mfcc(trimmed(text[start_from:]))
        parts = np.concatenate([before, after])
        join = _join_frame(parts - parts.mean(axis=0), whole, len(before))
        frame = round(start / timing.FRAME_S) + join
        while frame < len(level) and level[frame] <= silent:
            frame += 1
        out.append(frame * timing.FRAME_S)
    return out


@pytest.mark.parametrize("lang", ["fr", "en", "es"])
def test_captions_start_when_the_words_are_heard(pico: PicoSynth, lang: str) -> None:
    text = TIMED[lang]
    spoken = pico.speak(text, lang)
    timed = [t for t, _a, _b in spoken.words]
    truth = true_starts(pico, text, lang, spoken.audio)
    off = np.abs(np.array(timed) - np.array(truth))
    assert off.mean() <= MEAN_TOLERANCE_S and off.max() <= WORD_TOLERANCE_S, \
        [(text[a:b], t, round(g, 2)) for (t, a, b), g in zip(spoken.words, truth, strict=True)]
    _start, _end, pauses = timing.voiced(spoken.audio)
    after_comma = [t for (t, a, _b), (_t, _a, end) in zip(spoken.words[1:], spoken.words,
                                                           strict=False) if "," in text[end:a]]
    assert len(after_comma) == 2 and len(pauses) >= 2
    for t in after_comma:  # the word after a comma starts when the voice comes back
        assert min(abs(t - b) for _a, b in pauses) <= COMMA_TOLERANCE_S
    even = np.linspace(0, len(spoken.audio) / 16_000, len(timed), endpoint=False)
    assert np.abs(even - np.array(truth)).mean() > MEAN_TOLERANCE_S  # the check can fail


def test_timing_without_words_or_sound() -> None:
    assert timing.word_times("...", np.zeros(1600, np.float32), "fr") == ()
    silent = timing.word_times("deux mots", np.zeros(1600, np.float32), "fr")
    assert [(a, b) for _t, a, b in silent] == [(0, 4), (5, 9)]
    assert timing.syllables("peinture", "fr") == 2 and timing.syllables("leer", "es") == 2
    assert timing.syllables("1857", "en") == 8 and timing.syllables("made", "en") == 1


# -- espeak-ng for what Pico cannot say -----------------------------------------------------
def broken(conn: Connection) -> None:
    """A Pico worker whose every text fails (a C error)."""
    while conn.recv() is not None:
        conn.send(("error", "RuntimeError: pico_getData failed"))


def missing(conn: Connection) -> None:
    """A Pico worker on a machine where py-nanotts does not load."""
    while conn.recv() is not None:
        conn.send(("unavailable", "py-nanotts cannot load (ImportError: no module)"))


def test_a_language_pico_lacks_is_said_by_espeak_and_logged_once(
        pico: PicoSynth, espeak: EspeakSynth, caplog: pytest.LogCaptureFixture) -> None:
    voice = Fallback(pico, espeak)
    with caplog.at_level(logging.WARNING, logger="kiosk.tts.synth"):
        korean = [voice.speak("모나리자는 누가 그렸나요", "ko") for _ in range(2)]
        french = voice.speak(SAID["fr"], "fr")
    assert all(len(k.audio) > 8000 for k in korean) and voice.fallbacks == 2
    assert len(french.audio) > 16_000 and voice.fallbacks == 2  # French is Pico's
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["pico has no voice for 'ko' (or cannot load); espeak-ng speaks it instead"]
    assert voice.voice("ko") == "espeak-ng ko" and voice.voice("fr") == "pico fr-FR"


@pytest.mark.parametrize("target", [broken, missing])
def test_when_pico_fails_espeak_speaks(espeak: EspeakSynth, caplog: pytest.LogCaptureFixture,
                                       target: object) -> None:
    pico = PicoSynth(target=target)  # type: ignore[arg-type]
    try:
        with pytest.raises(SpeechError):
            pico.speak("Bonjour.", "fr")
        voice = Fallback(pico, espeak)
        with caplog.at_level(logging.WARNING, logger="kiosk.tts.synth"):
            said = [s for _sentence, s in voice.spoken_sentences(
                "Bonjour. Bienvenue au musée.", "fr")]
        assert len(said) == 2 and all(len(s.audio) > 8000 and s.words for s in said)
        assert voice.fallbacks == 2
        assert len(caplog.records) == 1 and "\n" not in caplog.records[0].getMessage()
        assert pico.speaks("fr") is (target is broken)  # a Pico that cannot load is left
    finally:
        pico.close()


# -- the engine the settings choose -------------------------------------------------------------
def test_the_settings_choose_the_engine() -> None:
    chosen = synthesizer(Settings())
    try:
        assert isinstance(chosen, Fallback) and isinstance(chosen.first, PicoSynth)
        assert isinstance(chosen.then, EspeakSynth)
        chosen.rate = 124  # slower speech reaches both engines
        assert chosen.first.rate == chosen.then.rate == 124
    finally:
        chosen.close()
    espeak = synthesizer(load_settings(overrides=["speech.engine=espeak"]))
    assert isinstance(espeak, EspeakSynth)
    espeak.close()
    british = synthesizer(Settings(speech=SpeechSettings(pico_voices="en=en-GB")))
    assert british.voice("en") == "pico en-GB"
    british.close()
    with pytest.raises(SettingsError, match=r'engine must be "pico" or "espeak", got \'festival'):
        load_settings(overrides=["speech.engine=festival"])
    with pytest.raises(SettingsError, match="write LANG=VOICE"):
        SpeechSettings(pico_voices="en-GB")
    with pytest.raises(SpeechError, match="Pico has no voice 'en-AU'"):
        synthesizer(Settings(speech=SpeechSettings(pico_voices="en=en-AU")))


# -- the speaker with Pico: captions, stop, replay, slower ---------------------------------
def test_the_speaker_tells_each_word_stops_and_replays(pico: PicoSynth) -> None:
    text = "Voici La Laitière. Elle verse du lait, lentement. Regardez la lumière."
    speakers = FakeSpeakers()
    speaker = Speaker(pico, speakers)
    heard: list[str] = []
    assert speaker.say(text, "fr", lambda a, b: heard.append(text[a:b]))
    assert heard == text.replace(".", "").replace(",", "").split()
    first = [len(p) for p in speakers.played]
    assert len(first) == 3

    def stop_at_verse(a: int, b: int) -> None:
        if text[a:b] == "verse":
            speaker.stop()

    assert not speaker.say(text, "fr", stop_at_verse)  # stopped in the second sentence
    assert len(speakers.played) == 4
    assert speaker.say(text, "fr")  # replay: the same audio again
    assert [len(p) for p in speakers.played[-3:]] == first
    pico.rate = 124
    try:
        assert speaker.say(text, "fr")
    finally:
        pico.rate = 165
    assert sum(len(p) for p in speakers.played[-3:]) > 1.2 * sum(first)
    assert EspeakSpeaker is Speaker
    assert isinstance(pico.speak("Oui.", "fr"), Spoken)

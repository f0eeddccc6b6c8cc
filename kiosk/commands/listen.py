"""`kiosk listen` (and `kiosk run --headless`): answer spoken questions from the microphone,
aloud, in a loop — levels and captions in the terminal or one JSON object per turn, the
insights log fed, systemd told when it is ready and pinged by its watchdog.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from kiosk.commands.ask import answer_json, show_answer
from kiosk.commands.common import data_dir, read_settings
from kiosk.errors import AudioError


def main(args: argparse.Namespace) -> int:
    from kiosk.assembly import assemble
    from kiosk.events import (
        Answered,
        Failed,
        Heard,
        HeardNothing,
        Level,
        ListeningStarted,
        PartialTranscript,
        PipelineEvent,
    )
    from kiosk.systemd import Notifier

    settings = read_settings(args)
    data = data_dir(args)
    # Under systemd (kiosk-headless.service): ready once listening; the watchdog is pinged by
    # each loop and each pipeline event (levels while listening, captions while speaking), so
    # only a turn stuck for longer than WatchdogSec gets the kiosk restarted.
    notifier = Notifier()
    kiosk = assemble(settings, data, args.content, recognizer=True, microphone=True,
                     speaker=not args.no_speak, insights=True)
    content, museum = kiosk.content, kiosk.content.pack.museum
    session = kiosk.new_session(args.lang)
    tty = sys.stdout.isatty() and not args.json
    partial = [""]

    def show(event: PipelineEvent) -> None:
        match event:
            case ListeningStarted() | HeardNothing() if args.json:
                print(json.dumps({"event": str(event.type)}), flush=True)
            case PartialTranscript(text=text) if args.json:
                print(json.dumps({"event": "partial", "text": text}, ensure_ascii=False),
                      flush=True)
            case Failed(text=text) if args.json:
                print(json.dumps({"event": "error", "text": text}, ensure_ascii=False),
                      flush=True)
            case _ if args.json:
                pass
            case Level(value=value) if tty:
                meter = "█" * int(value * 20)
                print(f"\r🎤 {meter:<20} {partial[0][-50:]}", end="", flush=True)
            case PartialTranscript(text=text):
                partial[0] = text
                if not tty:
                    print(f"… {text}", flush=True)
            case Failed(text=text):
                print(f"\r{text}" + " " * 30, file=sys.stderr, flush=True)
            case HeardNothing():
                print("\r(heard nothing)" + " " * 30)
            case Heard(text=text):
                partial[0] = ""
                print(f"\r« {text} »" + " " * 60)
            case Answered(answer=answer):
                show_answer(answer, content.pack)  # shown before and while it is spoken

    def listener(event: PipelineEvent) -> None:
        notifier.watchdog()
        try:
            show(event)
        finally:
            if kiosk.insights is not None:  # (none when [insights] is off)
                kiosk.insights.observe(event)

    pipeline = kiosk.pipeline(session, listener,
                              detect_language=settings.asr.detect_language and not args.lang)
    assert kiosk.microphone is not None
    mic, vad = kiosk.microphone()
    if not args.json:
        print(f"{museum.name.get(session.language, '')} — listening (Ctrl-C to stop)")
    last_turn = time.monotonic()
    notifier.ready(f"listening, content {content.label}")
    try:
        while True:
            notifier.watchdog()
            if time.monotonic() - last_turn > settings.session.idle_reset_s and (
                    session.history or session.current_exhibit):
                session.reset()  # the visitor left: nothing about them remains
                if not args.json:
                    print("\r(new visit)" + " " * 40, flush=True)
            try:
                turn = pipeline.ask_by_voice(mic, vad, args.lang)
            except AudioError:  # already shown (ERROR event); wait for the device to return
                if args.once:
                    return 1
                time.sleep(mic.reopen_s)
                continue
            if turn is not None:
                last_turn = time.monotonic()
                transcript, answer, timings = turn
                if args.json:
                    out = answer_json(transcript.text, transcript.lang, answer,
                                       timings["answer"])
                    out.update(transcript=transcript.text, detected_language=transcript.lang,
                               audio_s=round(transcript.audio_s, 2), timings_ms=timings,
                               spoken=kiosk.speaker is not None)
                    print(json.dumps(out, ensure_ascii=False), flush=True)
            if args.once:
                return 0 if turn is not None else 1
    finally:
        notifier.stopping()
        kiosk.close()

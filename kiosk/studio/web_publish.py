"""Publish: the pack validated, built and signed into a bundle written to a folder (an output
folder, a USB stick, the Syncthing send folder), with its progress, what changed since the last
published version, and the versions published so far.

The signing key is chosen among the key files the settings name (``[studio] sign_keys``); the
browser only ever sees their file names and key ids, and posts which one by its number.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kiosk.content import keys
from kiosk.errors import KioskError, shown
from kiosk.studio import publish, web
from kiosk.studio.web import Studio

STAGES = {"validate": "Checking the content", "encode": "Reading every text (encoding)",
          "write": "Writing the bundle", "sign": "Signing"}


@dataclass
class Job:
    """One publication under way (or done), as its page polls it."""

    target: str
    """The folder written to."""
    stage: str = "validate"
    done: int = 0
    total: int = 0
    state: str = "running"
    """running, done or failed."""
    message: str = ""
    """What went wrong (failed), or the bundle written (done)."""
    summary: dict[str, Any] = field(default_factory=dict)
    """The change since the last published version (done)."""

    def as_json(self) -> dict[str, Any]:
        stage = {"done": "Done", "failed": "Stopped"}.get(self.state) or \
            STAGES.get(self.stage, self.stage)
        return {"state": self.state, "stage": stage,
                "done": self.done, "total": self.total, "message": self.message,
                "summary": self.summary}


def sign_keys(studio: Studio) -> list[tuple[str, Path]]:
    """(label, path) of each signing key the settings name: its file name and key id."""
    out = []
    for path in studio.sign_keys:
        pub = path.with_suffix(".pub")
        try:
            kid = keys.key_id(keys.load_public(pub) if pub.is_file()
                              else keys.load_private(path).public_key())
            out.append((f"{path.name} (key {kid})", path))
        except KioskError:
            out.append((f"{path.name} (cannot be read)", path))
    return out


def destinations(studio: Studio) -> list[tuple[str, Path]]:
    """(label, folder) of the places a bundle may go."""
    output = studio.settings.studio.output
    send = studio.settings.studio.send_folder
    first = Path(output).expanduser() if output else \
        studio.pack_dir.parent / f"{studio.pack_dir.name}-published"
    found = publish.targets(Path(send).expanduser() if send else None)
    return [("Output folder", first), *[(label, path) for label, path in found
                                        if path != first]]


def summary(change: Any) -> dict[str, Any]:
    """A ``publish.Change`` (or the dict ``publish`` returns of it) as the page shows it."""
    def get(name: str) -> Any:
        return change.get(name) or [] if isinstance(change, dict) else getattr(change, name)
    return {"added": list(get("added")), "removed": list(get("removed")),
            "edited": list(get("edited")),
            "translations": [f"{work} ({lang})" for work, lang in
                             get("translations_completed")]}


def pending_change(studio: Studio) -> dict[str, Any] | None:
    """What the pack changes since the last published version (None while it has errors)."""
    pack, _ = studio.check()
    if pack is None:
        return None
    done = publish.published(studio.pack_dir)
    last = Path(done[0]["folder"]) if done and done[0].get("folder") else None
    if last is not None and not last.is_dir():
        last = None
    return summary(publish.changes(last, pack))


def running(studio: Studio) -> str:
    """The id of the publication under way ('' when none)."""
    return next((key for key, job in list(studio.store.items())
                 if isinstance(job, Job) and job.state == "running"), "")


def start(studio: Studio, target: Path, key: Path | None) -> str:
    """Publish on a thread of its own; returns the job's id."""
    job = Job(str(target))
    job_id = studio.keep(job)

    def progress(stage: str, done: int, total: int) -> None:
        job.stage, job.done, job.total = stage, done, total

    def work() -> None:
        try:
            manifest = publish.publish(studio.pack_dir, target, studio.encoder, key, progress)
            job.summary = summary(manifest["change"]) if "change" in manifest else {}
            job.message = f"Bundle {str(manifest.get('id', ''))[:12]} written to " \
                          f"{manifest.get('folder', target)}."
            job.state = "done"
        except KioskError as exc:
            job.message, job.state = str(exc), "failed"
        except Exception as exc:  # noqa: BLE001 — shown on the page, never a traceback
            job.message = f"Publishing failed ({type(exc).__name__}: {shown(exc)[:200]})."
            job.state = "failed"
    threading.Thread(target=work, name="studio-publish", daemon=True).start()
    return job_id


async def publish_page(request: Request) -> Response:
    studio = web.studio_of(request)
    change = await web.blocking(pending_change, studio)
    _, issues = studio.check()
    return web.render(
        request, "publish.html", destinations=[label for label, _ in destinations(studio)],
        folders=[str(p) for _, p in destinations(studio)],
        keys=[label for label, _ in sign_keys(studio)], change=change,
        errors=[str(i) for i in issues if i.error],
        published=await web.blocking(publish.published, studio.pack_dir),
        job=running(studio))


async def start_publish(request: Request) -> Response:
    studio = web.studio_of(request)
    form = web.fields(await web.posted(request))
    if running(studio):
        raise HTTPException(409, "A publication is already under way — wait for it to end.")
    places = destinations(studio)
    choice = form.get("target", "0")
    if choice == "other":
        target = Path(form.get("folder", "").strip()).expanduser()
        if not target.is_absolute() or not target.parent.is_dir():
            raise HTTPException(400, "Give the full path of the folder to write to, e.g. "
                                     "/media/usb/kiosk.")
    elif choice.isdigit() and int(choice) < len(places):
        target = places[int(choice)][1]
    else:
        raise HTTPException(400, "Choose where to write the bundle.")
    known = sign_keys(studio)
    key_choice = form.get("key", "none")
    if key_choice == "none":
        key = None
    elif key_choice.isdigit() and int(key_choice) < len(known):
        key = known[int(key_choice)][1]
    else:
        raise HTTPException(400, "Choose a signing key from the list.")
    job_id = start(studio, target, key)
    return web.redirect(f"/publish/jobs/{job_id}")


def job_of(studio: Studio, job_id: str) -> Job:
    job = studio.kept(job_id)
    if not isinstance(job, Job):
        raise HTTPException(404, "There is no such publication.")
    return job


async def job_page(request: Request) -> Response:
    studio = web.studio_of(request)
    job_id = request.path_params["job"]
    job = job_of(studio, job_id)
    return web.render(request, "publish_job.html", job=job, job_id=job_id,
                      stage=job.as_json()["stage"])


async def job_json(request: Request) -> Response:
    studio = web.studio_of(request)
    return web.JSON(job_of(studio, request.path_params["job"]).as_json())

"""The studio's web application: its routes, its guard and its error pages, over one ``Studio``.

    GET  /works                     the works (search and filters in the query)
    POST /works/new                 add a work                → its editor
    POST /works/undo                put a deleted work back
    GET  /works/{id}/edit           edit a work; POST saves it (409: changed on disk)
    POST /works/{id}/validate       its problems with the unsaved edit (JSON)
    POST /works/{id}/merge          a conflicting edit merged with the file on disk
    POST /works/{id}/duplicate      copy it                   → the copy's editor
    POST /works/{id}/delete         delete it (undo on the works page)
    POST /works/{id}/rename         give it another id (its file renamed, saved tests follow)
    GET  /works/{id}/picture        its picture, reduced (?size=small|large)
    GET  /museum; POST /museum/edit, /museum/validate, /museum/merge  name, replies, languages
    GET  /faq, /faq/new, /faq/{id}/edit (+ POST, /validate, /merge)   the practical questions
    GET  /try                       ask (?q=&lang=&about=); /try.json the same as JSON
    POST /try/tests, /try/tests/run, /try/tests/{case}/delete            saved test questions
    GET  /visitors; POST /visitors/import, /visitors/{group}/qa, /visitors/{group}/faq
    GET  /publish; POST /publish; GET /publish/jobs/{job} (+ .json)
    GET  /static/...                the studio's own CSS, script and icons

Every POST carries the browser's token (``web.posted``); ``web_guard.Guard`` checks the host,
the password and the body's size, and adds the security headers.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kiosk.studio import (
    web_edit,
    web_faq,
    web_museum,
    web_publish,
    web_try,
    web_visitors,
    web_works,
)
from kiosk.studio.web import JSON, MB, Studio, environment, render
from kiosk.studio.web_guard import HEADERS, Guard

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")


def routes() -> list[Route | Mount]:
    work = "/works/{work}"
    return [
        Route("/", web_works.home),
        Route("/works", web_works.works_page),
        Route("/works/new", web_works.add_work, methods=["POST"]),
        Route("/works/undo", web_works.undo_delete, methods=["POST"]),
        Route(f"{work}/edit", web_edit.edit_page),
        Route(f"{work}/edit", web_edit.save_work, methods=["POST"]),
        Route(f"{work}/validate", web_edit.validate_work, methods=["POST"]),
        Route(f"{work}/merge", web_edit.merge_work, methods=["POST"]),
        Route(f"{work}/duplicate", web_works.duplicate_work, methods=["POST"]),
        Route(f"{work}/delete", web_works.delete_work, methods=["POST"]),
        Route(f"{work}/rename", web_works.rename_work, methods=["POST"]),
        Route(f"{work}/picture", web_works.picture),
        Route("/museum", web_museum.museum_page),
        Route("/museum/edit", web_museum.save_museum, methods=["POST"]),
        Route("/museum/validate", web_museum.validate_museum, methods=["POST"]),
        Route("/museum/merge", web_museum.merge_museum, methods=["POST"]),
        Route("/faq", web_faq.faq_page),
        Route("/faq/new", web_faq.faq_new_page),
        Route("/faq/new", web_faq.save_faq, methods=["POST"]),
        Route("/faq/new/validate", web_faq.validate_faq, methods=["POST"]),
        Route("/faq/{fid}/edit", web_faq.faq_edit_page),
        Route("/faq/{fid}/edit", web_faq.save_faq, methods=["POST"]),
        Route("/faq/{fid}/validate", web_faq.validate_faq, methods=["POST"]),
        Route("/faq/{fid}/merge", web_faq.merge_faq, methods=["POST"]),
        Route("/try", web_try.try_page),
        Route("/try.json", web_try.try_json),
        Route("/try/tests", web_try.add_test, methods=["POST"]),
        Route("/try/tests/run", web_try.run_tests, methods=["POST"]),
        Route("/try/tests/{case}/delete", web_try.delete_test, methods=["POST"]),
        Route("/visitors", web_visitors.visitors_page),
        Route("/visitors/import", web_visitors.import_insights, methods=["POST"]),
        Route("/visitors/{key}/qa", web_visitors.group_to_qa, methods=["POST"]),
        Route("/visitors/{key}/faq", web_visitors.group_to_faq, methods=["POST"]),
        Route("/publish", web_publish.publish_page),
        Route("/publish", web_publish.start_publish, methods=["POST"]),
        Route("/publish/jobs/{job}.json", web_publish.job_json),
        Route("/publish/jobs/{job}", web_publish.job_page),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


async def http_error(request: Request, exc: Exception) -> Response:
    """An error as a calm page (or JSON for the page's own requests)."""
    assert isinstance(exc, HTTPException)
    if request.url.path.endswith((".json", "/validate")):
        return JSON({"error": exc.detail}, status_code=exc.status_code,
                            headers=exc.headers)
    return render(request, "error.html", status=exc.status_code, status_code=exc.status_code,
                  message=exc.detail)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("studio: %s %s failed", request.method, request.url.path, exc_info=exc)
    page = render(request, "error.html", status=500, status_code=500,
                  message="Something went wrong on this page (the details are in the "
                          "terminal where the studio runs). Your files were not changed "
                          "by it unless the page said so.")
    page.headers.update(HEADERS)  # (this handler answers outside the guard)
    return page


def create_app(studio: Studio, *, password: str = "",
               hosts: Sequence[str] = LOOPBACK) -> Starlette:
    """The studio over ``studio``: answering only to ``hosts`` (empty: to any name — the
    password guards it), asking for ``password`` when one is given."""
    largest = max(studio.settings.studio.image_mb, studio.settings.studio.archive_mb)
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        studio.close()

    app = Starlette(
        routes=routes(), lifespan=lifespan,
        middleware=[Middleware(Guard, password=password, hosts=list(hosts),
                               max_body=int(largest * MB) + MB)],
        exception_handlers={HTTPException: http_error, 500: server_error},
    )
    app.state.studio = studio
    app.state.templates = environment()
    return app

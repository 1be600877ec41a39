"""Serves the pages under `/ui/` and their static files under `/ui/static/`.

The files ship inside the package (`ccgateway/ui/static/`, at most two levels deep) and are
read from it on each request: they are small, and an edited file shows on the next reload.
`Cache-Control: no-cache` with an ETag lets the browser keep them and revalidate cheaply.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)

PAGES = {
    "": "login.html",
    "console": "console.html",
    "wallboard": "wallboard.html",
    "agent": "agent.html",
    "admin": "admin.html",
    "password": "password.html",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
# One or two path segments of plain names: nothing hidden, no "..", no odd characters.
_STATIC_PATH = re.compile(r"(?:[A-Za-z0-9_-][A-Za-z0-9._-]*/)?[A-Za-z0-9_-][A-Za-z0-9._-]*")


def static_root() -> Traversable:
    return resources.files("ccgateway.ui").joinpath("static")


def _file_response(request: Request, relative: str) -> Response:
    suffix = "." + relative.rsplit(".", 1)[-1] if "." in relative else ""
    content_type = CONTENT_TYPES.get(suffix.lower())
    if content_type is None:
        raise HTTPException(status_code=404, detail="not found")
    node = static_root()
    for part in relative.split("/"):
        node = node.joinpath(part)
    if not node.is_file():
        raise HTTPException(status_code=404, detail="not found")
    body = node.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"Cache-Control": "no-cache", "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=content_type, headers=headers)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui")
def ui_without_slash() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/")
def login_page(request: Request) -> Response:
    """The login page; it sends a signed-in person on to the page for their role."""
    return _file_response(request, PAGES[""])


@router.get("/ui/static/{path:path}")
def static_file(request: Request, path: str) -> Response:
    """A static file of the pages (scripts, styles), by its path under `static/`."""
    if not _STATIC_PATH.fullmatch(path) or ".." in path:
        raise HTTPException(status_code=404, detail="not found")
    return _file_response(request, path)


@router.get("/ui/{page}")
def page(request: Request, page: str) -> Response:
    """A page: `/ui/console`, `/ui/wallboard`, `/ui/agent`, `/ui/admin`, `/ui/password`."""
    name = PAGES.get(page)
    if not page or name is None:
        raise HTTPException(status_code=404, detail="not found")
    return _file_response(request, name)

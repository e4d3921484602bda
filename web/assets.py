"""What the app sends down a commune's slow line (issue 20): compressed text, and static files cached for good.

- Compression (Flask-Compress): HTML, CSS, JavaScript, JSON, SVG and CSV answers of 500 bytes or more are sent
  brotli or gzip encoded when the browser asks for it (Accept-Encoding), with `Vary: Accept-Encoding`. PDFs
  (already compressed inside), images and attachments are sent as they are; so is a partial (206) answer, whose
  bytes must be those of the file. Production's nginx compresses the static files it serves itself
  (deploy/nginx/case56.conf) and leaves the app's already-encoded answers alone.
- Static files: `url_for('static', filename=...)` adds `?v=<content hash>`, so a changed file gets a new URL;
  an answer to the URL of the current content is `Cache-Control: public, max-age=31536000, immutable` (a
  browser never asks again), any other (no or an old `v`) is `no-cache` (revalidated by ETag), so a page cached
  before a release never pins a stale stylesheet for a year. Static files hold no personal data; pages do,
  and web/security.py keeps them `no-store`.
- An API answer's ETag (the case version, sent back in If-Match) is the same encoded or not.

BREACH (compression of secrets beside reflected input): the session cookie is SameSite=Lax, so another site
cannot have the browser fetch pages with it in the background and measure their length; the CSRF token is
bound to that session.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from flask_compress import Compress

YEAR = 31_536_000

# The text types the app answers with (Flask-Compress's default list is broader and names fonts and types
# this app never sends); CSV exports compress ~10×.
MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
             "application/problem+json", "image/svg+xml", "text/csv", "text/plain", "application/xml"]

compress = Compress()


@functools.lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    # Keyed on mtime and size as well: a file edited under a running development server gets its new hash.
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]


def static_version(app: Flask, filename: str) -> str | None:
    """The content hash of static file `filename` (12 hex digits), None if there is no such file."""
    if not app.static_folder:
        return None
    root = Path(app.static_folder).resolve()
    path = (root / filename).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    stat = path.stat()
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    # brotli first (smaller than gzip on these pages), gzip for any browser without it. No zstd: at these sizes
    # it saves nothing over brotli, and no deflate (clients disagree on its framing).
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # Static files are streamed (send_file): Flask-Compress's default list for streams leaves out gzip, which
    # would send the stylesheet uncompressed to a browser that offers gzip only (Chromium over plain HTTP).
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)  # ~4 ms on a 200 kB case page, ~8% under level 4
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)  # below one packet, the header costs more than it saves
    # The long cache is decided per request below (the right `v` or not); Flask's own default is none.
    app.config.setdefault("SEND_FILE_MAX_AGE_DEFAULT", None)
    app.config["COMPRESS_REGISTER"] = False  # registered below, behind the checks of _compress
    compress.init_app(app)

    @app.url_defaults
    def _versioned_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = static_version(app, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _static_cache(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 206, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args.get("v") == static_version(app, filename):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        else:
            response.cache_control.max_age = None
            response.cache_control.no_cache = True
        return response

    @app.after_request
    def _compress(response: Response) -> Response:
        # A range of a file is its raw bytes (and its Content-Range counts them): never encoded.
        if response.status_code == 206 or request.headers.get("Range"):
            return response
        if request.endpoint == "static":  # "<etag>:br" per encoding, and If-None-Match answered with 304
            return compress.after_request(response)
        # The API's ETag is the case version a client sends back in If-Match (web/api): Flask-Compress would
        # make it "<version>:br" and every If-Match from a browser or `requests` (both ask for gzip) a 409.
        # Kept as the view set it; with it set aside, Flask-Compress evaluates no condition on the answer.
        etag = response.headers.pop("ETag", None)
        response = compress.after_request(response)
        if etag is not None:
            response.headers["ETag"] = etag
        return response

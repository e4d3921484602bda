"""Storage of attachments (evidence): outside the database, content-addressed by SHA-256.

The type of a file is decided by its first bytes (PDF, PNG, JPEG), never by its name or the browser's
declared type, so a renamed executable is refused. Files are written to a temporary name and renamed into
place, so a crash never leaves a half-written file under a checksum name; identical content is stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import BinaryIO

# Magic bytes → (content type, extension). JPEG starts with SOI + the marker of the next segment.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class AttachmentError(ValueError):
    """The file cannot be accepted; `code` says why (empty | too_large | type)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or None when it is not an accepted type."""
    for magic, content_type, _ext in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def clean_name(name: str | None, content_type: str) -> str:
    """A display and download name: no path, no control characters, the extension of the real type."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    extension = next(ext for _m, ctype, ext in SIGNATURES if ctype == content_type)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{(stem or 'tai-lieu')[:180]}.{extension}"


def path_for(root: str | Path, sha256: str) -> Path:
    if not _SHA256.fullmatch(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return Path(root) / sha256[:2] / sha256


def store(root: str | Path, stream: BinaryIO, max_bytes: int) -> tuple[str, int, str]:
    """Copy `stream` into the store; returns (sha256, size, content type) or raises AttachmentError."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    content_type: str | None = None
    fd, temp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                if content_type is None:
                    content_type = sniff(chunk[:16])
                    if content_type is None:
                        raise AttachmentError("type")
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentError("too_large")
                digest.update(chunk)
                out.write(chunk)
        if size == 0 or content_type is None:
            raise AttachmentError("empty")
        sha256 = digest.hexdigest()
        target = path_for(root, sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_name, target)
        return sha256, size, content_type
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


def verified_path(root: str | Path, sha256: str) -> Path | None:
    """The stored file, only if it exists and its content still has its checksum."""
    path = path_for(root, sha256)
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return path if digest.hexdigest() == sha256 else None

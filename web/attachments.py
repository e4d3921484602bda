"""Storage of attachments (evidence): outside the database, content-addressed by SHA-256, encrypted at rest.

The type of a file is decided by its first bytes (PDF, PNG, JPEG), never by its name or the browser's
declared type, so a renamed executable is refused. Files are written to a temporary name and renamed into
place, so a crash never leaves a half-written file under a checksum name; identical content is stored once.

Every file is stored sealed with AES-256-GCM under the current key of CASE56_ATTACHMENT_KEYS (engine.crypto);
its name is the SHA-256 of the plaintext, which is authenticated with it, and is checked again after
decryption. It is decrypted only in memory, to be served to a reader the view has allowed. Files stored
before encryption (plaintext) are still served until `case56 attachments encrypt` seals them;
`case56 attachments rotate-key` re-seals every file under the current key. Backups copy the sealed files.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from engine.crypto import KeyMissing, Keyring, Undecryptable, is_sealed, key_id_of

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


def store(root: str | Path, stream: BinaryIO, max_bytes: int, keyring: Keyring) -> tuple[str, int, str]:
    """Seal `stream` into the store; returns (sha256, size, content type) or raises AttachmentError
    (KeyMissing when no key is configured: nothing is written then)."""
    digest = hashlib.sha256()
    size = 0
    content_type: str | None = None
    chunks: list[bytes] = []
    while chunk := stream.read(CHUNK):
        if content_type is None:
            content_type = sniff(chunk[:16])
            if content_type is None:
                raise AttachmentError("type")
        size += len(chunk)
        if size > max_bytes:
            raise AttachmentError("too_large")
        digest.update(chunk)
        chunks.append(chunk)
    if size == 0 or content_type is None:
        raise AttachmentError("empty")
    sha256 = digest.hexdigest()
    _write(root, sha256, keyring.seal(b"".join(chunks), sha256.encode()))
    return sha256, size, content_type


def _write(root: str | Path, sha256: str, blob: bytes) -> None:
    """Put `blob` under the checksum name atomically (a temporary name renamed into place)."""
    target = path_for(root, sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, target)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


_KEYRINGS: dict[str, Keyring] = {}


def keyring_of(config_value: str | None) -> Keyring:
    """The keyring for a configuration value, parsed once per process."""
    text = config_value or ""
    if text not in _KEYRINGS:
        _KEYRINGS[text] = Keyring.parse(text)
    return _KEYRINGS[text]


def read_verified(root: str | Path, sha256: str, keyring: Keyring) -> bytes | None:
    """The file's content, decrypted, only if it exists and still has its checksum (None otherwise).
    KeyMissing when it was sealed under a key that is not configured (an operator's matter, not damage)."""
    path = path_for(root, sha256)
    if not path.is_file():
        return None
    blob = path.read_bytes()
    if is_sealed(blob):
        try:
            content = keyring.open(blob, sha256.encode())
        except Undecryptable:
            return None
    else:
        content = blob  # stored before encryption, until `case56 attachments encrypt`
    return content if hashlib.sha256(content).hexdigest() == sha256 else None


def remove(root: str | Path, sha256: str) -> bool:
    """Delete a stored file (destruction); False when it was not there."""
    path = path_for(root, sha256)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def stored_files(root: str | Path) -> Iterator[tuple[str, Path]]:
    """(sha256, path) of every file in the store."""
    base = Path(root)
    if not base.is_dir():
        return
    for path in sorted(base.glob("[0-9a-f][0-9a-f]/*")):
        if path.is_file() and _SHA256.fullmatch(path.name):
            yield path.name, path


@dataclass
class ResealReport:
    """What `reseal` did: files sealed from plaintext, re-sealed under the current key, already current,
    and those it could not read (damaged, or their key is not configured), by name."""

    encrypted: int = 0
    rotated: int = 0
    current: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def reseal(root: str | Path, keyring: Keyring, *, rotate: bool) -> ResealReport:
    """Seal every plaintext file under the current key; with `rotate`, also re-seal the files sealed under
    any other key. Each file is checked against its checksum before it is rewritten, and rewritten
    atomically, so an interrupted run can simply be run again."""
    if not keyring:
        keyring.seal(b"", b"")  # raises KeyMissing with the message operators see
    report = ResealReport()
    for sha256, path in stored_files(root):
        blob = path.read_bytes()
        key_id = key_id_of(blob[:64])
        if key_id == keyring.current or (key_id is not None and not rotate):
            report.current += 1
            continue
        try:
            content = blob if key_id is None else keyring.open(blob, sha256.encode())
        except (Undecryptable, KeyMissing) as exc:  # reported per file; the run goes on
            report.failed[sha256] = exc.message_en
            continue
        if hashlib.sha256(content).hexdigest() != sha256:
            report.failed[sha256] = "checksum mismatch / sai mã kiểm tra"
            continue
        _write(root, sha256, keyring.seal(content, sha256.encode()))
        if key_id is None:
            report.encrypted += 1
        else:
            report.rotated += 1
    return report

"""Encryption at rest (AES-256-GCM, from `cryptography`) with named keys, so keys can be rotated.

Keys come from the environment, never from the database or the files they protect:
`CASE56_ATTACHMENT_KEYS="2026b:<base64 of 32 bytes>,2026a:<base64 of 32 bytes>"`. The first key encrypts;
every listed key decrypts, so a rotation is: put the new key first, run `case56 attachments rotate-key`
(every file is re-encrypted under it), then drop the old key. A sealed blob names the key id it was sealed
with in its header, and the header and the caller's `context` (an attachment's SHA-256) are authenticated
with the content: a blob moved under another name, or a changed key id, fails to open.

Blob: MAGIC (5 bytes) | key id length (1 byte) | key id (ASCII) | nonce (12 bytes) | ciphertext + tag (16).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.errors import EngineError

MAGIC = b"C56E1"
NONCE_BYTES = 12
KEY_BYTES = 32
ENV = "CASE56_ATTACHMENT_KEYS"
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")


class KeyMissing(EngineError):
    """No key to encrypt with, or not the key a blob was sealed with: say which, never guess."""

    code, status = "encryption_key_missing", 503


class KeyringError(ValueError):
    """The configured keys cannot be read (operator's mistake in the environment)."""


class Undecryptable(EngineError):
    """The blob is damaged or was moved under another name: its authentication tag does not match."""

    code, status = "attachment_damaged", 410


@dataclass(frozen=True)
class Keyring:
    """The named keys: `current` seals, all of `keys` open."""

    keys: dict[str, bytes] = field(default_factory=dict)
    current: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> Keyring:
        """`id:base64key,id:base64key` (the first one seals). Empty: no keys (sealing then fails clearly)."""
        keys: dict[str, bytes] = {}
        current = None
        for item in (text or "").replace("\n", ",").split(","):
            item = item.strip()
            if not item:
                continue
            key_id, sep, encoded = item.partition(":")
            key_id = key_id.strip()
            if not sep or not _KEY_ID.fullmatch(key_id):
                raise KeyringError(f"{ENV}: each key is written id:base64 (id of letters, digits, . _ -), "
                                   f"got {key_id[:40]!r}")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise KeyringError(f"{ENV}: key {key_id!r} is not valid base64") from None
            if len(key) != KEY_BYTES:
                raise KeyringError(f"{ENV}: key {key_id!r} must be {KEY_BYTES} bytes (AES-256), got {len(key)}")
            if key_id in keys:
                raise KeyringError(f"{ENV}: key id {key_id!r} is listed twice")
            keys[key_id] = key
            current = current or key_id
        return cls(keys, current)

    @classmethod
    def from_environment(cls) -> Keyring:
        return cls.parse(os.environ.get(ENV))

    def __bool__(self) -> bool:
        return self.current is not None

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt under the current key; `context` is authenticated, not stored (the caller knows it)."""
        if self.current is None:
            raise KeyMissing(
                f"Chưa cấu hình khoá mã hoá tệp đính kèm ({ENV}); không lưu được tệp. Hãy báo quản trị viên.",
                f"No attachment encryption key is configured ({ENV}); the file was not stored. "
                "Tell the administrator.")
        header = _header(self.current)
        nonce = secrets.token_bytes(NONCE_BYTES)
        return header + nonce + AESGCM(self.keys[self.current]).encrypt(nonce, plaintext, header + context)

    def open(self, blob: bytes, context: bytes) -> bytes:
        """Decrypt a sealed blob (KeyMissing when its key is not configured, Undecryptable when damaged)."""
        key_id, offset = parse_header(blob)
        key = self.keys.get(key_id)
        if key is None:
            raise KeyMissing(
                f"Thiếu khoá mã hoá “{key_id}” trong {ENV}; không giải mã được tệp. Hãy báo quản trị viên.",
                f"The encryption key “{key_id}” is missing from {ENV}; the file cannot be decrypted. "
                "Tell the administrator.")
        nonce = blob[offset:offset + NONCE_BYTES]
        try:
            return AESGCM(key).decrypt(nonce, blob[offset + NONCE_BYTES:], blob[:offset] + context)
        except InvalidTag:
            raise Undecryptable("Tệp đính kèm đã bị hỏng hoặc bị thay đổi (không khớp mã xác thực).",
                                "The attachment is damaged or was altered (authentication failed).") from None


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return MAGIC + bytes([len(encoded)]) + encoded


def is_sealed(head: bytes) -> bool:
    return head.startswith(MAGIC)


def parse_header(blob: bytes) -> tuple[str, int]:
    """(key id, offset of the nonce) of a sealed blob."""
    if not is_sealed(blob) or len(blob) < len(MAGIC) + 1:
        raise Undecryptable("Tệp đính kèm không phải là tệp đã mã hoá của case56.",
                            "The attachment is not a case56 encrypted file.")
    length = blob[len(MAGIC)]
    offset = len(MAGIC) + 1 + length
    key_id = blob[len(MAGIC) + 1:offset].decode("ascii", "replace")
    if len(blob) < offset + NONCE_BYTES + 16:
        raise Undecryptable("Tệp đính kèm đã mã hoá bị cắt cụt.", "The encrypted attachment is truncated.")
    return key_id, offset


def key_id_of(head: bytes) -> str | None:
    """The key id a stored file was sealed with (its first bytes suffice), or None for a plaintext file."""
    if not is_sealed(head) or len(head) < len(MAGIC) + 1:
        return None
    length = head[len(MAGIC)]
    return head[len(MAGIC) + 1:len(MAGIC) + 1 + length].decode("ascii", "replace")


def new_key_line(key_id: str) -> str:
    """A fresh `id:base64` entry for CASE56_ATTACHMENT_KEYS."""
    if not _KEY_ID.fullmatch(key_id):
        raise KeyringError("key id: 1-40 letters, digits, . _ -")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"

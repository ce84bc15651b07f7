"""Protection of personal data at rest: AES-GCM encryption and keyed blind indexes (docs/domain.md).

Ciphertexts are ``<key_id>:<base64(nonce + ciphertext)>`` with the row id as associated data, so a value
copied onto another row does not decrypt. Blind indexes are HMAC-SHA256 under a separate key: the NIK
space is small, so an unkeyed hash would be reversible by enumeration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class PiiKeyError(ValueError):
    """The configured keys are missing or malformed; the server must not start without them."""


def _decode_key(value: str, name: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PiiKeyError(f"{name} is not valid base64") from exc
    if len(raw) != 32:
        raise PiiKeyError(f"{name} must decode to 32 bytes, got {len(raw)}")
    return raw


@dataclass(frozen=True)
class PiiProtector:
    """Encrypts, decrypts and indexes personal data; the first key encrypts, all keys decrypt."""

    keys: dict[str, bytes]
    current_key_id: str
    index_key: bytes

    @classmethod
    def from_config(cls, keys_spec: str | None, index_key_b64: str | None) -> PiiProtector:
        """Parse ``JANGKAU_PII_KEYS`` (``id:b64,id:b64``) and ``JANGKAU_PII_INDEX_KEY``."""
        if not keys_spec or not index_key_b64:
            raise PiiKeyError("JANGKAU_PII_KEYS and JANGKAU_PII_INDEX_KEY must both be set")
        keys: dict[str, bytes] = {}
        for part in keys_spec.split(","):
            key_id, sep, value = part.strip().partition(":")
            if not sep or not key_id or ":" in value:
                raise PiiKeyError("JANGKAU_PII_KEYS entries must look like key_id:base64")
            keys[key_id] = _decode_key(value, f"JANGKAU_PII_KEYS[{key_id}]")
        first = keys_spec.split(",")[0].strip().partition(":")[0]
        return cls(keys=keys, current_key_id=first, index_key=_decode_key(index_key_b64, "JANGKAU_PII_INDEX_KEY"))

    @staticmethod
    def generate_config() -> dict[str, str]:
        """Fresh keys for a demo or a test run, as environment variable values."""
        return {
            "JANGKAU_PII_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
            "JANGKAU_PII_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
        }

    @cached_property
    def _ciphers(self) -> dict[str, AESGCM]:
        """One AESGCM object per key, built once (building one per call doubled the cost of a pull)."""
        return {key_id: AESGCM(key) for key_id, key in self.keys.items()}

    def encrypt(self, plaintext: str | None, *, row_id: str) -> str | None:
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        sealed = self._ciphers[self.current_key_id].encrypt(nonce, plaintext.encode(), row_id.encode())
        return f"{self.current_key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str | None, *, row_id: str) -> str | None:
        if token is None:
            return None
        key_id, _, payload = token.partition(":")
        raw = base64.b64decode(payload)
        return self._ciphers[key_id].decrypt(raw[:12], raw[12:], row_id.encode()).decode()

    def seal(self, data: bytes, *, context: str) -> bytes:
        """Encrypt a blob (an archived push body): ``<key_id>:`` + nonce + ciphertext, ``context`` as AAD."""
        nonce = os.urandom(12)
        sealed = self._ciphers[self.current_key_id].encrypt(nonce, data, context.encode())
        return self.current_key_id.encode() + b":" + nonce + sealed

    def open(self, blob: bytes, *, context: str) -> bytes:
        """Decrypt what ``seal`` made; raises ``PiiKeyError`` when its key is not configured any more."""
        key_id, sep, rest = bytes(blob).partition(b":")
        cipher = self._ciphers.get(key_id.decode("ascii", "replace")) if sep else None
        if cipher is None:
            raise PiiKeyError(f"no key {key_id[:32]!r} to open this blob")
        return cipher.decrypt(rest[:12], rest[12:], context.encode())

    def blind_index(self, purpose: str, value: str | None) -> str | None:
        """A keyed hash for exact lookups; ``purpose`` separates the NIK, its halves and phones."""
        if not value:
            return None
        digest = hmac.new(self.index_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
        return digest[:40]


def mask_nik(nik: str | None) -> str | None:
    """``3215012301900007`` → ``321501********07``; anything not 16 digits is masked whole."""
    if not nik:
        return None
    if len(nik) == 16 and nik.isascii() and nik.isdigit():
        return nik[:6] + "*" * 8 + nik[-2:]
    return "*" * min(len(nik), 16)


def mask_phone(e164: str | None) -> str | None:
    """``+6281234567890`` → ``+62812*****890``: enough to recognise, not enough to call."""
    if not e164:
        return None
    if len(e164) <= 7:
        return "*" * len(e164)
    return e164[:6] + "*" * (len(e164) - 9) + e164[-3:]

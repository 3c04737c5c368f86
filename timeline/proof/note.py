"""C2SP signed notes (https://c2sp.org/signed-note), Ed25519 only, as golang.org/x/mod/sumdb/note
writes and reads them, so its keys and notes work here and ours there.

A signed note is a text ending in a newline, a blank line, then signature lines
`— NAME base64(key id || signature)`. The key id is the first 4 bytes (big-endian) of
SHA-256(NAME || 0x0A || 0x01 || public key). Keys are written as text:

    verifier key  NAME+KEYID+base64(0x01 || 32-byte public key)        (safe to publish)
    signer key    PRIVATE+KEY+NAME+KEYID+base64(0x01 || 32-byte seed)  (the secret)

Everything read here (a note, a key) is checked strictly and refused with one line that
says what was expected; nothing is guessed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from timeline.errors import TimelineError

ED25519 = 0x01
MAX_SIGNATURES = 100  # C2SP: accept at least 16; golang.org/x/mod/sumdb/note refuses more than 100
DASH = "— "  # em dash (U+2014) and a space open a signature line
_NAME = re.compile(r"[^\s+]+")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(TimelineError):
    """A note or a key that cannot be read, or a signature that does not verify."""


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, public: bytes) -> int:
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4], "big")


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: int
    public: bytes  # the 32-byte Ed25519 public key

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """A verifier key NAME+KEYID+base64(0x01 || key)."""
        parts = text.strip().split("+", 2)  # base64 may hold '+' too; a name never does
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise NoteError("a verifier key is NAME+KEYID+KEY (KEYID 8 lowercase hex digits, KEY base64)")
        name = check_name(parts[0])
        raw = _b64(parts[2], "the verifier key's KEY part")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key (0x01 and 32 bytes, base64)")
        public = raw[1:]
        if key_id(name, public) != int(parts[1], 16):
            raise NoteError(f"the verifier key's id {parts[1]} does not match its name and key")
        return cls(name, int(parts[1], 16), public)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{base64.b64encode(bytes([ED25519]) + self.public).decode()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, repr=False)
class Signer:
    name: str
    key_id: int
    _private: Ed25519PrivateKey

    def __repr__(self) -> str:  # never show the secret
        return f"Signer({self.name!r}, {self.key_id:08x})"

    @classmethod
    def generate(cls, name: str) -> Signer:
        private = Ed25519PrivateKey.generate()
        return cls(check_name(name), key_id(name, _public(private)), private)

    @classmethod
    def parse(cls, text: str) -> Signer:
        """A signer key PRIVATE+KEY+NAME+KEYID+base64(0x01 || seed)."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not re.fullmatch(r"[0-9a-f]{8}", parts[3]):
            raise NoteError("a signing key is PRIVATE+KEY+NAME+KEYID+KEY (KEYID 8 lowercase hex digits, KEY base64)")
        name = check_name(parts[2])
        raw = _b64(parts[4], "the signing key's KEY part")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("the signing key is not an Ed25519 key (0x01 and a 32-byte seed, base64)")
        private = Ed25519PrivateKey.from_private_bytes(raw[1:])
        if key_id(name, _public(private)) != int(parts[3], 16):
            raise NoteError(f"the signing key's id {parts[3]} does not match its name and key")
        return cls(name, int(parts[3], 16), private)

    def secret_text(self) -> str:
        """The signer key as text, for the key file only."""
        seed = self._private.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{base64.b64encode(bytes([ED25519]) + seed).decode()}"

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, _public(self._private))

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def _public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: int
    signature: bytes  # without the 4-byte key id

    def line(self) -> str:
        return f"{DASH}{self.name} {base64.b64encode(self.key_id.to_bytes(4, 'big') + self.signature).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends with a newline
    signatures: tuple[Signature, ...]

    def encode(self) -> bytes:
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode()


def check_text(text: str) -> str:
    if not text.endswith("\n") or _CONTROL.search(text):
        raise NoteError("a note's text must end with a newline and hold no control characters but newlines")
    return text


def sign(text: str, signer: Signer) -> bytes:
    """The signed note: `text`, a blank line, one signature line."""
    check_text(text)
    sig = Signature(signer.name, signer.key_id, signer.sign(text.encode()))
    return Note(text, (sig,)).encode()


def parse(data: bytes) -> Note:
    """A signed note, read strictly (signatures not yet verified)."""
    try:
        whole = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("a signed note must be UTF-8") from None
    if _CONTROL.search(whole):
        raise NoteError("a signed note holds no control characters but newlines")
    cut = whole.rfind("\n\n")
    if cut < 0 or not whole.endswith("\n"):
        raise NoteError("a signed note is a text, a blank line, then signature lines, each ending in a newline")
    text, lines = whole[: cut + 1], whole[cut + 2 :].splitlines()
    if not lines:
        raise NoteError("the note has no signature line after its blank line")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        name, _, sig = line.removeprefix(DASH).partition(" ")
        if not line.startswith(DASH) or not _NAME.fullmatch(name) or " " in sig:
            raise NoteError(f"{line[:80]!r} is not a signature line '— NAME BASE64'")
        raw = _b64(sig, f"the signature of {name}")
        if len(raw) < 5:
            raise NoteError(f"the signature of {name} is too short")
        signatures.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return Note(text, tuple(signatures))


def open_note(data: bytes, verifier: Verifier) -> Note:
    """Parse and verify: a signature by `verifier` (same name and key id) must be there, and
    every such signature must verify. Signatures by other keys are ignored, as C2SP says."""
    note = parse(data)
    mine = [s for s in note.signatures if (s.name, s.key_id) == (verifier.name, verifier.key_id)]
    if not mine:
        raise NoteError(f"no signature by the key {verifier.name}+{verifier.key_id:08x}")
    for s in mine:
        if not verifier.verify(note.text.encode(), s.signature):
            raise NoteError(
                f"the signature by {verifier.name}+{verifier.key_id:08x} does not verify: the note was altered or signed by another key"
            )
    return note

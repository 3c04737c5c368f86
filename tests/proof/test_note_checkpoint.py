"""C2SP signed notes and tlog-checkpoints against independent sources: golang.org/x/mod's
sumdb/note tests and C2SP's own examples (tests/data/note-vectors.json says where each
comes from)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from timeline.proof import checkpoint as cpmod
from timeline.proof import note
from timeline.proof.checkpoint import Checkpoint, CheckpointError
from timeline.proof.note import NoteError, Signer, Verifier

V = json.loads((Path(__file__).parents[1] / "data" / "note-vectors.json").read_text(encoding="utf-8"))


def test_go_signer_key_signs_byte_for_byte_as_go_does() -> None:
    signer = Signer.parse(V["go_signer"])
    assert str(signer.verifier) == V["go_verifier"]
    assert signer.secret_text() == V["go_signer"]
    assert note.sign(V["go_text"], signer).decode() == V["go_signed"]
    assert "AYEKF" not in repr(signer)  # the secret never shows


def test_go_and_c2sp_notes_verify() -> None:
    n = note.open_note(V["go_signed"].encode(), Verifier.parse(V["go_verifier"]))
    assert n.text == V["go_text"]
    c2sp = note.open_note(V["c2sp_signed"].encode(), Verifier.parse(V["c2sp_verifier"]))
    assert c2sp.text == "This is an example message.\n"


def test_signatures_by_other_keys_are_ignored_but_one_by_the_key_is_needed() -> None:
    both = (V["go_signed"] + V["go_enoch_sig"]).encode()
    assert len(note.open_note(both, Verifier.parse(V["go_verifier"])).signatures) == 2
    note.open_note(both, Verifier.parse(V["go_enoch_verifier"]))
    with pytest.raises(NoteError, match=r"^no signature by the key example.com/foo\+530d903a$"):
        note.open_note(both, Verifier.parse(V["c2sp_verifier"]))


def test_a_note_altered_by_one_character_is_refused() -> None:
    altered = V["go_signed"].replace("answer", "Answer").encode()
    with pytest.raises(NoteError, match=r"^the signature by PeterNeumann\+c74f20a3 does not verify"):
        note.open_note(altered, Verifier.parse(V["go_verifier"]))
    sig = V["go_signed"].rsplit(" ", 1)[1].strip()
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 1
    flipped = V["go_signed"].replace(sig, base64.b64encode(raw).decode()).encode()
    with pytest.raises(NoteError, match=r"does not verify"):
        note.open_note(flipped, Verifier.parse(V["go_verifier"]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (V["go_text"], "a signed note is a text, a blank line, then signature lines"),
        (V["go_text"] + "\n", "the note has no signature line"),
        (V["go_signed"][:-1], "a signed note is a text, a blank line, then signature lines"),
        ("\x01" + V["go_signed"], "a signed note holds no control characters"),
        (V["go_signed"] + "Unexpected line.\n", "is not a signature line"),
        (V["go_text"] + "\n— Bad Name x08go/ZJkuBS9UG=\n", "is not a signature line"),
        (V["go_signed"].replace("\n", "\r\n"), "a signed note holds no control characters"),
    ],
)
def test_malformed_notes_as_go_refuses_them(data: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        note.open_note(data.encode(), Verifier.parse(V["go_verifier"]))


def test_not_utf8() -> None:
    with pytest.raises(NoteError, match=r"^a signed note must be UTF-8$"):
        note.parse(b"\xff" + V["go_signed"].encode())


def test_verifier_keys_are_read_exactly() -> None:
    key = V["go_verifier"]
    Verifier.parse(key)
    for bad, message in [
        (key[:-1], "not base64|not an Ed25519 key"),
        (key.replace("c74f20a3", "c74f20a4"), "does not match its name and key"),
        (key.replace("PeterNeumann", "PeterNeuman"), "does not match its name and key"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not an Ed25519 key"),
        ("PeterNeumann", "a verifier key is NAME\\+KEYID\\+KEY"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "must be non-empty, without spaces"),
    ]:
        with pytest.raises(NoteError, match=message):
            Verifier.parse(bad)


def test_key_ids_as_c2sp_defines_them() -> None:
    """key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian."""
    v = Verifier.parse(V["c2sp_verifier"])
    assert note.key_id(v.name, v.public) == 0x530D903A == v.key_id
    fresh = Signer.generate("example.org/log")
    assert Verifier.parse(str(fresh.verifier)) == fresh.verifier
    assert Signer.parse(fresh.secret_text()).verifier == fresh.verifier


def test_go_sumdb_checkpoint_reads_and_our_signature_matches_go() -> None:
    """A checkpoint signed by Go's sumdb test key: we read it, and signing its text with the
    same key gives the same bytes."""
    signer = Signer.parse(V["go_sumdb_signer"])
    assert str(signer.verifier) == V["go_sumdb_verifier"]
    read = cpmod.read(V["go_sumdb_checkpoint"].encode(), Verifier.parse(V["go_sumdb_verifier"]))
    cp = read.checkpoint
    assert (cp.origin, cp.size, base64.b64encode(cp.root).decode()) == (
        "go.sum database tree", 6, "wc4SkQt52o5W2nQ8To2ARs+mWuUJjss+sdleoiqxMmM=",
    )  # fmt: skip
    assert cp.encode(signer).decode() == V["go_sumdb_checkpoint"]


def test_c2sp_example_checkpoint_reads() -> None:
    cp = cpmod.read(V["c2sp_checkpoint"].encode()).checkpoint
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert cp.text() == V["c2sp_checkpoint"].split("\n\n")[0] + "\n"


def test_unsigned_checkpoints_and_what_a_key_demands() -> None:
    cp = Checkpoint("example.org/log", 3, bytes(range(32)))
    bare = cp.encode(None)
    assert bare == b"example.org/log\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    assert cpmod.read(bare).checkpoint == cp
    signer = Signer.generate("example.org/log")
    with pytest.raises(
        CheckpointError, match=r"^the checkpoint is not signed; a signature by example.org/log was expected$"
    ):
        cpmod.read(bare, signer.verifier)
    assert cpmod.read(cp.encode(signer), signer.verifier).checkpoint == cp
    other = Signer.generate("example.org/log")
    with pytest.raises(NoteError, match=r"^no signature by the key example.org/log"):
        cpmod.read(cp.encode(signer), other.verifier)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("example.org/log\n3\n", "a checkpoint is an origin line, a tree size line and a base64 root line"),
        ("example.org/log\n03\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "tree size '03' is not a whole number"),
        ("example.org/log\n-3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "tree size '-3' is not a whole number"),
        ("example.org/log\n3\nAAECAw==\n", "root is 4 bytes, not a 32-byte SHA-256 hash"),
        ("example.org/log\n3\nnot base64!\n", "root 'not base64!' is not base64"),
        (
            "example.org/log\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\nextra\n",
            "'extra' is not a signature line",
        ),
        ("example.org/log\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "must end with a newline"),
    ],
)
def test_malformed_checkpoints(text: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        cpmod.read(text.encode())

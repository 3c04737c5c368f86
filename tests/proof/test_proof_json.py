"""The proof JSON: written, read back strictly, checked against checkpoints."""

from __future__ import annotations

import json
import struct
import uuid
from typing import Any

import pytest

from timeline.proof import merkle, proofs
from timeline.proof.checkpoint import Checkpoint
from timeline.proof.merkle import ProofError
from timeline.proof.proofs import Consistency, Inclusion, Leaf, ProofFormatError

DEV = uuid.UUID("12345678-1234-5678-1234-567812345678")
ORIGIN = "example.org/log"


def leaf_bytes(position: int, version: int, dev: uuid.UUID = DEV) -> bytes:
    topic = b"events.development:Development.Reported"
    state = b'{"title": "x"}'
    return (
        struct.pack(">QQ", position, version)
        + dev.bytes
        + struct.pack(">I", len(topic))
        + topic
        + struct.pack(">Q", len(state))
        + state
    )


DATA = [leaf_bytes(i + 1, 1, uuid.UUID(int=i)) for i in range(20)]
DATA[4], DATA[12] = leaf_bytes(5, 1), leaf_bytes(13, 2)
HASHES = [merkle.leaf_hash(d) for d in DATA]


def inclusion(size: int = 20, positions: tuple[int, ...] = (5, 13)) -> Inclusion:
    leaves = tuple(
        Leaf(p, p - 1, 1 if p == 5 else 2, "events.development:Development.Reported", DATA[p - 1], HASHES[p - 1],
             tuple(merkle.inclusion_path(HASHES[:size], p - 1)))
        for p in positions
    )  # fmt: skip
    return Inclusion(ORIGIN, size, merkle.root_of(HASHES[:size]), str(DEV), leaves)


def consistency(old: int = 7, new: int = 20) -> Consistency:
    return Consistency(ORIGIN, old, merkle.root_of(HASHES[:old]), new, merkle.root_of(HASHES[:new]),
                       tuple(merkle.consistency_path(HASHES[:new], old)))  # fmt: skip


def roundtrip(proof: Any, encoding: str = "base64") -> Any:
    return proofs.parse(json.dumps(proofs.to_json(proof, encoding)).encode())


@pytest.mark.parametrize("encoding", ["base64", "hex"])
def test_both_kinds_round_trip_and_check(encoding: str) -> None:
    for proof in (inclusion(), consistency()):
        again = roundtrip(proof, encoding)
        assert again == proof
        proofs.check(again)
    shown = proofs.check(inclusion(), [Checkpoint(ORIGIN, 20, merkle.root_of(HASHES))])
    assert shown == f"events #5, #13 of development {DEV} are in the log of 20 events, whose root matches checkpoint 20"
    cps = [Checkpoint(ORIGIN, 7, merkle.root_of(HASHES[:7])), Checkpoint(ORIGIN, 20, merkle.root_of(HASHES))]
    assert proofs.check(consistency(), cps) == (
        "the log of 7 events is a prefix of the log of 20 events, whose root matches checkpoint 7 and checkpoint 20"
    )


def test_the_json_fields() -> None:
    data = proofs.to_json(consistency(), "hex")
    assert sorted(data) == [
        "algorithm",
        "encoding",
        "new_root",
        "new_size",
        "old_root",
        "old_size",
        "origin",
        "path",
        "proof",
    ]
    assert data["proof"] == "consistency" and data["algorithm"] == "rfc9162-sha256" and len(data["old_root"]) == 64
    data = proofs.to_json(inclusion())
    assert sorted(data["leaves"][0]) == ["event", "index", "leaf", "leaf_hash", "path", "position", "version"]


def test_a_checkpoint_of_another_root_is_a_rewrite() -> None:
    forged = Checkpoint(ORIGIN, 20, merkle.leaf_hash(b"other"))
    with pytest.raises(
        ProofError, match=r"^the proof's root for size 20 is not the checkpoint's: the log was rewritten or forked$"
    ):
        proofs.check(inclusion(), [forged])
    with pytest.raises(ProofError, match=r"^a checkpoint of size 19 cannot check a proof about size 20$"):
        proofs.check(inclusion(), [Checkpoint(ORIGIN, 19, merkle.root_of(HASHES[:19]))])
    with pytest.raises(ProofError, match=r"is of the log 'other.org/log'"):
        proofs.check(inclusion(), [Checkpoint("other.org/log", 20, merkle.root_of(HASHES))])


def _flip_first_path_bit(data: dict[str, Any]) -> None:
    target = data["leaves"][0] if data["proof"] == "inclusion" else data
    raw = bytearray(bytes.fromhex(target["path"][0]))
    raw[0] ^= 1
    target["path"][0] = raw.hex()


@pytest.mark.parametrize("make", [inclusion, consistency])
def test_a_proof_altered_by_one_bit_is_rejected(make: Any) -> None:
    data = proofs.to_json(make(), "hex")
    _flip_first_path_bit(data)
    with pytest.raises(ProofError):
        proofs.check(proofs.parse(json.dumps(data).encode()))


def test_leaf_bytes_must_be_the_leaf_and_of_the_development() -> None:
    data = proofs.to_json(inclusion(), "hex")
    data["leaves"][0]["leaf"] = data["leaves"][0]["leaf"][:-2] + "00"
    with pytest.raises(ProofError, match=r"^the leaf bytes of #5 do not hash to its leaf_hash$"):
        proofs.check(proofs.parse(json.dumps(data).encode()))
    other = proofs.to_json(inclusion(positions=(5,)), "hex")
    other["development"] = str(uuid.UUID(int=99))
    with pytest.raises(ProofError, match=r"^the leaf bytes of #5 are of another development$"):
        proofs.check(proofs.parse(json.dumps(other).encode()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(extra=1), "^the proof has unknown field\\(s\\) extra$"),
        (lambda d: d.pop("origin"), "^the proof lacks the field\\(s\\) origin$"),
        (lambda d: d.update(tree_size=True), "^the proof's tree_size must be a whole number from 1$"),
        (lambda d: d.update(tree_size=0), "^the proof's tree_size must be a whole number from 1$"),
        (lambda d: d.update(encoding="base32"), "^the proof's encoding must be one of base64, hex$"),
        (lambda d: d.update(algorithm="sha1"), '^the proof\'s algorithm must be "rfc9162-sha256"$'),
        (lambda d: d.update(root="AAEC"), "^root is 3 bytes, not a 32-byte SHA-256 hash$"),
        (lambda d: d.update(root="***"), "^root is not base64$"),
        (lambda d: d.update(leaves=[]), "^the proof's leaves must be a non-empty list$"),
        (lambda d: d["leaves"][0].update(path="x"), "^leaves\\[0\\].path must be a list of at most 128 hashes$"),
        (lambda d: d.update(proof="other"), '^a proof is a JSON object whose "proof" is "inclusion" or "consistency"$'),
    ],
)
def test_malformed_proofs_are_refused_in_one_line(change: Any, message: str) -> None:
    data = proofs.to_json(inclusion())
    change(data)
    with pytest.raises(ProofFormatError, match=message):
        proofs.parse(json.dumps(data).encode())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff", "^the proof is not JSON"),
        (b"{", "^the proof is not JSON"),
        (b"[]", "^a proof is a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "^the proof is not JSON this reader takes"),
        (b'{"proof": "consistency", "old_size": 1' + b"0" * 5000 + b"}", "^the proof is not JSON"),
    ],
)
def test_not_a_proof(raw: bytes, message: str) -> None:
    with pytest.raises(ProofFormatError, match=message):
        proofs.parse(raw)

"""`timeline witness URL`: check from outside that a served log was only ever appended to.

One run: fetch URL/checkpoint, verify its signature against the pinned key, and compare it
with the last checkpoint this witness kept (its state file): the same size must have the
same root; a larger size must come with a consistency proof from URL/proof/consistency
that verifies between the two roots; a smaller size means the log lost events. Only then
is the new checkpoint kept (written atomically, as served, so `timeline check` can read
it). The first run has nothing to compare with: it keeps the checkpoint (trust on first
use, like a pinned ssh host key).

Exit status: 0 appended to (or unchanged); 1 misbehaviour (rewritten, forked, shrunk,
badly signed, a proof that does not verify); 3 the check could not be made (server
unreachable, an HTTP error, a response that is not a checkpoint or a proof, a state file
that cannot be read or written).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from timeline.errors import TimelineError
from timeline.proof import checkpoint as cpmod
from timeline.proof import proofs
from timeline.proof.checkpoint import Checkpoint
from timeline.proof.merkle import ProofError
from timeline.proof.note import NoteError, Verifier

TIMEOUT = 30.0
MAX_RESPONSE = 1 << 20


class Misbehaviour(TimelineError):
    """The log was rewritten, forked or badly signed: exit 1."""


class CannotCheck(TimelineError):
    """The check could not be made: exit 3."""

    exit_code = 3


@dataclass(frozen=True)
class Outcome:
    old: Checkpoint | None
    new: Checkpoint

    def message(self) -> str:
        new = self.new
        if self.old is None:
            return f"first checkpoint of {new.origin} kept: {new.size} events; later runs check it was only appended to"
        if self.old.size == new.size:
            return f"ok: {new.origin} unchanged at {new.size} events"
        return f"ok: {new.origin} grew from {self.old.size} to {new.size} events, only appended to"


def base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise CannotCheck(f"{url!r} is not an http(s) URL of a served log (like http://host:8080)")
    return url.rstrip("/").removesuffix("/checkpoint")


def default_state(key: Verifier) -> Path:
    home = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key.name)
    return Path(home) / "news-timeline" / "witness" / f"{safe}+{key.key_id:08x}.checkpoint"


def fetch(url: str, timeout: float = TIMEOUT) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "news-timeline-witness"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read(MAX_RESPONSE + 1)
    except urllib.error.HTTPError as e:
        body = e.read(300).decode("utf-8", "replace").strip().splitlines()
        raise CannotCheck(f"{url} answered {e.code}{': ' + body[0] if body else ''}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise CannotCheck(f"cannot fetch {url}: {reason}") from None
    if len(data) > MAX_RESPONSE:
        raise CannotCheck(f"{url} sent more than {MAX_RESPONSE} bytes")
    return data


def _read_state(path: Path, key: Verifier) -> Checkpoint | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise CannotCheck(f"cannot read the witness state {str(path)!r}: {e.strerror}") from None
    try:
        return cpmod.read(data, key).checkpoint
    except NoteError as e:
        raise CannotCheck(f"the witness state {str(path)!r} is not a checkpoint signed by the key: {e}") from None


def _write_state(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as e:
        raise CannotCheck(f"cannot write the witness state {str(path)!r}: {e.strerror}") from None


def witness(url: str, key: Verifier, state: Path) -> Outcome:
    base = base_url(url)
    old = _read_state(state, key)
    served = fetch(f"{base}/checkpoint")
    try:
        cpmod.read(served)
    except NoteError as e:
        raise CannotCheck(f"{base}/checkpoint is not a checkpoint: {e}") from None
    try:
        new = cpmod.read(served, key).checkpoint
    except NoteError as e:
        raise Misbehaviour(f"{base}/checkpoint is badly signed: {e}") from None
    if old is not None:
        _compare(base, old, new)
    if old is None or new.size != old.size:
        _write_state(state, served)
    return Outcome(old, new)


def _compare(base: str, old: Checkpoint, new: Checkpoint) -> None:
    if new.origin != old.origin:
        raise Misbehaviour(f"the log's origin changed from {old.origin!r} to {new.origin!r}")
    if new.size < old.size:
        raise Misbehaviour(f"history was rewritten: the log shrank from {old.size} to {new.size} events")
    if new.size == old.size:
        if new.root != old.root:
            raise Misbehaviour(
                f"history was rewritten: two different roots signed for the same {new.size} events (a fork)"
            )
        return
    if old.size == 0:
        return  # the empty log is a prefix of every log
    url = f"{base}/proof/consistency?from={old.size}&to={new.size}"
    try:
        proof = proofs.parse(fetch(url))
    except proofs.ProofFormatError as e:
        raise CannotCheck(f"{url} is not a proof: {e}") from None
    if not isinstance(proof, proofs.Consistency):
        raise CannotCheck(f"{url} sent an inclusion proof, not a consistency proof")
    try:
        proofs.check(proof, [old, new])
    except ProofError as e:
        raise Misbehaviour(
            f"history was rewritten: the log of {old.size} events kept earlier is not a prefix of the "
            f"{new.size} events served now ({e})"
        ) from None

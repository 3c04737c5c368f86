"""Keys, checkpoints, proofs and `check`, through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from timeline import config
from timeline.app import Timeline
from timeline.cli import cli
from timeline.proof import checkpoint as cpmod
from timeline.proof import proofs, publish
from timeline.proof.note import Signer, Verifier


@pytest.fixture(autouse=True)
def no_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIMELINE_SIGNING_KEY", raising=False)


def nodb(*args: str, input: bytes | None = None) -> Any:
    """`timeline` with a --db that cannot be opened: commands that need none still work."""
    return CliRunner().invoke(cli, ["--db", "/nonexistent/folder/x.db", *args], input=input, catch_exceptions=False)


def keys_init(run: Any, tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "log.key"
    result = run("keys", "init", "--name", "news.example/log", "--file", str(path))
    return result.stdout.strip(), path


def test_keys_init_makes_a_private_file_and_prints_only_the_public_key(run: Any, tmp_path: Path) -> None:
    run.import_seed()
    vkey, path = keys_init(run, tmp_path)
    verifier = Verifier.parse(vkey)
    assert verifier.name == "news.example/log"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert Signer.parse(secret).verifier == verifier
    assert secret.split("+", 4)[4] not in vkey  # the private part is never printed
    shown = run("keys", "show")
    assert shown.stdout.strip() == vkey and str(path) in shown.stderr and secret not in shown.stdout + shown.stderr
    again = run("keys", "init", "--file", str(tmp_path / "other.key"), ok=False)
    assert again.exit_code == 1 and again.stderr == (
        f"Error: this database already signs with the key in {str(path)!r}; a new key breaks every witness that "
        "pinned the old one (give --replace to make one anyway)\n"
    )
    clash = run("keys", "init", "--replace", "--file", str(path), ok=False)
    assert clash.stderr == f"Error: {str(path)!r} already exists; a key file is never overwritten\n"


def test_state_shows_the_checkpoint_unsigned_then_signed(run: Any, tmp_path: Path) -> None:
    run.import_seed()
    text = run("state").stdout
    assert (
        "Checkpoint (unsigned: no signing key, `timeline keys init` makes one):\n  news-timeline.example/timeline\n  25\n"
        in text
    )
    assert run.json("state")["checkpoint"]["signed"] is False
    vkey, _ = keys_init(run, tmp_path)
    data = run.json("state")["checkpoint"]
    assert data["signed"] is True and data["key"] == vkey and data["size"] == 25
    read = cpmod.read(data["text"].encode(), Verifier.parse(vkey))
    assert read.checkpoint.origin == "news.example/log" and read.checkpoint.size == 25
    assert f"Checkpoint (signed by {vkey}):" in run("state").stdout
    assert run("checkpoint").stdout == data["text"]


def test_a_key_others_can_read_or_a_missing_one_is_refused(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run.import_seed()
    _, path = keys_init(run, tmp_path)
    path.chmod(0o644)
    bad = run("state", ok=False)
    assert bad.exit_code == 1 and bad.stderr == (
        f"Error: the signing key {str(path)!r} can be read by others (mode 644); chmod 600 it\n"
    )
    monkeypatch.setenv("TIMELINE_SIGNING_KEY", str(tmp_path / "gone.key"))
    gone = run("checkpoint", ok=False)
    assert (
        gone.stderr == f"Error: cannot read the signing key {str(tmp_path / 'gone.key')!r}: No such file or directory\n"
    )
    monkeypatch.setenv("TIMELINE_SIGNING_KEY", str(tmp_path))
    assert run("checkpoint", ok=False).stderr == f"Error: the signing key {str(tmp_path)!r} is not a file\n"
    junk = tmp_path / "junk.key"
    junk.write_bytes(b"\xff\x00junk")
    junk.chmod(0o600)
    monkeypatch.setenv("TIMELINE_SIGNING_KEY", str(junk))
    assert (
        run("checkpoint", ok=False).stderr == f"Error: the signing key {str(junk)!r} cannot be read: it is not text\n"
    )


def test_every_event_and_every_size_proves_against_checkpoints(run: Any, target: str) -> None:
    run.import_seed()
    app = Timeline.open(config.resolve(target))
    try:
        cps = {n: publish.checkpoint(app, n).checkpoint for n in range(1, 26)}
        for new in range(1, 26):
            for old in range(1, new + 1):
                proof = publish.consistency(app, old, new)
                assert len(proof.path) <= 2 * (new - 1).bit_length()
                proofs.check(proofs.parse(json.dumps(proofs.to_json(proof)).encode()), [cps[old], cps[new]])
        for position in range(1, 26):
            for size in range(position, 26, 6):
                proof_i = publish.inclusion(app, f"#{position}", size)
                assert proofs.check(proof_i, [cps[size]]).startswith(
                    f"event #{position} is in the log of {size} events"
                )
    finally:
        app.close()


def test_prove_and_check_through_files_without_the_database(run: Any, tmp_path: Path) -> None:
    run.import_seed()
    vkey, _ = keys_init(run, tmp_path)
    (tmp_path / "cp10").write_text(run("checkpoint", "--at", "10").stdout)
    run("correct", "japan-cambodia-2024/package", "--set", "amount=$104.2 million", "--reason", "parts add up")
    (tmp_path / "cp").write_text(run("checkpoint").stdout)
    (tmp_path / "c.json").write_text(run("prove", "--from", "10").stdout)
    (tmp_path / "i.json").write_text(run("prove", "japan-cambodia-2024/package").stdout)
    inclusion = json.loads((tmp_path / "i.json").read_text())
    assert [lf["position"] for lf in inclusion["leaves"]] == [2, 26] and inclusion["tree_size"] == 26

    ok = nodb("check", "--checkpoint", str(tmp_path / "cp10"), "--checkpoint", str(tmp_path / "cp"), "--key", vkey,
              "--proof", str(tmp_path / "c.json"))  # fmt: skip
    assert ok.exit_code == 0, ok.stderr
    assert (
        ok.stdout
        == "ok: the log of 10 events is a prefix of the log of 26 events, whose root matches checkpoint 10 and checkpoint 26\n"
    )
    inc = nodb(
        "check",
        "--checkpoint",
        str(tmp_path / "cp"),
        "--key",
        vkey,
        "--proof",
        "-",
        input=(tmp_path / "i.json").read_bytes(),
    )
    assert inc.exit_code == 0 and inc.stdout.startswith("ok: events #2, #26 of development ")
    sig = nodb("check", "--checkpoint", str(tmp_path / "cp"), "--key", vkey)
    assert (
        sig.stdout
        == f"ok: {tmp_path / 'cp'}: news.example/log, 26 events, signed by {'+'.join(vkey.split('+', 2)[:2])}\n"
    )

    hexed = json.loads(run("prove", "#3", "--at", "#10", "--hex").stdout)
    assert hexed["encoding"] == "hex" and hexed["tree_size"] == 10 and len(hexed["root"]) == 64
    wrong = nodb("check", "--checkpoint", str(tmp_path / "cp"), "--proof", "-", input=json.dumps(hexed).encode())
    assert (
        wrong.exit_code == 1 and wrong.stderr == "Error: a checkpoint of size 26 cannot check a proof about size 10\n"
    )


def test_check_refuses_bad_signatures_and_altered_proofs_in_one_line(run: Any, tmp_path: Path) -> None:
    run.import_seed()
    vkey, _ = keys_init(run, tmp_path)
    cp = run("checkpoint").stdout
    (tmp_path / "cp").write_text(cp)
    other = str(Signer.generate("news.example/log").verifier)
    bad = nodb("check", "--checkpoint", str(tmp_path / "cp"), "--key", other)
    assert (
        bad.exit_code == 1
        and bad.stderr == f"Error: {tmp_path / 'cp'}: no signature by the key {'+'.join(other.split('+', 2)[:2])}\n"
    )
    (tmp_path / "forged").write_text(cp.replace("\n25\n", "\n26\n"))
    forged = nodb("check", "--checkpoint", str(tmp_path / "forged"), "--key", vkey)
    assert forged.exit_code == 1 and "does not verify: the note was altered or signed by another key" in forged.stderr
    proof = json.loads(run("prove", "--from", "3", "--hex").stdout)
    proof["path"][1] = ("0" if proof["path"][1][0] != "0" else "1") + proof["path"][1][1:]
    (tmp_path / "p.json").write_text(json.dumps(proof))
    altered = nodb("check", "--proof", str(tmp_path / "p.json"), "--checkpoint", str(tmp_path / "cp"), "--key", vkey)
    assert (
        altered.exit_code == 1
        and altered.stderr.count("\n") == 1
        and altered.stderr.startswith("Error: the consistency path")
    )
    for content, message in [(b"", "Error: the proof is not JSON"), (b"\x00\xff", "Error: the proof is not JSON")]:
        (tmp_path / "junk").write_bytes(content)
        junk = nodb("check", "--proof", str(tmp_path / "junk"))
        assert junk.exit_code == 1 and junk.stderr.startswith(message) and junk.stderr.count("\n") == 1
    missing = nodb("check", "--checkpoint", str(tmp_path / "nope"))
    assert (
        missing.stderr == f"Error: cannot read the checkpoint {str(tmp_path / 'nope')!r}: No such file or directory\n"
    )
    key = nodb("check", "--checkpoint", str(tmp_path / "cp"), "--key", "junk")
    assert key.exit_code == 2 and "a verifier key is NAME+KEYID+KEY" in key.stderr


def test_prove_errors(run: Any) -> None:
    run.import_seed()
    for args, message in [
        (("prove",), "Error: give ID or #N (inclusion), or --from SIZE (consistency)\n"),
        (("prove", "#99"), "Error: the log has no event #99\n"),
        (("prove", "#3", "--at", "2"), "Error: event #3 is not in the log's first 2 events\n"),
        (("prove", "--from", "30"), "Error: size 30 is beyond the log's 25 events\n"),
        (
            ("prove", "--from", "0"),
            "Error: a consistency proof goes from a size of at least 1 to a size not below it; 0 to 25 is not\n",
        ),
        (("prove", "nope"), "Error: no development 'nope'\n"),
        (("checkpoint", "--at", "26"), "Error: size 26 is beyond the log's 25 events\n"),
    ]:
        result = run(*args, ok=False)
        assert result.exit_code != 0 and result.stderr == message, args


def test_the_feeds_folder_carries_the_checkpoint(run: Any, tmp_path: Path) -> None:
    run.import_seed()
    keys_init(run, tmp_path)
    out = tmp_path / "site"
    run("feeds", "build", "--out", str(out))
    assert (out / "checkpoint").read_text() == run("checkpoint").stdout
    run("add", "statement", "--title", "More", "--occurred", "2024-07-09", "--speaker", "X", "--paraphrase", "said",
        "--source", "https://news.example/a")  # fmt: skip
    written = run.json("feeds", "build", "--out", str(out))["written"]
    assert "checkpoint" in written and (out / "checkpoint").read_text() == run("checkpoint").stdout
    assert (out / "checkpoint").read_text().splitlines()[1] == "26"
    assert os.stat(out / "checkpoint").st_mode & 0o044  # published: readable by all, unlike the key


def test_a_rewrite_with_a_forged_tree_is_caught_by_a_checkpoint_kept_earlier(
    run: Any, target: str, tmp_path: Path
) -> None:
    from tests.forgery import rewrite_with_forged_tree

    run.import_seed()
    vkey, _ = keys_init(run, tmp_path)
    kept = tmp_path / "kept"
    kept.write_text(run("checkpoint", "--at", "20").stdout)
    app = Timeline.open(config.resolve(target))
    try:
        rewrite_with_forged_tree(app, 3, b"Phnom Penh", b"Bangkok")
    finally:
        app.close()
    (tmp_path / "p.json").write_text(run("prove", "--from", "20").stdout)
    (tmp_path / "now").write_text(run("checkpoint").stdout)
    caught = nodb("check", "--proof", str(tmp_path / "p.json"), "--checkpoint", str(kept), "--checkpoint",
                  str(tmp_path / "now"), "--key", vkey)  # fmt: skip
    assert caught.exit_code == 1
    assert (
        caught.stderr
        == "Error: the proof's root for size 20 is not the checkpoint's: the log was rewritten or forked\n"
    )
    # The forged proof is consistent in itself: only the kept checkpoint tells.
    assert (
        nodb(
            "check", "--proof", str(tmp_path / "p.json"), "--checkpoint", str(tmp_path / "now"), "--key", vkey
        ).exit_code
        == 0
    )


def test_a_tampered_row_is_named_not_a_crash(run: Any, target: str) -> None:
    run.import_seed()
    dev = next(e["id"] for e in map(json.loads, run("log", "--json").stdout.splitlines()) if e["position"] == 4)
    app = Timeline.open(config.resolve(target))
    try:
        from timeline.proof.tree import TreeSql

        store = TreeSql.for_recorder(app.recorder)
        with store.sql.transaction(commit=True) as c:
            store.sql.execute(
                c, f"UPDATE {store.events} SET state = ? WHERE {store.position_column} = 4", [b"{not json"]
            )
    finally:
        app.close()
    altered = run("prove", "#4", ok=False)
    assert altered.stderr == "Error: the stored event #4 does not match its leaf in the tree: run `timeline verify`\n"
    assert run("prove", dev, ok=False).stderr == altered.stderr  # read as stored, never decoded
    assert run("prove", "#5").exit_code == 0  # the others still prove

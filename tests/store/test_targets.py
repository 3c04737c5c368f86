"""What `--db` accepts and what its errors say (issue 10 defect 10, issue 11).

No password ever appears in any output; other URL schemes are refused; a read command on
a SQLite file that is not there says so and creates nothing; PostgreSQL connection errors
name the cause at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import SEED
from timeline import config
from timeline.cli import cli

SECRET = "s3cretpw"


def timeline(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres:s3cretpw@127.0.0.1:abc/x",
         "Error: cannot open database postgresql://postgres:***@127.0.0.1:abc/x: the port is not a number from 0 to 65535"),
        ("postgresql://postgres:s3cretpw@127.0.0.1:99999/x",
         "Error: cannot open database postgresql://postgres:***@127.0.0.1:99999/x: the port is not a number from 0 to 65535"),
        ("postgresql://postgres:s3cretpw@127.0.0.1:5432/",
         "Error: cannot open database postgresql://postgres:***@127.0.0.1:5432/: a PostgreSQL URL needs a host and a database name"),
        ("postgresql://postgres:s3cret/pw@127.0.0.1:5432/x",
         "Error: cannot open database postgresql://postgres:***@127.0.0.1:5432/x: the port is not a number from 0 to 65535"),
        ("postgresql://postgres:s3cretpw@[::1/x",
         "Error: cannot open database postgresql://postgres:***@[::1/x: not a URL (Invalid IPv6 URL)"),
        ("postgresql://postgres@127.0.0.1/x?password=s3cretpw",
         "Error: cannot open database postgresql://postgres@127.0.0.1/x?password=***: unknown option 'password' (only schema=NAME is read)"),
        ("postgresql://postgres:s3cretpw@127.0.0.1/x?schema=no-such",
         "Error: cannot open database postgresql://postgres:***@127.0.0.1/x?schema=no-such: schema 'no-such' is not a plain name"
         " (lower-case letters, digits and _, not starting with a digit, at most 63)"),
        ("postgresql://postgres:s3cretpw@127.0.0.1/x?schema=",
         "Error: cannot open database postgresql://postgres:***@127.0.0.1/x?schema=: schema '' is not a plain name"
         " (lower-case letters, digits and _, not starting with a digit, at most 63)"),
        ("postgresql://postgres:s3cretpw@127.0.0.1/x?schema=a&schema=b",
         "Error: cannot open database postgresql://postgres:***@127.0.0.1/x?schema=a&schema=b: schema is given 2 times"),
        ("mysql://root:s3cretpw@db.example.org/news",
         "Error: cannot open database mysql://root:***@db.example.org/news: mysql:// is not supported"
         " (use a SQLite file path or a postgresql:// URL)"),
        ("sqlite:///tmp/x.db",
         "Error: cannot open database sqlite:///tmp/x.db: sqlite:// is not supported (use a SQLite file path or a postgresql:// URL)"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_bad_target_is_one_line_without_the_password(url: str, message: str, how: str) -> None:
    result = timeline("--db", url, "show") if how == "option" else timeline("show", env={config.ENV_VAR: url})
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")
    assert SECRET not in result.output


def test_redact_hides_every_password_it_can_find() -> None:
    assert config.redact("postgresql://u:p@h/d") == "postgresql://u:***@h/d"
    assert config.redact("postgresql://u:p@ss@h/d") == "postgresql://u:***@h/d"
    assert config.redact("postgresql://u@h/d") == "postgresql://u@h/d"
    assert config.redact("postgresql://h/d?password=p&schema=s") == "postgresql://h/d?password=***&schema=s"
    assert config.redact("./timeline.db") == "./timeline.db"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "cause"),
    [
        (lambda base, name: f"{base}/{name}_missing",
         "database '{name}_missing' does not exist on 127.0.0.1:5432; create it with"
         " `createdb -h 127.0.0.1 -p 5432 -U postgres {name}_missing`"),
        (lambda base, name: f"{base}/{name}".replace("postgres@", "nobody:s3cretpw@"),
         "authentication failed for user 'nobody' on 127.0.0.1:5432"),
        (lambda base, name: f"{base}/{name}".replace(":5432", ":1"),
         "connection refused by 127.0.0.1:1 (is PostgreSQL running there?)"),
    ],
)  # fmt: skip
def test_postgres_connection_errors_say_the_cause_at_once(
    postgres_own_database: str, change: Any, cause: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At once: only a restarting server is worth waiting for, so these never pause to retry.
    pauses: list[float] = []
    monkeypatch.setattr("timeline.pgprobe.time.sleep", pauses.append)
    base, name = postgres_own_database.rsplit("/", 1)
    url = change(base, name)
    result = timeline("--db", url, "state")
    assert pauses == []
    shown = config.redact(url).replace("nobody:***@", "nobody@")
    assert result.stderr == f"Error: cannot open database {shown}: {cause.format(name=name)}\n"
    assert result.exit_code == 1 and SECRET not in result.output


@pytest.mark.postgres
def test_a_schema_holds_its_own_log_and_views(postgres_own_database: str) -> None:
    postgres_url = postgres_own_database
    url = f"{postgres_url}?schema=newsroom_2"
    missing = timeline("--db", url, "state")
    assert missing.stderr == (f"Error: no timeline database at {url} (schema 'newsroom_2' does not exist)\n")
    assert timeline("--db", url, "import", str(SEED)).exit_code == 0
    added = timeline("--db", postgres_url, "add", "visit", "--title", "T", "--occurred", "2024",
                     "--visitors", "A", "--source", "https://example.org")  # fmt: skip
    assert added.exit_code == 0
    in_schema = json.loads(timeline("--db", url, "state", "--json").stdout)
    in_public = json.loads(timeline("--db", postgres_url, "state", "--json").stdout)
    assert (in_schema["position"], sum(in_schema["developments"].values())) == (25, 25)
    assert (in_public["position"], in_public["developments"]) == (1, {"visit": 1})
    assert timeline("--db", url, "rebuild").exit_code == 0
    assert json.loads(timeline("--db", postgres_url, "state", "--json").stdout) == in_public
    assert json.loads(timeline("--db", url, "state", "--json").stdout) == in_schema


READERS = [
    ["show"], ["show", "abc123"], ["state"], ["topics"], ["actors"], ["log"], ["verify"],
    ["replay", "--as-of", "#1"], ["history", "abc123"], ["diff", "#1", "#2"], ["rebuild"],
    ["correct", "abc123", "--set", "title=x", "--reason", "r"], ["retract", "abc123", "--reason", "r"],
    ["source", "abc123", "https://example.org"], ["feeds", "build", "--out", "out"], ["feeds", "config", "show"],
    ["config", "show"],
]  # fmt: skip


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_command_that_needs_a_log_creates_no_file(tmp_path: Path, args: list[str], monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    result = timeline("--db", "typo.db", *args)
    assert (result.exit_code, result.stderr) == (1, "Error: no timeline database at typo.db\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_writing_commands_still_create_the_file(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    assert timeline("--db", "new.db", "import", str(SEED)).exit_code == 0
    added = timeline("--db", "other.db", "add", "visit", "--title", "T", "--occurred", "2024",
                     "--visitors", "A", "--source", "https://example.org")  # fmt: skip
    assert added.exit_code == 0
    assert timeline("--db", "settings.db", "feeds", "config", "set", "title", "News").exit_code == 0
    assert timeline("--db", "order.db", "config", "set", "date-order", "dmy").exit_code == 0
    assert {"new.db", "other.db", "settings.db", "order.db"} <= {p.name for p in tmp_path.iterdir()}


def test_a_refused_add_creates_no_file(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    refused = timeline("--db", "new.db", "add", "visit", "--title", "T", "--occurred", "soon",
                       "--visitors", "A", "--source", "https://example.org")  # fmt: skip
    assert refused.exit_code == 2  # a value on the command line that cannot be read
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_command_that_needs_a_log_creates_no_tables_in_an_empty_schema(postgres_url: str, args: list[str]) -> None:
    # The PostgreSQL side of the test above: the schema is there, the log is not, and a
    # command that only reads says so instead of making an empty log's tables.
    import psycopg

    result = timeline("--db", postgres_url, *args)
    schema = postgres_url.rsplit("schema=", 1)[1]
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: no timeline database at {postgres_url} (schema {schema!r} holds no log)\n",
    )
    with psycopg.connect(postgres_url.split("?", maxsplit=1)[0]) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
    assert tables == []

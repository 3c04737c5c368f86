"""`Sql.insert_rows` stores what `executemany` of the same statement stores, on both stores:
the same values (quotes, backslashes, braces, NULLs, non-ASCII text, large integers) and
the same conflict updates, though PostgreSQL gets one statement of arrays."""

from __future__ import annotations

from timeline import config
from timeline.app import Timeline

ROWS = [
    ("plain", 1, "a"),
    ('quote " and \\ backslash', 2, None),
    ("{braces},commas", 2**40, "NULL"),
    ("上川陽子 é ß", -3, ""),
]


def test_insert_rows_stores_what_executemany_stores(target: str) -> None:
    app = Timeline.open(config.resolve(target))
    try:
        sql = app.sql()
        insert = "INSERT INTO {t} (k, n, v) VALUES (?,?,?) ON CONFLICT (k) DO UPDATE SET n = excluded.n, v = excluded.v"
        with sql.transaction(commit=True) as c:
            for t in ("t_many", "t_rows"):
                sql.execute(c, f"CREATE TABLE {t} (k TEXT PRIMARY KEY, n BIGINT NOT NULL, v TEXT)")
            sql.executemany(c, insert.format(t="t_many"), ROWS)
            sql.insert_rows(c, insert.format(t="t_rows"), ROWS, ("text", "bigint", "text"))
            again = [(k, n + 1, f"{v}!") for k, n, v in ROWS[:2]]  # conflicts: updated
            sql.executemany(c, insert.format(t="t_many"), again)
            sql.insert_rows(c, insert.format(t="t_rows"), again, ("text", "bigint", "text"))
            sql.insert_rows(c, insert.format(t="t_rows"), [], ("text", "bigint", "text"))  # nothing
        with sql.transaction(commit=True) as c:
            found = {t: sorted(tuple(r.values()) if isinstance(r, dict) else tuple(r)
                               for r in sql.rows(c, f"SELECT k, n, v FROM {t}"))
                     for t in ("t_many", "t_rows")}  # fmt: skip
            for t in ("t_many", "t_rows"):
                sql.execute(c, f"DROP TABLE {t}")
        assert found["t_rows"] == found["t_many"]
        assert len(found["t_rows"]) == len(ROWS) and ("plain", 2, "a!") in found["t_rows"]
    finally:
        app.close()

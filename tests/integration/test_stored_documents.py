"""The views store a document without the values it derives from its fields, and read it
back whole: the same keys, in the same order, with the same values as `project` made."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Cli
from timeline import config
from timeline.app import Timeline
from timeline.store import iter_notifications
from timeline.views import queries
from timeline.views.project import COPIES, dumps, loads, project
from timeline.views.registry import is_registry_event
from timeline.views.runner import Views


def test_documents_read_back_as_project_made_them(sqlite_run: Cli) -> None:
    run = sqlite_run
    run.import_seed()
    first = run("show", "--json").stdout
    id_ = run.json("show")[0]["id"]
    run("correct", id_, "--set", "title=Corrected", "--reason", "r")
    run("retract", run.json("show")[1]["id"], "--reason", "wrong")
    app = Timeline.open(config.resolve(run.target))
    try:
        docs: dict[str, Any] = {}
        for n in iter_notifications(app.recorder):
            event = app.mapper.to_domain_event(n)
            if not is_registry_event(event):
                docs[str(n.originator_id)] = project(docs.get(str(n.originator_id)), event, n.id)
        views = Views(app)
        views.catch_up()
        for key, doc in docs.items():
            text = dumps(doc)
            assert not set(json.loads(text)) & set(COPIES), text
            assert not set(json.loads(text)) & {"id", "kind", "first_position"}, text  # the row's columns
            back = loads(text, doc["id"], doc["kind"], doc["first_position"])
            assert back == doc and list(back) == list(doc)
            read = queries.document(views.sql, key)
            assert read == doc and read is not None and list(read) == list(doc)
    finally:
        app.close()
    assert run("show", "--json").stdout != first  # the correction shows

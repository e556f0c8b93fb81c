"""concerto-example, the daemon of docs/new-service.md, against a real
concerto-registry: its subscription comes from its event table alone (the
registry's endpoints from CONCERTO_REGISTRY_ROUTER and _PUB, which --help
lists with services.def's defaults), the registry's Tables reach it by
replay, and its entity and list answer as the toolkit makes them.
"""
import os
import subprocess
import tempfile

from concerto_harness import BIN, demo_registry, service_env, start_service, wait_until
from test_registry import Client
from concerto.common.v1 import envelope_pb2 as E
from concerto.example.v1 import example_pb2 as X

EXAMPLE = os.path.join(BIN, "concerto-example")


def test_help_lists_the_sources_endpoints_with_the_lists_defaults():
    out = subprocess.run([EXAMPLE, "--help"], capture_output=True, text=True, check=True).stdout
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  CONCERTO")}
    assert "default: tcp://127.0.0.1:7101" in lines["CONCERTO_REGISTRY_ROUTER"]
    assert "default: tcp://127.0.0.1:7102" in lines["CONCERTO_REGISTRY_PUB"]
    # Not a daemon of the list: its own endpoints must be given.
    assert "default: required" in lines["CONCERTO_EXAMPLE_ROUTER"]
    env = dict(os.environ)
    for var in ("CONCERTO_EXAMPLE_ROUTER", "CONCERTO_EXAMPLE_PUB"):
        env.pop(var, None)
    out = subprocess.run([EXAMPLE], capture_output=True, text=True, env=env, timeout=10)
    assert out.returncode != 0 and "CONCERTO_EXAMPLE_ROUTER must be set" in out.stderr


def test_notes_follow_the_registrys_tables():
    with tempfile.TemporaryDirectory() as tmp, demo_registry(tmp) as registry:
        example = start_service("example", tmp,
                                env=service_env("registry", registry.router, registry.pub))
        client = Client(example.router)
        try:
            note = X.Note(id="n1", table_id="tqmn", text="Forum le 12 mars")
            # The demo's Tables arrive by replay; until then tqmn is unknown.
            wait_until(lambda: client.send(X.RegisterNoteRequest(note=note)).status == E.OK,
                       what="a note about tqmn accepted")
            client.fails(X.RegisterNoteRequest(note=X.Note(id="n2", table_id="nowhere",
                                                            text="x")),
                         "NOT_FOUND", field="note.table_id")
            got = client.ok(X.GetNoteRequest(id="n1"), X.Note)
            assert got.text == "Forum le 12 mars" and got.created_ms > 0
            listed = client.ok(X.ListNotesRequest(search="FORUM"), X.NoteList)
            assert [n.id for n in listed.notes] == ["n1"]
        finally:
            client.close()
            assert example.stop() == 0, example.log()

"""concerto-registry over its own sockets: the wire contract (one Envelope
in, one Reply out on the ROUTER; events on the PUB), idempotent retries,
the demo data, the `import` subcommand, partner actors, and restarts.
The HTTP side is test_registry_http.py.
"""
import os
import subprocess
import tempfile

import pytest
import zmq

from concerto_harness import registry, tmp  # noqa: F401
from concerto_harness import (BIN, make_envelope, parse_envelope, parse_reply, run_import, uuid7,
                              wait_until)
from concerto.common.v1 import envelope_pb2 as E
from concerto.registry.v1 import registry_pb2 as R

REGISTRY = os.path.join(BIN, "concerto-registry")


class Client:
    """A DEALER speaking the wire contract to one daemon."""

    def __init__(self, endpoint):
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(endpoint)

    def raw(self, frame):
        self.sock.send(frame)
        assert self.sock.poll(10000), "no reply within 10 s"
        return self.sock.recv_multipart()[-1]

    def send(self, msg, actor="operator:pytest", **fields):
        frame = make_envelope(msg.DESCRIPTOR.full_name, msg, source="pytest", actor=actor,
                              **fields)
        return parse_reply(parse_envelope(self.raw(frame)))

    def ok(self, msg, result_cls=None, **kw):
        reply = self.send(msg, **kw)
        assert reply.status == E.OK, (reply.message, list(reply.fields))
        if result_cls is None:
            return reply
        assert reply.result_type == result_cls.DESCRIPTOR.full_name
        out = result_cls()
        out.ParseFromString(reply.result)
        return out

    def fails(self, msg, status, field=None, text=None, **kw):
        reply = self.send(msg, **kw)
        assert reply.status == E.Status.Value(status), (reply.status, reply.message)
        if field is not None:
            matches = [f for f in reply.fields
                       if f.field == field and (text is None or text in f.description)]
            assert matches, [(f.field, f.description) for f in reply.fields]
        return reply

    def close(self):
        self.sock.close()


def head(client):
    return client.ok(E.StatusRequest(), E.Heartbeat).head_sequence


def all_tables(client):
    return client.ok(R.ListTablesRequest(limit=500), R.TableList).tables


@pytest.fixture
def client(registry):
    c = Client(registry.router)
    yield c
    c.close()


def test_help_lists_every_setting():
    out = subprocess.run([REGISTRY, "--help"], capture_output=True, text=True, check=True).stdout
    for name in ("CONCERTO_REGISTRY_MIN_SECTORS", "CONCERTO_REGISTRY_MIN_NETWORKS",
                 "CONCERTO_REGISTRY_MIN_MEETINGS", "CONCERTO_REGISTRY_DEMO_DATA",
                 "CONCERTO_REGISTRY_ROUTER"):
        assert name in out
    out = subprocess.run([REGISTRY, "import", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "CONCERTO_REGISTRY_IMPORT_TIMEOUT_MS" in out
    assert subprocess.run([REGISTRY, "import"], capture_output=True).returncode == 2


def test_demo_data_is_loaded_at_start(client):
    tables = {t.id: t for t in all_tables(client)}
    assert len(tables) == 22
    assert tables["tqmn"].recognition.status == "recognized"
    assert tables["tqmn"].recognition.changed_by == "system:demo-data"
    uncertain = [t for t in tables.values() if t.uncertain]
    assert len(uncertain) == 5
    assert all(t.recognition.status == "under_review" and "UNCERTAIN" in t.notes
               for t in uncertain)
    assert tables["tds-centre-sud"].mandataire_id == "cdc-centre-sud"
    found = client.ok(R.ListTablesRequest(search="cote des neiges"), R.TableList).tables
    assert [t.id for t in found] == ["ndg-community-council"]
    west = client.ok(R.ListTerritoriesRequest(parent_id="sud-ouest-de-l-ile"), R.TerritoryList)
    assert [t.id for t in west.territories] == ["pointe-claire"]


def test_commands_answer_with_clear_statuses(client):
    client.ok(R.RegisterTerritoryRequest(territory=R.Territory(
        id="wire-borough", name="Arrondissement du fil", kind="borough")))
    client.fails(R.RegisterTerritoryRequest(territory=R.Territory(
        id="wire-borough", name="Again", kind="borough")), "CONFLICT", "territory.id")
    client.fails(R.RegisterTableRequest(table=R.Table(
        id="wire", name="Table du fil", territory_id="nowhere")), "NOT_FOUND",
        "table.territory_id", "nowhere")
    client.fails(R.RegisterTableRequest(table=R.Table(
        id="wire", name="Table du fil", territory_id="wire-borough",
        contact=R.Contact(phone="12"))), "INVALID_ARGUMENT", "table.contact.phone")
    table = client.ok(R.RegisterTableRequest(table=R.Table(
        id="wire", name="Table du fil", territory_id="wire-borough",
        languages=["fr", "en"])), R.Table)
    assert table.recognition.status == "requested"
    updated = client.ok(R.UpdateTableRequest(id="wire", table=R.Table(acronym="TDF")), R.Table)
    assert updated.acronym == "TDF" and list(updated.languages) == ["fr", "en"]
    reply = client.fails(R.ChangeRecognitionRequest(table_id="wire", status="recognized",
                                                    reason="too soon"),
                         "FAILED_PRECONDITION", "status", "requested")
    assert "under_review" in reply.message
    client.fails(R.GetTableRequest(id="ghost"), "NOT_FOUND", "id")


def test_a_retry_with_the_same_envelope_id_changes_nothing(client):
    msg = R.RegisterOrganizationRequest(organization=R.Organization(
        id="retry-org", name="Organisme rejoué", sector="housing", network="community",
        neq="1160000009"))
    frame = make_envelope(msg.DESCRIPTOR.full_name, msg, source="pytest", actor="operator:x")
    first = parse_envelope(client.raw(frame))
    before = head(client)
    second = parse_envelope(client.raw(frame))
    assert first.payload == second.payload
    assert parse_reply(second).status == E.OK
    assert head(client) == before
    # The same key with another request is a conflict.
    other = R.RegisterOrganizationRequest(organization=R.Organization(
        id="retry-org-2", name="Autre", sector="housing", network="community"))
    client.fails(other, "CONFLICT", idempotency_key=parse_envelope(frame).id.hex())
    # A different key for a duplicate NEQ is a domain conflict.
    client.fails(R.RegisterOrganizationRequest(organization=R.Organization(
        id="retry-org-3", name="Doublon", sector="housing", network="community",
        neq="1160000009")), "CONFLICT", "organization.neq", "retry-org")


def test_events_are_published_with_the_actor(registry, client):
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.linger = 0
    sub.connect(registry.pub)
    sub.subscribe(b"concerto.registry.v1.TerritoryRegistered")
    try:
        def published():
            client.ok(R.RegisterTerritoryRequest(territory=R.Territory(
                id=f"pub-{uuid7().hex()[-12:]}", name="Publié", kind="borough")),
                actor="operator:pub")
            return sub.poll(300)

        wait_until(published, timeout=10, what="a TerritoryRegistered on PUB")
        topic, frame = sub.recv_multipart()
        env = parse_envelope(frame)
        assert topic == b"concerto.registry.v1.TerritoryRegistered"
        assert env.source == "registry" and env.sequence > 0
        ev = R.TerritoryRegistered()
        ev.ParseFromString(env.payload)
        assert ev.actor == "operator:pub" and ev.territory.kind == "borough"
    finally:
        sub.close()


def test_partner_changes_are_recorded_with_the_partner_actor(client):
    member = client.ok(R.AddMembershipRequest(
        table_id="tqmn", organization_id="cdc-centre-sud", role="observer",
        joined_on="2025-01-01"), R.Membership, actor="partner:tqmn",
        idempotency_key="partner/tqmn/evt-1")
    assert member.role == "observer"
    client.ok(R.RecordAttestationRequest(table_id="tqmn", attested_on="2025-02-01",
                                         author="Conseil d'administration de la TQMN"),
              actor="partner:tqmn", idempotency_key="partner/tqmn/evt-2")
    history = client.ok(R.GetTableHistoryRequest(table_id="tqmn", limit=500), R.TableHistory)
    theirs = [e for e in history.entries if e.actor == "partner:tqmn"]
    assert [e.type.rsplit(".", 1)[1] for e in theirs] == [
        "MembershipStarted", "AttestationRecorded", "CharacteristicsChanged"]
    assert theirs[1].attestation_recorded.attestation.recorded_by == "partner:tqmn"
    # The attestation dated 2025-02-01 made networking and synergy met from
    # that date: the registry says so, from that date.
    changed = theirs[2].characteristics_changed
    assert changed.cause == "attestation_recorded" and changed.effective_on == "2025-02-01"
    assert "networking_synergy" in changed.periods[0].met


@pytest.mark.parametrize("frame,message", [
    pytest.param(b"\xff\x00garbage", "frame is not a protobuf Envelope", id="not an envelope"),
    pytest.param(make_envelope("concerto.registry.v1.GetTableRequest", b"\xff\xff\xff",
                               source="x"),
                 "payload does not decode as concerto.registry.v1.GetTableRequest",
                 id="payload not its type"),
])
def test_garbage_frames_get_an_error_reply(client, frame, message):
    reply = parse_reply(parse_envelope(client.raw(frame)))
    assert reply.status == E.INVALID_ARGUMENT
    assert message in reply.message
    assert client.ok(R.GetTableRequest(id="tqmn"), R.Table).id == "tqmn"


def write_dir(root, files):
    os.makedirs(root, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(root, name), "w", encoding="utf-8") as f:
            f.write(text)
    return root


def test_cli_import_is_all_or_nothing(registry, client, tmp):
    good = write_dir(os.path.join(tmp, "import-good"), {
        "territories.csv": "id,name,kind,parent_id\n"
                           "cli-borough,Arrondissement CLI,borough,\n"
                           "cli-hood,Quartier CLI,neighbourhood,cli-borough\n",
        "organizations.csv": "id,name,sector,network\ncli-org,Organisme CLI,community,community\n",
        "tables.csv": "id,name,territory_id,mandataire_id,recognition_status\n"
                      "cli-table,Table CLI,cli-hood,cli-org,recognized\n",
        "memberships.csv": "table_id,organization_id,role,joined_on\n"
                           "cli-table,cli-org,board,2024-01-01\n",
    })
    done = run_import(registry, good)
    assert done.returncode == 0, done.stderr
    assert "imported 2 territories, 1 organizations, 1 tables, 1 memberships" in done.stdout
    table = client.ok(R.GetTableRequest(id="cli-table"), R.Table)
    assert table.recognition.changed_by == "cli:test"

    before = head(client)
    broken = write_dir(os.path.join(tmp, "import-broken"), {
        "territories.csv": "id,name,kind\ncli-new,Nouveau,borough\n",
        "tables.csv": "id,name,territory_id,email\n"
                      "cli-ok,Bonne,cli-new,\n"
                      "cli-bad,Mauvaise,cli-new,pas-un-courriel\n",
    })
    done = run_import(registry, broken)
    assert done.returncode == 1
    assert "tables.csv:3:email: must be an e-mail address" in done.stderr
    assert head(client) == before
    client.fails(R.GetTerritoryRequest(id="cli-new"), "NOT_FOUND")

    assert run_import(registry, os.path.join(tmp, "no-such-dir")).returncode == 2
    env = dict(os.environ, CONCERTO_REGISTRY_ROUTER="tcp://127.0.0.1:1",
               CONCERTO_REGISTRY_IMPORT_TIMEOUT_MS="300")
    down = subprocess.run([REGISTRY, "import", good], env=env, capture_output=True, text=True)
    assert down.returncode == 2 and "no answer" in down.stderr


def test_restart_keeps_everything_and_skips_the_demo_data(registry):
    c = Client(registry.router)
    try:
        tables = {t.id for t in all_tables(c)}
        history = c.ok(R.GetTableHistoryRequest(table_id="tqmn"), R.TableHistory)
        before = head(c)
    finally:
        c.close()
    assert registry.stop() == 0
    registry.start()
    registry.wait_log("serving")
    registry.wait_log("demo data skipped")
    c = Client(registry.router)
    try:
        assert {t.id for t in all_tables(c)} == tables
        assert c.ok(R.GetTableHistoryRequest(table_id="tqmn"), R.TableHistory) == history
        assert head(c) == before
    finally:
        c.close()


def test_changed_thresholds_re_evaluate_every_table_at_start(registry):
    """A deployment that changes a threshold gets, at the next start, a
    CharacteristicsChanged (cause "settings") for each Table whose
    evaluation it changes, so that funding never evaluates them itself."""
    def changes(c, table):
        h = c.ok(R.GetTableHistoryRequest(table_id=table, limit=500), R.TableHistory)
        return [e.characteristics_changed for e in h.entries
                if e.HasField("characteristics_changed")]

    c = Client(registry.router)
    try:
        before = len(changes(c, "tqmn"))
    finally:
        c.close()
    assert registry.stop() == 0
    registry.env["CONCERTO_REGISTRY_MIN_MEETINGS"] = "0"
    registry.env["CONCERTO_REGISTRY_MIN_SECTORS"] = "1"
    try:
        registry.start()
        registry.wait_log("characteristics evaluated again")
        c = Client(registry.router)
        try:
            after = changes(c, "tqmn")
            assert len(after) == before + 1
            assert after[-1].cause == "settings" and after[-1].characteristics.min_sectors == 1
        finally:
            c.close()
    finally:
        assert registry.stop() == 0
        del registry.env["CONCERTO_REGISTRY_MIN_MEETINGS"]
        del registry.env["CONCERTO_REGISTRY_MIN_SECTORS"]
        registry.start()
        registry.wait_log("serving")


def test_demo_data_that_cannot_be_loaded_stops_the_daemon(tmp):
    """An operator who asked for demo data gets a daemon that says why it
    cannot load them and exits, not one serving an empty registry."""
    broken = write_dir(os.path.join(tmp, "demo-broken"), {
        "territories.csv": "id,name,kind\nbad id,Nom,borough\n",
    })
    for directory in (broken, os.path.join(tmp, "no-such-demo-dir")):
        data = tempfile.mkdtemp(dir=tmp)
        env = dict(os.environ, CONCERTO_DATA_DIR=data, CONCERTO_REGISTRY_DEMO_DATA=directory,
                   CONCERTO_REGISTRY_ROUTER="tcp://127.0.0.1:*",
                   CONCERTO_REGISTRY_PUB="tcp://127.0.0.1:*")
        done = subprocess.run([REGISTRY], env=env, capture_output=True, text=True, timeout=10)
        assert done.returncode == 1, done.stderr
        assert "demo data" in done.stderr and "setup failed" in done.stderr

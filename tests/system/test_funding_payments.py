"""Payments from funders' systems and the ledger, through the gateway and
its partner ingress (CURVE) to a real concerto-funding subscribed to a real
concerto-registry: a payment sent three times is recorded once, a funder's
key cannot record another funder's payment, the ledger as JSON and CSV,
reversals, the program summary, and a restart (SIGKILL) that loses nothing
and raises no installment twice.
"""
import os
import sqlite3
import tempfile

import pytest
import zmq

from concerto.common.v1 import envelope_pb2 as E
from concerto.funding.v1 import funding_pb2 as FP
from concerto_harness import (Gateway, ask, funding_import, make_envelope, partner_socket,
                              service_env, start_service, wait_until)

YEAR = "2026-2027"
PAYMENT = "concerto.funding.v1.RecordPaymentRequest"
SHARES = [{"funderId": "centraide", "shareBp": 4661}, {"funderId": "drsp", "shareBp": 2609},
          {"funderId": "ville", "shareBp": 2730}]
CENTRAIDE, VILLE = zmq.curve_keypair(), zmq.curve_keypair()


def allocate(admin, program, table, schedule=None, envelope=310000000):
    """The program's year (with `schedule`), an override and an approved
    allocation of `table`; returns the allocation."""
    for fid in ("centraide", "drsp", "ville"):
        admin.request("POST", "/v1/funding/funders", {"id": fid, "name": fid.title()})
    if admin.get(f"/v1/funding/programs/{program}").status == 404:
        assert admin.request("POST", "/v1/funding/programs",
                             {"id": program, "name": program}).status == 201
    body = {"envelopeCents": envelope, "shares": SHARES}
    if schedule:
        body["schedule"] = schedule
    r = admin.request("PUT", f"/v1/funding/programs/{program}/years/{YEAR}", body)
    assert r.status == 200, r
    base = f"/v1/funding/programs/{program}/years/{YEAR}/eligibility/{table}"
    assert admin.request("POST", base + "/override",
                         {"justification": "Checked by the committee."}).status == 200
    a = admin.request("POST", "/v1/funding/allocations",
                      {"programId": program, "fiscalYear": YEAR, "tableId": table})
    assert a.status == 201, a
    r = admin.request("POST", f"/v1/funding/allocations/{a.json()['id']}/approve", {})
    assert r.status == 200, r
    return r.json()


@pytest.fixture(scope="module")
def world():
    with tempfile.TemporaryDirectory() as tmp:
        registry = start_service("registry", tmp)
        funding = start_service("funding", tmp, env=service_env("registry", registry.router,
                                                                  registry.pub))
        partners = (f"{CENTRAIDE[0].decode()} centraide-system funder=centraide tables=*\n"
                    f"{VILLE[0].decode()} ville-system funder=ville tables=*\n")
        gw = Gateway(tmp, services={"registry": registry, "funding": funding},
                     tokens=[("reader", "rita"), ("operator", "otto"), ("admin", "ada")],
                     partners=partners, partner_types=PAYMENT)
        try:
            gw.start().wait_ready()
            admin = gw.http(token=gw.tokens["ada"])
            funding_import(admin, ["tq-1", "tq-2", "tq-3", "tq-4"])
            allocate(admin, "pay", "tq-1")
            admin.close()
            yield tmp, registry, funding, gw
        finally:
            assert gw.stop() == 0, gw.log()
            assert funding.stop() == 0, funding.log()
            assert registry.stop() == 0, registry.log()


@pytest.fixture
def clients(world):
    gw = world[3]
    made = {name: gw.http(token=gw.tokens[name]) for name in ("rita", "otto", "ada")}
    yield made
    for c in made.values():
        c.close()


def payment(funder, reference, amount, table="tq-1", program="pay"):
    return FP.RecordPaymentRequest(funder_id=funder, table_id=table, program_id=program,
                                   fiscal_year=YEAR, amount_cents=amount, reference=reference,
                                   paid_on="2026-05-04")


def send(gw, keys, msg, event_id):
    sock = partner_socket(gw, keys)
    try:
        answer = ask(sock, make_envelope(PAYMENT, msg, idempotency_key=event_id), timeout_ms=5000)
    finally:
        sock.close()
    assert answer is not None, "no acknowledgement"
    return answer[1]


def ledger(client, query=""):
    r = client.get(f"/v1/funding/ledger?programId=pay{query}")
    assert r.status == 200, r
    return r.json()


def test_a_payment_sent_three_times_is_recorded_once(world, clients):
    gw = world[3]
    msg = payment("centraide", "CHQ-1001", 1000000)
    replies = [send(gw, CENTRAIDE, msg, "evt-1001") for _ in range(3)]
    assert all(r.status == E.OK for r in replies), replies[0]
    assert replies[0] == replies[1] == replies[2]
    entry = FP.LedgerEntry()
    entry.ParseFromString(replies[0].result)
    assert entry.recorded_by == "partner:centraide-system" and entry.mandataire_id == "org-tq-1"
    # The same reference under another event id: the first answer again.
    again = send(gw, CENTRAIDE, msg, "evt-1001-bis")
    assert again.status == E.OK and again.result == replies[0].result
    # The same reference with other content: CONFLICT, nothing written.
    other = send(gw, CENTRAIDE, payment("centraide", "CHQ-1001", 1000001), "evt-1001-ter")
    assert other.status == E.CONFLICT and "other content" in other.message
    # The same event id with another payload: CONFLICT too (the runtime's).
    clash = send(gw, CENTRAIDE, payment("centraide", "CHQ-1002", 5), "evt-1001")
    assert clash.status == E.CONFLICT
    entries = ledger(clients["rita"], "&funderId=centraide")["entries"]
    assert [e["reference"] for e in entries] == ["CHQ-1001"]


def test_a_funders_key_cannot_record_another_funders_payment(world, clients):
    gw = world[3]
    denied = send(gw, VILLE, payment("centraide", "CHQ-2001", 500), "ville-evt-1")
    assert denied.status == E.PERMISSION_DENIED and "own funder" in denied.message
    assert send(gw, VILLE, payment("ville", "VIR-2001", 500), "ville-evt-2").status == E.OK
    refs = [e["reference"] for e in ledger(clients["rita"])["entries"]]
    assert "CHQ-2001" not in refs and "VIR-2001" in refs


def test_payments_over_http_reversals_and_the_ledger_as_json_and_csv(world, clients):
    op, admin, reader = clients["otto"], clients["ada"], clients["rita"]
    body = {"funderId": "drsp", "tableId": "tq-1", "programId": "pay", "fiscalYear": YEAR,
            "amountCents": 250000, "reference": "DRSP-7, \"avance\"", "paidOn": "2026-05-05"}
    e = op.request("POST", "/v1/funding/payments", body)
    assert e.status == 201, e
    entry = e.json()
    over = dict(body, reference="DRSP-8", amountCents=2609000)
    r = op.request("POST", "/v1/funding/payments", over)
    assert r.status == 409 and r.json()["error"]["code"] == "FAILED_PRECONDITION", r
    assert "remains" in r.json()["error"]["fields"][0]["description"]
    r = op.request("POST", "/v1/funding/payments", dict(body, reference="", amountCents=-1))
    assert r.status == 400, r
    assert {f["field"] for f in r.json()["error"]["fields"]} >= {"reference", "amountCents"}
    assert reader.request("POST", "/v1/funding/payments", body).status == 403
    path = f"/v1/funding/ledger/{entry['id']}/reverse"
    assert op.request("POST", path, {"reason": "typo"}).status == 403
    rev = admin.request("POST", path, {"reason": "typo in the amount"})
    assert rev.status == 201, rev
    assert rev.json()["amountCents"] == -250000 and rev.json()["kind"] == "REVERSAL"
    assert admin.request("POST", path, {"reason": "again"}).status == 409
    page = ledger(reader, "&funderId=drsp")
    assert page["count"] == 2 and page["totalCents"] == 0
    assert [x["kind"] for x in page["entries"]] == ["PAYMENT", "REVERSAL"]
    assert page["entries"][0]["reversedById"] == rev.json()["id"]
    first = ledger(reader, "&limit=1")
    assert len(first["entries"]) == 1 and first["nextCursor"]
    r = reader.get(f"/v1/funding/ledger?programId=pay&format=csv")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/csv")
    assert "ledger.csv" in r.header("Content-Disposition")
    assert r.body.startswith(b"\xef\xbb\xbf\"id\",\"kind\"")
    text = r.body.decode("utf-8-sig")
    assert '"DRSP-7, ""avance"""' in text and "\r\n" in text
    assert text.count("\r\n") == 1 + ledger(reader)["count"]
    r = reader.get("/v1/funding/ledger?programId=pay", headers={"Accept": "text/csv"})
    assert r.status == 200 and r.header("Content-Type").startswith("text/csv")
    # The ledger only grows: its last entry is the version, and a client
    # that holds it gets 304 until a new entry comes.
    tag = r.header("ETag")
    assert tag and reader.get("/v1/funding/ledger?programId=pay",
                              headers={"Accept": "text/csv", "If-None-Match": tag}).status == 304
    assert reader.get("/v1/funding/ledger?format=xlsx").status == 406
    assert reader.get("/v1/funding/ledger?fiscalYear=2026").status == 400


def test_the_program_summary_adds_up(world, clients):
    admin, reader = clients["ada"], clients["rita"]
    allocate(admin, "pay", "tq-2")
    s = reader.get(f"/v1/funding/programs/pay/years/{YEAR}/summary")
    assert s.status == 200, s
    s = s.json()
    paid = ledger(reader)["totalCents"]
    assert s["paidCents"] == paid and s["committedCents"] == 20000000
    assert s["remainingCents"] == s["envelopeCents"] - s["committedCents"]
    assert sum(f["committedCents"] for f in s["funders"]) == s["committedCents"]
    assert sum(f["paidCents"] for f in s["funders"]) == paid
    assert {b["boroughId"]: b["tables"] for b in s["boroughs"]} == {"ouest": 1, "sud-ouest": 1}
    assert reader.get(f"/v1/funding/programs/pay/years/2030-2031/summary").status == 404


def installment_events(db_path):
    """InstallmentDue events in funding's outbox: (allocation, number)."""
    db = sqlite3.connect(db_path)
    try:
        out = []
        rows = db.execute("SELECT envelope FROM outbox WHERE type ="
                          " 'concerto.funding.v1.InstallmentDue' ORDER BY seq").fetchall()
        for (frame,) in rows:
            env = E.Envelope()
            env.ParseFromString(frame)
            ev = FP.InstallmentDue()
            ev.ParseFromString(env.payload)
            out.append((ev.allocation_id, ev.installment.number))
        return out
    finally:
        db.close()


def test_a_restart_loses_nothing_and_raises_no_installment_twice(world):
    tmp, registry = world[0], world[1]
    data = os.path.join(tmp, "funding-restart")
    # Business time 6 s before Montréal's 2026-07-01: the second
    # installment falls due a few seconds after each start.
    env = dict(service_env("registry", registry.router, registry.pub),
               CONCERTO_CLOCK_START="2026-06-30T23:59:54-04:00", CONCERTO_DATA_DIR=data)
    funding = start_service("funding", tmp, env=env)
    gw = Gateway(tmp, services={"registry": registry, "funding": funding},
                 tokens=[("admin", "ada")])
    try:
        gw.start().wait_ready()
        admin = gw.http(token=gw.tokens["ada"])
        wait_until(lambda: admin.get("/v1/tables/tq-3/funding").json().get("known"), 10,
                   what="the restarted funding to know tq-3")
        schedule = [{"shareBp": 4000, "dueOn": "2026-04-01"},
                    {"shareBp": 3000, "dueOn": "2026-07-01"},
                    {"shareBp": 3000, "onReport": True}]
        a = allocate(admin, "restart", "tq-3", schedule)
        pay = {"funderId": "ville", "tableId": "tq-3", "programId": "restart",
               "fiscalYear": YEAR, "amountCents": 100, "reference": "R-1"}
        assert admin.request("POST", "/v1/funding/payments", pay).status == 201
        admin.close()
        db = os.path.join(data, "funding.db")
        wait_until(lambda: installment_events(db) == [(a["id"], 1)], 5,
                   what="the first installment, already due, to be raised")
        funding.kill()
        funding.start()
        funding.wait_log("serving")
        admin = gw.http(token=gw.tokens["ada"])

        def state():
            r = admin.get(f"/v1/funding/allocations/{a['id']}")
            return r.json() if r.status == 200 else None

        wait_until(lambda: (state() or {}).get("installments", [{}] * 2)[1].get("state") == "DUE",
                   20, what="the second installment to fall due after the restart")
        r = admin.request("POST", "/v1/funding/report-receipts",
                          {"tableId": "tq-3", "fiscalYear": YEAR})
        assert r.status == 200 and len(r.json()["allocations"]) == 1, r
        assert admin.request("POST", "/v1/funding/report-receipts",
                             {"tableId": "tq-3", "fiscalYear": YEAR}).json().get(
            "allocations", []) == []
        got = state()
        assert [i["state"] for i in got["installments"]] == ["DUE"] * 3
        for f in range(3):
            assert sum(i["parts"][f]["amountCents"] for i in got["installments"]) == \
                got["parts"][f]["amountCents"]
        funding.kill()
        funding.start()
        funding.wait_log("serving")
        assert sorted(installment_events(db)) == [(a["id"], 1), (a["id"], 2), (a["id"], 3)]
        admin = gw.http(token=gw.tokens["ada"])
        wait_until(lambda: admin.get(f"/v1/funding/ledger?programId=restart").status == 200, 5,
                   what="funding back")
        assert [e["reference"] for e in
                admin.get("/v1/funding/ledger?programId=restart").json()["entries"]] == ["R-1"]
        admin.close()
    finally:
        assert gw.stop() == 0, gw.log()
        assert funding.stop() == 0, funding.log()

"""A property test of the funding daemon (Debian's python3-hypothesis): a
rule-based state machine drives a real concerto-funding, behind a real
gateway and its partner ingress, with proposals, approvals, suspensions,
resumptions, closings, amendments, payments from the funders' systems and
from operators, duplicate sends, reversals, and SIGKILL and restart; after
every step the invariants must hold:

- each allocation's parts add up to its amount (the model splits by largest
  remainder too, and must agree to the cent);
- what a funder has paid never exceeds its part;
- the ledger's total is the sum of its entries and of what the allocations
  say is paid;
- the envelope is never exceeded;
- every command is answered, and nothing acknowledged is lost.

One running system is shared by the examples; each example works on its
own program (so its own allocations, envelope and ledger) over a pool of
Tables. Profiles (CONCERTO_PROPERTY_PROFILE, or the build's): "ci" (50
examples, derandomized, no example database: the Release pass), "sanitizer"
(5 examples: the ASan + UBSan build, CONCERTO_SANITIZED=1) and "long" (by
hand: 1,000 examples, random).
"""
import itertools
import os
import tempfile
import time

import zmq
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition,
                                 rule)

from concerto.common.v1 import envelope_pb2 as E
from concerto.funding.v1 import funding_pb2 as FP
from concerto_harness import (Gateway, ask, funding_import, make_envelope, partner_socket,
                              service_env, start_service)

YEAR = "2026-2027"
TABLES = [f"pt-{i}" for i in range(6)]
FUNDERS = ("centraide", "drsp", "ville")
SHARES = {"centraide": 4661, "drsp": 2609, "ville": 2730}
KEYS = {f: zmq.curve_keypair() for f in FUNDERS}
PAYMENT = "concerto.funding.v1.RecordPaymentRequest"
PROFILES = {
    "ci": dict(max_examples=50, derandomize=True),
    "sanitizer": dict(max_examples=5, derandomize=True),
    "long": dict(max_examples=1000, derandomize=False),
}
PROFILE = os.environ.get("CONCERTO_PROPERTY_PROFILE") or (
    "sanitizer" if os.environ.get("CONCERTO_SANITIZED") == "1" else "ci")
STEPS, RESTARTS = 30, 2


def split(amount):
    """The model's split: largest remainder, ties to the larger share, then
    the funder whose id sorts first (docs/funding.md)."""
    ids = sorted(SHARES)
    parts = {f: amount * SHARES[f] // 10000 for f in ids}
    rem = {f: amount * SHARES[f] % 10000 for f in ids}
    for f in sorted(ids, key=lambda f: (-rem[f], -SHARES[f], ids.index(f)))[
            :amount - sum(parts.values())]:
        parts[f] += 1
    return parts


class System:
    """The daemons, started once for every example."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory()
        tmp = self.tmp.name
        self.registry = start_service("registry", tmp)
        self.funding = start_service("funding", tmp, env=service_env(
            "registry", self.registry.router, self.registry.pub))
        partners = "".join(f"{KEYS[f][0].decode()} {f}-system funder={f} tables=*\n"
                           for f in FUNDERS)
        self.gw = Gateway(tmp, services={"registry": self.registry, "funding": self.funding},
                          tokens=[("operator", "otto"), ("admin", "ada")], partners=partners,
                          partner_types=PAYMENT)
        self.gw.start().wait_ready()
        self.admin = self.gw.http(token=self.gw.tokens["ada"])
        self.op = self.gw.http(token=self.gw.tokens["otto"])
        self.sockets = {f: partner_socket(self.gw, KEYS[f]) for f in FUNDERS}
        funding_import(self.admin, TABLES)
        for f in FUNDERS:
            assert self.admin.request("POST", "/v1/funding/funders",
                                      {"id": f, "name": f}).status == 201
        self.keys = itertools.count()
        self.restarts = 0

    def call(self, client, method, path, body=None):
        """One request, retried with the same Idempotency-Key while funding
        restarts (503): every command gets its answer."""
        headers = {"Idempotency-Key": f"prop-{next(self.keys)}"} if method != "GET" else {}
        deadline = time.monotonic() + 20
        while True:
            r = client.request(method, path, body, headers=headers)
            if r.status not in (503, 504) or time.monotonic() > deadline:
                return r
            time.sleep(0.05)

    def send(self, funder, msg, event_id):
        """A payment through the partner ingress, sent again (same event id)
        until answered."""
        deadline = time.monotonic() + 20
        while True:
            answer = ask(self.sockets[funder],
                         make_envelope(PAYMENT, msg, idempotency_key=event_id), timeout_ms=3000)
            if answer and answer[1].status not in (E.UNAVAILABLE, E.DEADLINE_EXCEEDED):
                return answer[1]
            assert time.monotonic() < deadline, f"payment {event_id} never answered"

    def restart(self):
        self.funding.kill()
        self.funding.start()
        self.funding.wait_log("serving")
        self.restarts += 1

    def close(self):
        for s in self.sockets.values():
            s.close()
        self.admin.close()
        self.op.close()
        try:
            assert self.gw.stop() == 0, self.gw.log()
            assert self.funding.stop() == 0, self.funding.log()
            assert self.registry.stop() == 0, self.registry.log()
        finally:
            self.tmp.cleanup()


SYSTEM = None
PROGRAMS = itertools.count()
STATS = dict.fromkeys(("examples", "steps", "approved", "amended", "payments", "duplicates",
                       "reversals", "restarts"), 0)


def setup_module(module):
    global SYSTEM
    SYSTEM = System()


def teardown_module(module):
    print(f"\nproperty test, profile {PROFILE}: " + ", ".join(f"{v} {k}" for k, v in STATS.items()))
    SYSTEM.close()


class Funding(RuleBasedStateMachine):
    """The model: allocations by id with their state, amount and what each
    funder paid; the acknowledged payments; the envelope."""

    @initialize(envelope_tables=st.integers(1, 4), per_table=st.sampled_from(
        [1, 7, 10000, 10000000, 123456789]))
    def program(self, envelope_tables, per_table):
        self.program = f"prop-{next(PROGRAMS)}"
        self.envelope = envelope_tables * per_table
        self.per_table = per_table
        self.allocations = {}  # id -> dict(table, state, amount, paid{funder})
        self.payments = {}  # entry id -> (allocation id, funder, amount, reversed)
        self.last = None  # the last payment sent: (funder, msg, event id, entry id)
        self.restarts = 0
        sys_ = SYSTEM
        r = sys_.call(sys_.admin, "POST", "/v1/funding/programs",
                      {"id": self.program, "name": self.program})
        assert r.status == 201, r
        r = sys_.call(sys_.admin, "PUT", f"/v1/funding/programs/{self.program}/years/{YEAR}",
                      {"envelopeCents": self.envelope, "amountPerTableCents": per_table,
                       "shares": [{"funderId": f, "shareBp": b} for f, b in SHARES.items()]})
        assert r.status == 200, r
        # One allocation from the start, so that every rule has something
        # to work on.
        self.propose_one(TABLES[0], 0)
        self.approve_one(min(self.allocations))
        STATS["examples"] += 1

    def committed(self):
        return sum(a["amount"] if a["state"] in ("APPROVED", "SUSPENDED")
                   else sum(a["paid"].values()) if a["state"] == "CLOSED" else 0
                   for a in self.allocations.values())

    def ids(self):
        return sorted(self.allocations)

    # ---------------------------------------------------------- rules

    @rule(table=st.sampled_from(TABLES), amount=st.one_of(
        st.just(0), st.just(0), st.integers(1, 3), st.integers(1, 10 ** 9)))
    def propose(self, table, amount):
        self.propose_one(table, amount)

    def propose_one(self, table, amount):
        STATS["steps"] += 1
        s = SYSTEM
        taken = any(a["table"] == table for a in self.allocations.values())
        base = f"/v1/funding/programs/{self.program}/years/{YEAR}/eligibility/{table}"
        if not taken:
            r = s.call(s.admin, "POST", base + "/override", {"justification": "property test"})
            assert r.status == 200, r
        body = {"programId": self.program, "fiscalYear": YEAR, "tableId": table}
        if amount:
            body["amountCents"] = amount
        r = s.call(s.op, "POST", "/v1/funding/allocations", body)
        if taken:
            assert r.status == 409 and r.json()["error"]["code"] == "CONFLICT", r
            return
        assert r.status == 201, r
        a = r.json()
        assert a["state"] == "PROPOSED" and a["amountCents"] == (amount or self.per_table), a
        self.allocations[a["id"]] = dict(table=table, state="PROPOSED", amount=a["amountCents"],
                                         paid={f: 0 for f in FUNDERS})

    @precondition(lambda self: self.allocations)
    @rule(data=st.data())
    def approve(self, data):
        self.approve_one(data.draw(st.sampled_from(self.ids())))

    def approve_one(self, aid):
        STATS["steps"] += 1
        a = self.allocations[aid]
        r = SYSTEM.call(SYSTEM.op, "POST", f"/v1/funding/allocations/{aid}/approve", {})
        fits = a["amount"] <= self.envelope - self.committed()
        if a["state"] == "PROPOSED" and fits:
            assert r.status == 200, r
            a["state"] = "APPROVED"
            STATS["approved"] += 1
        else:
            assert r.status == 409 and r.json()["error"]["code"] == "FAILED_PRECONDITION", r
            if a["state"] == "PROPOSED":
                assert "left" in r.json()["error"]["message"], r

    def move(self, data, action, allowed, to):
        STATS["steps"] += 1
        aid = data.draw(st.sampled_from(self.ids()))
        a = self.allocations[aid]
        r = SYSTEM.call(SYSTEM.op, "POST", f"/v1/funding/allocations/{aid}/{action}",
                        {"reason": f"property test {action}"})
        if a["state"] in allowed:
            assert r.status == 200, r
            a["state"] = to
        else:
            assert r.status == 409, r

    @precondition(lambda self: self.allocations)
    @rule(data=st.data())
    def suspend(self, data):
        self.move(data, "suspend", ("APPROVED",), "SUSPENDED")

    @precondition(lambda self: self.allocations)
    @rule(data=st.data())
    def resume(self, data):
        self.move(data, "resume", ("SUSPENDED",), "APPROVED")

    @precondition(lambda self: self.allocations)
    @rule(data=st.data())
    def close(self, data):
        self.move(data, "close", ("PROPOSED", "APPROVED", "SUSPENDED"), "CLOSED")

    @precondition(lambda self: self.allocations)
    @rule(data=st.data())
    def amend(self, data):
        STATS["steps"] += 1
        aid = data.draw(st.sampled_from(self.ids()))
        a = self.allocations[aid]
        amount = data.draw(st.one_of(st.integers(1, 5), st.integers(1, 2 * a["amount"] + 1),
                                     st.integers(1, 10 ** 9)))
        r = SYSTEM.call(SYSTEM.admin, "POST", f"/v1/funding/allocations/{aid}/amend",
                        {"amountCents": amount, "reason": "property test"})
        parts = split(amount)
        ok = (a["state"] in ("APPROVED", "SUSPENDED")
              and (amount <= a["amount"] or amount - a["amount"] <= self.envelope - self.committed())
              and all(parts[f] >= a["paid"][f] for f in FUNDERS))
        if ok:
            assert r.status == 200, (r, a, amount)
            a["amount"] = amount
            STATS["amended"] += 1
        else:
            assert r.status == 409, (r, a, amount)

    @precondition(lambda self: self.allocations)
    @rule(data=st.data(), funder=st.sampled_from(FUNDERS))
    def pay_from_the_funders_system(self, data, funder):
        self.pay(data, funder, True)

    @precondition(lambda self: self.allocations)
    @rule(data=st.data(), funder=st.sampled_from(FUNDERS))
    def pay_by_an_operator(self, data, funder):
        self.pay(data, funder, False)

    def pay(self, data, funder, partner):
        STATS["steps"] += 1
        # Mostly an approved allocation, the only kind that is paid.
        approved = [i for i in self.ids() if self.allocations[i]["state"] == "APPROVED"]
        aid = data.draw(st.sampled_from(approved if approved and data.draw(st.integers(0, 3))
                                        else self.ids()))
        a = self.allocations[aid]
        ref = f"{self.program}-ref-{next(SYSTEM.keys)}"
        left = split(a["amount"])[funder] - a["paid"][funder]
        # Mostly what fits, sometimes exactly all of it or one cent more.
        amount = data.draw(st.one_of(st.integers(1, max(1, left)), st.just(max(1, left)),
                                     st.just(left + 1)))
        ok = a["state"] == "APPROVED" and amount <= left
        if partner:
            msg = FP.RecordPaymentRequest(funder_id=funder, table_id=a["table"],
                                          program_id=self.program, fiscal_year=YEAR,
                                          amount_cents=amount, reference=ref)
            event_id = f"{ref}-evt"
            reply = SYSTEM.send(funder, msg, event_id)
            assert (reply.status == E.OK) == ok, (reply, a, amount, left)
            if not ok:
                assert reply.status == E.FAILED_PRECONDITION, reply
                return
            entry = FP.LedgerEntry()
            entry.ParseFromString(reply.result)
            entry_id = entry.id
            self.last = (funder, msg, event_id, entry_id)
        else:
            r = SYSTEM.call(SYSTEM.op, "POST", "/v1/funding/payments",
                            {"funderId": funder, "tableId": a["table"], "programId": self.program,
                             "fiscalYear": YEAR, "amountCents": amount, "reference": ref})
            assert (r.status == 201) == ok, (r, a, amount, left)
            if not ok:
                assert r.status == 409, r
                return
            entry_id = r.json()["id"]
        a["paid"][funder] += amount
        self.payments[entry_id] = [aid, funder, amount, False]
        STATS["payments"] += 1

    @precondition(lambda self: self.last is not None)
    @rule(same_event=st.booleans())
    def send_again(self, same_event):
        STATS["steps"] += 1
        STATS["duplicates"] += 1
        funder, msg, event_id, entry_id = self.last
        reply = SYSTEM.send(funder, msg, event_id if same_event else
                            f"{event_id}-again-{next(SYSTEM.keys)}")
        assert reply.status == E.OK, reply
        entry = FP.LedgerEntry()
        entry.ParseFromString(reply.result)
        assert entry.id == entry_id

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def reverse(self, data):
        STATS["steps"] += 1
        entry_id = data.draw(st.sampled_from(sorted(self.payments)))
        aid, funder, amount, reversed_ = self.payments[entry_id]
        r = SYSTEM.call(SYSTEM.admin, "POST", f"/v1/funding/ledger/{entry_id}/reverse",
                        {"reason": "property test"})
        if reversed_:
            assert r.status == 409, r
            return
        assert r.status == 201, r
        self.payments[entry_id][3] = True
        STATS["reversals"] += 1
        self.allocations[aid]["paid"][funder] -= amount

    @precondition(lambda self: self.restarts < RESTARTS)
    @rule()
    def restart(self):
        STATS["steps"] += 1
        STATS["restarts"] += 1
        SYSTEM.restart()
        self.restarts += 1

    # ------------------------------------------------------ invariants

    @invariant()
    def everything_adds_up(self):
        s = SYSTEM
        seen, cursor = [], None
        while True:
            path = f"/v1/funding/allocations?programId={self.program}&limit=500"
            r = s.call(s.admin, "GET", path + (f"&cursor={cursor}" if cursor else ""))
            assert r.status == 200, r
            page = r.json()
            seen += page.get("allocations", [])
            cursor = page.get("nextCursor")
            if not cursor:
                break
        assert {a["id"] for a in seen} == set(self.allocations), "an allocation lost or made"
        paid_total = 0
        for a in seen:
            model = self.allocations[a["id"]]
            parts = {p["funderId"]: p for p in a["parts"]}
            assert sum(p["amountCents"] for p in a["parts"]) == a["amountCents"]
            assert {f: p["amountCents"] for f, p in parts.items()} == split(a["amountCents"])
            for f, p in parts.items():
                assert 0 <= p["paidCents"] <= p["amountCents"], a
                assert p["paidCents"] == model["paid"][f], (a, model)
            assert a["state"] == model["state"] and a["amountCents"] == model["amount"], (a, model)
            assert a["paidCents"] == sum(p["paidCents"] for p in a["parts"])
            paid_total += a["paidCents"]
        r = s.call(s.admin, "GET", f"/v1/funding/ledger?programId={self.program}&limit=500")
        assert r.status == 200, r
        ledger = r.json()
        entries = ledger.get("entries", [])
        assert ledger["totalCents"] == sum(e["amountCents"] for e in entries) == paid_total
        reversals = sum(1 for p in self.payments.values() if p[3])
        assert ledger["count"] == len(self.payments) + reversals, "a payment lost or doubled"
        r = s.call(s.admin, "GET", f"/v1/funding/programs/{self.program}/years/{YEAR}/summary")
        assert r.status == 200, r
        summary = r.json()
        assert summary["committedCents"] == self.committed() <= self.envelope
        assert summary["remainingCents"] >= 0
        assert summary["paidCents"] == paid_total


Funding.TestCase.settings = settings(
    stateful_step_count=STEPS, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    **PROFILES[PROFILE])
TestFunding = Funding.TestCase

"""The funding daemon through the gateway: a real concerto-registry (Tables
imported over HTTP) and a real concerto-funding subscribed to it, behind
concerto-gateway. Every funding route and its errors, roles (operator
writes, admin overrides and amendments), the race of concurrent approvals
for the last room of an envelope, and a registry suspension reaching the
allocation.
"""
import tempfile
import threading

import pytest

from concerto_harness import Gateway, funding_import, service_env, start_service, wait_until

YEAR = "2027-2028"  # starts after the Tables' recognition, whatever today is
TABLES = ["tq-a", "tq-b", "tq-c", "tq-d", "tq-e", "tq-f", "tq-g", "tq-h"]
SHARES = [{"funderId": "centraide", "shareBp": 4661}, {"funderId": "drsp", "shareBp": 2609},
          {"funderId": "ville", "shareBp": 2730}]


@pytest.fixture(scope="module")
def world():
    with tempfile.TemporaryDirectory() as tmp:
        registry = start_service("registry", tmp)
        funding = start_service("funding", tmp, env=service_env("registry", registry.router,
                                                                  registry.pub))
        gw = Gateway(tmp, services={"registry": registry, "funding": funding},
                     tokens=[("reader", "rita"), ("operator", "otto"), ("admin", "ada")])
        try:
            gw.start().wait_ready()
            admin = gw.http(token=gw.tokens["ada"])
            # Funding learns of the Tables from the registry's events.
            funding_import(admin, TABLES)
            admin.close()
            yield registry, funding, gw
        finally:
            assert gw.stop() == 0, gw.log()
            assert funding.stop() == 0, funding.log()
            assert registry.stop() == 0, registry.log()


@pytest.fixture
def clients(world):
    gw = world[2]
    made = {name: gw.http(token=gw.tokens[name]) for name in ("rita", "otto", "ada")}
    made["anon"] = gw.http()
    yield made
    for c in made.values():
        c.close()


def ok(resp, status=200):
    assert resp.status == status, resp
    return resp.json()


def error(resp, status, code, field=None, text=None):
    assert resp.status == status, resp
    err = resp.json()["error"]
    assert err["code"] == code, err
    if field is not None or text is not None:
        hits = [f for f in err["fields"] if (field is None or f["field"] == field)
                and (text is None or text in f["description"])]
        assert hits or (field is None and text in err["message"]), err
    return err


def program(c, pid, envelope, year=YEAR):
    """Funders, the program `pid` and its year with `envelope` cents."""
    for fid in ("centraide", "drsp", "ville"):
        r = c.request("POST", "/v1/funding/funders", {"id": fid, "name": fid.title()})
        assert r.status in (201, 409), r
    ok(c.request("POST", "/v1/funding/programs", {"id": pid, "name": pid.upper()}), 201)
    return ok(c.request("PUT", f"/v1/funding/programs/{pid}/years/{year}",
                        {"envelopeCents": envelope, "shares": SHARES}))


def override(admin, pid, table):
    return ok(admin.request(
        "POST", f"/v1/funding/programs/{pid}/years/{YEAR}/eligibility/{table}/override",
        {"justification": "Characteristics confirmed by the steering committee."}))


def allocate(op, admin, pid, table, approve=True):
    override(admin, pid, table)
    a = ok(op.request("POST", "/v1/funding/allocations",
                      {"programId": pid, "fiscalYear": YEAR, "tableId": table}), 201)
    if approve:
        a = ok(op.request("POST", f"/v1/funding/allocations/{a['id']}/approve", {}))
    return a


# ------------------------------------------------------------------ tests


def test_funders_and_programs_need_an_operator_to_change(clients):
    op, anon, reader = clients["otto"], clients["anon"], clients["rita"]
    error(anon.request("POST", "/v1/funding/funders", {"id": "x", "name": "X"}), 401,
          "UNAUTHENTICATED")
    error(reader.request("POST", "/v1/funding/funders", {"id": "x", "name": "X"}), 403,
          "PERMISSION_DENIED")
    ok(op.request("POST", "/v1/funding/funders", {"id": "dons", "name": "Dons"}), 201)
    error(op.request("POST", "/v1/funding/funders", {"id": "dons", "name": "Dons"}), 409,
          "CONFLICT", "funder.id")
    error(op.request("POST", "/v1/funding/funders", {"id": "Bad Id", "name": ""}), 400,
          "INVALID_ARGUMENT", "funder.name")
    f = ok(op.request("PATCH", "/v1/funding/funders/dons", {"notes": "private gifts"}))
    assert f["notes"] == "private gifts" and f["name"] == "Dons"
    # Reads are public by default.
    assert ok(anon.get("/v1/funding/funders/dons"))["id"] == "dons"
    error(anon.get("/v1/funding/funders/nobody"), 404, "NOT_FOUND", "id")
    ids = [f["id"] for f in ok(anon.get("/v1/funding/funders"))["funders"]]
    assert "dons" in ids and ids == sorted(ids)
    ok(op.request("POST", "/v1/funding/programs", {"id": "rui", "name": "RUI", "core": False}),
       201)
    p = ok(op.request("PATCH", "/v1/funding/programs/rui", {"name": "Revitalisation"}))
    assert p["name"] == "Revitalisation"
    assert "rui" in [p["id"] for p in ok(anon.get("/v1/funding/programs"))["programs"]]
    assert ok(anon.get("/v1/funding/programs/rui"))["id"] == "rui"


def test_a_program_year_is_set_whole_with_shares_that_make_the_whole(clients):
    op, anon = clients["otto"], clients["anon"]
    y = program(op, "years", 310000000)
    assert y["firstDay"] == "2027-04-01" and y["lastDay"] == "2028-03-31"
    assert y["amountPerTableCents"] == 10000000 and y["remainingCents"] == 310000000
    assert [s["funderId"] for s in y["shares"]] == ["centraide", "drsp", "ville"]
    path = "/v1/funding/programs/years/years/"
    error(op.request("PUT", path + "2028-2029", {"envelopeCents": 5, "shares": SHARES[:2]}), 400,
          "INVALID_ARGUMENT", "shares", "7270")
    error(op.request("PUT", path + "2028-2030", {"envelopeCents": 5, "shares": SHARES}), 400,
          "INVALID_ARGUMENT", "fiscalYear")
    error(op.request("PUT", path + "2028-2029",
                     {"envelopeCents": 5, "shares": SHARES[:2] + [{"funderId": "nobody",
                                                                   "shareBp": 2730}]}),
          404, "NOT_FOUND", "shares[2].funderId")
    error(op.request("PUT", path + "2028-2029", {"shares": SHARES}), 400, "INVALID_ARGUMENT",
          "envelopeCents")
    error(op.request("PUT", path + "2028-2029",
                     {"envelopeCents": "9223372036854775808", "shares": SHARES}), 400,
          "INVALID_ARGUMENT")
    error(op.request("PUT", "/v1/funding/programs/nope/years/2028-2029",
                     {"envelopeCents": 5, "shares": SHARES}), 404, "NOT_FOUND", "programId")
    assert ok(anon.get(path + YEAR))["envelopeCents"] == 310000000
    error(anon.get(path + "2030-2031"), 404, "NOT_FOUND")
    assert [y["fiscalYear"] for y in ok(anon.get("/v1/funding/programs/years/years"))["years"]] \
        == [YEAR]
    error(anon.get("/v1/funding/programs/nope/years"), 404, "NOT_FOUND", "programId")


def test_eligibility_is_decided_from_the_registry_and_overridden_by_an_admin(clients):
    op, admin, reader = clients["otto"], clients["ada"], clients["rita"]
    program(op, "elig", 310000000)
    path = f"/v1/funding/programs/elig/years/{YEAR}/eligibility/tq-a"
    d = ok(op.request("POST", path, {}))
    codes = {c["code"]: c for c in d["criteria"]}
    assert set(codes) == {"recognized", "characteristics", "previous_compliance"}
    assert codes["recognized"]["verdict"] == "MET"
    assert {"name": "since", "value": "2020-01-01"} in codes["recognized"]["facts"]
    assert codes["previous_compliance"]["verdict"] == "NOT_APPLICABLE"
    # The imported Table has no members: the registry's evaluation leaves
    # its characteristics unmet, and funding takes it as it is.
    assert codes["characteristics"]["verdict"] == "NOT_MET"
    assert d["eligible"] is False and d["revision"] == 1
    assert ok(reader.get(path)) == d
    error(op.request("POST", "/v1/funding/allocations",
                     {"programId": "elig", "fiscalYear": YEAR, "tableId": "tq-a"}), 409,
          "FAILED_PRECONDITION", "tableId", "not eligible")
    body = {"justification": "Confirmed on site by the steering committee."}
    error(op.request("POST", path + "/override", body), 403, "PERMISSION_DENIED")
    error(admin.request("POST", path + "/override", {}), 400, "INVALID_ARGUMENT",
          "justification")
    d = ok(admin.request("POST", path + "/override", body))
    assert d["eligible"] is True and d["overridden"] is True and d["overriddenBy"] == "ada"
    assert d["revision"] == 2 and any("overridden" in c for c in d["changes"])
    listed = ok(reader.get(f"/v1/funding/eligibility?programId=elig&tableId=tq-a"))
    assert [x["revision"] for x in listed["decisions"]] == [2]
    assert ok(reader.get("/v1/funding/eligibility?programId=elig&eligible=false")).get(
        "decisions", []) == []
    error(op.request("POST", f"/v1/funding/programs/elig/years/{YEAR}/eligibility/nobody", {}),
          404, "NOT_FOUND", "tableId")
    error(reader.get(f"/v1/funding/programs/elig/years/{YEAR}/eligibility/tq-b"), 404,
          "NOT_FOUND")


def test_an_allocation_moves_through_its_states_with_the_right_roles(clients):
    op, admin, reader = clients["otto"], clients["ada"], clients["rita"]
    program(op, "states", 310000000)
    a = allocate(op, admin, "states", "tq-b", approve=False)
    assert a["state"] == "PROPOSED" and a["amountCents"] == 10000000
    assert [p["amountCents"] for p in a["parts"]] == [4661000, 2609000, 2730000]
    assert a["mandataireId"] == "org-tq-b"
    base = f"/v1/funding/allocations/{a['id']}"
    error(op.request("POST", "/v1/funding/allocations",
                     {"programId": "states", "fiscalYear": YEAR, "tableId": "tq-b"}), 409,
          "CONFLICT", "tableId")
    error(op.request("POST", base + "/suspend", {"reason": "x"}), 409, "FAILED_PRECONDITION",
          "id", "PROPOSED")
    assert ok(op.request("POST", base + "/approve", {}))["state"] == "APPROVED"
    error(op.request("POST", base + "/suspend", {}), 400, "INVALID_ARGUMENT", "reason")
    s = ok(op.request("POST", base + "/suspend", {"reason": "report late"}))
    assert s["state"] == "SUSPENDED" and s["suspendedByRegistry"] is False
    assert ok(op.request("POST", base + "/resume", {"reason": "report in"}))["state"] == "APPROVED"
    error(op.request("POST", base + "/amend", {"amountCents": 5, "reason": "x"}), 403,
          "PERMISSION_DENIED")
    m = ok(admin.request("POST", base + "/amend", {"amountCents": 10000001,
                                                   "reason": "indexation"}))
    assert m["amountCents"] == 10000001 and sum(p["amountCents"] for p in m["parts"]) == 10000001
    error(admin.request("POST", base + "/amend", {"amountCents": 0, "reason": "x"}), 400,
          "INVALID_ARGUMENT", "amountCents")
    y = ok(reader.get(f"/v1/funding/programs/states/years/{YEAR}"))
    assert y["committedCents"] == 10000001 and y["remainingCents"] == 310000000 - 10000001
    assert ok(op.request("POST", base + "/close", {"reason": "ended"}))["state"] == "CLOSED"
    error(op.request("POST", base + "/resume", {"reason": "x"}), 409, "FAILED_PRECONDITION")
    assert ok(reader.get(f"/v1/funding/programs/states/years/{YEAR}"))["committedCents"] == 0
    assert ok(reader.get(base))["state"] == "CLOSED"
    error(reader.get("/v1/funding/allocations/999999"), 404, "NOT_FOUND", "id")
    error(reader.get("/v1/funding/allocations/abc"), 400, "INVALID_ARGUMENT")
    error(reader.request("POST", base + "/approve", {}), 403, "PERMISSION_DENIED")


def test_lists_filter_and_page(clients):
    op, admin, reader = clients["otto"], clients["ada"], clients["rita"]
    program(op, "lists", 310000000)
    for t in ("tq-c", "tq-d", "tq-e"):
        allocate(op, admin, "lists", t, approve=t != "tq-e")
    page = ok(reader.get("/v1/funding/allocations?programId=lists&limit=2"))
    assert [a["tableId"] for a in page["allocations"]] == ["tq-c", "tq-d"]
    rest = ok(reader.get(f"/v1/funding/allocations?programId=lists&limit=2"
                         f"&cursor={page['nextCursor']}"))
    assert [a["tableId"] for a in rest["allocations"]] == ["tq-e"] and "nextCursor" not in rest
    error(reader.get(f"/v1/funding/allocations?programId=lists&state=APPROVED"
                     f"&cursor={page['nextCursor']}"), 400, "INVALID_ARGUMENT", "cursor")
    approved = ok(reader.get("/v1/funding/allocations?programId=lists&state=APPROVED"))
    assert [a["tableId"] for a in approved["allocations"]] == ["tq-c", "tq-d"]
    error(reader.get("/v1/funding/allocations?state=OPEN"), 400, "INVALID_ARGUMENT", "state")
    error(reader.get("/v1/funding/allocations?fiscalYear=2027"), 400, "INVALID_ARGUMENT",
          "fiscalYear")
    error(reader.get("/v1/funding/allocations?limit=501"), 400, "INVALID_ARGUMENT", "limit")


def test_concurrent_approvals_for_the_last_room_let_exactly_one_win(world, clients):
    gw = world[2]
    op, admin = clients["otto"], clients["ada"]
    program(op, "race", 30000000)
    allocate(op, admin, "race", "tq-a")
    allocate(op, admin, "race", "tq-b")
    ids = [allocate(op, admin, "race", t, approve=False)["id"]
           for t in ("tq-c", "tq-d", "tq-e", "tq-f", "tq-g", "tq-h")]
    answers, start = {}, threading.Barrier(len(ids))

    def approve(aid):
        c = gw.http(token=gw.tokens["otto"])
        try:
            start.wait()
            answers[aid] = c.request("POST", f"/v1/funding/allocations/{aid}/approve", {})
        finally:
            c.close()

    threads = [threading.Thread(target=approve, args=(aid,)) for aid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [a for a, r in answers.items() if r.status == 200]
    assert len(won) == 1, answers
    for aid, r in answers.items():
        if aid not in won:
            error(r, 409, "FAILED_PRECONDITION", "id", "has 0.00 left (of 300,000.00)")
    y = ok(op.get(f"/v1/funding/programs/race/years/{YEAR}"))
    assert y["committedCents"] == 30000000 and y["remainingCents"] == 0


def test_a_registry_suspension_reaches_the_allocation(clients):
    op, admin, reader = clients["otto"], clients["ada"], clients["rita"]
    program(op, "susp", 310000000)
    a = allocate(op, admin, "susp", "tq-h")
    base = f"/v1/funding/allocations/{a['id']}"
    ok(op.request("POST", "/v1/tables/tq-h/recognition",
                  {"status": "suspended", "reason": "governance review"}))
    got = wait_until(lambda: (lambda x: x if x["state"] == "SUSPENDED" else None)(
        ok(reader.get(base))), 10, what="the suspension to reach funding")
    assert got["suspendedByRegistry"] is True
    assert "the registry suspended the Table" in got["stateReason"]
    # Only an operator lifts it, once the registry recognizes the Table.
    error(op.request("POST", base + "/resume", {"reason": "x"}), 409, "FAILED_PRECONDITION",
          "id", "the registry has Table tq-h suspended")
    # The imported Table has no members: recognizing it again takes an
    # admin's justification in the registry.
    ok(admin.request("POST", "/v1/tables/tq-h/recognition",
                     {"status": "recognized", "reason": "review done",
                      "justification": "Members are being recruited."}))
    wait_until(lambda: ok(reader.get("/v1/tables/tq-h/funding"))["recognitionStatus"]
               == "recognized", 10, what="the recognition to reach funding")
    assert ok(reader.get(base))["state"] == "SUSPENDED"
    assert ok(op.request("POST", base + "/resume", {"reason": "review done"}))["state"] == \
        "APPROVED"


def test_the_tables_funding_and_the_fan_out(world, clients):
    reader = clients["rita"]
    tf = ok(reader.get("/v1/tables/tq-a/funding"))
    assert tf["known"] is True and tf["boroughId"] == "ouest"
    assert tf["mandataireId"] == "org-tq-a" and tf["registry"]["source"] == "registry"
    assert {a["programId"] for a in tf["allocations"]} >= {"race"}
    assert ok(reader.get("/v1/tables/tq-b/funding"))["boroughId"] == "sud-ouest"
    only = ok(reader.get(f"/v1/tables/tq-a/funding?fiscalYear=2020-2021"))
    assert only.get("allocations", []) == [] and only["fiscalYear"] == "2020-2021"
    unknown = ok(reader.get("/v1/tables/tq-zzz/funding"))
    assert unknown["known"] is False
    status = ok(reader.get("/v1/tables/tq-a/status"))
    assert status["services"]["funding"]["status"] == "ok", status
    assert status["services"]["funding"]["resultType"] == "concerto.funding.v1.TableFunding"


def test_funding_backup_is_admin_only(clients):
    op, admin = clients["otto"], clients["ada"]
    error(op.request("POST", "/v1/admin/funding/backup", {"path": "f.db"}), 403,
          "PERMISSION_DENIED")
    assert ok(admin.request("POST", "/v1/admin/funding/backup", {"path": "f.db"}))["path"]

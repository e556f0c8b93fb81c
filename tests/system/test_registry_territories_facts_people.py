"""Coverage, dated facts, several sectors, the people of a Table and the
lookups staff ask for, through the gateway in front of a real
concerto-registry loaded with the demo data (issue "Registry: one Table
per territory, facts with dates, several sectors, the people of a Table,
and the lookups staff ask for"). Lists of sectors and networks that a
deployment changes are tested with registries of their own.
"""
import json
import os
import re
import shutil

from concerto_harness import admin, gw, op, public, reader, registry, tmp  # noqa: F401
from concerto_harness import DEMO_DATA, SOURCE, history, of_type, ready_gateway, start_service
from concerto_harness import http_error as error
from concerto_harness import http_ok as ok

VOCABULARY = os.path.join(SOURCE, "services/registry/vocabulary")


def org(op, oid, network="community", **kw):
    ok(op.request("POST", "/v1/organizations",
                  {"id": oid, "name": f"Organisme {oid}", "network": network, **kw}), 201)


def to_review(op, tid):
    ok(op.request("POST", f"/v1/tables/{tid}/recognition",
                  {"status": "under_review", "reason": "dossier reçu"}))


def recognize(c, tid, justified=True, **extra):
    body = {"status": "recognized", "reason": "comité", **extra}
    if justified:
        body["justification"] = "Table en démarrage"
    return c.request("POST", f"/v1/tables/{tid}/recognition", body)


# --------------------------------------------------------------- coverage


def test_a_territory_has_at_most_one_recognized_table(op, admin):
    org(op, "cov-m", sector="community")
    t = ok(op.request("POST", "/v1/tables", {"id": "cov-nord", "name": "Autre table du Nord",
                                             "territoryId": "montreal-nord",
                                             "mandataireId": "cov-m"}), 201)
    # A new group may register and apply: it is told who covers its place.
    assert [(c["tableId"], c["status"], c["relation"]) for c in t["coverage"]] == [
        ("tqmn", "recognized", "same")]
    to_review(op, "cov-nord")
    # Recognizing it is refused, naming the other Table, even with an
    # admin's overlap justification: that is never waivable.
    err = error(recognize(admin, "cov-nord", overlapJustification="deux tables"),
                409, "CONFLICT", "status", "Table tqmn is recognized on territory montreal-nord")
    assert "tqmn" in err["message"]


def test_overlapping_coverage_needs_an_admins_justification(op, admin, public):
    ok(op.request("POST", "/v1/territories", {"id": "cov-nord-est", "name": "Nord-Est",
                                              "kind": "neighbourhood",
                                              "parentId": "montreal-nord"}), 201)
    org(op, "cov-ne-m", sector="community")
    ok(op.request("POST", "/v1/tables", {"id": "cov-ne", "name": "Table Nord-Est",
                                         "territoryId": "cov-nord-est",
                                         "mandataireId": "cov-ne-m"}), 201)
    to_review(op, "cov-ne")
    error(recognize(admin, "cov-ne"), 409, "CONFLICT", "status", "Table tqmn")
    error(recognize(op, "cov-ne", justified=False, overlapJustification="x"),
          403, "PERMISSION_DENIED", "overlapJustification", "admin")
    t = ok(recognize(admin, "cov-ne",
                     overlapJustification="table de secteur reconnue dans l'arrondissement"))
    assert t["recognition"]["status"] == "recognized"
    assert t["overlapJustification"].startswith("table de secteur")
    # The Table names the recognized Tables it overlaps; the lookup adds
    # the candidates.
    assert [(c["tableId"], c["relation"]) for c in t["coverage"]] == [("tqmn", "contains")]
    # Which Tables cover a place: the borough, the neighbourhood.
    cov = ok(public.get("/v1/territories/montreal-nord/coverage"))["tables"]
    assert [(c["tableId"], c["relation"]) for c in cov] == [
        ("cov-ne", "within"), ("tqmn", "same"), ("cov-nord", "same")]
    error(op.request("PATCH", "/v1/tables/cov-ne", {"overlapJustification": "autre"}),
          403, "PERMISSION_DENIED", "table.overlapJustification", "admin")


def test_a_recognized_table_moves_only_to_a_free_territory(op, admin):
    ok(op.request("POST", "/v1/territories", {"id": "cov-free", "name": "Libre",
                                              "kind": "borough"}), 201)
    org(op, "cov-mv-m", sector="community")
    ok(op.request("POST", "/v1/tables", {"id": "cov-mv", "name": "Table mobile",
                                         "territoryId": "cov-free", "mandataireId": "cov-mv-m"}),
       201)
    to_review(op, "cov-mv")
    ok(recognize(admin, "cov-mv"))
    error(op.request("PATCH", "/v1/tables/cov-mv", {"territoryId": "lasalle"}),
          409, "CONFLICT", "table.territoryId", "Table tdsl")
    ok(op.request("POST", "/v1/territories", {"id": "cov-free-2", "name": "Libre 2",
                                              "kind": "borough"}), 201)
    t = ok(op.request("PATCH", "/v1/tables/cov-mv", {"territoryId": "cov-free-2"}))
    assert t["territoryId"] == "cov-free-2" and t["location"]["boroughId"] == "cov-free-2"


def test_which_tables_cover_a_place(public):
    # A municipality of the West Island: the sector-wide Table.
    cov = ok(public.get("/v1/territories/pointe-claire/coverage"))
    assert cov["territoryId"] == "pointe-claire"
    assert [(c["tableId"], c["status"], c["relation"]) for c in cov["tables"]] == [
        ("tqsoi", "under_review", "contains")]
    # A borough: the neighbourhood Tables inside it, recognized first.
    cov = ok(public.get("/v1/territories/ville-marie/coverage"))["tables"]
    assert {c["tableId"] for c in cov} == {"peter-mcgill", "tds-centre-sud"}
    assert all(c["relation"] == "within" and c["status"] == "recognized" for c in cov)
    error(public.get("/v1/territories/ghost/coverage"), 404, "NOT_FOUND", "territoryId")


def test_the_readme_example_registers_a_table_where_none_covers(op):
    """The README's POST /v1/territories and POST /v1/tables, as written."""
    with open(os.path.join(SOURCE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    bodies = re.findall(r"-d '(\{[^']*\})' \\\n\s+http://127.0.0.1:8080(/v1/\w+)", readme)
    assert [path for _, path in bodies] == ["/v1/territories", "/v1/tables"]
    ok(op.request("POST", "/v1/territories", json.loads(bodies[0][0])), 201)
    t = ok(op.request("POST", "/v1/tables", json.loads(bodies[1][0])), 201)
    assert "coverage" not in t or t["coverage"] == []


# ------------------------------------------------------------ dated facts


def characteristics(c, table, on):
    got = ok(c.get(f"/v1/tables/{table}/characteristics?asOf={on}"))
    return {x["code"]: x for x in got["characteristics"]}


def test_facts_are_dated_and_past_evaluations_keep_theirs(op, public):
    ok(op.request("POST", "/v1/territories", {"id": "fd-t", "name": "Faits", "kind": "borough"}),
       201)
    org(op, "fd-m", sector="community")
    ok(op.request("POST", "/v1/tables", {"id": "fd", "name": "Table des faits",
                                         "territoryId": "fd-t", "mandataireId": "fd-m"}), 201)
    org(op, "fd-a", sector="housing", network="community")
    org(op, "fd-b", sector="health_social_services", network="public_institution")
    org(op, "fd-c", sectors=["education", "youth"], network="municipal")
    for o in ("fd-a", "fd-b", "fd-c"):
        ok(op.request("POST", "/v1/tables/fd/members",
                      {"organizationId": o, "joinedOn": "2023-01-01"}), 201)
    # Several sectors: four distinct sectors from three organizations.
    inter = characteristics(public, "fd", "2024-06-30")["intersectoral"]
    assert inter["met"] is True
    assert {f["name"]: f["value"] for f in inter["facts"]}["distinct_sectors"] == "4"
    # A change made today holds from today: 2024 keeps its answer.
    org_now = ok(op.request("PATCH", "/v1/organizations/fd-c", {"sector": "housing"}))
    assert org_now["sectors"] == ["housing"]
    assert characteristics(public, "fd", "2024-06-30")["intersectoral"]["met"] is True
    # Recorded with a past date, it changes the past from that date, and
    # funding hears of it with that date.
    f = ok(op.request("POST", "/v1/organizations/fd-c/facts",
                      {"effectiveOn": "2024-01-01", "sectors": ["housing"]}), 201)
    assert f["sectors"] == ["housing"] and f["network"] == "municipal"
    assert characteristics(public, "fd", "2023-06-30")["intersectoral"]["met"] is True
    assert characteristics(public, "fd", "2024-06-30")["intersectoral"]["met"] is False
    changed = of_type(history(public, "fd"), "CharacteristicsChanged")[-1]
    assert changed["cause"] == "fact_recorded" and changed["effectiveOn"] == "2024-01-01"
    versions = ok(public.get("/v1/organizations/fd-c/facts"))["facts"]
    assert [v["sectors"] for v in versions] == [["education", "youth"], ["housing"], ["housing"]]
    assert versions[-1]["effectiveOn"] == "2024-01-01"
    error(op.request("POST", "/v1/organizations/fd-c/facts",
                     {"effectiveOn": "2199-01-01", "network": "private"}),
          400, "INVALID_ARGUMENT", "effectiveOn", "future")
    error(op.request("POST", "/v1/organizations/fd-c/facts", {"sectors": ["sports"]}),
          400, "INVALID_ARGUMENT", "sector", "must be one of")
    # Governance facts too.
    g = ok(op.request("POST", "/v1/tables/fd/governance",
                      {"effectiveOn": "2022-01-01",
                       "governance": {"incorporated": True, "boardSeats": 5,
                                      "meetingsPerYear": 6}}), 201)
    assert g["governance"]["meetingsPerYear"] == 6
    ok(op.request("PATCH", "/v1/tables/fd", {"governance": {"meetingsPerYear": 1}}))
    assert characteristics(public, "fd", "2024-06-30")["structured_permanent"]["met"] is True
    assert characteristics(public, "fd", ok(public.get("/v1/tables/fd"))["recognition"][
        "recordedOn"])["structured_permanent"]["met"] is False
    assert len(ok(public.get("/v1/tables/fd/governance"))["facts"]) == 3


# ----------------------------------------------------- sectors and networks


def test_the_lists_are_data_a_deployment_changes(tmp):
    """A registry with its own lists accepts their codes, refuses others,
    and refuses to start when a list drops a code in use."""
    vocab = os.path.join(tmp, "vocab")
    shutil.copytree(VOCABULARY, vocab)
    with open(os.path.join(vocab, "sectors.csv"), "a", encoding="utf-8") as f:
        f.write("sports,field,Sports,Sports\n")
    data = os.path.join(tmp, "own-lists")
    os.makedirs(data)
    d = start_service("registry", data, env={"CONCERTO_REGISTRY_VOCABULARY": vocab})
    try:
        with ready_gateway(data, services={"registry": d},
                           tokens=[("operator", "otto")]) as g:
            op = g.http(token=g.tokens["otto"])
            org(op, "sportif", sector="sports")
            error(op.request("POST", "/v1/organizations",
                             {"id": "x", "name": "X", "sector": "curling",
                              "network": "community"}), 400, "INVALID_ARGUMENT",
                  "organization.sector", "sports")
            op.close()
    finally:
        assert d.stop() == 0, d.log()
    shutil.copy(os.path.join(VOCABULARY, "sectors.csv"), os.path.join(vocab, "sectors.csv"))
    d.start()
    d.proc.wait(timeout=20)
    assert d.proc.returncode == 1
    assert "sector sports is used by organizations but not in the list" in d.log()


def test_observers_count_toward_multi_network_when_the_setting_says_so(tmp):
    data = os.path.join(tmp, "observers")
    os.makedirs(data)
    d = start_service("registry", data, env={"CONCERTO_REGISTRY_OBSERVERS_IN_NETWORKS": "1",
                                             "CONCERTO_REGISTRY_DEMO_DATA": DEMO_DATA})
    try:
        d.wait_log("demo data imported")
        with ready_gateway(data, services={"registry": d}, tokens=[("operator", "otto")]) as g:
            op = g.http(token=g.tokens["otto"])
            before = characteristics(op, "tqmn", "2026-01-01")["multi_network"]
            org(op, "obs-elus", sector="municipal", network="elected_officials")
            ok(op.request("POST", "/v1/tables/tqmn/members",
                          {"organizationId": "obs-elus", "role": "observer",
                           "joinedOn": "2025-01-01"}), 201)
            after = characteristics(op, "tqmn", "2026-01-01")["multi_network"]
            count = {f["name"]: int(f["value"]) for f in after["facts"]
                     if f["name"] == "distinct_networks"}
            assert count["distinct_networks"] == 1 + int(
                {f["name"]: f["value"] for f in before["facts"]}["distinct_networks"])
            op.close()
    finally:
        assert d.stop() == 0, d.log()


def test_openapi_shows_the_shipped_lists_as_examples(public):
    doc = ok(public.get("/v1/openapi.json"))
    sector = doc["components"]["schemas"]["concerto.registry.v1.Organization"]["properties"][
        "sector"]
    assert "enum" not in sector and sector["example"] == "community"
    assert "health_social_services" in sector["description"]


# ----------------------------------------------------------------- people


def test_the_people_of_a_table_and_who_sees_their_contacts(op, reader, public):
    p = ok(op.request("POST", "/v1/tables/tqmn/people", {"person": {
        "name": "Marie Tremblay", "role": "coordinator", "email": "coordination@tqmn.example",
        "phone": "514-555-0142", "since": "2022-09-01"}}), 201)
    assert p["email"] == "coordination@tqmn.example"
    ok(op.request("POST", "/v1/tables/tqmn/people", {"person": {
        "name": "Jean Roy", "role": "president", "title": "président du CA",
        "email": "president@tqmn.example"}}), 201)
    error(op.request("POST", "/v1/tables/tqmn/people", {"person": {"name": "X", "role": "boss"}}),
          400, "INVALID_ARGUMENT", "person.role")
    error(op.request("POST", "/v1/tables/tqmn/people", {"person": {
        "name": "X", "role": "other", "email": "pas-un-courriel"}}),
          400, "INVALID_ARGUMENT", "person.email")
    with_token = ok(reader.get("/v1/tables/tqmn/people"))["people"]
    assert [x["email"] for x in with_token] == ["coordination@tqmn.example",
                                               "president@tqmn.example"]
    for anonymous in (ok(public.get("/v1/tables/tqmn/people"))["people"],
                      ok(public.get("/v1/tables/tqmn"))["people"],
                      [e["personAdded"]["person"] for e in history(public, "tqmn")
                       if "personAdded" in e]):
        assert [x["name"] for x in anonymous] == ["Marie Tremblay", "Jean Roy"]
        assert all("email" not in x and "phone" not in x for x in anonymous)
    assert ok(reader.get("/v1/tables/tqmn"))["people"][0]["phone"] == "514-555-0142"
    # Changes and departures are kept as history.
    u = ok(op.request("PATCH", f"/v1/tables/tqmn/people/{p['id']}",
                      {"phone": "514-555-0199"}))
    assert u["phone"] == "514-555-0199" and u["name"] == "Marie Tremblay"
    ended = ok(op.request("DELETE", f"/v1/tables/tqmn/people/{p['id']}?until=2026-01-01"))
    assert ended["until"] == "2026-01-01"
    error(op.request("DELETE", f"/v1/tables/tqmn/people/{p['id']}"),
          409, "FAILED_PRECONDITION", "personId", "no longer a contact")
    current = ok(public.get("/v1/tables/tqmn"))["people"]
    assert [x["name"] for x in current] == ["Jean Roy"]
    then = ok(public.get("/v1/tables/tqmn/people?activeOn=2025-06-01"))["people"]
    assert [x["name"] for x in then] == ["Marie Tremblay"]
    entries = history(reader, "tqmn")
    assert of_type(entries, "PersonUpdated")[-1]["changedFields"] == ["phone"]
    assert of_type(entries, "PersonEnded")[-1]["person"]["until"] == "2026-01-01"
    error(op.request("PATCH", "/v1/tables/tqmn/people/999999", {"name": "Y"}),
          404, "NOT_FOUND", "personId")


# ------------------------------------------------------------- lookups


def test_the_tables_an_organization_sits_on_and_those_it_holds_the_mandate_of(op, public):
    org(op, "lk-org", sector="housing")
    ok(op.request("POST", "/v1/tables/tqmn/members",
                  {"organizationId": "lk-org", "joinedOn": "2020-01-01"}), 201)
    ok(op.request("POST", "/v1/tables/vsms/members",
                  {"organizationId": "lk-org", "role": "board", "joinedOn": "2021-01-01"}), 201)
    ok(op.request("DELETE", "/v1/tables/tqmn/members/lk-org?leftOn=2024-01-01"))
    now = ok(public.get("/v1/organizations/lk-org/tables"))
    assert [(s["tableId"], s["role"]) for s in now["seats"]] == [("vsms", "board")]
    then = ok(public.get("/v1/organizations/lk-org/tables?activeOn=2022-06-01"))
    assert [s["tableId"] for s in then["seats"]] == ["tqmn", "vsms"]
    assert then["seats"][0]["tableName"].startswith("Table de quartier de Montréal-Nord")
    mandates = ok(public.get("/v1/organizations/cdc-centre-sud/tables"))["mandates"]
    assert [(m["tableId"], m["status"]) for m in mandates] == [("tds-centre-sud", "recognized")]
    error(public.get("/v1/organizations/ghost/tables"), 404, "NOT_FOUND", "organizationId")

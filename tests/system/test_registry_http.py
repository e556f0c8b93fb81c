"""The registry's HTTP API: concerto-gateway (with its compiled-in routes)
in front of a real concerto-registry loaded with the demo data. Every
route, its errors, idempotent retries with Idempotency-Key, imports that
write all or nothing, and a restart of the registry behind the gateway.
"""
import os

from concerto_harness import admin, gw, op, reader, registry, tmp  # noqa: F401
from concerto_harness import http_error as error
from concerto_harness import http_ok as ok
from concerto_harness import wait_until


# ------------------------------------------------------------------ reads


def test_list_tables_pages_through_the_demo_data(reader):
    seen, cursor = [], None
    while True:
        path = "/v1/tables?limit=5" + (f"&cursor={cursor}" if cursor else "")
        page = ok(reader.get(path))
        seen += [t["id"] for t in page["tables"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert len(seen) >= 22 and len(seen) == len(set(seen)) and seen == sorted(seen)
    error(reader.get("/v1/tables?limit=501"), 400, "INVALID_ARGUMENT", "limit")
    error(reader.get("/v1/tables?cursor=zz"), 400, "INVALID_ARGUMENT", "cursor")


def test_list_tables_filters_by_borough_status_sector_and_search(reader):
    sud_ouest = ok(reader.get("/v1/tables?borough=le-sud-ouest"))["tables"]
    assert {t["id"] for t in sud_ouest} == {
        "concertation-ville-emard-cote-st-paul", "coalition-petite-bourgogne", "action-gardien"}
    review = ok(reader.get("/v1/tables?status=under_review"))["tables"]
    assert len(review) == 5 and all(t["uncertain"] for t in review)
    housing = ok(reader.get("/v1/tables?sector=housing&limit=500"))["tables"]
    assert "tqmn" in {t["id"] for t in housing}
    found = ok(reader.get("/v1/tables?search=cote%20des%20neiges"))["tables"]
    assert [t["id"] for t in found] == ["ndg-community-council"]
    found = ok(reader.get("/v1/tables?search=MONTR%C3%89AL-NORD"))["tables"]
    assert [t["id"] for t in found] == ["tqmn"]
    error(reader.get("/v1/tables?status=approved"), 400, "INVALID_ARGUMENT", "status")
    error(reader.get("/v1/tables?sector=healthcare"), 400, "INVALID_ARGUMENT", "sector")


def test_get_a_table_territory_and_organization(reader):
    t = ok(reader.get("/v1/tables/tds-centre-sud"))
    assert t["mandataireId"] == "cdc-centre-sud"
    assert t["recognition"]["status"] == "recognized"
    assert t["sourceUrl"].startswith("https://cdccentresud.org")
    terr = ok(reader.get(f"/v1/territories/{t['territoryId']}"))
    assert terr["kind"] == "neighbourhood" and terr["parentId"] == "ville-marie"
    assert "Sherbrooke" in terr["boundary"]
    org = ok(reader.get("/v1/organizations/cdc-centre-sud"))
    assert org["sector"] == "community"
    error(reader.get("/v1/tables/ghost"), 404, "NOT_FOUND", "id")
    error(reader.get("/v1/territories/ghost"), 404, "NOT_FOUND", "id")
    error(reader.get("/v1/organizations/Not_A_Slug"), 400, "INVALID_ARGUMENT", "id")
    boroughs = ok(reader.get("/v1/territories?kind=borough&limit=500"))["territories"]
    assert len(boroughs) == 12
    demo = ok(reader.get("/v1/organizations?search=demo%20comite%20logement&limit=500"))
    assert demo["organizations"] and all("fictif" in o["name"]
                                         for o in demo["organizations"])


def test_members_characteristics_attestations_and_history(reader):
    members = ok(reader.get("/v1/tables/tqmn/members"))["memberships"]
    assert members and all(m["organization"]["name"] for m in members)
    chars = ok(reader.get("/v1/tables/tqmn/characteristics?asOf=2025-06-30"))
    assert chars["asOf"] == "2025-06-30" and chars["minSectors"] == 3
    codes = {c["code"]: c for c in chars["characteristics"]}
    assert codes["intersectoral"]["met"] is True
    assert codes["structured_permanent"]["met"] is False  # governance unknown in the sources
    error(reader.get("/v1/tables/tqmn/characteristics?asOf=2025-02-30"), 400,
          "INVALID_ARGUMENT", "asOf")
    error(reader.get("/v1/tables/ghost/characteristics"), 404, "NOT_FOUND", "tableId")
    assert ok(reader.get("/v1/tables/vsms/attestations")) == {"attestations": [], "total": 0}
    history = ok(reader.get("/v1/tables/tqmn/history?limit=1"))
    first = history["entries"][0]
    assert first["type"] == "concerto.registry.v1.TableRegistered"
    assert first["actor"] == "system:demo-data"
    assert first["tableRegistered"]["table"]["id"] == "tqmn"
    more = ok(reader.get(f"/v1/tables/tqmn/history?afterSequence={history['nextAfterSequence']}"))
    assert more["entries"][0]["sequence"] > first["sequence"]


# ----------------------------------------------------------------- writes


def test_writes_need_an_operator(gw, reader):
    anon = gw.http()
    try:
        error(anon.request("POST", "/v1/territories", {"id": "x1", "name": "X", "kind": "sector"}),
              401, "UNAUTHENTICATED")
    finally:
        anon.close()
    error(reader.request("POST", "/v1/tables/tqmn/recognition",
                         {"status": "suspended", "reason": "x"}), 403, "PERMISSION_DENIED")


def test_register_and_update_territory_organization_and_table(op):
    ok(op.request("POST", "/v1/territories",
                  {"id": "http-borough", "name": "Arrondissement HTTP", "kind": "borough"}), 201)
    error(op.request("POST", "/v1/territories",
                     {"id": "http-borough", "name": "Encore", "kind": "borough"}),
          409, "CONFLICT", "territory.id")
    error(op.request("POST", "/v1/territories",
                     {"id": "http-hood", "name": "Quartier", "kind": "neighbourhood",
                      "parentId": "ghost"}), 404, "NOT_FOUND", "territory.parentId")
    error(op.request("POST", "/v1/territories", {"id": "h", "name": "", "kind": "town"}),
          400, "INVALID_ARGUMENT", "territory.kind")
    ok(op.request("POST", "/v1/territories",
                  {"id": "http-hood", "name": "Quartier HTTP", "kind": "neighbourhood",
                   "parentId": "http-borough", "population": 12000}), 201)
    terr = ok(op.request("PATCH", "/v1/territories/http-hood", {"population": 12500}))
    assert terr["population"] == 12500 and terr["name"] == "Quartier HTTP"

    org = ok(op.request("POST", "/v1/organizations",
                        {"id": "http-org", "name": "Organisme HTTP", "sector": "community",
                         "network": "community", "neq": "1170000004"}), 201)
    assert org["neq"] == "1170000004"
    error(op.request("POST", "/v1/organizations",
                     {"id": "http-org-2", "name": "Doublon", "sector": "community",
                      "network": "community", "neq": "1170000004"}),
          409, "CONFLICT", "organization.neq")
    error(op.request("PATCH", "/v1/organizations/http-org", {"neq": "117"}),
          400, "INVALID_ARGUMENT", "organization.neq")
    org = ok(op.request("PATCH", "/v1/organizations/http-org", {"website": "https://ex.org"}))
    assert org["website"] == "https://ex.org" and org["neq"] == "1170000004"

    table = ok(op.request("POST", "/v1/tables", {
        "id": "http-table", "name": "Table HTTP", "territoryId": "http-hood",
        "mandataireId": "http-org", "foundingYear": 2001, "languages": ["fr"],
        "contact": {"email": "info@table-http.org", "phone": "514 555-0101 poste 3"},
        "governance": {"incorporated": True, "boardSeats": 7, "meetingsPerYear": 6}}), 201)
    assert table["recognition"]["status"] == "requested"
    assert table["recognition"]["changedBy"] == "otto"
    error(op.request("POST", "/v1/tables", {"id": "http-t2", "name": "T", "territoryId": "ghost"}),
          404, "NOT_FOUND", "table.territoryId")
    error(op.request("POST", "/v1/tables", {"id": "http-t2", "name": "T",
                                            "territoryId": "http-hood",
                                            "recognition": {"status": "recognized"}}),
          400, "INVALID_ARGUMENT", "table.recognition")
    for field, value in (("location", {"boroughId": "x"}),
                         ("scheduledRecognition", {"status": "withdrawn"}),
                         ("disputes", [{"grounds": "x"}])):
        error(op.request("PATCH", "/v1/tables/http-table", {field: value}),
              400, "INVALID_ARGUMENT", "table." + field, "read-only")
    table = ok(op.request("PATCH", "/v1/tables/http-table", {"contact": {"phone": "438-555-0199"}}))
    assert table["contact"] == {"email": "info@table-http.org", "phone": "438-555-0199"}
    assert table["foundingYear"] == 2001
    error(op.request("PATCH", "/v1/tables/http-table", {"contact": {"email": "x@"}}),
          400, "INVALID_ARGUMENT", "table.contact.email")
    error(op.request("PATCH", "/v1/tables/ghost", {"name": "G"}), 404, "NOT_FOUND", "id")


def test_recognition_memberships_and_attestations(op, reader, admin):
    ok(op.request("POST", "/v1/territories",
                  {"id": "rec-borough", "name": "Arrondissement R", "kind": "borough"}), 201)
    ok(op.request("POST", "/v1/organizations",
                  {"id": "rec-org", "name": "Mandataire R", "sector": "community",
                   "network": "community"}), 201)
    ok(op.request("POST", "/v1/tables", {"id": "rec-table", "name": "Table R",
                                         "territoryId": "rec-borough"}), 201)
    err = error(op.request("POST", "/v1/tables/rec-table/recognition",
                           {"status": "recognized", "reason": "x"}),
                409, "FAILED_PRECONDITION", "status")
    assert "requested" in err["message"]
    ok(op.request("POST", "/v1/tables/rec-table/recognition",
                  {"status": "under_review", "reason": "dossier reçu"}))
    error(op.request("POST", "/v1/tables/rec-table/recognition",
                     {"status": "recognized", "reason": "ok"}),
          409, "FAILED_PRECONDITION", "status", "mandataire")
    ok(op.request("PATCH", "/v1/tables/rec-table", {"mandataireId": "rec-org"}))
    # Nothing of the four characteristics is met: recognizing needs an
    # admin's justification, which an operator may not give.
    error(op.request("POST", "/v1/tables/rec-table/recognition",
                     {"status": "recognized", "reason": "comité de pilotage"}),
          409, "FAILED_PRECONDITION", "justification", "intersectoral")
    error(op.request("POST", "/v1/tables/rec-table/recognition",
                     {"status": "recognized", "reason": "comité de pilotage",
                      "justification": "nouvelle Table, membres en recrutement"}),
          403, "PERMISSION_DENIED", "justification", "admin")
    t = ok(admin.request("POST", "/v1/tables/rec-table/recognition",
                         {"status": "recognized", "reason": "comité de pilotage",
                          "justification": "nouvelle Table, membres en recrutement"}))
    assert t["recognition"]["status"] == "recognized"
    assert t["recognition"]["unmetCharacteristics"] == [
        "intersectoral", "multi_network", "structured_permanent", "networking_synergy"]

    m = ok(op.request("POST", "/v1/tables/rec-table/members",
                      {"organizationId": "rec-org", "role": "board", "joinedOn": "2024-01-01"}),
           201)
    assert m["tableId"] == "rec-table" and m["role"] == "board"
    error(op.request("POST", "/v1/tables/rec-table/members", {"organizationId": "rec-org"}),
          409, "CONFLICT", "organizationId")
    error(op.request("POST", "/v1/tables/rec-table/members", {"organizationId": "ghost"}),
          404, "NOT_FOUND", "organizationId")
    ended = ok(op.request("DELETE", "/v1/tables/rec-table/members/rec-org?leftOn=2025-01-01"))
    assert ended["leftOn"] == "2025-01-01"
    error(op.request("DELETE", "/v1/tables/rec-table/members/rec-org"), 404, "NOT_FOUND")
    members = ok(reader.get("/v1/tables/rec-table/members"))["memberships"]
    assert [m["leftOn"] for m in members] == ["2025-01-01"]
    assert ok(reader.get("/v1/tables/rec-table/members?activeOn=2025-06-01")) == {"memberships": [], "total": 0}

    a = ok(op.request("POST", "/v1/tables/rec-table/attestations",
                      {"attestedOn": "2025-03-01", "author": "Centraide",
                       "statement": "Synergie observée"}), 201)
    assert a["recordedBy"] == "otto"
    error(op.request("POST", "/v1/tables/rec-table/attestations", {"attestedOn": "2025-03-01"}),
          400, "INVALID_ARGUMENT", "author")
    listed = ok(reader.get("/v1/tables/rec-table/attestations"))["attestations"]
    assert [x["author"] for x in listed] == ["Centraide"]

    types = [e["type"].rsplit(".", 1)[1]
             for e in ok(reader.get("/v1/tables/rec-table/history"))["entries"]]
    # Every status is a RecognitionChanged, the first too. One board member
    # meets none of the four characteristics, so only the attestation
    # changes the evaluation.
    assert types == ["TableRegistered", "RecognitionChanged", "RecognitionChanged",
                     "TableUpdated", "MandataireChanged", "RecognitionChanged",
                     "MembershipStarted", "MembershipEnded", "AttestationRecorded",
                     "CharacteristicsChanged"]


def test_idempotency_key_retries_return_the_first_answer(op, reader):
    body = {"id": "idem-org", "name": "Organisme idempotent", "sector": "housing",
            "network": "community"}
    headers = {"Idempotency-Key": "idem-test-1"}
    first = op.request("POST", "/v1/organizations", body, headers=headers)
    second = op.request("POST", "/v1/organizations", body, headers=headers)
    assert first.status == second.status == 201
    assert first.json() == second.json()
    error(op.request("POST", "/v1/organizations", dict(body, name="Autre"), headers=headers),
          409, "CONFLICT")
    found = ok(reader.get("/v1/organizations?search=organisme%20idempotent"))["organizations"]
    assert [o["id"] for o in found] == ["idem-org"]


def test_import_over_http_writes_all_or_nothing(op, reader):
    broken = {"files": [
        {"kind": "territories", "content": "id,name,kind\nimp-borough,Import,borough\n"},
        {"kind": "tables", "content": "id,name,territory_id,phone\n"
                                      "imp-ok,Bonne,imp-borough,514-555-0123\n"
                                      "imp-bad,Mauvaise,imp-borough,555\n"
                                      "imp-lost,Perdue,ghost,\n"}]}
    err = error(op.request("POST", "/v1/import", broken), 400, "INVALID_ARGUMENT",
                "tables.csv:3:phone", "North American")
    assert any(f["field"] == "tables.csv:4:territory_id" for f in err["fields"])
    assert "nothing was written" in err["message"]
    error(reader.get("/v1/territories/imp-borough"), 404, "NOT_FOUND")
    error(reader.get("/v1/tables/imp-ok"), 404, "NOT_FOUND")

    good = {"files": [broken["files"][0],
                      {"kind": "tables", "name": "mes-tables.csv",
                       "content": "id,name,territory_id\nimp-ok,Bonne,imp-borough\n"}]}
    result = ok(op.request("POST", "/v1/import", good))
    assert result == {"territories": 1, "organizations": 0, "tables": 1, "memberships": 0}
    again = op.request("POST", "/v1/import", good)
    error(again, 409, "CONFLICT", "territories.csv:2:id")
    error(op.request("POST", "/v1/import", {"files": [{"kind": "people", "content": "a\n"}]}),
          400, "INVALID_ARGUMENT", "files[0].kind")


def test_restart_of_the_registry_keeps_everything(gw, registry, reader):
    before = ok(reader.get("/v1/tables?limit=500"))
    history = ok(reader.get("/v1/tables/rec-table/history"))
    assert registry.stop() == 0
    registry.start()
    registry.wait_log("serving")

    def back():
        resp = reader.get("/v1/tables?limit=500")
        return resp.status == 200 and resp.json()

    assert wait_until(back, timeout=15, what="the registry behind the gateway") == before
    assert ok(reader.get("/v1/tables/rec-table/history")) == history


def test_fan_out_status_merges_the_registry_with_absent_services(reader):
    doc = ok(reader.get("/v1/tables/tqmn/status"))
    assert doc["tableId"] == "tqmn"
    reg = doc["services"]["registry"]
    assert reg["status"] == "ok"
    assert reg["resultType"] == "concerto.registry.v1.Table"
    assert reg["result"]["id"] == "tqmn"
    assert reg["result"]["recognition"]["status"] == "recognized"
    # funding, forum and reporting do not run here: reported, not fatal
    for name in ("funding", "forum", "reporting"):
        assert doc["services"][name]["status"] == "unavailable"
    # The registry owns the Tables: a Table it does not know is 404.
    err = error(reader.get("/v1/tables/ghost/status"), 404, "NOT_FOUND", field="tableId")
    assert "ghost" in err["message"]


def test_admin_backup_and_prune_are_admin_only(gw, tmp, op):
    admin = gw.http(token=gw.tokens["ada"])
    try:
        assert op.request("POST", "/v1/admin/registry/backup", {"path": "b.db"}).status == 403
        res = ok(admin.request("POST", "/v1/admin/registry/backup", {"path": "reg-backup.db"}))
        assert res["path"].endswith("/backups/registry/reg-backup.db")

        def finished():
            backup = admin.get("/v1/status").json()["services"]["registry"].get("backup")
            return backup if backup and backup["state"] != "BACKUP_RUNNING" else None

        # The heartbeat brings the result to the gateway's /v1/status.
        done = wait_until(finished, timeout=10, what="the backup's result in /v1/status")
        assert done["state"] == "BACKUP_DONE" and done["path"] == res["path"]
        assert int(done["bytes"]) == os.path.getsize(res["path"])
        assert done["pagesDone"] == done["pagesTotal"] > 0
        error(admin.request("POST", "/v1/admin/registry/backup", {"path": "reg-backup.db"}), 409,
              "CONFLICT")
        error(admin.request("POST", "/v1/admin/registry/backup", {"path": "../x.db"}), 400,
              "INVALID_ARGUMENT")
        pruned = ok(admin.request("POST", "/v1/admin/registry/prune-outbox",
                                  {"upToSequence": "0"}))
        assert pruned["prunedUpTo"] == 0 and pruned["rowsDeleted"] == 0
    finally:
        admin.close()

"""Recognition decisions in time, through the gateway in front of a real
concerto-registry loaded with the demo data (issue "Registry: recognition
decisions in time, the 2024 framework's disputes, and the events funding
will read"): back-dated decisions and their bounds, scheduled decisions
shown and cancelled, refusal followed by a new application, disputes,
the characteristics and an admin's justification, withdrawn Tables
read-only, the demo data's unknown dates, and the events other daemons
read. Scheduled decisions coming due (across a restart) are in
test_registry_schedule.py.
"""
from concerto_harness import admin, gw, op, public, registry, tmp  # noqa: F401
from concerto_harness import history, of_type
from concerto_harness import http_error as error
from concerto_harness import http_ok as ok


def decide(c, table, status, **extra):
    return c.request("POST", f"/v1/tables/{table}/recognition",
                     {"status": status, "reason": extra.pop("reason", "comité"), **extra})


def new_table(op, tid, mandataire=True):
    """A Table registered today on a fresh borough, with its own mandataire."""
    ok(op.request("POST", "/v1/territories",
                  {"id": f"{tid}-t", "name": f"Territoire {tid}", "kind": "borough"}), 201)
    body = {"id": tid, "name": f"Table {tid}", "territoryId": f"{tid}-t"}
    if mandataire:
        ok(op.request("POST", "/v1/organizations",
                      {"id": f"{tid}-m", "name": f"Mandataire {tid}", "sector": "community",
                       "network": "community"}), 201)
        body["mandataireId"] = f"{tid}-m"
    return ok(op.request("POST", "/v1/tables", body), 201)


def test_demo_data_says_its_recognition_dates_are_unknown(op, public):
    today = new_table(op, "rec-today")["recognition"]["since"]
    t = ok(public.get("/v1/tables/tqmn"))
    rec = t["recognition"]
    assert rec["status"] == "recognized"
    assert "since" not in rec and rec["sinceKnown"] is False
    assert rec["recordedOn"] == today
    assert rec["origin"] == "import" and rec["exemption"] == "demo data"
    assert t["location"] == {"territoryId": "montreal-nord", "territoryKind": "borough",
                             "boroughId": "montreal-nord"}
    # The import says so as an event too: its first status, date unknown.
    first = of_type(history(public, "tqmn"), "RecognitionChanged")[0]
    assert first["origin"] == "import" and first["toStatus"] == "recognized"
    assert "effectiveOn" not in first and first["sinceKnown"] is False
    assert first["recordedOn"] == today and first["exemption"] == "demo data"
    assert first["location"]["boroughId"] == "montreal-nord"
    # A Table registered here has a known date: today.
    assert ok(public.get("/v1/tables/rec-today"))["recognition"]["sinceKnown"] is True


def test_decisions_are_entered_when_they_were_taken(op, public):
    t = new_table(op, "rec-dates")
    today = t["recognition"]["since"]
    # Not before the Table's registration, nor the current status's date.
    error(decide(op, "rec-dates", "under_review", effectiveOn="2020-01-01"),
          409, "FAILED_PRECONDITION", "effectiveOn", f"{today}, when the Table was registered")
    ok(decide(op, "rec-dates", "under_review", effectiveOn=today))
    # The demo data's dates are unknown: only "not in the future" bounds a
    # decision, so one taken in 2019 is entered with its date.
    t = ok(decide(op, "hochelaga-maisonneuve", "suspended", effectiveOn="2019-05-01",
                  reason="suspendue en 2019 (procès-verbal)"))
    assert t["recognition"]["since"] == "2019-05-01" and t["recognition"]["sinceKnown"] is True
    # From then on its date bounds the next one.
    error(decide(op, "hochelaga-maisonneuve", "recognized", effectiveOn="2019-04-30"),
          409, "FAILED_PRECONDITION", "effectiveOn", "2019-05-01, when the Table became suspended")
    changed = of_type(history(public, "hochelaga-maisonneuve"), "RecognitionChanged")[-1]
    assert changed["effectiveOn"] == "2019-05-01" and changed["origin"] == "decision"
    assert changed["fromStatus"] == "recognized" and changed["recordedOn"] == today


def test_a_future_decision_is_scheduled_shown_and_cancelled(op, public):
    new_table(op, "rec-sched")
    ok(decide(op, "rec-sched", "under_review"))
    t = ok(decide(op, "rec-sched", "refused", effectiveOn="2099-01-01", reason="comité du 2099"))
    assert t["recognition"]["status"] == "under_review"
    s = t["scheduledRecognition"]
    assert s["status"] == "refused" and s["effectiveOn"] == "2099-01-01"
    assert s["reason"] == "comité du 2099" and s["scheduledBy"] == "otto"
    assert ok(public.get("/v1/tables/rec-sched"))["scheduledRecognition"]["id"] == s["id"]
    # One at a time: any other decision is refused, naming the pending one.
    err = error(decide(op, "rec-sched", "withdrawn"), 409, "CONFLICT", "tableId")
    assert f"decision {s['id']} (refused on 2099-01-01)" in err["message"]
    error(decide(op, "rec-sched", "refused", effectiveOn="2099-02-01"), 409, "CONFLICT")
    error(op.request("DELETE", "/v1/tables/rec-sched/recognition/scheduled"),
          400, "INVALID_ARGUMENT", "reason")
    t = ok(op.request("DELETE", "/v1/tables/rec-sched/recognition/scheduled",
                      {"reason": "le comité se réunit plus tôt"}))
    assert "scheduledRecognition" not in t and t["recognition"]["status"] == "under_review"
    error(op.request("DELETE", "/v1/tables/rec-sched/recognition/scheduled",
                     {"reason": "encore"}), 404, "NOT_FOUND", "tableId")
    entries = history(public, "rec-sched")
    scheduled = of_type(entries, "RecognitionScheduled")
    assert len(scheduled) == 1 and scheduled[0]["fromStatus"] == "under_review"
    assert scheduled[0]["scheduled"]["effectiveOn"] == "2099-01-01"
    cancelled = of_type(entries, "RecognitionScheduleCancelled")
    assert cancelled[0]["reason"] == "le comité se réunit plus tôt"
    assert cancelled[0]["scheduled"]["id"] == s["id"]
    # Cancelled, the Table takes decisions again.
    ok(decide(op, "rec-sched", "refused"))


def test_a_refused_table_applies_again_with_its_history_kept(op, public):
    new_table(op, "rec-again")
    ok(decide(op, "rec-again", "under_review"))
    ok(decide(op, "rec-again", "refused", reason="dossier incomplet"))
    t = ok(decide(op, "rec-again", "requested", reason="nouvelle demande"))
    assert t["recognition"]["status"] == "requested"
    moves = [(c.get("fromStatus"), c["toStatus"])
             for c in of_type(history(public, "rec-again"), "RecognitionChanged")]
    assert moves == [(None, "requested"), ("requested", "under_review"),
                     ("under_review", "refused"), ("refused", "requested")]


def members_for_all_four(op, tid, on):
    """Members from three sectors and networks, governance and an attestation:
    all four characteristics met from `on`."""
    for i, (sector, network) in enumerate([("community", "community"),
                                           ("health_social_services", "public_institution"),
                                           ("municipal", "municipal")]):
        ok(op.request("POST", "/v1/organizations",
                      {"id": f"{tid}-o{i}", "name": f"Org {i}", "sector": sector,
                       "network": network}), 201)
        ok(op.request("POST", f"/v1/tables/{tid}/members",
                      {"organizationId": f"{tid}-o{i}", "role": "board", "joinedOn": on}), 201)
    ok(op.request("POST", f"/v1/tables/{tid}/governance",
                  {"effectiveOn": on, "governance": {"incorporated": True, "boardSeats": 5,
                                                     "meetingsPerYear": 6}}), 201)
    ok(op.request("POST", f"/v1/tables/{tid}/attestations",
                  {"attestedOn": on, "author": "Centraide"}), 201)


def test_recognizing_needs_the_characteristics_or_an_admins_justification(op, admin, public):
    today = new_table(op, "rec-chars")["recognition"]["since"]
    ok(decide(op, "rec-chars", "under_review"))
    err = error(decide(op, "rec-chars", "recognized"), 409, "FAILED_PRECONDITION",
                "justification", "intersectoral multi_network structured_permanent "
                "networking_synergy")
    assert "an admin's justification" in err["message"]
    error(decide(op, "rec-chars", "recognized", justification="en démarrage"),
          403, "PERMISSION_DENIED", "justification", "admin")
    error(decide(admin, "rec-chars", "under_review", justification="x"),
          409, "FAILED_PRECONDITION", "status")
    members_for_all_four(op, "rec-chars", today)
    # All four met: no justification needed, nothing waived.
    t = ok(decide(op, "rec-chars", "recognized"))
    assert t["recognition"]["status"] == "recognized"
    assert t["recognition"]["unmetCharacteristics"] == []  # every list is written, [] when empty

    new_table(op, "rec-justified")
    ok(decide(op, "rec-justified", "under_review"))
    t = ok(decide(admin, "rec-justified", "recognized", justification="Table en démarrage"))
    assert t["recognition"]["unmetCharacteristics"] == [
        "intersectoral", "multi_network", "structured_permanent", "networking_synergy"]
    assert t["recognition"]["justification"] == "Table en démarrage"
    changed = of_type(history(public, "rec-justified"), "RecognitionChanged")[-1]
    assert changed["justification"] == "Table en démarrage"
    assert len(changed["unmetCharacteristics"]) == 4 and "exemption" not in changed

    # Imported history is exempt, and says so.
    ok(op.request("POST", "/v1/import", {"files": [
        {"kind": "territories", "content": "id,name,kind\nrec-imported-t,Importé,borough\n"},
        {"kind": "tables", "content":
         "id,name,territory_id,mandataire_id,recognition_status,recognition_since\n"
         "rec-imported,Table importée,rec-imported-t,rec-justified-m,recognized,2015-04-01\n"}]}))
    rec = ok(public.get("/v1/tables/rec-imported"))["recognition"]
    assert rec["exemption"] == "imported history" and rec["since"] == "2015-04-01"
    assert rec["sinceKnown"] is True and rec["origin"] == "import"


def test_a_withdrawn_table_is_read_only(op):
    new_table(op, "rec-gone")
    ok(op.request("POST", "/v1/organizations", {"id": "rec-gone-o", "name": "O",
                                                "sector": "housing", "network": "community"}),
       201)
    ok(op.request("POST", "/v1/tables/rec-gone/members", {"organizationId": "rec-gone-o"}), 201)
    ok(decide(op, "rec-gone", "withdrawn", reason="dissoute"))
    final = "is withdrawn since"
    error(op.request("PATCH", "/v1/tables/rec-gone", {"name": "Autre nom"}),
          409, "FAILED_PRECONDITION", "id", final)
    error(op.request("POST", "/v1/tables/rec-gone/members", {"organizationId": "rec-gone-m"}),
          409, "FAILED_PRECONDITION", "tableId", final)
    error(op.request("DELETE", "/v1/tables/rec-gone/members/rec-gone-o"),
          409, "FAILED_PRECONDITION", "tableId", final)
    error(op.request("POST", "/v1/tables/rec-gone/attestations", {"author": "Centraide"}),
          409, "FAILED_PRECONDITION", "tableId", final)
    error(decide(op, "rec-gone", "requested"), 409, "FAILED_PRECONDITION", "status",
          "withdrawn, which is final")


def test_disputes_about_a_refusal_lead_to_a_reversal(op, admin, public):
    new_table(op, "rec-disp")
    ok(decide(op, "rec-disp", "under_review"))
    error(op.request("POST", "/v1/tables/rec-disp/disputes",
                     {"party": "table", "grounds": "x"}),
          409, "FAILED_PRECONDITION", "decisionId", "refusal, suspension or withdrawal")
    refused = ok(decide(op, "rec-disp", "refused", reason="comité"))["recognition"]
    d = ok(op.request("POST", "/v1/tables/rec-disp/disputes",
                      {"party": "partners", "grounds": "Le comité a ignoré nos procès-verbaux"}),
           201)
    assert d["state"] == "opened" and d["decisionId"] == refused["decisionId"]
    assert d["decisionStatus"] == "refused" and d["party"] == "partners"
    assert d["steps"][0]["state"] == "opened" and d["steps"][0]["actor"] == "otto"
    error(op.request("POST", "/v1/tables/rec-disp/disputes",
                     {"party": "partners", "grounds": "bis"}), 409, "CONFLICT", "party")
    error(op.request("POST", "/v1/tables/rec-disp/disputes", {"party": "city", "grounds": "x"}),
          400, "INVALID_ARGUMENT", "party")
    # A dispute freezes nothing.
    ok(op.request("PATCH", "/v1/tables/rec-disp", {"notes": "en différend"}))
    steps = f"/v1/tables/rec-disp/disputes/{d['id']}/steps"
    error(op.request("POST", steps, {"state": "closed", "note": "x"}),
          400, "INVALID_ARGUMENT", "outcome")
    error(decide(op, "rec-disp", "recognized", disputeId=d["id"]),
          409, "FAILED_PRECONDITION", "disputeId", "closed with outcome reversed")
    ok(op.request("POST", steps, {"state": "in_mediation", "note": "médiatrice nommée"}))
    closed = ok(op.request("POST", steps, {"state": "closed", "outcome": "reversed",
                                           "note": "le comité revient sur sa décision"}))
    assert closed["state"] == "closed" and closed["outcome"] == "reversed"
    assert [s["state"] for s in closed["steps"]] == ["opened", "in_mediation", "closed"]
    error(op.request("POST", steps, {"state": "in_mediation", "note": "x"}),
          409, "FAILED_PRECONDITION", "state", "is closed")
    # The reversal: a new decision naming the dispute, back-dated to the
    # refusal, refusing to be anything but an undoing of it.
    error(decide(admin, "rec-disp", "withdrawn", disputeId=d["id"]),
          409, "FAILED_PRECONDITION", "status", "sets under_review or recognized")
    t = ok(decide(admin, "rec-disp", "recognized", disputeId=d["id"],
                  effectiveOn=refused["since"], justification="décision renversée"))
    assert t["recognition"]["status"] == "recognized"
    assert t["recognition"]["disputeId"] == d["id"]
    assert t["disputes"][0]["reversalDecisionId"] == t["recognition"]["decisionId"]
    error(decide(admin, "rec-disp", "suspended", disputeId=d["id"]),
          409, "FAILED_PRECONDITION", "disputeId", "already followed")
    listed = ok(public.get("/v1/tables/rec-disp/disputes"))["disputes"]
    assert [x["id"] for x in listed] == [d["id"]]
    entries = history(public, "rec-disp")
    assert len(of_type(entries, "DisputeOpened")) == 1
    assert [m["fromState"] for m in of_type(entries, "DisputeMoved")] == ["opened",
                                                                          "in_mediation"]
    assert of_type(entries, "RecognitionChanged")[-1]["disputeId"] == d["id"]
    error(public.get("/v1/tables/ghost/disputes"), 404, "NOT_FOUND", "tableId")


def test_mandataire_and_characteristics_changes_are_events(op, public):
    new_table(op, "rec-events", mandataire=False)
    ok(op.request("POST", "/v1/organizations", {"id": "rec-events-m", "name": "M",
                                                "sector": "community", "network": "community"}),
       201)
    ok(op.request("PATCH", "/v1/tables/rec-events", {"mandataireId": "rec-events-m"}))
    ok(op.request("PATCH", "/v1/tables/rec-events", {"mandataireId": ""}))
    m = of_type(history(public, "rec-events"), "MandataireChanged")
    assert [(x.get("fromMandataireId"), x.get("toMandataireId")) for x in m] == [
        (None, "rec-events-m"), ("rec-events-m", None)]
    # Members recorded back-dated to 2024-03-01 make the Table meet all four
    # from that date: funding reads the date it holds from.
    members_for_all_four(op, "rec-events", "2024-03-01")
    changes = of_type(history(public, "rec-events"), "CharacteristicsChanged")
    last = changes[-1]
    assert last["effectiveOn"] == "2024-03-01" and last["cause"] == "attestation_recorded"
    assert last["characteristics"]["allMet"] is True
    assert last["periods"][0]["startsOn"] == "2024-03-01" and last["periods"][0]["allMet"]
    # The attestation stops counting after 365 days: the periods say when.
    assert last["periods"][0]["until"] == "2025-03-02"
    assert last["periods"][1]["unmet"] == ["networking_synergy"]
    assert "until" not in last["periods"][-1]
    # Ending a member back-dated changes the evaluation from that date.
    ok(op.request("DELETE", "/v1/tables/rec-events/members/rec-events-o1?leftOn=2024-06-01"))
    last = of_type(history(public, "rec-events"), "CharacteristicsChanged")[-1]
    assert last["cause"] == "membership_ended" and last["effectiveOn"] == "2024-06-01"
    assert set(last["periods"][0]["unmet"]) == {"intersectoral", "multi_network"}
    # An organization's sectors recorded from a past date re-evaluate the
    # Tables it sat on, from that date.
    before = len(of_type(history(public, "rec-events"), "CharacteristicsChanged"))
    ok(op.request("POST", "/v1/organizations/rec-events-o2/facts",
                  {"effectiveOn": "2024-01-01", "sectors": ["municipal"]}), 201)
    assert len(of_type(history(public, "rec-events"), "CharacteristicsChanged")) == before
    ok(op.request("POST", "/v1/organizations/rec-events-o2/facts",
                  {"effectiveOn": "2024-04-01", "sectors": ["community"]}), 201)
    last = of_type(history(public, "rec-events"), "CharacteristicsChanged")[-1]
    assert last["cause"] == "fact_recorded" and last["effectiveOn"] == "2024-04-01"


def test_a_territory_that_moves_moves_the_location_of_its_tables(op, public):
    """Funding counts by borough and sector from the Tables' locations: a
    territory given another parent or kind emits each of its Tables' new
    location (TableLocationChanged), after its TerritoryUpdated."""
    for tid, kind, parent in (("loc-b1", "borough", None), ("loc-b2", "borough", None),
                              ("loc-n", "neighbourhood", "loc-b1"), ("loc-s1", "sector", None),
                              ("loc-s2", "sector", None), ("loc-m", "municipality", "loc-s1"),
                              ("loc-mn", "neighbourhood", "loc-m"), ("loc-k", "municipality", None)):
        body = {"id": tid, "name": f"Territoire {tid}", "kind": kind}
        if parent:
            body["parentId"] = parent
        ok(op.request("POST", "/v1/territories", body), 201)
    for tid in ("tq-loc-n", "tq-loc-m", "tq-loc-mn", "tq-loc-k"):
        ok(op.request("POST", "/v1/tables", {"id": tid, "name": f"Table {tid}",
                                             "territoryId": tid[3:]}), 201)

    def moved(table):
        return of_type(history(public, table), "TableLocationChanged")

    # A name is not a place: nothing moves.
    ok(op.request("PATCH", "/v1/territories/loc-n", {"name": "Quartier renommé"}))
    assert moved("tq-loc-n") == []
    # A neighbourhood moved to another borough.
    ok(op.request("PATCH", "/v1/territories/loc-n", {"parentId": "loc-b2"}))
    (ev,) = moved("tq-loc-n")
    today = ev["effectiveOn"]
    assert ev == {"actor": "otto", "tableId": "tq-loc-n", "territoryId": "loc-n",
                  "effectiveOn": today,
                  "location": {"territoryId": "loc-n", "territoryKind": "neighbourhood",
                               "boroughId": "loc-b2"}}
    assert ok(public.get("/v1/tables/tq-loc-n"))["location"] == ev["location"]
    assert moved("tq-loc-m") == [] and moved("tq-loc-mn") == []
    # A municipality moved to another sector moves the Tables inside it too,
    # each after the TerritoryUpdated (in sequence order).
    ok(op.request("PATCH", "/v1/territories/loc-m", {"parentId": "loc-s2"}))
    (on_m,) = moved("tq-loc-m")
    (in_m,) = moved("tq-loc-mn")
    assert on_m["location"] == {"territoryId": "loc-m", "territoryKind": "municipality",
                                "municipalityId": "loc-m", "sectorId": "loc-s2"}
    assert in_m["location"] == {"territoryId": "loc-mn", "territoryKind": "neighbourhood",
                                "municipalityId": "loc-m", "sectorId": "loc-s2"}
    assert on_m["territoryId"] == in_m["territoryId"] == "loc-m"
    updated = [e["sequence"] for e in ok(public.get("/v1/territories/loc-m/history"))["entries"]
               if e["type"] == "concerto.registry.v1.TerritoryUpdated"]
    for table in ("tq-loc-m", "tq-loc-mn"):
        seq = [e["sequence"] for e in history(public, table)
               if e["type"] == "concerto.registry.v1.TableLocationChanged"]
        assert int(seq[0]) > int(updated[-1])
    # Another kind (a territory without others inside it) is another place.
    ok(op.request("PATCH", "/v1/territories/loc-k", {"kind": "borough"}))
    (ev,) = moved("tq-loc-k")
    assert ev["location"] == {"territoryId": "loc-k", "territoryKind": "borough",
                              "boroughId": "loc-k"}
    # Nothing else moved.
    assert len(moved("tq-loc-n")) == 1 and len(moved("tq-loc-mn")) == 1

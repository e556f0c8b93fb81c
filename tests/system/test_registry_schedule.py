"""Scheduled recognition decisions coming due, through the gateway in front
of a real concerto-registry whose business clock starts minutes before
Montréal's midnight (CONCERTO_CLOCK_START): the Table keeps its status
until the date, the registry is SIGKILLed before it, and at its restart
past the date the decision applies exactly once (one RecognitionChanged,
origin "scheduled"), while another, no longer allowed when it comes due,
changes nothing and records why (RecognitionScheduleFailed). Dates are
Montréal's: a decision without a date, taken at 04:55 UTC, is dated the
day before.
"""
import tempfile

from concerto_harness import Gateway, of_type, start_service, wait_until
from concerto_harness import http_ok as ok

# 2030-01-15T04:55:00Z is 23:55 on January 14 in Montréal (EST): the set-up
# must be done before midnight, however slowly the machine runs it; the
# restart then moves the clock past it.
BEFORE_MIDNIGHT = "2030-01-15T04:55:00Z"
AFTER_MIDNIGHT = "2030-01-15T05:00:05Z"
DUE = "2030-01-15"


def get_ok(c, path):
    """GET, waiting out the 503s of a gateway whose link to a restarted
    registry is still reconnecting."""
    got = []
    wait_until(lambda: got.append(c.get(path)) or got[-1].status != 503, timeout=10,
               what=f"{path} to answer")
    return ok(got[-1])


def table(op, tid):
    ok(op.request("POST", "/v1/territories",
                  {"id": f"{tid}-t", "name": f"Territoire {tid}", "kind": "borough"}), 201)
    ok(op.request("POST", "/v1/organizations",
                  {"id": f"{tid}-m", "name": f"Mandataire {tid}", "sector": "community",
                   "network": "community"}), 201)
    t = ok(op.request("POST", "/v1/tables", {"id": tid, "name": f"Table {tid}",
                                             "territoryId": f"{tid}-t",
                                             "mandataireId": f"{tid}-m"}), 201)
    ok(op.request("POST", f"/v1/tables/{tid}/recognition",
                  {"status": "under_review", "reason": "dossier reçu"}))
    return t


def test_scheduled_decisions_apply_once_at_their_date_across_a_restart():
    with tempfile.TemporaryDirectory() as tmp:
        registry = start_service("registry", tmp, env={"CONCERTO_CLOCK_START": BEFORE_MIDNIGHT})
        gw = Gateway(tmp, services={"registry": registry},
                     tokens=[("operator", "otto"), ("admin", "ada")]).start()
        op, admin = gw.http(token=gw.tokens["otto"]), gw.http(token=gw.tokens["ada"])
        try:
            gw.wait_ready()
            # Montréal's date, not UTC's (already January 15).
            t = table(op, "due-ok")
            assert t["recognition"]["since"] == "2030-01-14"
            table(op, "due-fails")
            for tid in ("due-ok", "due-fails"):
                s = ok(admin.request("POST", f"/v1/tables/{tid}/recognition",
                                     {"status": "recognized", "effectiveOn": DUE,
                                      "reason": "comité du 15 janvier",
                                      "justification": "Table en démarrage"}))
                assert s["recognition"]["status"] == "under_review"
                assert s["scheduledRecognition"]["effectiveOn"] == DUE
            # Meanwhile due-fails loses its mandataire, which a recognized
            # Table needs: when it comes due, the decision cannot apply.
            ok(op.request("PATCH", "/v1/tables/due-fails", {"mandataireId": ""}))

            registry.kill()
            registry.env["CONCERTO_CLOCK_START"] = AFTER_MIDNIGHT
            registry.start()
            registry.wait_log("serving")
            gw.wait_service("registry")

            def applied():
                return get_ok(op, "/v1/tables/due-ok")["recognition"]["status"] == "recognized"

            wait_until(applied, timeout=15, what="the scheduled decision to apply")
            t = get_ok(op, "/v1/tables/due-ok")
            rec = t["recognition"]
            assert rec["since"] == DUE and rec["origin"] == "scheduled"
            assert rec["changedBy"] == "ada" and rec["justification"] == "Table en démarrage"
            assert "scheduledRecognition" not in t

            def failed():
                entries = get_ok(op, "/v1/tables/due-fails/history")["entries"]
                return of_type(entries, "RecognitionScheduleFailed")

            wait_until(failed, timeout=15, what="the failed decision to be recorded")
            f = failed()[0]
            assert f["status"] == "under_review" and "mandataire" in f["problem"]
            t = get_ok(op, "/v1/tables/due-fails")
            assert t["recognition"]["status"] == "under_review"
            assert "scheduledRecognition" not in t

            # Another restart changes nothing: it applied exactly once.
            registry.kill()
            registry.start()
            registry.wait_log("serving")
            gw.wait_service("registry")
            entries = get_ok(op, "/v1/tables/due-ok/history")["entries"]
            changes = of_type(entries, "RecognitionChanged")
            scheduled = [c for c in changes if c["origin"] == "scheduled"]
            assert len(scheduled) == 1
            assert scheduled[0]["effectiveOn"] == DUE and scheduled[0]["scheduleId"] > 0
            assert scheduled[0]["fromStatus"] == "under_review"
            assert len(of_type(entries, "RecognitionScheduled")) == 1
        finally:
            op.close()
            admin.close()
            assert gw.stop() == 0, gw.log()
            assert registry.stop() == 0, registry.log()

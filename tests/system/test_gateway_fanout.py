"""The fan-out contract (GET /v1/tables/{id}/status) with real daemons: the
registry, which owns the Tables, decides 404; a registry that is down is
reported unavailable in a 200; a daemon that knows nothing yet of a Table
(concerto-testsub, subscribed to the registry, standing for funding)
answers OK with an empty summary and how far behind the registry it is.
"""
import os
import tempfile

import pytest

from concerto_harness import (BIN, Gateway, demo_registry, service_env, start_service,
                              wait_until)

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(BIN, "concerto-testsub")),
                                reason="concerto-testsub is not built")


@pytest.fixture(scope="module")
def system():
    with tempfile.TemporaryDirectory() as tmp, demo_registry(tmp) as registry:
        funding = start_service("testsub", tmp, heartbeat_ms=100,
                                env={"CONCERTO_TESTSUB_SOURCE": "registry",
                                     **service_env("registry", registry.router, registry.pub)})
        gw = Gateway(tmp, services={"registry": registry, "funding": funding},
                     heartbeat_ms=100).start()
        gw.wait_ready()
        yield gw, registry, funding
        assert gw.stop() == 0, gw.log()
        assert funding.stop() == 0, funding.log()


def caught_up(gw):
    doc = gw.http().get("/v1/tables/tqmn/status").json()
    source = doc["services"]["funding"].get("result", {}).get("source", {})
    return doc if source.get("appliedSequence", 0) > 0 and source.get("lag") == 0 else None


def test_a_table_the_registry_knows(system):
    gw, _, _ = system
    doc = wait_until(lambda: caught_up(gw), timeout=15, what="testsub to catch up")
    services = doc["services"]
    assert services["registry"]["status"] == "ok"
    assert services["registry"]["resultType"] == "concerto.registry.v1.Table"
    assert services["registry"]["result"]["id"] == "tqmn"
    funding = services["funding"]
    assert funding["status"] == "ok"
    assert funding["resultType"] == "concerto.test.v1.TableSummary"
    # Nothing known of the Table, and no lag: "nothing", not "not yet".
    source = funding["result"]["source"]
    assert funding["result"]["tableId"] == "tqmn"
    assert source["source"] == "registry"
    assert source["sourceHead"] == source["appliedSequence"] and source["lag"] == 0
    assert services["forum"]["status"] == "unavailable"


def test_a_table_the_registry_does_not_know_is_404(system):
    gw, _, _ = system
    r = gw.http().get("/v1/tables/no-such-table/status")
    assert r.status == 404, r
    err = r.json()["error"]
    assert err["code"] == "NOT_FOUND" and "no-such-table" in err["message"]


def test_registry_down_is_200_with_the_registry_unavailable(system):
    gw, registry, _ = system
    wait_until(lambda: caught_up(gw), timeout=15, what="testsub to catch up")
    assert registry.stop() == 0, registry.log()
    try:
        gw.wait_service("registry", up=False)
        r = gw.http().get("/v1/tables/no-such-table/status")
        assert r.status == 200, r
        services = r.json()["services"]
        assert services["registry"]["status"] == "unavailable"
        assert services["funding"]["status"] == "ok"
        assert services["funding"]["result"]["source"]["source"] == "registry"
    finally:
        registry.start()
        registry.wait_log("serving")

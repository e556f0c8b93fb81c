"""concerto-gateway in front of the real service runtime (common/service.c),
with concerto-testpub standing in for the registry: queries, commands with
Idempotency-Key deduplicated by the runtime, and partner events applied
once however often they are sent.
"""
import base64
import os
import tempfile

import pytest
import zmq

from concerto.common.v1 import envelope_pb2 as E
from concerto.test.v1 import delivery_pb2 as D
from concerto_harness import (BIN, Gateway, ask, make_envelope, parse_envelope, partner_socket,
                              start_service, wait_until)

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(BIN, "concerto-testpub")),
                                reason="concerto-testpub is not built")

ROUTES = """
GET  /v1/rt/status registry concerto.common.v1.StatusRequest reader   - 200
POST /v1/rt/emit   registry concerto.test.v1.Emit            operator - 201
"""


@pytest.fixture(scope="module")
def system():
    with tempfile.TemporaryDirectory() as tmp:
        testpub = start_service("testpub", tmp, heartbeat_ms=100)
        partner = zmq.curve_keypair()
        g = Gateway(tmp, services={"registry": testpub}, routes=ROUTES,
                    tokens=[("operator", "otto")], heartbeat_ms=100,
                    partners=f"{partner[0].decode()} centraide tables=*\n",
                    partner_types="concerto.test.v1.Emit=registry").start()
        g.wait_ready()
        yield g, testpub, partner
        assert g.stop() == 0, g.log()
        assert testpub.stop() == 0, testpub.log()


def head(gw):
    return gw.http().get("/v1/status").json()["services"]["registry"].get("headSequence", 0)


def test_query_result_is_rendered_as_json(system):
    gw, _, _ = system
    r = gw.http().get("/v1/rt/status")
    assert r.status == 200, r
    doc = r.json()
    assert doc["service"] == "testpub" and "startedMs" in doc


def test_command_with_idempotency_key_applies_once(system):
    gw, _, _ = system
    c = gw.http(token=gw.tokens["otto"])
    start = head(gw)
    body = {"payload": base64.b64encode(b"one").decode()}
    for _ in range(3):
        r = c.request("POST", "/v1/rt/emit", body, headers={"Idempotency-Key": "emit-1"})
        assert r.status == 201, r
    wait_until(lambda: head(gw) == start + 1, timeout=3, what="one event in the outbox")
    r = c.request("POST", "/v1/rt/emit", {"payload": base64.b64encode(b"two").decode()},
                  headers={"Idempotency-Key": "emit-1"})
    assert r.status == 409 and r.json()["error"]["code"] == "CONFLICT"
    assert c.request("POST", "/v1/rt/emit", body).status == 201  # no key: a new command
    wait_until(lambda: head(gw) == start + 2, timeout=3, what="a second event")


def test_partner_event_applies_once_through_the_runtime(system):
    gw, _, partner = system
    start = head(gw)
    sock = partner_socket(gw, partner)
    try:
        for _ in range(3):
            frame = make_envelope("concerto.test.v1.Emit", D.Emit(payload=b"paid"),
                                  idempotency_key="payment-77")
            answer = ask(sock, frame)
            assert answer is not None, "no acknowledgement"
            env, reply = answer
            assert env.correlation_id == parse_envelope(frame).id
            assert reply.status == E.OK
    finally:
        sock.close()
    wait_until(lambda: head(gw) == start + 1, timeout=3, what="the event applied once")
    # A heartbeat may predate the last retries: ask the runtime itself, which
    # has answered all three by now.
    assert gw.http().get("/v1/rt/status").json().get("headSequence", 0) == start + 1


def test_fan_out_status_carries_the_runtime_answer(system):
    # concerto-testpub answers TableStatusRequest with the events it emitted
    # about the Table (what bench/gateway.sh measures); the three services
    # not started are reported unavailable, not failing the answer.
    gw, _, _ = system
    c = gw.http(token=gw.tokens["otto"])
    for payload in (b"a", b"b"):
        body = {"payload": base64.b64encode(payload).decode(), "subject": "table:t7"}
        assert c.request("POST", "/v1/rt/emit", body).status == 201
    r = gw.http().get("/v1/tables/t7/status")
    assert r.status == 200, r
    doc = r.json()
    assert doc["tableId"] == "t7"
    assert list(doc["services"]) == ["registry", "funding", "forum", "reporting"]
    part = doc["services"]["registry"]
    assert part["status"] == "ok" and part["resultType"] == "concerto.test.v1.TableActivity"
    assert part["result"]["tableId"] == "t7" and part["result"]["events"] == 2
    assert part["result"]["lastSequence"] >= 2
    for name in ("funding", "forum", "reporting"):
        assert doc["services"][name]["status"] == "unavailable"
    empty = gw.http().get("/v1/tables/nobody/status").json()["services"]["registry"]
    assert empty["result"] == {"tableId": "nobody", "events": 0}

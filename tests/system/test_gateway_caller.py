"""The caller travels with the request: concerto-testpub's runtime sees the
role and name the gateway authenticated (public, reader, operator, admin,
or a partner with its name and every scope of its allow-list line), and
enforces the scope it owns (`funder`). The gateway's own `tables=` check is
tested in test_gateway_partner.py.
"""
import os
import tempfile

import pytest
import zmq

from concerto.common.v1 import envelope_pb2 as E
from concerto.test.v1 import gateway_test_pb2 as T
from concerto_harness import BIN, Gateway, ask, make_envelope, partner_socket, start_service

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(BIN, "concerto-testpub")),
                                reason="concerto-testpub is not built")

ROUTES = """
GET /v1/test/caller registry concerto.test.v1.CallerRequest reader - 200
"""
CENTRAIDE = zmq.curve_keypair()
VILLE = zmq.curve_keypair()


@pytest.fixture(scope="module")
def gw():
    with tempfile.TemporaryDirectory() as tmp:
        testpub = start_service("testpub", tmp, heartbeat_ms=100)
        partners = (f"{CENTRAIDE[0].decode()} centraide tables=t1,t2 funder=centraide,ville\n"
                    f"{VILLE[0].decode()} ville region=est\n")
        g = Gateway(tmp, services={"registry": testpub}, routes=ROUTES, heartbeat_ms=100,
                    tokens=[("reader", "rita"), ("operator", "otto"), ("admin", "ada")],
                    partners=partners,
                    partner_types="concerto.test.v1.CallerRequest=registry").start()
        g.wait_ready()
        yield g
        assert g.stop() == 0, g.log()
        assert testpub.stop() == 0, testpub.log()


@pytest.mark.parametrize("token,role,name", [
    (None, "public", ""),
    ("rita", "reader", "rita"),
    ("otto", "operator", "otto"),
    ("ada", "admin", "ada"),
])
def test_http_caller_reaches_the_service(gw, token, role, name):
    r = gw.http().get("/v1/test/caller", token=gw.tokens.get(token))
    assert r.status == 200, r
    view = r.json()
    assert view["role"] == role and view["name"] == name
    # Only callers with a token may see, e.g., contact details.
    assert view["identified"] is (token is not None)
    assert view.get("scopes", []) == []


def test_tokens_are_not_scoped(gw):
    r = gw.http().get("/v1/test/caller?funder=anyone", token=gw.tokens["rita"])
    assert r.status == 200, r


def partner_call(gw, keys, event_id, **fields):
    sock = partner_socket(gw, keys)
    try:
        frame = make_envelope("concerto.test.v1.CallerRequest", T.CallerRequest(**fields),
                              idempotency_key=event_id)
        answer = ask(sock, frame)
        assert answer is not None, "no answer from the ingress"
        return answer[1]
    finally:
        sock.close()


def test_partner_name_and_scopes_reach_the_service(gw):
    reply = partner_call(gw, CENTRAIDE, "c-1")
    assert reply.status == E.OK, reply
    view = T.CallerView.FromString(reply.result)
    assert view.role == "partner" and view.name == "centraide" and view.identified
    assert view.actor == "partner:centraide"
    assert {s.name: list(s.values) for s in view.scopes} == {
        "tables": ["t1", "t2"], "funder": ["centraide", "ville"]}


def test_service_enforces_the_scope_it_owns(gw):
    assert partner_call(gw, CENTRAIDE, "c-2", funder="ville").status == E.OK
    denied = partner_call(gw, CENTRAIDE, "c-3", funder="drsp")
    assert denied.status == E.PERMISSION_DENIED
    assert denied.message == "this partner may not act for funder drsp"
    # No funder scope: no funder at all.
    assert partner_call(gw, VILLE, "v-1", funder="ville").status == E.PERMISSION_DENIED
    view = T.CallerView.FromString(partner_call(gw, VILLE, "v-2").result)
    assert [(s.name, list(s.values)) for s in view.scopes] == [("region", ["est"])]

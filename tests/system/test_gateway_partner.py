"""The partner ingress: CURVE with a ZAP allow-list, idempotent forwarding
to the owning service, Table checks, and robustness against garbage,
with python3-zmq clients against a real concerto-gateway.
"""
import tempfile
import time

import pytest
import zmq

from concerto.common.v1 import envelope_pb2 as E
from concerto.test.v1 import gateway_test_pb2 as T
from concerto_harness import (FakeService, Gateway, ask, make_envelope, parse_envelope,
                              parse_reply, partner_socket)

EVENT = "concerto.test.v1.PartnerEvent"
ECHO = "concerto.test.v1.EchoRequest"


@pytest.fixture(scope="module")
def keys():
    return {name: zmq.curve_keypair() for name in ("centraide", "ville", "stranger")}


@pytest.fixture(scope="module")
def registry():
    f = FakeService("registry", heartbeat_ms=100).start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def gw(keys, registry):
    with tempfile.TemporaryDirectory() as tmp:
        partners = (f"# the allow-list\n"
                    f"{keys['centraide'][0].decode()} centraide tables=*\n"
                    f"{keys['ville'][0].decode()} ville tables=tqmn,tqhm\n")
        g = Gateway(tmp, services={"registry": registry}, partners=partners,
                    partner_types=f"{EVENT}=registry,{ECHO}=funding", heartbeat_ms=100,
                    env={"CONCERTO_GATEWAY_DEADLINE_MS": "500"}).start()
        g.wait_ready()
        yield g
        assert g.stop() == 0, g.log()


def event(event_id, table_id="tqmn", note="paid", **fields):
    return make_envelope(EVENT, T.PartnerEvent(table_id=table_id, note=note),
                         idempotency_key=event_id, source="centraide", **fields)


def test_event_is_applied_once_and_acknowledged_each_time(gw, keys, registry):
    sock = partner_socket(gw, keys["centraide"])
    try:
        answers = []
        for _ in range(3):
            frame = event("evt-1")
            env, reply = ask(sock, [frame])
            assert reply.status == E.OK, reply
            assert env.correlation_id == parse_envelope(frame).id
            answers.append(reply)
        result = T.PartnerEventResult()
        result.ParseFromString(answers[0].result)
        assert result.applied == 1 and result.note == "paid"
        assert answers[0] == answers[1] == answers[2]
        key = "partner/centraide/evt-1"
        assert registry.applied[key] == 1
        forwarded = [r for r in registry.received(EVENT) if r.idempotency_key == key]
        assert len(forwarded) == 3
        assert {r.actor for r in forwarded} == {"partner:centraide"}
        assert {r.source for r in forwarded} == {"gateway"}
    finally:
        sock.close()


def test_acknowledgement_waits_for_the_service(gw, keys, registry):
    registry.silent = True
    sock = partner_socket(gw, keys["centraide"])
    try:
        t0 = time.monotonic()
        env, reply = ask(sock, [event("evt-slow")])
        assert reply.status == E.DEADLINE_EXCEEDED
        assert time.monotonic() - t0 >= 0.5
    finally:
        registry.silent = False
        sock.close()


def test_unknown_key_is_refused(gw, keys):
    sock = partner_socket(gw, keys["stranger"])
    try:
        assert ask(sock, [event("evt-x")], timeout_ms=1500) is None
    finally:
        sock.close()
    assert "partner refused" in gw.log()


def test_plaintext_client_is_refused(gw):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(gw.partner_endpoint)
    try:
        assert ask(sock, [event("evt-plain")], timeout_ms=1500) is None
    finally:
        sock.close()


def test_wrong_server_key_is_refused(gw, keys):
    sock = partner_socket(gw, keys["centraide"], server_key=zmq.curve_keypair()[0])
    try:
        assert ask(sock, [event("evt-k")], timeout_ms=1500) is None
    finally:
        sock.close()


BAD_KEY = "idempotency_key must hold the event id: 1-180 printable characters"


@pytest.mark.parametrize("frames,message", [
    pytest.param([b"\xff\x00garbage"], "frame is not a protobuf Envelope", id="not protobuf"),
    pytest.param([make_envelope(EVENT, T.PartnerEvent(table_id="tqmn"),
                                idempotency_key="e")[:10]],
                 "frame is not a protobuf Envelope", id="cut inside the id"),
    pytest.param([b""], "envelope id missing or not 16 bytes", id="empty frame"),
    pytest.param([b"a", b"b", b"c", b"d", b"e"],
                 "expected one frame: a packed concerto.common.v1.Envelope", id="five frames"),
    # the idempotency key is the last field: cutting 3 bytes drops it whole
    pytest.param([make_envelope(EVENT, b"", idempotency_key="e")[:-3]], BAD_KEY,
                 id="key cut off"),
    pytest.param([make_envelope(EVENT, b"\xff\xff\xff", idempotency_key="e")],
                 "the payload does not decode as its type", id="payload not its type"),
    pytest.param([make_envelope("not a type!", b"", idempotency_key="e")],
                 "envelope type missing or not a message type name", id="bad type name"),
    pytest.param([make_envelope(EVENT, T.PartnerEvent(table_id="tqmn"))], BAD_KEY,
                 id="no event id"),
    pytest.param([make_envelope(EVENT, T.PartnerEvent(table_id="tqmn"),
                                idempotency_key="has space")], BAD_KEY, id="key with a space"),
])
def test_garbage_gets_invalid_argument_and_the_gateway_keeps_serving(gw, keys, frames, message):
    sock = partner_socket(gw, keys["centraide"])
    try:
        answer = ask(sock, frames)
        assert answer is not None, frames
        assert answer[1].status == E.INVALID_ARGUMENT, answer[1]
        assert answer[1].message == message
        env, reply = ask(sock, [event("evt-after-garbage")])
        assert reply.status == E.OK
    finally:
        sock.close()
    assert gw.http().get("/healthz").status == 200


def test_error_reply_carries_the_id_of_a_readable_envelope(gw, keys):
    sock = partner_socket(gw, keys["centraide"])
    try:
        frame = make_envelope(EVENT, T.PartnerEvent(table_id="tqmn"))
        env, reply = ask(sock, [frame])
        assert reply.status == E.INVALID_ARGUMENT
        assert env.correlation_id == parse_envelope(frame).id
    finally:
        sock.close()


def test_req_socket_framing_is_answered(gw, keys):
    sock = partner_socket(gw, keys["centraide"], kind=zmq.REQ)
    try:
        sock.send(event("evt-req"))
        assert sock.poll(3000)
        assert parse_reply(parse_envelope(sock.recv())).status == E.OK
    finally:
        sock.close()


def test_type_not_accepted_from_partners_is_denied(gw, keys, registry):
    sock = partner_socket(gw, keys["centraide"])
    try:
        frame = make_envelope("concerto.common.v1.StatusRequest", E.StatusRequest(),
                              idempotency_key="evt-s")
        env, reply = ask(sock, [frame])
        assert reply.status == E.PERMISSION_DENIED
        assert reply.message == "this message type is not accepted from partners"
    finally:
        sock.close()


def test_partner_may_speak_only_for_its_tables(gw, keys, registry):
    sock = partner_socket(gw, keys["ville"])
    try:
        assert ask(sock, [event("v-1", table_id="tqhm")])[1].status == E.OK
        denied = ask(sock, [event("v-2", table_id="other")])[1]
        assert denied.status == E.PERMISSION_DENIED
        assert denied.message == "this partner may not speak for that Table"
        assert ask(sock, [event("v-3", table_id="")])[1].status == E.PERMISSION_DENIED
        assert "partner/ville/v-2" not in registry.applied
        assert registry.applied["partner/ville/v-1"] == 1
    finally:
        sock.close()


def test_owning_service_down_is_unavailable(gw, keys):
    # EchoRequest is routed to funding, which is not running.
    sock = partner_socket(gw, keys["centraide"])
    try:
        frame = make_envelope(ECHO, T.EchoRequest(text="x"), idempotency_key="evt-down")
        env, reply = ask(sock, [frame])
        assert reply.status == E.UNAVAILABLE
    finally:
        sock.close()


def test_partner_metrics_count_outcomes(gw, keys):
    before = gw.metric("concerto_gateway_partner_events_total", outcome="accepted")
    rejected = gw.metric("concerto_gateway_partner_events_total", outcome="rejected")
    sock = partner_socket(gw, keys["centraide"])
    try:
        assert ask(sock, [event("evt-m")])[1].status == E.OK
        assert ask(sock, [b"junk"])[1].status == E.INVALID_ARGUMENT
    finally:
        sock.close()
    assert gw.metric("concerto_gateway_partner_events_total", outcome="accepted") == before + 1
    assert gw.metric("concerto_gateway_partner_events_total", outcome="rejected") == rejected + 1


def test_public_key_must_match_the_secret(tmp_path):
    g = Gateway(str(tmp_path), partners="", required=[])
    with open(g.env["CONCERTO_GATEWAY_CURVE_PUBLIC"], "w") as f:
        f.write(zmq.curve_keypair()[0].decode() + "\n")
    g.start(wait_ready=False)
    assert g.proc.wait(10) == 1
    assert "is not the public key of" in g.log()


def test_status_lists_the_accepted_types(gw):
    client = gw.http()
    try:
        accepted = client.get("/v1/status").json()["gateway"]["partnerTypes"]
    finally:
        client.close()
    assert accepted == [{"type": EVENT, "service": "registry"},
                        {"type": ECHO, "service": "funding"}]


def test_nothing_is_accepted_until_types_are_configured(tmp_path, keys, registry):
    g = Gateway(str(tmp_path), services={"registry": registry},
                partners=f"{keys['centraide'][0].decode()} centraide tables=*\n").start()
    try:
        g.wait_ready()
        client = g.http()
        assert client.get("/v1/status").json()["gateway"]["partnerTypes"] == []
        client.close()
        sock = partner_socket(g, keys["centraide"])
        try:
            frame = make_envelope("concerto.registry.v1.RecordAttestationRequest",
                                  idempotency_key="evt-unconfigured")
            reply = ask(sock, [frame])[1]
            assert reply.status == E.PERMISSION_DENIED
            assert reply.message == "this message type is not accepted from partners"
        finally:
            sock.close()
    finally:
        assert g.stop() == 0, g.log()

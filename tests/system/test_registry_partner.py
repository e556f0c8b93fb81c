"""A Table's own system sending membership changes and attestations for
its Table through the gateway's partner ingress (CURVE) to a real
concerto-registry: accepted for its own Table with actor partner:<name>,
applied once however often it is retried, refused for another Table.
"""
import tempfile

import pytest
import zmq

from concerto.common.v1 import envelope_pb2 as E
from concerto.registry.v1 import registry_pb2 as R
from concerto_harness import Gateway, ask, demo_registry, make_envelope, partner_socket

TYPES = ",".join(f"concerto.registry.v1.{t}" for t in
                 ("AddMembershipRequest", "EndMembershipRequest", "RecordAttestationRequest"))


@pytest.fixture(scope="module")
def world():
    keys = zmq.curve_keypair()
    with tempfile.TemporaryDirectory() as tmp, demo_registry(tmp) as registry:
        gw = Gateway(tmp, services={"registry": registry}, partner_types=TYPES,
                     partners=f"{keys[0].decode()} tqmn-system tables=tqmn\n",
                     tokens=[("reader", "rita")])
        sock = None
        try:
            gw.start().wait_ready()
            sock = partner_socket(gw, keys)
            yield registry, gw, sock
        finally:
            if sock is not None:
                sock.close()
            assert gw.stop() == 0, gw.log()


def send(sock, msg, event_id):
    answer = ask(sock, make_envelope(msg.DESCRIPTOR.full_name, msg, idempotency_key=event_id,
                                     source="tqmn-system"), timeout_ms=5000)
    assert answer is not None, "no acknowledgement"
    return answer[1]


def test_partner_membership_is_applied_once_with_the_partner_actor(world):
    registry, gw, sock = world
    msg = R.AddMembershipRequest(table_id="tqmn", organization_id="cdc-centre-sud",
                                 role="observer", joined_on="2025-03-01")
    replies = [send(sock, msg, "tqmn-evt-1") for _ in range(3)]
    assert all(r.status == E.OK for r in replies), replies[0]
    assert replies[0] == replies[1] == replies[2]
    member = R.Membership()
    member.ParseFromString(replies[0].result)
    assert member.table_id == "tqmn" and member.role == "observer"
    reader = gw.http(token=gw.tokens["rita"])
    try:
        members = reader.get("/v1/tables/tqmn/members").json()["memberships"]
        assert [m["organizationId"] for m in members].count("cdc-centre-sud") == 1
        entries = reader.get("/v1/tables/tqmn/history").json()["entries"]
        assert entries[-1]["actor"] == "partner:tqmn-system"
        assert entries[-1]["membershipStarted"]["membership"]["organizationId"] == "cdc-centre-sud"
    finally:
        reader.close()
    ended = send(sock, R.EndMembershipRequest(table_id="tqmn", organization_id="cdc-centre-sud",
                                              left_on="2025-09-01"), "tqmn-evt-2")
    assert ended.status == E.OK, ended


def test_partner_attestation_counts_for_networking_and_synergy(world):
    registry, gw, sock = world
    reply = send(sock, R.RecordAttestationRequest(table_id="tqmn", attested_on="2025-05-01",
                                                  author="Assemblée générale de la TQMN"),
                 "tqmn-evt-3")
    assert reply.status == E.OK, reply
    reader = gw.http(token=gw.tokens["rita"])
    try:
        chars = reader.get("/v1/tables/tqmn/characteristics?asOf=2025-06-01").json()
        synergy = [c for c in chars["characteristics"] if c["code"] == "networking_synergy"][0]
        assert synergy["met"] is True
        assert {"name": "author", "value": "Assemblée générale de la TQMN"} in synergy["facts"]
    finally:
        reader.close()


def test_partner_cannot_speak_for_another_table(world):
    registry, gw, sock = world
    reply = send(sock, R.AddMembershipRequest(table_id="vsms", organization_id="cdc-centre-sud"),
                 "tqmn-evt-4")
    assert reply.status == E.PERMISSION_DENIED, reply
    assert reply.message == "this partner may not speak for that Table"
    # Recognition is not among the partner types at all, even for its own Table.
    refused = send(sock, R.ChangeRecognitionRequest(table_id="tqmn", status="suspended",
                                                    reason="self-service"), "tqmn-evt-5")
    assert refused.status == E.PERMISSION_DENIED, refused
    assert refused.message == "this message type is not accepted from partners"

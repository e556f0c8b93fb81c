"""The business clock and Montréal's calendar at a daemon's start.

CONCERTO_CLOCK_START sets business time (logged at start); a value that is
not an instant, a zone the system cannot load or a fiscal year that starts
in January stops the daemon before it serves, with the reason. Every
daemon lists both settings in --help. The registry's "today" (default
dates, "not in the future") is Montréal's date.
"""
import os
import subprocess
import tempfile
import time

import pytest
import zmq

from concerto.common.v1 import envelope_pb2 as E
from concerto.registry.v1 import registry_pb2 as R
from concerto_harness import (BIN, DEMO_DATA, make_envelope, parse_envelope, parse_reply,
                              service_env, start_service, tcp_endpoint)

REGISTRY = os.path.join(BIN, "concerto-registry")


def run_registry(tmp, **env):
    """Starts the registry expecting it to refuse; returns its stderr."""
    full = dict(os.environ, CONCERTO_DATA_DIR=tmp,
                **service_env("registry", tcp_endpoint(), tcp_endpoint()), **env)
    proc = subprocess.run([REGISTRY], env=full, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1, proc.stderr
    return proc.stderr


def test_help_lists_the_clock_and_the_fiscal_year():
    out = subprocess.run([REGISTRY, "--help"], capture_output=True, text=True).stdout
    assert "CONCERTO_CLOCK_START" in out
    assert "CONCERTO_FISCAL_YEAR_START_MONTH" in out and "(default: 4)" in out


@pytest.mark.parametrize("value, says", [
    ("2026-11-26", "'2026-11-26' is not an ISO 8601 instant such as 2026-11-26T03:30:00Z"),
    ("2026-11-26T03:30:00", "has no zone: end it with Z or an offset"),
    ("2026-02-30T00:00:00Z", "is not a real date and time"),
    ("tomorrow", "'tomorrow' is not an ISO 8601 instant"),
])
def test_bad_clock_start_stops_the_daemon_with_the_reason(value, says):
    with tempfile.TemporaryDirectory() as tmp:
        err = run_registry(tmp, CONCERTO_CLOCK_START=value)
        assert "cannot set the business clock" in err and "CONCERTO_CLOCK_START" in err
        assert says in err
        assert "serving" not in err


def test_missing_zone_stops_the_daemon_rather_than_using_utc():
    with tempfile.TemporaryDirectory() as tmp:
        err = run_registry(tmp, TZDIR=tmp)
        assert f"cannot load the time zone America/Toronto from {tmp}/America/Toronto" in err
        assert "tzdata" in err


def test_fiscal_year_starting_in_january_is_refused():
    with tempfile.TemporaryDirectory() as tmp:
        err = run_registry(tmp, CONCERTO_FISCAL_YEAR_START_MONTH="1")
        assert "CONCERTO_FISCAL_YEAR_START_MONTH=1: expected an integer from 2 to 12" in err


def test_clock_start_is_logged_with_montreal_date():
    with tempfile.TemporaryDirectory() as tmp:
        d = start_service("registry", tmp, env={"CONCERTO_CLOCK_START": "2026-11-26T03:30:00Z"})
        try:
            d.wait_log("business clock set")
            assert "start=2026-11-26T03:30:00Z today=2026-11-25 zone=America/Toronto" in d.log()
        finally:
            assert d.stop() == 0, d.log()


def ask(endpoint, msg, result_type=None):
    """One request to a daemon's ROUTER; returns the Reply and its result."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(endpoint)
    try:
        sock.send(make_envelope(msg.DESCRIPTOR.full_name, msg, source="pytest",
                                actor="operator:pytest"))
        assert sock.poll(10000), "no reply within 10 s"
        reply = parse_reply(parse_envelope(sock.recv()))
    finally:
        sock.close()
    result = None
    if result_type is not None and reply.status == E.OK:
        result = result_type()
        result.ParseFromString(reply.result)
    return reply, result


def test_registry_today_is_montreal_date_not_utc():
    """03:30 UTC on November 26 is still November 25 in Montréal."""
    with tempfile.TemporaryDirectory() as tmp:
        d = start_service("registry", tmp, env={"CONCERTO_CLOCK_START": "2026-11-26T03:30:00Z",
                                                "CONCERTO_REGISTRY_DEMO_DATA": DEMO_DATA})
        try:
            d.wait_log("demo data imported")
            reply, member = ask(d.router, R.AddMembershipRequest(
                table_id="tqmn", organization_id="cdc-centre-sud", role="observer"), R.Membership)
            assert reply.status == E.OK, reply.message
            assert member.joined_on == "2026-11-25"
            reply, _ = ask(d.router, R.RecordAttestationRequest(
                table_id="tqmn", attested_on="2026-11-26", author="Conseil de la TQMN"))
            assert reply.status == E.INVALID_ARGUMENT
            assert "must not be in the future (today is 2026-11-25)" in reply.message
            reply, att = ask(d.router, R.RecordAttestationRequest(
                table_id="tqmn", author="Conseil de la TQMN"), R.Attestation)
            assert reply.status == E.OK, reply.message
            assert att.attested_on == "2026-11-25"
        finally:
            assert d.stop() == 0, d.log()


def test_a_table_read_follows_the_date_at_midnight_without_a_write():
    """The registry keeps a Table's answer until the next write; the date
    is part of what it is kept under, so at Montréal's midnight a person
    who starts that day appears though nothing was written."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"CONCERTO_CLOCK_START": "2026-11-26T12:00:00Z",
               "CONCERTO_REGISTRY_DEMO_DATA": DEMO_DATA}
        d = start_service("registry", tmp, env=env)
        try:
            d.wait_log("demo data imported")
            reply, _ = ask(d.router, R.AddPersonRequest(table_id="tqmn", person=R.Person(
                name="Awa Diallo", role="coordinator", since="2026-11-26")), R.Person)
            assert reply.status == E.OK, reply.message
        finally:
            assert d.stop() == 0, d.log()
        # 23:59:55 on November 25 in Montréal (UTC-5).
        t0 = time.monotonic()
        d = start_service("registry", tmp, env=dict(env, CONCERTO_CLOCK_START="2026-11-26T04:59:55Z"))
        try:
            names = []
            for _ in range(2):
                reply, table = ask(d.router, R.GetTableRequest(id="tqmn"), R.Table)
                assert reply.status == E.OK, reply.message
                names.append([p.name for p in table.people])
            assert time.monotonic() - t0 < 4.5, "the registry answered too late for this test"
            assert names[0] == names[1] and "Awa Diallo" not in names[0]
            time.sleep(max(0.0, 6.0 - (time.monotonic() - t0)))
            reply, table = ask(d.router, R.GetTableRequest(id="tqmn"), R.Table)
            assert "Awa Diallo" in [p.name for p in table.people]
        finally:
            assert d.stop() == 0, d.log()

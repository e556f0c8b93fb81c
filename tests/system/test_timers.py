"""Durable timers and the business clock, with concerto-testpub.

A timer is scheduled by a command (ScheduleEmit) and, when due in business
time, runs an Emit as a command: one event about its subject. These tests
kill the daemon between scheduling and firing, and at firing through the
test build's crash points (CONCERTO_TEST_CRASHPOINT), and check that each
timer's event exists exactly once; that timers due while the daemon was
down run at start, in order; that cancelled and replaced timers do not
run; and that due instants are business time (CONCERTO_CLOCK_START).
"""
import os
import tempfile
import time
import uuid

import pytest
import zmq

from concerto.common.v1 import envelope_pb2 as E
from concerto.common.v1 import table_status_pb2 as TS
from concerto.test.v1 import delivery_pb2 as D
from concerto.test.v1 import timers_pb2 as T
from concerto_harness import (BIN, Daemon, outbox_payloads, service_env, tcp_endpoint,
                              wait_until)

BEFORE_COMMIT = "timer-fired-before-commit"
AFTER_COMMIT = "timer-fired-after-commit"

# Timers that must not fire before a step of the test (a kill, a stop, a
# cancel) are due an hour of business time after the daemon starts at
# START; it is then started again at LATER, when they are all due. No
# timer then depends on how fast the machine runs the test.
START = "2030-01-01T00:00:00Z"
LATER = "2030-01-01T02:00:00Z"
HOUR_MS = 3_600_000


class Publisher:
    """concerto-testpub on free ports with its own data directory."""

    def __init__(self, tmp, **env):
        self.tmp = tmp
        self.base_env = dict(os.environ, CONCERTO_DATA_DIR=tmp, CONCERTO_HEARTBEAT_MS="200",
                             **service_env("testpub", tcp_endpoint(), tcp_endpoint()), **env)
        self.router = self.base_env["CONCERTO_TESTPUB_ROUTER"]
        self.daemon = Daemon("testpub", [os.path.join(BIN, "concerto-testpub")], self.base_env, tmp)
        self.ctx = zmq.Context()

    def start(self, **env):
        self.daemon.env = dict(self.base_env, **env)
        self.daemon.start()
        self.daemon.wait_log("serving")
        return self

    def call(self, msg, result_type=None):
        sock = self.ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(self.router)
        env = E.Envelope(id=uuid.uuid4().bytes, source="test", type=msg.DESCRIPTOR.full_name,
                         timestamp_ms=int(time.time() * 1000), payload=msg.SerializeToString())
        sock.send(env.SerializeToString())
        try:
            assert sock.poll(5000), "no answer"
            answer = E.Envelope()
            answer.ParseFromString(sock.recv())
        finally:
            sock.close()
        reply = E.Reply()
        reply.ParseFromString(answer.payload)
        assert reply.status == E.OK, reply.message
        if result_type is None:
            return None
        result = result_type()
        result.ParseFromString(reply.result)
        return result

    def clock(self):
        return self.call(T.ClockRequest(), T.ClockReading)

    def schedule(self, key, due_ms, subject, payload=b"x"):
        self.call(T.ScheduleEmit(key=key, due_ms=due_ms,
                                 emit=D.Emit(payload=payload, subject=subject)))

    def cancel(self, key):
        return self.call(T.CancelTimer(key=key), T.CancelTimerResult).cancelled

    def pending(self, prefix=""):
        return list(self.call(T.ListTimers(key_prefix=prefix), T.TimerList).timers)

    def events(self, subject):
        """Events emitted about `subject` ("table:<id>")."""
        req = TS.TableStatusRequest(table_id=subject.split(":", 1)[1])
        return self.call(req, D.TableActivity).events

    def wait_events(self, subject, count):
        wait_until(lambda: self.events(subject) >= count, timeout=15, interval=0.05,
                   what=f"{count} events about {subject}")
        assert self.events(subject) == count

    def wait_killed(self):
        wait_until(lambda: not self.daemon.running(), timeout=15, what="the crash point")
        assert self.daemon.proc.returncode == -9, self.daemon.log()

    def past_the_hour(self, after_ms):
        """Schedules a sentinel timer due at `after_ms`, restarts the daemon
        at LATER and waits for the sentinel: every timer due before it has
        had its turn."""
        self.schedule("sentinel", after_ms, "table:sentinel")
        self.stop()
        self.start(CONCERTO_CLOCK_START=LATER)
        self.wait_events("table:sentinel", 1)

    def payloads(self):
        return outbox_payloads(os.path.join(self.tmp, "testpub.db"))

    def stop(self):
        code = self.daemon.stop()
        assert code == 0, self.daemon.log()

    def close(self):
        if self.daemon.running():
            self.daemon.kill()
        self.ctx.destroy(linger=0)


@pytest.fixture
def testpub():
    with tempfile.TemporaryDirectory() as tmp:
        pub = Publisher(tmp)
        try:
            yield pub
        finally:
            pub.close()


def test_timer_survives_a_kill_between_scheduling_and_firing(testpub):
    testpub.start(CONCERTO_CLOCK_START=START)
    testpub.schedule("kill-before", testpub.clock().now_ms + HOUR_MS, "table:t1")
    testpub.daemon.kill()
    testpub.start(CONCERTO_CLOCK_START=LATER)
    testpub.wait_events("table:t1", 1)
    assert testpub.pending() == []
    testpub.daemon.wait_log('msg="timer fired" key=kill-before')
    testpub.stop()
    # Another start, the timer's instant still past, finds nothing to run.
    testpub.start(CONCERTO_CLOCK_START=LATER)
    assert testpub.events("table:t1") == 1
    testpub.stop()


def crash_at_firing(testpub, point, subject):
    """Schedules a timer on a daemon that kills itself at `point` when it
    fires, waits for the kill and starts the daemon again."""
    testpub.start(CONCERTO_TEST_CRASHPOINT=point)
    testpub.schedule(point, testpub.clock().now_ms + 200, subject)
    testpub.wait_killed()
    assert f'msg="crash point reached" point={point}' in testpub.daemon.log()
    testpub.start()


def test_crash_at_firing_before_commit_runs_the_timer_after_restart(testpub):
    crash_at_firing(testpub, BEFORE_COMMIT, "table:t2")
    testpub.wait_events("table:t2", 1)
    assert testpub.pending() == []
    testpub.stop()
    assert testpub.payloads() == [b"x"]


def test_crash_at_firing_after_commit_does_not_run_it_again(testpub):
    crash_at_firing(testpub, AFTER_COMMIT, "table:t3")
    assert testpub.pending() == []
    assert testpub.events("table:t3") == 1
    testpub.stop()
    assert "timer fired" not in testpub.daemon.log()
    assert testpub.payloads() == [b"x"]


def test_timers_due_while_down_run_at_start_in_order(testpub):
    testpub.start(CONCERTO_CLOCK_START=START)
    due = testpub.clock().now_ms + HOUR_MS
    for key, offset in (("c", 900), ("a", 700), ("b", 800)):
        testpub.schedule(key, due + offset, "table:order", payload=key.encode())
    testpub.stop()
    testpub.start(CONCERTO_CLOCK_START=LATER)
    testpub.wait_events("table:order", 3)
    testpub.stop()
    assert testpub.payloads() == [b"a", b"b", b"c"]


def test_cancelled_timer_never_runs(testpub):
    testpub.start(CONCERTO_CLOCK_START=START)
    due = testpub.clock().now_ms + HOUR_MS
    testpub.schedule("cancel-me", due, "table:cancelled")
    assert testpub.cancel("cancel-me") is True
    assert testpub.cancel("cancel-me") is False
    # A later timer firing shows the cancelled one's instant has passed.
    testpub.past_the_hour(due + 300)
    assert testpub.events("table:cancelled") == 0
    testpub.stop()


def test_scheduling_a_key_again_replaces_the_timer(testpub):
    testpub.start(CONCERTO_CLOCK_START=START)
    due = testpub.clock().now_ms + HOUR_MS
    testpub.schedule("decision:t4", due, "table:t4", payload=b"old")
    testpub.schedule("decision:t4", due + 200, "table:t4", payload=b"new")
    pending = testpub.pending("decision:")
    assert [(p.key, p.due_ms, p.type) for p in pending] == [
        ("decision:t4", due + 200, "concerto.test.v1.Emit")]
    testpub.past_the_hour(due + 500)
    assert testpub.events("table:t4") == 1
    testpub.stop()
    assert testpub.payloads() == [b"new", b"x"]


@pytest.mark.parametrize("start, today, fiscal_year", [
    ("2026-11-26T03:30:00Z", "2026-11-25", "2026-2027"),
    ("2026-04-01T03:59:59Z", "2026-03-31", "2025-2026"),
    ("2026-04-01T00:00:00-04:00", "2026-04-01", "2026-2027"),
])
def test_business_clock_gives_montreal_date_and_fiscal_year(start, today, fiscal_year):
    with tempfile.TemporaryDirectory() as tmp:
        pub = Publisher(tmp, CONCERTO_CLOCK_START=start)
        try:
            pub.start()
            reading = pub.clock()
            assert reading.today == today
            assert reading.fiscal_year == fiscal_year
            pub.stop()
        finally:
            pub.close()


def test_timers_go_by_business_time():
    with tempfile.TemporaryDirectory() as tmp:
        pub = Publisher(tmp, CONCERTO_CLOCK_START="2020-01-01T00:00:00Z")
        try:
            pub.start()
            business = pub.clock().now_ms
            assert 1577836800000 <= business < 1577836800000 + 60_000
            # Due at the real time: years ahead in business time.
            pub.schedule("real-now", int(time.time() * 1000), "table:real")
            pub.schedule("business", business + 300, "table:business")
            pub.wait_events("table:business", 1)
            assert pub.events("table:real") == 0
            assert [p.key for p in pub.pending()] == ["real-now"]
            pub.stop()
        finally:
            pub.close()


def test_crash_points_are_only_in_test_daemons():
    out = os.popen(f"{os.path.join(BIN, 'concerto-testpub')} --help").read()
    assert "CONCERTO_TEST_CRASHPOINT" in out
    for name in ("concerto-testpub", "concerto-registry", "concerto-gateway"):
        with open(os.path.join(BIN, name), "rb") as f:
            present = BEFORE_COMMIT.encode() in f.read()
        assert present == (name == "concerto-testpub"), name

"""Delivery under faults, with real daemons over real sockets.

concerto-testpub appends one event per Emit command; concerto-testsub
applies each event by inserting a row (no uniqueness, so a double apply
shows). While 10,000 events are emitted, the subscriber is SIGKILLed and
restarted three times, then the publisher is SIGKILLed mid-batch and
restarted. In the end the subscriber must have applied every event exactly
once: the same count and the same order-independent checksum as the
publisher's outbox.
"""
import hashlib
import os
import sqlite3
import subprocess
import tempfile
import time
import uuid

import pytest
import zmq

from concerto.common.v1 import envelope_pb2 as E
from concerto.test.v1 import delivery_pb2 as D
from concerto_harness import (BIN, Daemon, outbox_payloads, service_env, tcp_endpoint,
                              wait_until)

TOTAL = 10_000
CHUNK = 1_000


def checksum(payloads):
    total = 0
    for p in payloads:
        total += int.from_bytes(hashlib.sha256(p).digest()[:8], "big")
    return total % (1 << 64)


def stop_cleanly(daemon):
    code = daemon.stop()
    assert code == 0, f"{daemon.name} did not exit cleanly: {code}\n{daemon.log()}"


@pytest.fixture
def system():
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CONCERTO_DATA_DIR=tmp, CONCERTO_HEARTBEAT_MS="200",
                   **service_env("testpub", tcp_endpoint(), tcp_endpoint()),
                   **service_env("testsub", tcp_endpoint(), tcp_endpoint()))
        pub, sub = (Daemon(name, [os.path.join(BIN, f"concerto-{name}")], env, tmp)
                    for name in ("testpub", "testsub"))
        pub.start()
        sub.start()
        # A SIGTERM before a daemon has set up its signal handlers kills it
        # outright: a short test must not stop one that is still starting.
        pub.wait_log("serving")
        sub.wait_log("serving")
        ctx = zmq.Context()
        try:
            yield pub, sub, ctx, env, tmp
        finally:
            ctx.destroy(linger=0)
            try:
                stop_cleanly(sub)
            finally:
                stop_cleanly(pub)  # even when the subscriber did not stop cleanly


def envelope(msg, env_id=None):
    return E.Envelope(id=env_id or uuid.uuid4().bytes, source="test",
                      timestamp_ms=int(time.time() * 1000),
                      type=msg.DESCRIPTOR.full_name, payload=msg.SerializeToString())


def reply_of(frame):
    env = E.Envelope()
    env.ParseFromString(frame)
    rep = E.Reply()
    rep.ParseFromString(env.payload)
    return env, rep


def send_until_acked(ctx, endpoint, frames, before_wait=None, deadline_s=60):
    """Sends every frame, resending the unacknowledged ones (same envelope
    id, so the same idempotency key) until each has an OK reply."""
    pending = dict(frames)  # id -> packed envelope
    end = time.time() + deadline_s
    while pending:
        assert time.time() < end, f"{len(pending)} commands never acknowledged"
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(endpoint)
        for frame in pending.values():
            sock.send(frame)
        if before_wait:
            before_wait()
            before_wait = None
        while pending and sock.poll(2000):
            env, rep = reply_of(sock.recv())
            assert rep.status == E.OK, rep.message
            pending.pop(env.correlation_id, None)
        sock.close()


def emit(ctx, router, payloads):
    """One Emit command per payload, each until acknowledged."""
    frames = {}
    for payload in payloads:
        e = envelope(D.Emit(payload=payload))
        frames[e.id] = e.SerializeToString()
    send_until_acked(ctx, router, frames)


def request(ctx, endpoint, msg, timeout_ms=3000):
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    sock.send(envelope(msg).SerializeToString())
    try:
        if not sock.poll(timeout_ms):
            return None
        return reply_of(sock.recv())[1]
    finally:
        sock.close()


def stats(ctx, env):
    rep = request(ctx, env["CONCERTO_TESTSUB_ROUTER"], D.Stats())
    if rep is None:
        return None
    st = D.StatsResult()
    st.ParseFromString(rep.result)
    return st


def wait_applied(ctx, env, count, timeout):
    """Waits until the subscriber says it applied at least `count` events."""
    def applied():
        st = stats(ctx, env)
        return st is not None and st.applied >= count

    wait_until(applied, timeout=timeout, interval=0.1,
               what=f"the subscriber to apply {count} events")


def subscriber_cursor_at(ctx, env, sequence, timeout=10):
    """Waits until the subscriber's StatusRequest answer shows its cursor at
    `sequence`; returns that Heartbeat."""
    def heartbeat():
        rep = request(ctx, env["CONCERTO_TESTSUB_ROUTER"], E.StatusRequest())
        if rep is None:
            return None
        hb = E.Heartbeat()
        hb.ParseFromString(rep.result)
        return hb if hb.cursors and hb.cursors[0].applied_sequence == sequence else None

    return wait_until(heartbeat, timeout=timeout, interval=0.1,
                      what=f"the subscriber's cursor at {sequence}")


def test_every_event_applied_exactly_once_across_kills(system):
    pub, sub, ctx, env, tmp = system
    router = env["CONCERTO_TESTPUB_ROUTER"]
    payloads = [b"event-%06d-" % i + os.urandom(8) for i in range(TOTAL)]
    chunks = [payloads[i:i + CHUNK] for i in range(0, TOTAL, CHUNK)]
    for n, chunk in enumerate(chunks):
        frames = {}
        for p in chunk:
            e = envelope(D.Emit(payload=p))
            frames[e.id] = e.SerializeToString()
        before_wait = None
        if n in (2, 4, 6):
            sub.kill()  # the subscriber dies while events keep coming
            before_wait = sub.start
        elif n == 8:
            def crash_publisher():
                pub.kill()  # dies with commands in flight, maybe mid-commit
                pub.start()
            before_wait = crash_publisher
        send_until_acked(ctx, router, frames, before_wait)

    expected = checksum(payloads)
    wait_applied(ctx, env, TOTAL, timeout=60)
    time.sleep(1)  # anything applied twice would show up now
    st = stats(ctx, env)
    published = outbox_payloads(os.path.join(tmp, "testpub.db"))
    assert len(published) == TOTAL, "publisher outbox must hold each command's event once"
    assert checksum(published) == expected
    assert st.applied == TOTAL
    assert st.distinct_payloads == TOTAL
    assert st.checksum == expected
    assert sub.starts == 4 and pub.starts == 2


def test_event_whose_savepoint_is_lost_is_not_half_applied(system):
    """A refused event's writes are rolled back to its savepoint; when that
    fails, the whole batch is rolled back and the cursor stays put, rather
    than committing the refused event's write."""
    pub, sub, ctx, env, tmp = system
    router = env["CONCERTO_TESTPUB_ROUTER"]
    first = envelope(D.Emit(payload=b"first"))
    send_until_acked(ctx, router, {first.id: first.SerializeToString()})
    subscriber_cursor_at(ctx, env, 1)
    frames = {}
    for payload in (b"release-savepoint-then-refuse", b"after"):
        e = envelope(D.Emit(payload=payload))
        frames[e.id] = e.SerializeToString()
    send_until_acked(ctx, router, frames)
    sub.wait_log("no such savepoint")
    time.sleep(0.5)
    st = stats(ctx, env)
    assert st.applied == 1, "only the first event may be applied"
    rep = request(ctx, env["CONCERTO_TESTSUB_ROUTER"], E.StatusRequest())
    hb = E.Heartbeat()
    hb.ParseFromString(rep.result)
    assert hb.cursors[0].applied_sequence == 1


def test_a_stderr_nobody_reads_costs_log_lines_not_answers():
    """A daemon whose stderr is a pipe nobody reads keeps answering; the
    lines that found no room are counted in its heartbeat."""
    with tempfile.TemporaryDirectory() as tmp:
        router = tcp_endpoint()
        env = dict(os.environ, CONCERTO_DATA_DIR=tmp,
                   **service_env("testpub", router, tcp_endpoint()))
        proc = subprocess.Popen([os.path.join(BIN, "concerto-testpub")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ctx = zmq.Context()
        try:
            assert request(ctx, router, E.StatusRequest(), timeout_ms=10000).status == E.OK
            # Each malformed frame is answered and logged (a warn line of
            # about 100 bytes): enough to fill the pipe and the log queue.
            sock = ctx.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(router)
            for _ in range(6000):
                sock.send(b"\xff garbage")
            for _ in range(6000):
                assert sock.poll(5000), "the daemon stopped answering"
                sock.recv()
            sock.close()
            rep = request(ctx, router, E.StatusRequest())
            hb = E.Heartbeat()
            hb.ParseFromString(rep.result)
            assert hb.log_lines_dropped > 0
            proc.terminate()
            assert proc.wait(10) == 0
        finally:
            ctx.destroy(linger=0)
            proc.kill()
            proc.wait()
            proc.stderr.close()


def test_every_request_is_answered_one_at_a_time_and_in_bursts(system):
    """The loop waits on the sockets' ZMQ_FD edges: a reply sent may hide
    the edge of the next request, which must still be read at once, one
    request at a time as in bursts (a missed edge would hang a request until
    another came)."""
    pub, sub, ctx, env, tmp = system
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(env["CONCERTO_TESTPUB_ROUTER"])
    try:
        for size in [1] * 500 + [2, 3, 50, 300, 1000] * 4:
            for _ in range(size):
                sock.send(envelope(E.StatusRequest()).SerializeToString())
            for _ in range(size):
                assert sock.poll(2000), "a request was not answered"
                assert reply_of(sock.recv())[1].status == E.OK
    finally:
        sock.close()


def test_same_command_twice_gives_same_reply_and_one_event(system):
    pub, sub, ctx, env, tmp = system
    e = envelope(D.Emit(payload=b"once"))
    frame = e.SerializeToString()
    sock = ctx.socket(zmq.DEALER)
    sock.connect(env["CONCERTO_TESTPUB_ROUTER"])
    sock.send(frame)
    assert sock.poll(3000)
    _, first = reply_of(sock.recv())
    sock.send(frame)
    assert sock.poll(3000)
    _, second = reply_of(sock.recv())
    sock.close(linger=0)
    assert first.status == E.OK and first == second
    assert outbox_payloads(os.path.join(tmp, "testpub.db")) == [b"once"]


def test_same_key_different_payload_is_conflict(system):
    pub, sub, ctx, env, tmp = system
    env_id = uuid.uuid4().bytes
    sock = ctx.socket(zmq.DEALER)
    sock.connect(env["CONCERTO_TESTPUB_ROUTER"])
    sock.send(envelope(D.Emit(payload=b"a"), env_id).SerializeToString())
    assert sock.poll(3000)
    assert reply_of(sock.recv())[1].status == E.OK
    sock.send(envelope(D.Emit(payload=b"b"), env_id).SerializeToString())
    assert sock.poll(3000)
    rep = reply_of(sock.recv())[1]
    sock.close(linger=0)
    assert rep.status == E.CONFLICT
    assert "different request" in rep.message


MALFORMED = [
    (b"\xff\xff\xff garbage", "not a protobuf Envelope"),
    (E.Envelope(type="concerto.test.v1.Emit").SerializeToString(), "id missing"),
    (E.Envelope(id=b"short", type="x").SerializeToString(), "id missing"),
    (E.Envelope(id=uuid.uuid4().bytes).SerializeToString(), "type missing"),
    (E.Envelope(id=uuid.uuid4().bytes, type="no spaces allowed").SerializeToString(),
     "type missing"),
    (E.Envelope(id=uuid.uuid4().bytes, type="concerto.nope.v1.Unknown").SerializeToString(),
     "unknown message type concerto.nope.v1.Unknown"),
    (E.Envelope(id=uuid.uuid4().bytes, type="concerto.test.v1.Emit",
                payload=b"\xff\xff\xff").SerializeToString(), "payload does not decode"),
]


@pytest.mark.parametrize("frame,expected", MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_requests_get_invalid_argument(system, frame, expected):
    pub, sub, ctx, env, tmp = system
    sock = ctx.socket(zmq.DEALER)
    sock.connect(env["CONCERTO_TESTPUB_ROUTER"])
    sock.send(frame)
    assert sock.poll(3000), "a malformed request must still be answered"
    _, rep = reply_of(sock.recv())
    sock.close(linger=0)
    assert rep.status == E.INVALID_ARGUMENT
    assert expected in rep.message
    # and the daemon still serves
    assert request(ctx, env["CONCERTO_TESTPUB_ROUTER"], E.StatusRequest()).status == E.OK


def test_oversize_frame_is_dropped_and_daemon_keeps_serving(system):
    pub, sub, ctx, env, tmp = system
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(env["CONCERTO_TESTPUB_ROUTER"])
    sock.send(b"x" * (2 * 1024 * 1024))
    assert not sock.poll(1000), "an oversize frame drops the connection, unanswered"
    sock.close()
    assert pub.proc.poll() is None
    assert request(ctx, env["CONCERTO_TESTPUB_ROUTER"], E.StatusRequest()).status == E.OK


def test_status_reports_head_and_subscriber_cursor(system):
    pub, sub, ctx, env, tmp = system
    emit(ctx, env["CONCERTO_TESTPUB_ROUTER"], [b"s%d" % i for i in range(5)])
    hb = subscriber_cursor_at(ctx, env, 5)
    assert hb.service == "testsub"
    assert hb.cursors[0].source == "testpub"
    assert hb.cursors[0].applied_sequence == 5
    assert hb.cursors[0].source_head == 5
    rep = request(ctx, env["CONCERTO_TESTPUB_ROUTER"], E.StatusRequest())
    hb = E.Heartbeat()
    hb.ParseFromString(rep.result)
    assert hb.head_sequence == 5


def test_prune_never_passes_slowest_subscriber(system):
    pub, sub, ctx, env, tmp = system
    emit(ctx, env["CONCERTO_TESTPUB_ROUTER"], [b"p%d" % i for i in range(20)])
    # A second subscriber that has applied only 7 events holds pruning back.
    rep = request(ctx, env["CONCERTO_TESTPUB_ROUTER"],
                  E.SubscriberAck(subscriber="slow", applied_sequence=7))
    assert rep.status == E.OK
    # testsub tells testpub how far it got on its ticks (at once, then every
    # 5 s); until it says 7 or more, it is the slowest and holds pruning back.
    deleted = []

    def pruned_to_slow():
        rep = request(ctx, env["CONCERTO_TESTPUB_ROUTER"],
                      E.PruneOutboxRequest(up_to_sequence=1000))
        assert rep.status == E.OK
        res = E.PruneOutboxResult()
        res.ParseFromString(rep.result)
        assert res.pruned_up_to <= 7, "never past the slowest subscriber"
        deleted.append(res.rows_deleted)
        return res.pruned_up_to == 7

    wait_until(pruned_to_slow, what="pruning up to the slow subscriber")
    assert sum(deleted) == 7
    assert len(outbox_payloads(os.path.join(tmp, "testpub.db"))) == 13


def backup_status(ctx, router):
    rep = request(ctx, router, E.StatusRequest())
    hb = E.Heartbeat()
    hb.ParseFromString(rep.result)
    return hb.backup if hb.HasField("backup") else None


def backup(ctx, router, name):
    """Asks for a backup; returns (Reply, the BackupStatus once finished)."""
    rep = request(ctx, router, E.BackupRequest(path=name))
    if rep.status != E.OK:
        return rep, None
    return rep, backup_finished(ctx, router)


def backup_finished(ctx, router, timeout=10):
    """Waits for the last backup to end; returns its BackupStatus."""
    def finished():
        status = backup_status(ctx, router)
        return status if status and status.state != E.BACKUP_RUNNING else None

    return wait_until(finished, timeout=timeout, what="the backup to finish")


def test_backups_go_to_their_own_folder_and_never_overwrite(system):
    """Two daemons share the data folder: a backup named like the other's
    database lands in the asker's backup folder, the live database untouched;
    one named like its own database is written too; a name used before is
    refused."""
    pub, sub, ctx, env, tmp = system
    router = env["CONCERTO_TESTPUB_ROUTER"]
    emit(ctx, router, [b"b%d" % i for i in range(5)])
    subscriber_cursor_at(ctx, env, 5)
    for name, owner in (("testsub.db", "testpub"), ("testpub.db", "testpub")):
        rep, done = backup(ctx, router, name)
        assert rep.status == E.OK, rep.message
        res = E.BackupResult()
        res.ParseFromString(rep.result)
        expected = os.path.join(tmp, "backups", owner, name)
        assert res.path == expected
        assert done.state == E.BACKUP_DONE and done.path == expected
        assert done.bytes == os.path.getsize(expected) and done.pages_done == done.pages_total
        db = sqlite3.connect(expected)
        (head,) = db.execute("SELECT seq FROM sqlite_sequence WHERE name='outbox'").fetchone()
        db.close()
        assert head == 5
    # testsub's live database is still its own, and it still works.
    assert len(outbox_payloads(os.path.join(tmp, "testpub.db"))) == 5
    st = stats(ctx, env)
    assert st.applied == 5
    rep = request(ctx, router, E.BackupRequest(path="testpub.db"))
    assert rep.status == E.CONFLICT and "exists" in rep.message
    for bad in ("../escape.db", ".", "..", "a/b.db", "", "x y.db", "/tmp/x.db", "x.db.partial",
                "x" * 129):
        rep = request(ctx, router, E.BackupRequest(path=bad))
        assert rep.status == E.INVALID_ARGUMENT, bad
    assert sorted(os.listdir(os.path.join(tmp, "backups", "testpub"))) == ["testpub.db",
                                                                           "testsub.db"]


def test_a_backup_runs_in_steps_while_the_daemon_answers(tmp_path):
    """One page a loop turn: the backup is under way for many turns, during
    which requests are answered and a second backup is refused."""
    router = tcp_endpoint()
    env = dict(os.environ, CONCERTO_DATA_DIR=str(tmp_path), CONCERTO_BACKUP_STEP_PAGES="1",
               **service_env("testpub", router, tcp_endpoint()))
    pub = Daemon("testpub", [os.path.join(BIN, "concerto-testpub")], env, str(tmp_path)).start()
    ctx = zmq.Context()
    try:
        emit(ctx, router, [os.urandom(200_000) for _ in range(40)])  # about 2,000 pages
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(router)
        for msg in (E.BackupRequest(path="big.db"), E.StatusRequest(),
                    E.BackupRequest(path="other.db")):
            sock.send(envelope(msg).SerializeToString())
        answers = []
        for _ in range(3):
            assert sock.poll(5000), "the daemon must answer while the backup runs"
            answers.append(reply_of(sock.recv())[1])
        sock.close()
        assert answers[0].status == E.OK
        hb = E.Heartbeat()
        hb.ParseFromString(answers[1].result)
        assert hb.backup.state == E.BACKUP_RUNNING
        assert hb.backup.pages_done < hb.backup.pages_total
        assert answers[2].status == E.FAILED_PRECONDITION
        assert "running" in answers[2].message
        done = backup_finished(ctx, router, timeout=30)
        assert done.state == E.BACKUP_DONE and done.pages_total > 1500
        assert done.finished_ms >= done.started_ms > 0
        assert os.path.getsize(os.path.join(tmp_path, "backups", "testpub", "big.db")) == done.bytes
    finally:
        ctx.destroy(linger=0)
        assert pub.stop() == 0, pub.log()


def test_new_subscriber_moves_past_events_pruned_before_it_came(system):
    pub, sub, ctx, env, tmp = system
    router = env["CONCERTO_TESTPUB_ROUTER"]
    emit(ctx, router, [b"old%d" % i for i in range(10)])
    wait_applied(ctx, env, 10, timeout=10)
    # The subscriber is replaced by a new one with no history, after every
    # event it could have needed has been pruned.
    stop_cleanly(sub)
    for name in os.listdir(tmp):
        if name.startswith("testsub.db"):
            os.remove(os.path.join(tmp, name))
    assert request(ctx, router, E.SubscriberAck(subscriber="testsub",
                                                applied_sequence=10)).status == E.OK
    rep = request(ctx, router, E.PruneOutboxRequest(up_to_sequence=10))
    res = E.PruneOutboxResult()
    res.ParseFromString(rep.result)
    assert res.pruned_up_to == 10 and res.rows_deleted == 10
    sub.start()
    e = envelope(D.Emit(payload=b"new"))
    send_until_acked(ctx, router, {e.id: e.SerializeToString()})
    subscriber_cursor_at(ctx, env, 11)
    st = stats(ctx, env)
    assert st.applied == 1 and st.distinct_payloads == 1  # only the event it could get

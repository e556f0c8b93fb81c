"""concerto-gateway against slow, silent, dead and healthy services:
deadlines (504), down services (503 at once), late replies, heartbeat-based
health, the fan-out route, /readyz and /v1/status, and a real daemon's
heartbeats when one is built.
"""
import os
import tempfile
import threading
import time

import pytest

from concerto_harness import (BIN, FakeService, Gateway, make_reply, start_service,
                              wait_until)

ROUTES = """
GET /v1/test/registry/{text}  registry   concerto.test.v1.EchoRequest reader - 200
GET /v1/test/funding/{text}   funding    concerto.test.v1.EchoRequest reader - 200
GET /v1/test/forum/{text}     forum      concerto.test.v1.EchoRequest reader - 200
GET /v1/test/reporting/{text} reporting  concerto.test.v1.EchoRequest reader - 200
"""
DEADLINE_MS = 500
HEARTBEAT_MS = 100
ECHO = "concerto.test.v1.EchoRequest"


@pytest.fixture
def tmp():
    with tempfile.TemporaryDirectory() as d:
        yield d


@pytest.fixture
def fakes():
    started = {name: FakeService(name, heartbeat_ms=HEARTBEAT_MS).start()
               for name in ("registry", "funding", "forum")}
    yield started
    for f in started.values():
        f.stop()


@pytest.fixture
def gw(tmp, fakes):
    # reporting is not started: it stays down.
    g = Gateway(tmp, services=fakes, routes=ROUTES, heartbeat_ms=HEARTBEAT_MS,
                env={"CONCERTO_GATEWAY_DEADLINE_MS": str(DEADLINE_MS)}).start()
    g.wait_ready()
    yield g
    assert g.stop() == 0, g.log()


def at_the_service(fake, count):
    """Waits until `fake` has received more than `count` EchoRequests."""
    wait_until(lambda: len(fake.received(ECHO)) > count, timeout=5,
               what=f"the request to reach {fake.name}")


def timed(client, path):
    t0 = time.monotonic()
    r = client.get(path)
    return r, time.monotonic() - t0


def test_slow_service_gives_504_at_the_deadline_while_others_answer(gw):
    slow = {}

    def call_slow():
        slow["resp"], slow["elapsed"] = timed(gw.http(), "/v1/test/funding/x?sleepMs=3000")

    t = threading.Thread(target=call_slow)
    t.start()
    client = gw.http()
    fast = []
    while t.is_alive():
        r, elapsed = timed(client, "/v1/test/registry/still-here")
        assert r.status == 200 and r.json()["text"] == "still-here"
        fast.append(elapsed)
    t.join()
    assert slow["resp"].status == 504, slow["resp"]
    assert slow["resp"].json()["error"]["code"] == "DEADLINE_EXCEEDED"
    assert DEADLINE_MS / 1000 <= slow["elapsed"] < DEADLINE_MS / 1000 + 0.25, slow["elapsed"]
    assert len(fast) >= 5 and max(fast) < 0.2, fast


def test_silent_service_gives_504(gw, fakes):
    fakes["forum"].silent = True
    r, elapsed = timed(gw.http(), "/v1/test/forum/x")
    assert r.status == 504
    assert elapsed < DEADLINE_MS / 1000 + 0.25


def test_late_reply_is_dropped_and_counted(gw):
    before = gw.metric("concerto_gateway_late_replies_dropped_total", service="funding")
    r = gw.http().get("/v1/test/funding/x?sleepMs=800")
    assert r.status == 504
    wait_until(lambda: gw.metric("concerto_gateway_late_replies_dropped_total",
                                 service="funding") == before + 1, timeout=3,
               what="the late reply to be counted")
    assert gw.http().get("/v1/test/funding/after").json()["text"] == "after"


def test_down_service_gives_503_at_once(gw):
    r, elapsed = timed(gw.http(), "/v1/test/reporting/x")
    assert r.status == 503 and elapsed < 0.1
    assert r.header("Retry-After") == "1"
    assert "reporting" in r.json()["error"]["message"]


def test_service_without_heartbeats_goes_down_and_comes_back(gw, fakes):
    client = gw.http()
    fakes["forum"].heartbeats = False
    gw.wait_service("forum", up=False, timeout=3)
    r, elapsed = timed(client, "/v1/test/forum/x")
    assert r.status == 503 and elapsed < 0.1
    assert client.get("/readyz").status == 503
    fakes["forum"].heartbeats = True
    gw.wait_service("forum", up=True, timeout=3)
    assert client.get("/v1/test/forum/x").status == 200
    assert client.get("/readyz").status == 200


def test_many_requests_in_flight_to_one_service(gw):
    results = []

    def worker(i):
        c = gw.http()
        for j in range(10):
            r = c.get(f"/v1/test/registry/w{i}-{j}?sleepMs=20")
            results.append(r.status == 200 and r.json()["text"] == f"w{i}-{j}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 160 and all(results)


def test_fan_out_merges_every_service(gw, fakes):
    slow = make_reply(result=fakes["funding"].T.EchoReply(text="too late"))
    fakes["funding"].handlers["concerto.common.v1.TableStatusRequest"] = lambda env: (2.0, slow)
    r, elapsed = timed(gw.http(), "/v1/tables/tqmn/status")
    assert r.status == 200, r
    doc = r.json()
    assert doc["tableId"] == "tqmn"
    s = doc["services"]
    assert s["registry"]["status"] == "ok"
    assert s["registry"]["result"] == {"text": "tqmn", "service": "registry", "tags": []}
    assert s["registry"]["resultType"] == "concerto.test.v1.EchoReply"
    assert s["forum"]["status"] == "ok"
    assert s["funding"]["status"] == "unavailable"
    assert s["funding"]["error"]["code"] == "DEADLINE_EXCEEDED"
    assert s["reporting"]["status"] == "unavailable"
    assert s["reporting"]["error"]["code"] == "UNAVAILABLE"
    assert DEADLINE_MS / 1000 <= elapsed < DEADLINE_MS / 1000 + 0.25


def test_fan_out_reports_service_errors_per_service(gw, fakes):
    fakes["forum"].handlers["concerto.common.v1.TableStatusRequest"] = \
        lambda env: make_reply("NOT_FOUND", "no such meeting place")
    r = gw.http().get("/v1/tables/tqmn/status")
    assert r.status == 200, r
    forum = r.json()["services"]["forum"]
    assert forum["status"] == "not_found"
    assert forum["error"] == {"code": "NOT_FOUND", "message": "no such meeting place",
                              "fields": []}


def test_fan_out_is_404_when_the_registry_knows_no_such_table(gw):
    r = gw.http().get("/v1/tables/unknown/status")
    assert r.status == 404, r
    assert r.json() == {"error": {"code": "NOT_FOUND", "message": "no table unknown",
                                  "fields": []}}


def test_fan_out_answers_at_once_when_every_service_is_down(tmp):
    g = Gateway(tmp, required=[]).start()
    try:
        r, elapsed = timed(g.http(), "/v1/tables/t1/status")
        assert r.status == 200 and elapsed < 0.2
        assert {v["status"] for v in r.json()["services"].values()} == {"unavailable"}
    finally:
        assert g.stop() == 0


def test_status_reports_heads_and_subscriber_lag(gw, fakes):
    fakes["registry"].head_sequence = 10
    fakes["funding"].head_sequence = 4
    fakes["funding"].cursors = [("registry", 7, 9)]
    fakes["forum"].cursors = [("registry", 10, 10)]

    def lag_seen():
        doc = gw.http().get("/v1/status").json()["services"]
        # Each fake's heartbeat arrives on its own schedule: wait for all three.
        return doc if doc["funding"].get("cursors") and doc["forum"].get("cursors") and \
            doc["registry"].get("headSequence") == 10 else None

    s = wait_until(lag_seen, timeout=3, what="heartbeats with cursors")
    assert s["registry"]["up"] and s["registry"]["headSequence"] == 10
    assert 0 <= s["registry"]["heartbeatAgeMs"] < 1000
    # The registry's own heartbeat (head 10) is newer than what funding saw (9).
    assert s["funding"]["cursors"] == [{"source": "registry", "appliedSequence": 7,
                                        "sourceHead": 10, "lag": 3}]
    assert s["forum"]["cursors"][0]["lag"] == 0
    assert s["reporting"]["up"] is False and s["reporting"]["heartbeatAgeMs"] is None
    assert gw.metric("concerto_gateway_service_head_sequence", service="registry") == 10
    assert gw.metric("concerto_gateway_service_up", service="reporting") == 0


def test_readyz_names_the_missing_required_services(tmp, fakes):
    g = Gateway(tmp, services={"registry": fakes["registry"]},
                required=["registry", "reporting"]).start()
    try:
        client = g.http()
        wait_until(lambda: client.get("/v1/status").json()["services"]["registry"]["up"],
                   timeout=3)
        r = client.get("/readyz")
        assert r.status == 503
        assert [f["field"] for f in r.json()["error"]["fields"]] == ["reporting"]
    finally:
        assert g.stop() == 0


def test_shutdown_lets_the_answer_in_progress_finish(gw, fakes):
    out = {}

    def call():
        out["resp"] = gw.http().get("/v1/test/registry/bye?sleepMs=300")

    seen = len(fakes["registry"].received(ECHO))
    t = threading.Thread(target=call)
    t.start()
    at_the_service(fakes["registry"], seen)
    assert gw.stop() == 0
    t.join()
    assert out["resp"].status == 200 and out["resp"].json()["text"] == "bye"
    gw.start()  # the fixture stops it again


@pytest.mark.skipif(not os.path.exists(os.path.join(BIN, "concerto-registry")),
                    reason="concerto-registry is not built yet")
def test_real_registry_heartbeats_make_it_up(tmp):
    registry = start_service("registry", tmp, heartbeat_ms=HEARTBEAT_MS)
    try:
        g = Gateway(tmp, services={"registry": registry}, heartbeat_ms=HEARTBEAT_MS).start()
        try:
            g.wait_ready()
            s = g.http().get("/v1/status").json()["services"]["registry"]
            assert s["up"] is True and "headSequence" in s
            r = g.http().get("/v1/tables/none/status")
            assert r.status == 404 and r.json()["error"]["code"] == "NOT_FOUND"
        finally:
            assert g.stop() == 0
    finally:
        assert registry.stop() == 0


def test_request_larger_than_a_frame_is_413_and_the_link_survives(tmp, fakes):
    routes = ROUTES + "POST /v1/test/registry registry concerto.test.v1.EchoRequest reader - 201\n"
    g = Gateway(tmp, services={"registry": fakes["registry"]}, routes=routes,
                heartbeat_ms=HEARTBEAT_MS, env={"CONCERTO_MAX_FRAME": "2048"}).start()
    try:
        g.wait_ready()
        client = g.http()
        slow = {}
        seen = len(fakes["registry"].received(ECHO))
        t = threading.Thread(target=lambda: slow.update(
            r=g.http().get("/v1/test/registry/inflight?sleepMs=300")))
        t.start()
        at_the_service(fakes["registry"], seen)
        r = client.request("POST", "/v1/test/registry", {"text": "x" * 3000})
        assert r.status == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        t.join()
        assert slow["r"].status == 200  # the call in flight was not lost with the link
        assert client.request("POST", "/v1/test/registry", {"text": "small"}).status == 201
    finally:
        assert g.stop() == 0


def test_restarted_service_is_reconnected(gw, fakes):
    old = fakes["forum"]
    old.stop()
    gw.wait_service("forum", up=False, timeout=3)
    assert gw.http().get("/v1/test/forum/x").status == 503
    fakes["forum"] = FakeService("forum", heartbeat_ms=HEARTBEAT_MS, router=old.router,
                                 pub=old.pub).start()
    gw.wait_service("forum", up=True, timeout=5)
    # The DEALER reconnects on its own schedule: at worst a 503 first.
    r = wait_until(lambda: (lambda r: r if r.status == 200 else None)(
        gw.http().get("/v1/test/forum/back")), timeout=2, what="forum answering again")
    assert r.json()["text"] == "back"


def in_flight(gw, path, count):
    """Starts `count` GETs of `path` on their own connections; returns the
    threads and the list their responses (or exceptions) go to."""
    results = []

    def call():
        try:
            results.append(gw.http(timeout=10).get(path))
        except OSError as e:
            results.append(e)

    threads = [threading.Thread(target=call) for _ in range(count)]
    for t in threads:
        t.start()
    return threads, results


def test_calls_in_flight_end_with_503_when_the_link_closes(tmp, fakes):
    """A service that dies with calls in flight: the DEALER's monitor sees
    the link close, and the calls end at once with 503 instead of waiting
    out their deadline (20 s here; heartbeats would take 100 s to tell)."""
    g = Gateway(tmp, services=fakes, routes=ROUTES, heartbeat_ms=HEARTBEAT_MS,
                env={"CONCERTO_GATEWAY_DEADLINE_MS": "20000",
                     "CONCERTO_GATEWAY_HEARTBEAT_MISSES": "1000"}).start()
    try:
        g.wait_ready()
        fakes["forum"].silent = True
        threads, results = in_flight(g, "/v1/test/forum/x", 3)
        at_the_service(fakes["forum"], 2)
        fakes["forum"].stop()
        for t in threads:
            t.join(15)
        assert [getattr(r, "status", r) for r in results] == [503] * 3
        error = results[0].json()["error"]
        assert error["code"] == "UNAVAILABLE" and "went down" in error["message"]
        assert results[0].header("Retry-After") == "1"
        g.wait_log('msg="service down" service=forum reason="link closed"')
        assert g.http().get("/v1/test/forum/x").status == 503
    finally:
        assert g.stop() == 0, g.log()


def test_calls_in_flight_end_with_503_when_heartbeats_stop(tmp, fakes):
    """A service that stops sending heartbeats (a hung process keeps its
    link open) is down after HEARTBEAT_MISSES intervals: its calls in
    flight end then, with 503, not at their 20 s deadline."""
    g = Gateway(tmp, services=fakes, routes=ROUTES, heartbeat_ms=HEARTBEAT_MS,
                env={"CONCERTO_GATEWAY_DEADLINE_MS": "20000"}).start()
    try:
        g.wait_ready()
        fakes["forum"].silent = True
        threads, results = in_flight(g, "/v1/test/forum/x", 2)
        at_the_service(fakes["forum"], 1)
        fakes["forum"].heartbeats = False
        for t in threads:
            t.join(15)
        assert [getattr(r, "status", r) for r in results] == [503] * 2
        g.wait_log('msg="service down" service=forum reason="no heartbeat for')
    finally:
        assert g.stop() == 0, g.log()


def test_gateway_logs_each_service_going_down_and_coming_back(gw, fakes):
    old = fakes["forum"]
    for _ in range(2):
        old.stop()
        gw.wait_service("forum", up=False, timeout=3)
        fakes["forum"] = old = FakeService("forum", heartbeat_ms=HEARTBEAT_MS, router=old.router,
                                           pub=old.pub).start()
        gw.wait_service("forum", up=True, timeout=5)
    changes = [line.split('msg="')[1].split('"')[0] for line in gw.log().splitlines()
               if "service=forum" in line and ('msg="service up"' in line or
                                               'msg="service down"' in line)]
    assert changes == ["service up", "service down", "service up", "service down", "service up"]

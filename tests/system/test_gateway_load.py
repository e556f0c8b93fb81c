"""concerto-gateway under connection churn: 1,000 connections opened and
closed (cleanly, abruptly, mid-request, mid-service-call) while a client
keeps being served, and nothing leaks afterwards.
"""
import socket
import tempfile
import threading
import time

import pytest

from concerto_harness import FakeService, Gateway, read_responses, wait_until

ROUTES = "GET /v1/test/echo/{text} registry concerto.test.v1.EchoRequest reader - 200\n"
BATCH = 200
TOTAL = 1000


@pytest.fixture
def gw():
    with tempfile.TemporaryDirectory() as tmp, FakeService("registry") as reg:
        g = Gateway(tmp, services={"registry": reg}, routes=ROUTES,
                    env={"CONCERTO_GATEWAY_ACCESS_LOG": "0"}).start()
        g.wait_ready()
        yield g
        assert g.stop() == 0, g.log()


def churn(port, i):
    """Opens one connection and leaves it in one of several ways."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    kind = i % 5
    if kind == 0:  # a whole request, answer read
        s.sendall(b"GET /v1/test/echo/c HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_responses(s, 1)[0].status == 200
    elif kind == 1:  # half a request
        s.sendall(b"GET /v1/test/ec")
    elif kind == 2:  # a request whose service answer comes after the close
        s.sendall(b"GET /v1/test/echo/late?sleepMs=50 HTTP/1.1\r\nHost: x\r\n\r\n")
    elif kind == 3:  # reset instead of close
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    return s


def test_thousand_connections_opened_and_closed_while_serving(gw):
    stop = threading.Event()
    served = []
    errors = []

    def steady():
        client = gw.http()
        while not stop.is_set():
            try:
                r = client.get("/v1/test/echo/steady")
                served.append(r.status == 200 and r.json()["text"] == "steady")
            except Exception as e:  # a failure here is the test failing
                errors.append(repr(e))
        client.close()

    t = threading.Thread(target=steady)
    t.start()
    try:
        opened = 0
        while opened < TOTAL:
            batch = [churn(gw.port, opened + i) for i in range(BATCH)]
            opened += len(batch)
            for s in batch:
                s.close()
    finally:
        stop.set()
        t.join()
    assert not errors, errors[:5]
    assert len(served) > 20 and all(served)

    watcher = gw.http()  # the one connection left open

    def settled():
        status = watcher.get("/v1/status").json()
        return (status["gateway"]["connections"] == 1 and
                status["services"]["registry"]["inFlight"] == 0)

    try:
        wait_until(settled, timeout=5, what="connections and calls to drain")
        assert watcher.get("/v1/test/echo/after").json()["text"] == "after"
    finally:
        watcher.close()


def test_many_concurrent_keep_alive_clients(gw):
    results = []

    def worker(i):
        c = gw.http()
        for j in range(20):
            r = c.get(f"/v1/test/echo/k{i}x{j}")
            results.append(r.json()["text"] == f"k{i}x{j}")
        c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1000 and all(results)
    assert time.monotonic() - t0 < 30

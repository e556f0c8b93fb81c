"""Documents through the gateway, from concerto-testpub's runtime: formats
chosen by ?format= or Accept (406 when none fits), ETag and 304 decided by
the service (never stale after a write), documents larger than a frame
streamed in chunks with the gateway's memory staying low, the document
size cap on both sides, the cap on concurrent downloads, and a message
answer too large for a frame refused while the link stays up.
"""
import hashlib
import http.client
import os
import socket
import tempfile
import time

import pytest

from concerto_harness import BIN, Gateway, start_service, wait_until

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(BIN, "concerto-testpub")),
                                reason="concerto-testpub is not built")

MIB = 1024 * 1024
BIG_CAP = str(64 * MIB)
ROUTES = """
GET  /v1/test/doc     registry  concerto.test.v1.DocumentRequest reader - 200 formats=csv,json,html
GET  /v1/test/doc-default funding concerto.test.v1.DocumentRequest reader - 200 formats=csv
GET  /v1/test/big     registry  concerto.test.v1.BigRequest      reader - 200
POST /v1/test/emit    registry  concerto.test.v1.Emit            operator - 200
"""


def lines(size):
    """What testpub's document of `size` bytes holds."""
    return b"".join(b"%010d\n" % i for i in range(size // 11 + 1))[:size]


def memory_kib(pid):
    """(VmRSS, VmHWM) of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


# Making a 40 MiB document holds testpub's loop (and its heartbeats) for a
# few hundred milliseconds, more under a sanitizer; a service silent for
# HEARTBEAT_MISSES intervals is down, and its calls in flight end with 503.
SLOW_HANDLERS = {"CONCERTO_GATEWAY_HEARTBEAT_MISSES": "50"}


@pytest.fixture(scope="module")
def system():
    """testpub allowed 64 MiB documents (registry), testpub with the default
    cap (funding), a gateway with the default cap and one allowed 64 MiB."""
    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("big", "small"):
            os.mkdir(os.path.join(tmp, sub))
        big = start_service("testpub", os.path.join(tmp, "big"), heartbeat_ms=100,
                            env={"CONCERTO_MAX_DOCUMENT": BIG_CAP})
        small = start_service("testpub", os.path.join(tmp, "small"), heartbeat_ms=100)
        services = {"registry": big, "funding": small}
        # AddressSanitizer keeps freed memory in quarantine (256 MiB): off
        # for this gateway, so that its RSS shows what it holds (the
        # variable means nothing to a build without it).
        asan = os.environ.get("ASAN_OPTIONS", "")
        gw = Gateway(os.path.join(tmp, "big"), services=services, routes=ROUTES, heartbeat_ms=100,
                     tokens=[("operator", "otto")],
                     env={"CONCERTO_MAX_DOCUMENT": BIG_CAP, "CONCERTO_GATEWAY_MAX_DOWNLOADS": "1",
                          "ASAN_OPTIONS": f"{asan}:quarantine_size_mb=0".lstrip(":"),
                          **SLOW_HANDLERS}).start()
        default = Gateway(os.path.join(tmp, "small"), services=services, routes=ROUTES,
                          heartbeat_ms=100, env=SLOW_HANDLERS).start()
        gw.wait_ready()
        default.wait_ready()
        yield gw, default, big
        for d in (gw, default, big, small):
            assert d.stop() == 0, d.log()


@pytest.fixture
def tmp():
    with tempfile.TemporaryDirectory() as d:
        yield d


def error(r):
    return r.json()["error"]


# ----------------------------------------------------------------- formats


def test_format_is_chosen_by_accept_or_query(system):
    gw, _, _ = system
    c = gw.http()
    r = c.get("/v1/test/doc?size=33")
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/csv; charset=utf-8"
    assert r.body == lines(33)
    assert r.header("Vary") == "Accept"
    assert r.header("Content-Disposition") is None
    r = c.get("/v1/test/doc?size=33", headers={"Accept": "application/json"})
    assert r.header("Content-Type") == "application/json"
    assert r.json()["format"] == "json" and r.json()["size"] == 33
    r = c.get("/v1/test/doc?size=5", headers={"Accept": "text/html;q=0.9, text/csv;q=0.5"})
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    assert b"<html>" in r.body
    r = c.get("/v1/test/doc?size=5&format=json", headers={"Accept": "text/csv"})
    assert r.json()["format"] == "json"
    r = c.get("/v1/test/doc?size=7&file_name=report.csv")
    assert r.header("Content-Disposition") == 'attachment; filename="report.csv"'


@pytest.mark.parametrize("query,accept", [
    ("format=xlsx", None),
    ("format=pdf", None),
    ("", "application/xml"),
    ("", "application/json;q=0, text/*;q=0"),
])
def test_no_acceptable_format_is_406(system, query, accept):
    gw, _, _ = system
    r = gw.http().get(f"/v1/test/doc?size=5&{query}",
                      headers={"Accept": accept} if accept else None)
    assert r.status == 406, r
    assert error(r)["code"] == "NOT_ACCEPTABLE"
    assert error(r)["message"] == ("this resource is offered as csv (text/csv), json "
                                   "(application/json), html (text/html)")


def test_format_given_twice_is_400(system):
    gw, _, _ = system
    r = gw.http().get("/v1/test/doc?format=csv&format=json")
    assert r.status == 400 and "format given twice" in error(r)["message"]


# ----------------------------------------------------------------- ETag and 304


def test_etag_and_not_modified(system):
    gw, _, _ = system
    c = gw.http()
    first = c.get("/v1/test/doc?size=20")
    tag = first.header("ETag")
    assert tag and tag.startswith('"') and tag.endswith('"')
    r = c.get("/v1/test/doc?size=20", headers={"If-None-Match": tag})
    assert r.status == 304 and r.body == b""
    assert r.header("ETag") == tag and r.header("Content-Length") is None
    weak = c.get("/v1/test/doc?size=20", headers={"If-None-Match": f'"x", W/{tag}'})
    assert weak.status == 304
    assert c.get("/v1/test/doc?size=20", headers={"If-None-Match": "*"}).status == 304
    # Another request, another format: other tags.
    other = c.get("/v1/test/doc?size=21", headers={"If-None-Match": tag})
    assert other.status == 200 and other.header("ETag") != tag
    as_json = c.get("/v1/test/doc?size=20&format=json", headers={"If-None-Match": tag})
    assert as_json.status == 200 and as_json.header("ETag") != tag


def test_a_write_makes_the_tag_stale(system):
    # The service decides freshness from its own state: a client that has
    # just written never gets a 304 for what it read before.
    gw, _, _ = system
    c = gw.http()
    tag = c.get("/v1/test/doc?size=20").header("ETag")
    r = c.request("POST", "/v1/test/emit", {"payload": "YQ=="}, token=gw.tokens["otto"])
    assert r.status == 200, r
    after = c.get("/v1/test/doc?size=20", headers={"If-None-Match": tag})
    assert after.status == 200 and after.body == lines(20)
    assert after.header("ETag") != tag


@pytest.mark.parametrize("value", ['abc', '"abc', '"a" "b"', 'W/abc', '* , "a"'])
def test_malformed_if_none_match_is_400(system, value):
    gw, _, _ = system
    r = gw.http().get("/v1/test/doc?size=20", headers={"If-None-Match": value})
    assert r.status == 400, r
    assert error(r)["fields"][0]["field"] == "If-None-Match"


# ----------------------------------------------------------------- large answers


def stream_get(port, path):
    """GET over HTTP/1.1: (response, sha256 hex, bytes), read in pieces."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        digest, total = hashlib.sha256(), 0
        while True:
            piece = resp.read(256 * 1024)
            if not piece:
                break
            digest.update(piece)
            total += len(piece)
        return resp, digest.hexdigest(), total
    finally:
        conn.close()


def test_40_mib_document_streams_intact_while_the_gateway_stays_small(system):
    gw, _, _ = system
    size = 40 * MIB
    want = hashlib.sha256(lines(size)).hexdigest()
    rss_before, hwm_before = memory_kib(gw.proc.pid)
    resp, got, total = stream_get(gw.port, f"/v1/test/doc?size={size}&file_name=big.csv")
    rss_after, hwm_after = memory_kib(gw.proc.pid)
    print(f"gateway VmRSS {rss_before} -> {rss_after} KiB, VmHWM {hwm_before} -> {hwm_after} KiB "
          f"for a {size} byte document")
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("Content-Disposition") == 'attachment; filename="big.csv"'
    assert total == size and got == want
    # A few 512 KiB parts at a time, whatever the document's size.
    assert hwm_after - rss_before < 12 * 1024, (rss_before, hwm_after)
    # The connection and the link are fine afterwards.
    assert gw.http().get("/v1/test/doc?size=11").body == lines(11)


def test_http_1_0_client_gets_the_document_with_its_length(system):
    gw, _, _ = system
    size = 3 * MIB
    with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as s:
        s.sendall(f"GET /v1/test/doc?size={size} HTTP/1.0\r\n\r\n".encode())
        data = b""
        while True:
            piece = s.recv(1 << 20)
            if not piece:
                break
            data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"HTTP/1.1 200" in head and b"Content-Length: %d" % size in head
    assert b"chunked" not in head
    assert body == lines(size)


def test_document_over_the_gateway_cap_is_refused_before_any_byte(system):
    # The service may send 64 MiB; this gateway only 32 MiB (the default).
    _, default, _ = system
    r = default.http().get(f"/v1/test/doc?size={40 * MIB}")
    assert r.status == 500, r
    assert error(r)["message"] == (f"the document is {40 * MIB} bytes, over the gateway's limit "
                                   f"of {32 * MIB} (CONCERTO_MAX_DOCUMENT)")
    assert r.header("Transfer-Encoding") is None
    assert default.http().get("/v1/test/doc?size=11").status == 200


def test_document_over_the_service_cap_is_refused(system):
    _, default, _ = system
    r = default.http().get(f"/v1/test/doc-default?size={40 * MIB}")
    assert r.status == 500, r
    assert error(r)["message"] == (f"the document is {40 * MIB} bytes, over the limit of "
                                   f"{32 * MIB} (CONCERTO_MAX_DOCUMENT)")
    assert default.http().get(f"/v1/test/doc-default?size={2 * MIB}").status == 200


def test_downloads_beyond_the_cap_get_503(system):
    gw, _, big = system
    size = 24 * MIB
    with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as s:
        # A client that does not read keeps its download in progress.
        s.sendall(f"GET /v1/test/doc?size={size} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        head = s.recv(4096)
        assert head.startswith(b"HTTP/1.1 200"), head
        r = gw.http().get(f"/v1/test/doc?size={4 * MIB}")
        assert r.status == 503, r
        assert r.header("Retry-After") == "1"
        assert "being downloaded already" in error(r)["message"]
        # Small documents are inline and not counted.
        assert gw.http().get("/v1/test/doc?size=100").status == 200
    # The abandoned download ends and frees its place.
    wait_until(lambda: gw.http().get(f"/v1/test/doc?size={2 * MIB}").status == 200, timeout=10,
               what="the download slot to be free again")
    gw.wait_log("download failed")


def test_message_larger_than_a_frame_is_an_error_and_the_link_stays_up(system):
    gw, _, big = system
    r = gw.http().get(f"/v1/test/big?size={2 * MIB}")
    assert r.status == 500, r
    assert "over the 1048" in error(r)["message"] and "frame limit" in error(r)["message"]
    ok = gw.http().get("/v1/test/big?size=100")
    assert ok.status == 200 and len(ok.json()["data"]) > 100
    big.wait_log("answer too large")  # lines reach the file through a writer thread


def test_stop_during_a_download_exits_cleanly(system, tmp):
    _, _, big = system
    g = Gateway(tmp, services={"registry": big}, routes=ROUTES, heartbeat_ms=100,
                env={"CONCERTO_MAX_DOCUMENT": BIG_CAP, "CONCERTO_GATEWAY_DEADLINE_MS": "1000",
                     **SLOW_HANDLERS})
    g.start()
    try:
        g.wait_ready()
        with socket.create_connection(("127.0.0.1", g.port), timeout=30) as s:
            s.sendall(f"GET /v1/test/doc?size={24 * MIB} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
            # The stalled download holds the stop up to the deadline plus a
            # second, then is cut short.
            assert g.stop() == 0, g.log()
        assert "the gateway is stopping" in g.log()
    finally:
        g.kill()

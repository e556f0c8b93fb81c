"""concerto-gateway's HTTP/1.1 behaviour, with real clients over real
sockets: keep-alive, pipelining, limits, malformed input, routing errors,
auth, JSON <-> protobuf mapping and status mapping, against fake services.
"""
import json
import os
import socket
import subprocess
import tempfile
import time

import pytest

from concerto_harness import tmp  # noqa: F401
from concerto_harness import (BIN, SOURCE, FakeService, Gateway, HttpClient, free_port,
                              peer_closed, raw_exchange, read_responses, wait_until)

ROUTES = """
# test routes (the columns of routes.def)
GET    /v1/test/echo/{text}   registry  concerto.test.v1.EchoRequest  reader    -      200
DELETE /v1/test/echo/{text}   registry  concerto.test.v1.EchoRequest  admin     -      204
POST   /v1/test/echo          registry  concerto.test.v1.EchoRequest  operator  -      201
PUT    /v1/test/things/{id}   registry  concerto.test.v1.EchoRequest  admin     thing  200
DELETE /v1/test/things/{id}   registry  concerto.test.v1.EchoRequest  admin     -      200
GET    /v1/test/slow          funding   concerto.test.v1.EchoRequest  reader    -      200
"""

LIMITS = {
    "CONCERTO_GATEWAY_MAX_BODY": "4096",
    "CONCERTO_GATEWAY_MAX_URL": "1024",
    "CONCERTO_GATEWAY_MAX_HEADER": "4096",
    "CONCERTO_GATEWAY_MAX_HEADERS": "20",
    "CONCERTO_GATEWAY_REQUEST_TIMEOUT_MS": "600",
    "CONCERTO_GATEWAY_IDLE_TIMEOUT_MS": "800",
    "CONCERTO_GATEWAY_DEADLINE_MS": "1500",
}


@pytest.fixture(scope="module")
def gw(tmp):
    registry = FakeService("registry").start()
    funding = FakeService("funding").start()
    g = Gateway(tmp, services={"registry": registry, "funding": funding},
                tokens=[("reader", "rita"), ("operator", "otto"), ("admin", "ada")],
                routes=ROUTES, env=LIMITS).start()
    g.wait_ready()
    yield g
    assert g.stop() == 0, g.log()
    registry.stop()
    funding.stop()


@pytest.fixture
def client(gw):
    c = gw.http()
    yield c
    c.close()


def request_bytes(method, path, headers=(), body=b"", version="HTTP/1.1"):
    lines = [f"{method} {path} {version}", "Host: test"] + list(headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def error_of(resp):
    doc = resp.json()
    assert set(doc) == {"error"}, doc
    assert set(doc["error"]) == {"code", "message", "fields"}, doc
    return doc["error"]


# ----------------------------------------------------------------- basics


def test_healthz_answers(client):
    r = client.get("/healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}
    assert r.header("Content-Type") == "application/json"
    assert r.header("Date")


def test_get_maps_path_and_query_to_the_request(client):
    r = client.get("/v1/test/echo/h%C3%A9llo%20you?limit=5&tags=a&tags=b%2Bc&tableId=t+1")
    assert r.status == 200, r
    assert r.json() == {"text": "héllo you", "service": "registry", "tags": ["a", "b+c"],
                        "limit": 5, "tableId": "t 1"}
    assert len(r.header("X-Request-Id")) == 36


def test_post_body_is_the_whole_request(gw, client):
    r = client.request("POST", "/v1/test/echo", {"text": "hi", "tags": ["x"]},
                       token=gw.tokens["otto"])
    assert r.status == 201, r
    assert r.json()["text"] == "hi" and r.json()["tags"] == ["x"]
    assert r.json()["actor"] == "otto"


def test_body_field_fills_the_named_sub_message(gw, client):
    r = client.request("PUT", "/v1/test/things/t42", {"name": "chair", "count": "7"},
                       token=gw.tokens["ada"])
    assert r.status == 200, r
    assert r.json()["id"] == "t42"
    assert r.json()["thing"] == {"name": "chair", "count": 7}


def test_delete_body_fills_the_request(gw, client):
    r = client.request("DELETE", "/v1/test/things/t7", {"text": "duplicate", "id": "ignored"},
                       token=gw.tokens["ada"])
    assert r.status == 200, r
    assert r.json()["id"] == "t7" and r.json()["text"] == "duplicate"
    r = client.request("DELETE", "/v1/test/things/t7", b"text=x", token=gw.tokens["ada"],
                       headers={"Content-Type": "text/plain"})
    assert r.status == 415, r
    r = client.request("DELETE", "/v1/test/things/t7", token=gw.tokens["ada"])
    assert r.status == 200 and "text" not in r.json()


def test_ok_status_204_has_no_body(gw, client):
    r = client.request("DELETE", "/v1/test/echo/x", token=gw.tokens["ada"])
    assert r.status == 204 and r.body == b""
    assert r.header("Content-Length") is None


def test_idempotency_key_is_forwarded(gw, client):
    r = client.request("POST", "/v1/test/echo", {"text": "k"}, token=gw.tokens["otto"],
                       headers={"Idempotency-Key": "order-17"})
    assert r.status == 201 and r.json()["idempotencyKey"] == "order-17"


def test_idempotency_key_cannot_pose_as_a_partner(gw, client):
    r = client.request("POST", "/v1/test/echo", {"text": "k"}, token=gw.tokens["otto"],
                       headers={"Idempotency-Key": "partner/centraide/e1"})
    assert r.status == 400
    assert error_of(r)["fields"][0]["field"] == "Idempotency-Key"


# ----------------------------------------------------------------- connections


def test_keep_alive_serves_many_requests_on_one_connection(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        for i in range(5):
            s.sendall(request_bytes("GET", f"/v1/test/echo/n{i}"))
            (r,) = read_responses(s, 1)
            assert r.status == 200 and r.json()["text"] == f"n{i}"
            assert r.header("Connection") is None


def test_curl_reuses_the_connection(gw):
    url = f"http://127.0.0.1:{gw.port}"
    out = subprocess.run(["curl", "-sv", "--http1.1", f"{url}/healthz", f"{url}/v1/test/echo/c"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert "Re-using existing connection" in out.stderr or "Reusing" in out.stderr, out.stderr
    assert '{"status":"ok"}' in out.stdout and '"text":"c"' in out.stdout


def test_pipelined_requests_are_answered_in_order(gw):
    # The first is slow at its service; the answers must still come in order.
    data = (request_bytes("GET", "/v1/test/echo/first?sleepMs=300") +
            request_bytes("GET", "/v1/test/echo/second") + request_bytes("GET", "/healthz") +
            request_bytes("GET", "/v1/test/echo/third"))
    rs = raw_exchange(gw.port, data, count=4)
    assert [r.status for r in rs] == [200, 200, 200, 200]
    assert rs[0].json()["text"] == "first"
    assert rs[1].json()["text"] == "second"
    assert rs[2].json() == {"status": "ok"}
    assert rs[3].json()["text"] == "third"


def test_pipelined_bytes_split_anywhere_still_parse(gw):
    data = request_bytes("GET", "/v1/test/echo/a") + request_bytes("GET", "/v1/test/echo/b")
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        for i in range(0, len(data), 7):
            s.sendall(data[i:i + 7])
            time.sleep(0.002)
        rs = read_responses(s, 2)
    assert [r.json()["text"] for r in rs] == ["a", "b"]


def test_half_closed_client_still_gets_every_pipelined_answer(gw):
    # The client shuts its side down right after sending; the gateway sees
    # EOF while the first request is still at its service.
    data = (request_bytes("GET", "/v1/test/echo/first?sleepMs=200") +
            request_bytes("GET", "/v1/test/echo/second") + request_bytes("GET", "/healthz"))
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        rs = read_responses(s, 3)
        assert [r.status for r in rs] == [200, 200, 200]
        assert [r.json().get("text") for r in rs[:2]] == ["first", "second"]
        assert peer_closed(s)


def test_pipelining_more_than_the_read_buffer_is_paused_not_lost(gw):
    # 16 KiB is read ahead at most; the rest waits in the socket buffers
    # until the answers catch up.
    n = 700
    data = request_bytes("GET", "/v1/test/echo/first?sleepMs=200") + \
        request_bytes("GET", "/healthz") * n
    assert len(data) > 16384
    rs = raw_exchange(gw.port, data, count=n + 1, timeout=20.0)
    assert len(rs) == n + 1
    assert rs[0].json()["text"] == "first"
    assert all(r.status == 200 and r.json() == {"status": "ok"} for r in rs[1:])


def test_http10_request_gets_its_answer_then_close(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        (r,) = read_responses(s, 1)
        assert r.status == 200 and r.header("Connection") == "close"
        assert peer_closed(s)


def test_connection_close_is_honoured(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(request_bytes("GET", "/healthz", ["Connection: close"]))
        (r,) = read_responses(s, 1)
        assert r.status == 200 and r.header("Connection") == "close"
        assert peer_closed(s)


def test_expect_100_continue(gw):
    body = json.dumps({"text": "later"}).encode()
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        s.sendall(request_bytes("POST", "/v1/test/echo", [
            f"Authorization: Bearer {gw.tokens['otto']}", "Content-Type: application/json",
            "Expect: 100-continue", f"Content-Length: {len(body)}"]))
        assert s.recv(64).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(body)
        (r,) = read_responses(s, 1)
    assert r.status == 201 and r.json()["text"] == "later"


# ----------------------------------------------------------------- limits


def test_body_at_the_limit_is_accepted(gw, client):
    text = "é" * ((4096 - len('{"text":""}')) // 2)
    body = json.dumps({"text": text}, ensure_ascii=False).encode()
    assert len(body) <= 4096
    r = client.request("POST", "/v1/test/echo", body, token=gw.tokens["otto"],
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 201 and r.json()["text"] == text


def test_body_over_the_limit_is_413(gw):
    body = b"x" * 5000
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(request_bytes("POST", "/v1/test/echo", ["Content-Type: application/json"],
                                body))
        (r,) = read_responses(s, 1)
        assert r.status == 413 and error_of(r)["code"] == "PAYLOAD_TOO_LARGE"
        assert peer_closed(s)


def test_body_over_the_limit_is_refused_before_it_is_sent(gw):
    # With Expect: 100-continue the client never has to send the body.
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(request_bytes("POST", "/v1/test/echo", [
            "Content-Type: application/json", "Expect: 100-continue",
            "Content-Length: 9999999"]))
        (r,) = read_responses(s, 1)
        assert r.status == 413
        assert error_of(r) == {"code": "PAYLOAD_TOO_LARGE", "message": "request body too large",
                               "fields": []}


def test_chunked_body_is_411(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(request_bytes("POST", "/v1/test/echo", [
            "Content-Type: application/json", "Transfer-Encoding: chunked"]) +
                  b"5\r\n{\"a\":\r\n0\r\n\r\n")
        (r,) = read_responses(s, 1)
        assert r.status == 411 and error_of(r)["code"] == "LENGTH_REQUIRED"
        assert peer_closed(s)


@pytest.mark.parametrize("path,headers,status,code,message", [
    pytest.param("/v1/test/echo/" + "a" * 2000, [], 414, "URI_TOO_LONG",
                 "request target too long", id="long URL"),
    pytest.param("/" + "a" * 20000, [], 414, "URI_TOO_LONG", "request target too long",
                 id="very long URL"),
    pytest.param("/healthz", [f"X-Filler-{i}: {'v' * 400}" for i in range(12)], 431,
                 "HEADERS_TOO_LARGE", "request header block too large", id="large header block"),
    pytest.param("/healthz", [f"X-H{i}: v" for i in range(30)], 431, "HEADERS_TOO_LARGE",
                 "too many request headers", id="too many headers"),
])
def test_request_head_over_a_limit_is_refused(gw, path, headers, status, code, message):
    (r,) = raw_exchange(gw.port, request_bytes("GET", path, headers))
    assert r.status == status
    assert error_of(r) == {"code": code, "message": message, "fields": []}


def test_slow_request_gets_408_then_close(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
        t0 = time.monotonic()
        (r,) = read_responses(s, 1, timeout=5)
        elapsed = time.monotonic() - t0
        assert r.status == 408 and error_of(r)["code"] == "REQUEST_TIMEOUT"
        assert 0.5 <= elapsed < 2.0, elapsed
        assert peer_closed(s)


def test_silent_new_connection_is_closed(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        t0 = time.monotonic()
        assert peer_closed(s, timeout=5)
        assert time.monotonic() - t0 < 2.0


def test_idle_keep_alive_connection_is_closed(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(request_bytes("GET", "/healthz"))
        assert read_responses(s, 1)[0].status == 200
        t0 = time.monotonic()
        assert peer_closed(s, timeout=5)
        assert 0.7 <= time.monotonic() - t0 < 2.5


def test_connections_beyond_the_limit_are_refused():
    def open_connections(s):  # asked on an accepted connection: takes no new slot
        s.sendall(request_bytes("GET", "/v1/status"))
        return read_responses(s, 1)[0].json()["gateway"]["connections"]

    with tempfile.TemporaryDirectory() as d:
        g = Gateway(d, env={"CONCERTO_GATEWAY_MAX_CONNECTIONS": "4"}, required=[]).start()
        try:
            held = [socket.create_connection(("127.0.0.1", g.port)) for _ in range(4)]
            for s in held:  # make sure all four are accepted
                s.sendall(request_bytes("GET", "/healthz"))
                assert read_responses(s, 1)[0].status == 200
            with socket.create_connection(("127.0.0.1", g.port)) as extra:
                (r,) = read_responses(extra, 1)
                assert r.status == 503 and error_of(r)["code"] == "UNAVAILABLE"
                assert peer_closed(extra)
            held.pop().close()
            wait_until(lambda: open_connections(held[0]) == 3, timeout=5,
                       what="the gateway to see the connection closed")
            with socket.create_connection(("127.0.0.1", g.port)) as s:
                s.sendall(request_bytes("GET", "/healthz"))
                assert read_responses(s, 1)[0].status == 200
            for s in held:
                s.close()
            assert g.metric("concerto_gateway_connections_refused_total") == 1
        finally:
            assert g.stop() == 0


# ----------------------------------------------------------------- malformed


@pytest.mark.parametrize("data,message", [
    pytest.param(b"GARBAGE\r\n\r\n", "invalid method", id="no request line"),
    pytest.param(b"GET /healthz HTTP/9.x\r\n\r\n", "invalid HTTP version", id="bad version"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nBad Header: x\r\n\r\n",
                 "invalid character in a header name", id="space in a header name"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nX: a\x01b\r\n\r\n",
                 "invalid character in a header", id="control byte in a header value"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                 "invalid Content-Length", id="two Content-Lengths"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                 "invalid Content-Length", id="Content-Length not a number"),
    pytest.param(b"POST /v1/test/echo HTTP/1.1\r\nContent-Length: 2\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n",
                 "invalid Content-Length", id="Content-Length with chunked"),
    pytest.param(b"GET http://[::1 HTTP/1.1\r\n\r\n", "invalid request target",
                 id="broken absolute URL"),
    pytest.param(b"CONNECT example.com:443 HTTP/1.1\r\n\r\n", "CONNECT is not supported",
                 id="CONNECT"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
                 "a header appears twice", id="two Authorization headers"),
])
def test_malformed_requests_get_400_and_close(gw, client, data, message):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(data)
        rs = read_responses(s, 1)
        assert len(rs) == 1, data
        assert rs[0].status == 400, (data, rs[0])
        assert error_of(rs[0]) == {"code": "INVALID_ARGUMENT", "message": message, "fields": []}
        assert peer_closed(s)
    assert client.get("/healthz").status == 200


NOT_FIT = "the body does not fit the request"


@pytest.mark.parametrize("who,method,path,body,message,fields", [
    pytest.param("otto", "POST", "/v1/test/echo", b'{"text": ',
                 "invalid JSON at line 1 column 9: unexpected token near end of file", [],
                 id="truncated JSON"),
    pytest.param("otto", "POST", "/v1/test/echo", b"[1,2]", "the body must be a JSON object", [],
                 id="array, not an object"),
    pytest.param("otto", "POST", "/v1/test/echo", b'{"text":"a","text":"b"}',
                 "invalid JSON at line 1 column 18: duplicate object key near '\"text\"'", [],
                 id="duplicate key"),
    pytest.param("otto", "POST", "/v1/test/echo", b'{"text": "a", "colour": 1}',
                 NOT_FIT + ": colour: unknown field",
                 [{"field": "colour", "description": "unknown field"}], id="unknown field"),
    pytest.param("ada", "PUT", "/v1/test/things/t", b'{"count": "many"}',
                 NOT_FIT + ": count: expected an integer or a decimal string",
                 [{"field": "count", "description": "expected an integer or a decimal string"}],
                 id="wrong type"),
    pytest.param("otto", "POST", "/v1/test/echo", b'{"text": "a\\u0000b"}',
                 NOT_FIT + ": text: must not contain NUL characters",
                 [{"field": "text", "description": "must not contain NUL characters"}],
                 id="NUL in a string, without library internals"),
])
def test_bad_json_body_is_400_and_keeps_the_connection(gw, client, who, method, path, body,
                                                       message, fields):
    r = client.request(method, path, body, token=gw.tokens[who],
                       headers={"Content-Type": "application/json"})
    assert r.status == 400
    assert error_of(r) == {"code": "INVALID_ARGUMENT", "message": message, "fields": fields}
    assert client.get("/healthz").status == 200  # same connection still usable


def test_body_must_be_json(gw, client):
    r = client.request("POST", "/v1/test/echo", b"text=a", token=gw.tokens["otto"],
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 415 and error_of(r)["code"] == "UNSUPPORTED_MEDIA_TYPE"


BAD_QUERY = "invalid query parameter"
BAD_PATH = "malformed percent-encoding in the path"


@pytest.mark.parametrize("path,message,fields", [
    pytest.param("/v1/test/echo/a?limit=lots",
                 BAD_QUERY + ": limit: expected an integer or a decimal string",
                 [{"field": "limit", "description": "expected an integer or a decimal string"}],
                 id="integer that is not"),
    pytest.param("/v1/test/echo/a?nosuch=1", BAD_QUERY + ": nosuch: unknown field",
                 [{"field": "nosuch", "description": "unknown field"}], id="unknown parameter"),
    pytest.param("/v1/test/echo/a%zz", BAD_PATH, [], id="not hex"),
    pytest.param("/v1/test/echo/a%00b", BAD_PATH, [], id="NUL"),
    pytest.param("/v1/test/echo/a?limit=%4", "malformed query string", [],
                 id="cut short in the query"),
])
def test_bad_url_is_400_naming_the_problem(client, path, message, fields):
    r = client.get(path)
    assert r.status == 400
    assert error_of(r) == {"code": "INVALID_ARGUMENT", "message": message, "fields": fields}


# ----------------------------------------------------------------- routing


def test_unknown_path_is_404(client):
    for path in ["/nope", "/v1/test", "/v1/test/echo/a/b", "/v1/test/echo/", "//healthz",
                 "/v1/test//echo"]:
        r = client.get(path)
        assert r.status == 404, path
        assert error_of(r)["code"] == "NOT_FOUND"


def test_known_path_wrong_method_is_405_with_allow(client):
    r = client.request("PATCH", "/v1/test/echo/a")
    assert r.status == 405
    assert r.header("Allow") == "GET, DELETE"
    assert error_of(r)["code"] == "METHOD_NOT_ALLOWED"
    r = client.request("GET", "/v1/test/echo/")
    assert r.status == 404


# ----------------------------------------------------------------- auth


def test_write_without_token_is_401(client):
    r = client.request("POST", "/v1/test/echo", {"text": "a"})
    assert r.status == 401
    assert r.header("WWW-Authenticate").startswith("Bearer")
    assert error_of(r)["code"] == "UNAUTHENTICATED"


def test_invalid_token_is_401_even_on_a_public_route(client):
    r = client.get("/v1/test/echo/a", token="not-a-token")
    assert r.status == 401 and "invalid_token" in r.header("WWW-Authenticate")
    r = client.get("/v1/test/echo/a", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status == 401


def test_insufficient_role_is_403(gw, client):
    r = client.request("POST", "/v1/test/echo", {"text": "a"}, token=gw.tokens["rita"])
    assert r.status == 403 and error_of(r)["code"] == "PERMISSION_DENIED"
    r = client.request("PUT", "/v1/test/things/t", {}, token=gw.tokens["otto"])
    assert r.status == 403


def test_higher_roles_include_lower_ones(gw, client):
    for name in ("otto", "ada"):
        assert client.request("POST", "/v1/test/echo", {"text": "a"},
                              token=gw.tokens[name]).status == 201
    assert client.get("/v1/test/echo/a", token=gw.tokens["rita"]).json()["actor"] == "rita"


def test_reads_need_a_token_when_public_reads_are_off():
    with tempfile.TemporaryDirectory() as d, FakeService("registry") as reg:
        g = Gateway(d, services={"registry": reg}, tokens=[("reader", "rita")], routes=ROUTES,
                    env={"CONCERTO_GATEWAY_PUBLIC_READS": "0"}).start()
        try:
            g.wait_ready()
            c = g.http()
            assert c.get("/v1/test/echo/a").status == 401
            assert c.get("/v1/test/echo/a", token=g.tokens["rita"]).status == 200
            assert c.get("/healthz").status == 200  # probes stay public
            assert c.get("/metrics").status == 401
            c.close()
        finally:
            assert g.stop() == 0


def test_tokens_are_never_logged(gw, client):
    client.get("/v1/test/echo/a", token=gw.tokens["rita"])
    client.get("/v1/test/echo/a", token="wrong-secret-token")
    log = gw.log()
    for token in list(gw.tokens.values()) + ["wrong-secret-token"]:
        assert token not in log


# ----------------------------------------------------------------- statuses


@pytest.mark.parametrize("status,http", [
    ("INVALID_ARGUMENT", 400), ("NOT_FOUND", 404), ("CONFLICT", 409),
    ("FAILED_PRECONDITION", 409), ("UNAUTHENTICATED", 401), ("PERMISSION_DENIED", 403),
    ("UNAVAILABLE", 503), ("INTERNAL", 500), ("DEADLINE_EXCEEDED", 504),
])
def test_reply_status_maps_to_http(client, status, http):
    r = client.get(f"/v1/test/echo/a?status={status}")
    assert r.status == http, r
    err = error_of(r)
    assert err["code"] == status
    assert err["message"] == f"asked to answer {status}"
    assert err["fields"] == [{"field": "text", "description": "as requested"}]


# ----------------------------------------------------------------- operations


def test_readyz_and_status(client):
    assert client.get("/readyz").status == 200
    doc = client.get("/v1/status").json()
    assert doc["services"]["registry"]["up"] is True
    assert doc["services"]["forum"]["up"] is False
    assert doc["services"]["forum"]["heartbeatAgeMs"] is None


def test_metrics_count_requests_by_route_and_status(gw, client):
    before = gw.metric("concerto_gateway_http_requests_total",
                       route="GET /v1/test/echo/{text}", status="200")
    for _ in range(3):
        client.get("/v1/test/echo/m")
    after = gw.metric("concerto_gateway_http_requests_total",
                      route="GET /v1/test/echo/{text}", status="200")
    assert after == before + 3
    text = client.get("/metrics").body.decode()
    assert 'concerto_gateway_http_request_duration_seconds_bucket{route="GET /healthz",le="+Inf"}' \
        in text
    assert 'concerto_gateway_service_in_flight{service="registry"}' in text
    assert 'concerto_gateway_partner_events_total{outcome="accepted"}' in text
    assert 'concerto_gateway_late_replies_dropped_total{service="funding"}' in text


def test_access_log_has_one_line_per_request(gw, client):
    client.get("/v1/test/echo/logged-once")

    def logged():
        return [line for line in gw.log().splitlines()
                if "path=/v1/test/echo/logged-once" in line]

    lines = wait_until(logged, timeout=5, what="the access log line")
    assert len(lines) == 1
    assert 'msg="request" method=GET' in lines[0]
    assert "status=200" in lines[0] and "duration_ms=" in lines[0] and "bytes=" in lines[0]


def test_access_log_can_be_switched_off():
    with tempfile.TemporaryDirectory() as d:
        g = Gateway(d, env={"CONCERTO_GATEWAY_ACCESS_LOG": "0"}, required=[]).start()
        try:
            c = g.http()
            assert c.get("/healthz").status == 200
            c.close()
            assert g.stop() == 0  # everything the gateway was to write is written
            assert 'msg="request"' not in g.log()
        finally:
            assert g.stop() == 0


def test_a_stderr_nobody_reads_costs_log_lines_not_answers():
    """With its stderr a pipe nobody reads, the gateway keeps answering:
    access-log lines that find no room are dropped and counted."""
    port = free_port()
    env = dict(os.environ, CONCERTO_GATEWAY_HTTP=f"127.0.0.1:{port}",
               CONCERTO_GATEWAY_REQUIRED_SERVICES="none", CONCERTO_GATEWAY_ACCESS_LOG="1")
    proc = subprocess.Popen([os.path.join(BIN, "concerto-gateway")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        client = HttpClient(port, timeout=5)
        wait_until(lambda: _answers(client), timeout=10, what="the gateway to listen")
        # A pipe holds 64 KiB, the log queue 256 KiB: a few thousand lines
        # of about 130 bytes fill both.
        batch = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 500
        for _ in range(8):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(batch)
                answers = read_responses(s, 500, timeout=5)
            assert [r.status for r in answers] == [200] * 500
        assert client.get("/v1/status").json()["gateway"]["logLinesDropped"] > 0
        metrics = client.get("/metrics").body.decode()
        dropped = [line for line in metrics.splitlines()
                   if line.startswith("concerto_gateway_log_lines_dropped_total ")]
        assert dropped and float(dropped[0].split()[1]) > 0
        client.close()
        proc.terminate()
        assert proc.wait(10) == 0, "a stuck stderr must not hold the exit either"
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()


def _answers(client):
    try:
        return client.get("/healthz").status == 200
    except OSError:
        return False


def test_openapi_document_is_served(client):
    r = client.get("/v1/openapi.json")
    assert r.status == 200
    with open(os.path.join(SOURCE, "docs/openapi.json"), "rb") as f:
        assert r.body == f.read()
    assert r.json()["openapi"].startswith("3.")


def test_help_lists_every_variable():
    out = subprocess.run([os.path.join(BIN, "concerto-gateway"), "--help"], capture_output=True,
                         text=True, check=True).stdout
    for var in ["CONCERTO_GATEWAY_HTTP", "CONCERTO_GATEWAY_DEADLINE_MS", "CONCERTO_GATEWAY_TOKENS",
                "CONCERTO_GATEWAY_PUBLIC_READS", "CONCERTO_GATEWAY_PARTNER",
                "CONCERTO_GATEWAY_CURVE_SECRET", "CONCERTO_GATEWAY_CURVE_PUBLIC",
                "CONCERTO_GATEWAY_PARTNERS", "CONCERTO_GATEWAY_REQUIRED_SERVICES",
                "CONCERTO_GATEWAY_ACCESS_LOG", "CONCERTO_GATEWAY_ROUTES_FILE",
                "CONCERTO_REGISTRY_ROUTER", "CONCERTO_REPORTING_PUB"]:
        assert var in out, var


def test_url_limit_is_capped_where_http_parser_offsets_end():
    """http-parser keeps URL offsets in 16 bits: a longer limit would be a
    lie, so it is refused at start."""
    base = dict(os.environ, CONCERTO_GATEWAY_MAX_HEADER="131072",
                CONCERTO_GATEWAY_HTTP="127.0.0.1:0", CONCERTO_GATEWAY_REQUIRED_SERVICES="none")
    out = subprocess.run([os.path.join(BIN, "concerto-gateway")],
                         env=dict(base, CONCERTO_GATEWAY_MAX_URL="65536"), capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 1 and "CONCERTO_GATEWAY_MAX_URL" in out.stderr, out.stderr
    proc = subprocess.Popen([os.path.join(BIN, "concerto-gateway")],
                            env=dict(base, CONCERTO_GATEWAY_MAX_URL="65535"),
                            stderr=subprocess.PIPE, text=True)
    try:
        line = next(line for line in iter(proc.stderr.readline, "") if "listening" in line)
        port = int(line.split(" port=")[1].split()[0])
        assert HttpClient(port).get("/healthz").status == 200
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_bad_configuration_exits_with_a_message():
    env = dict(os.environ, CONCERTO_GATEWAY_DEADLINE_MS="soon")
    out = subprocess.run([os.path.join(BIN, "concerto-gateway")], env=env, capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 1 and "CONCERTO_GATEWAY_DEADLINE_MS" in out.stderr
    with tempfile.NamedTemporaryFile("w", suffix=".routes") as f:
        f.write("GET /v1/x registry no.such.Type reader - 200\n")
        f.flush()
        env = dict(os.environ, CONCERTO_GATEWAY_ROUTES_FILE=f.name,
                   CONCERTO_GATEWAY_HTTP="127.0.0.1:0")
        out = subprocess.run([os.path.join(BIN, "concerto-gateway")], env=env,
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 1 and "line 1: unknown request type" in out.stderr

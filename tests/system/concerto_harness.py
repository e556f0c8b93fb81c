"""Shared helpers for Concerto's system tests.

Everything here drives real processes over real sockets:

- ``free_port()`` / ``tcp_endpoint()``: loopback ports for daemons to bind,
  reserved for the test run (outside the kernel's ephemeral range, never
  handed out twice, locked against concurrent runs), so that no other
  process takes one before the daemon binds it.
- ``services_def()``: the daemons of common/services.def, in its order.
- ``Daemon``: one Concerto binary with its environment, stderr captured to a
  log file in the test's temporary directory; ``start()``, ``stop()``
  (SIGTERM, then SIGKILL after a timeout), ``kill()``, ``log()``,
  ``wait_log(text)``. Usable as a context manager.
- ``start_service(name, tmp_dir)``: a real ``concerto-<name>`` daemon on free
  ports with its own data directory; ``.router``/``.pub`` are its endpoints.
- ``FakeService``: a service written in Python speaking the wire contract (a
  ROUTER answering one Envelope frame with one Reply Envelope, a PUB sending
  Heartbeats), with per-type handlers, switchable heartbeats and silence, and
  a record of every request it received. Handlers for the gateway's test
  messages (concerto.test.v1) are built in.
- ``demo_registry(tmp_dir)``: a real ``concerto-registry`` loaded with the
  demo data, as a context manager that insists on a clean exit;
  ``run_import(registry, folder)`` runs its ``import`` subcommand.
- ``funding_import(client, tables)``: imports Tables recognized since
  2020 through the gateway (``client`` an admin's ``HttpClient``) and waits
  until funding knows them all.
- ``Gateway``: ``concerto-gateway`` on a free HTTP port in front of the
  services you give it (fakes or real daemons), with optional tokens, extra
  routes and partner ingress; ``.http()`` gives an ``HttpClient``.
- ``partner_socket(gw, keypair)`` / ``ask(sock, frames)``: a CURVE client of
  the gateway's partner ingress, and one request/answer over it.
- ``HttpClient``: keep-alive HTTP/1.1 client (http.client) returning
  ``Response(status, headers, body)`` with ``.json()``; ``raw_exchange()``
  and ``read_responses()`` for byte-level tests.
- pytest fixtures a test module imports by name (``from concerto_harness
  import gw, op, ...``): ``tmp`` (a directory for the module), ``registry``
  (the demo registry), ``gw`` (a ready gateway in front of it with the
  tokens of REGISTRY_TOKENS) and its clients ``reader``, ``op``, ``admin``
  and ``public``; with ``history(client, table)`` and ``of_type(entries,
  name)`` to read a Table's history.
- Wire helpers: ``uuid7()``, ``make_envelope()``, ``parse_envelope()``,
  ``make_reply()``, ``token_line()``; ``outbox_payloads(path)`` reads the
  test daemons' Ping events from a stopped or running daemon's file.

The build's binaries are found through CONCERTO_BIN and the generated Python
protobuf modules through PYTHONPATH, both set by tests/system/CMakeLists.txt.
"""
import contextlib
import fcntl
import hashlib
import heapq
import http.client
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

import pytest
import zmq

from concerto.common.v1 import envelope_pb2 as E
from concerto.test.v1 import delivery_pb2 as D

SOURCE = os.environ.get("CONCERTO_SOURCE", os.path.join(os.path.dirname(__file__), "../.."))
BIN = os.environ.get("CONCERTO_BIN", os.path.join(SOURCE, "build/bin"))

DEMO_DATA = os.path.join(SOURCE, "services/registry/demo")

SERVICES = ("registry", "funding", "forum", "reporting")
SERVICE_LINE = re.compile(r"^SERVICE\((\w+), *(\w+), *(\d+), *(\d+)\)", re.M)
HEARTBEAT_TYPE = "concerto.common.v1.Heartbeat"
REPLY_TYPE = "concerto.common.v1.Reply"


def services_def():
    """(name, NAME, router_port, pub_port) of each SERVICE line of
    common/services.def, in its order."""
    with open(os.path.join(SOURCE, "common/services.def")) as f:
        return [(n, v, int(r), int(p)) for n, v, r, p in SERVICE_LINE.findall(f.read())]


# --------------------------------------------------------------- ports


def ephemeral_ports():
    """The range the kernel takes ports from for bind(0) and connect()."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


class PortAllocator:
    """Hands out loopback ports for daemons to bind, so that none is taken
    between the test choosing it and the daemon binding it (a port that was
    merely free a moment ago can be, by another process's bind(0) or an
    outgoing connection's source port):

    - only ports outside the kernel's ephemeral range, which nothing takes
      without asking for that very port;
    - never one twice in a run, so a stopped daemon's port (still in
      TIME_WAIT, or about to be rebound by a restart) is not given to
      another;
    - each held, for the life of the test process, by a POSIX lock on its
      byte of one file in the temporary directory, so concurrent test runs
      on the machine skip each other's ports;
    - each checked free by a bind when handed out (a daemon someone left
      running, a published container port).

    `start`: where in its list of ports it begins (random by default, so
    that concurrent runs seldom meet).
    """

    FIRST = 10000
    # One of each for the process, whatever the allocators: see _reserve.
    _file = None
    _given = set()
    _lock = threading.Lock()

    def __init__(self, start=None):
        low, high = ephemeral_ports()
        self.ports = [p for p in range(self.FIRST, 65536) if not low <= p <= high]
        self._next = secrets.randbelow(len(self.ports)) if start is None else start

    def _reserve(self, port):
        if PortAllocator._file is None:
            # One descriptor, kept open for the process's life: closing any
            # descriptor of the file releases every lock the process holds
            # on it.
            path = os.path.join(tempfile.gettempdir(), "concerto-test-ports.lock")
            PortAllocator._file = open(path, "a+b")
        try:
            fcntl.lockf(PortAllocator._file, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
        except OSError:
            return False
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    def take(self):
        with self._lock:
            for _ in range(len(self.ports)):
                port = self.ports[self._next]
                self._next = (self._next + 1) % len(self.ports)
                if port not in self._given and self._reserve(port):
                    self._given.add(port)
                    return port
        raise RuntimeError("no free loopback port left for this test run")


_ports = PortAllocator()


def free_port():
    """A TCP port on 127.0.0.1 for a daemon to bind: free now, reserved for
    this test run, and never handed out again in it (see PortAllocator)."""
    return _ports.take()


def tcp_endpoint():
    return f"tcp://127.0.0.1:{free_port()}"


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Polls `predicate` until it returns a true value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------- wire


def uuid7():
    """16 bytes of UUIDv7: Unix milliseconds, version and variant, random."""
    ms = int(time.time() * 1000)
    raw = bytearray(ms.to_bytes(6, "big") + secrets.token_bytes(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return bytes(raw)


def make_envelope(type_name, payload=b"", **fields):
    """A packed Envelope; `payload` is a message or bytes, `fields` any
    other Envelope fields (id defaults to a fresh UUIDv7)."""
    env = E.Envelope()
    env.id = fields.pop("id", uuid7())
    env.type = type_name
    env.timestamp_ms = int(time.time() * 1000)
    env.payload = payload if isinstance(payload, bytes) else payload.SerializeToString()
    for key, value in fields.items():
        setattr(env, key, value)
    return env.SerializeToString()


def parse_envelope(frame):
    env = E.Envelope()
    env.ParseFromString(frame)
    return env


def make_reply(status="OK", message="", result=None, fields=()):
    """A Reply: `status` a Status name, `result` a message or None,
    `fields` (field, description) pairs."""
    reply = E.Reply(status=E.Status.Value(status), message=message)
    for field, description in fields:
        reply.fields.add(field=field, description=description)
    if result is not None:
        reply.result_type = result.DESCRIPTOR.full_name
        reply.result = result.SerializeToString()
    return reply


def parse_reply(env):
    assert env.type == REPLY_TYPE, env.type
    reply = E.Reply()
    reply.ParseFromString(env.payload)
    return reply


def outbox_payloads(path):
    """The payloads of the concerto.test.v1.Ping events in the outbox of
    the SQLite file at `path`, in sequence order."""
    db = sqlite3.connect(path)
    try:
        out = []
        for (frame,) in db.execute("SELECT envelope FROM outbox ORDER BY seq"):
            ping = D.Ping()
            ping.ParseFromString(parse_envelope(frame).payload)
            out.append(ping.payload)
        return out
    finally:
        db.close()


def token_line(role, name):
    """(token, tokens-file line) for a fresh random bearer token."""
    token = secrets.token_urlsafe(24)
    return token, f"{hashlib.sha256(token.encode()).hexdigest()} {role} {name}"


# --------------------------------------------------------------- daemons


class Daemon:
    """A Concerto binary under test."""

    def __init__(self, name, argv, env, log_dir):
        self.name, self.argv, self.env, self.log_dir = name, argv, env, log_dir
        self.proc, self.starts, self.log_path = None, 0, None

    def start(self):
        self.starts += 1
        self.log_path = os.path.join(self.log_dir, f"{self.name}.{self.starts}.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=log)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, text, timeout=10.0):
        def seen():
            if not self.running() and text not in self.log():
                raise RuntimeError(f"{self.name} exited:\n{self.log()}")
            return text in self.log()

        return wait_until(seen, timeout, what=f"{self.name} to log {text!r}")

    def kill(self):
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=10.0):
        """SIGTERM and wait; returns the exit code (SIGKILL after timeout)."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def service_env(name, router, pub):
    upper = name.upper()
    return {f"CONCERTO_{upper}_ROUTER": router, f"CONCERTO_{upper}_PUB": pub}


def start_service(name, tmp_dir, env=None, heartbeat_ms=200):
    """A real concerto-<name> daemon on free ports, data in tmp_dir/name."""
    router, pub = tcp_endpoint(), tcp_endpoint()
    full = dict(os.environ, CONCERTO_DATA_DIR=os.path.join(tmp_dir, name),
                CONCERTO_HEARTBEAT_MS=str(heartbeat_ms), **service_env(name, router, pub))
    full.update(env or {})
    d = Daemon(name, [os.path.join(BIN, f"concerto-{name}")], full, tmp_dir)
    d.router, d.pub = router, pub
    d.start()
    d.wait_log("serving")
    return d


@contextlib.contextmanager
def demo_registry(tmp_dir):
    """concerto-registry loaded with the demo data; it must exit cleanly."""
    d = start_service("registry", tmp_dir, env={"CONCERTO_REGISTRY_DEMO_DATA": DEMO_DATA})
    try:
        d.wait_log("demo data imported")
        yield d
    finally:
        assert d.stop() == 0, d.log()


def run_import(registry, directory, **env):
    """`concerto-registry import directory` against the running `registry`,
    as actor cli:test; the CompletedProcess (text)."""
    full = dict(os.environ, CONCERTO_REGISTRY_ROUTER=registry.router, CONCERTO_ACTOR="cli:test",
                **env)
    return subprocess.run([os.path.join(BIN, "concerto-registry"), "import", directory],
                          env=full, capture_output=True, text=True, timeout=60)


def funding_import(client, tables):
    """Imports `tables` into the registry through the gateway, recognized
    since 2020-01-01, each with its own mandataire org-<id> and its own
    territory (one recognized Table a territory): alternately a
    municipality of the West Island sector `ouest` and a neighbourhood of
    the borough `sud-ouest`; then waits until funding has them from the
    registry's events."""
    places = [(f"m-{t}", "municipality", "ouest") if i % 2 == 0
              else (f"n-{t}", "neighbourhood", "sud-ouest") for i, t in enumerate(tables)]
    territories = "".join(f"{p},Place {p},{kind},{parent}\n" for p, kind, parent in places)
    rows = "".join(f"{t},Table {t},{place[0]},org-{t},recognized,2020-01-01\n"
                   for t, place in zip(tables, places))
    files = [
        {"kind": "territories", "content": "id,name,kind,parent_id\n"
         "sud-ouest,Le Sud-Ouest,borough,\nouest,Ouest-de-l'Île,sector,\n" + territories},
        {"kind": "organizations", "content": "id,name,sector,network\n"
         + "".join(f"org-{t},Mandataire {t},community,community\n" for t in tables)},
        {"kind": "tables", "content": "id,name,territory_id,mandataire_id,recognition_status,"
         "recognition_since\n" + rows},
    ]
    r = client.request("POST", "/v1/import", {"files": files})
    assert r.status == 200, r
    wait_until(lambda: all(client.get(f"/v1/tables/{t}/funding").json().get("known")
                           for t in tables), 10, what="funding to know the Tables")


# --------------------------------------------------------------- fake service


class FakeService:
    """A service in Python on the real wire, for the gateway's tests.

    handlers: {type name: fn(env) -> Reply | (delay_s, Reply) | None}; None
    means never answer. router/pub: endpoints (default: free ports). Built
    in: StatusRequest (a Heartbeat), TableStatusRequest, and the
    concerto.test.v1 messages (EchoRequest echoes, honouring sleep_ms and
    status; PartnerEvent applies each idempotency key once, as a real
    service's idempotency record does).
    """

    def __init__(self, name, heartbeat_ms=100, handlers=None, router=None, pub=None):
        from concerto.common.v1 import table_status_pb2 as TS
        from concerto.test.v1 import gateway_test_pb2 as T

        self.T, self.TS = T, TS
        self.name = name
        # Given endpoints let a test restart a service where it was.
        self.router, self.pub = router or tcp_endpoint(), pub or tcp_endpoint()
        self.heartbeat_ms = heartbeat_ms
        self.heartbeats = True  # set False to fall silent on PUB
        self.silent = False  # set True to receive but never answer
        self.head_sequence = 0
        self.cursors = []  # (source, applied, source_head)
        self.requests = []  # every request Envelope received
        self.applied = {}  # idempotency key -> times the effect was applied
        self.results = {}  # idempotency key -> the stored Reply
        self.handlers = {
            "concerto.common.v1.StatusRequest": self._status,
            "concerto.common.v1.TableStatusRequest": self._table_status,
            "concerto.test.v1.EchoRequest": self._echo,
            "concerto.test.v1.PartnerEvent": self._partner_event,
        }
        self.handlers.update(handlers or {})
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"fake-{name}", daemon=True)

    def env(self):
        return service_env(self.name, self.router, self.pub)

    def start(self):
        self._thread.start()
        assert self._ready.wait(5), "fake service did not start"
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def received(self, type_name=None):
        with self._lock:
            return [r for r in self.requests if type_name is None or r.type == type_name]

    # -- built-in handlers

    def heartbeat_message(self):
        hb = E.Heartbeat(service=self.name, head_sequence=self.head_sequence, started_ms=1)
        for source, applied, head in self.cursors:
            hb.cursors.add(source=source, applied_sequence=applied, source_head=head)
        return hb

    def _status(self, env):
        return make_reply(result=self.heartbeat_message())

    def _table_status(self, env):
        req = self.TS.TableStatusRequest()
        req.ParseFromString(env.payload)
        if req.table_id == "unknown":
            return make_reply("NOT_FOUND", f"no table {req.table_id}")
        return make_reply(result=self.T.EchoReply(text=req.table_id, service=self.name))

    def _echo(self, env):
        req = self.T.EchoRequest()
        req.ParseFromString(env.payload)
        if req.HasField("status") and req.status != "OK":
            reply = make_reply(req.status, f"asked to answer {req.status}",
                               fields=[("text", "as requested")])
        else:
            out = self.T.EchoReply(service=self.name)
            for name in ("actor", "idempotency_key"):
                if env.HasField(name):
                    setattr(out, name, getattr(env, name))
            for name in ("text", "limit", "id", "table_id"):
                if req.HasField(name):
                    setattr(out, name, getattr(req, name))
            out.tags.extend(req.tags)
            if req.HasField("thing"):
                out.thing.CopyFrom(req.thing)
            reply = make_reply(result=out)
        return (req.sleep_ms / 1000.0, reply) if req.sleep_ms else reply

    def _partner_event(self, env):
        key = env.idempotency_key
        with self._lock:
            if key in self.results:
                return self.results[key]
            ev = self.T.PartnerEvent()
            ev.ParseFromString(env.payload)
            self.applied[key] = self.applied.get(key, 0) + 1
            reply = make_reply(result=self.T.PartnerEventResult(applied=self.applied[key],
                                                                note=ev.note))
            self.results[key] = reply
            return reply

    # -- the loop

    def _run(self):
        ctx = zmq.Context.instance()
        router = ctx.socket(zmq.ROUTER)
        pub = ctx.socket(zmq.PUB)
        router.linger = pub.linger = 0
        router.bind(self.router)
        pub.bind(self.pub)
        self._ready.set()
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        delayed = []  # (due, seq, identity, frame)
        seq = 0
        next_beat = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if self.heartbeats and now >= next_beat:
                    hb = self.heartbeat_message()
                    pub.send_multipart([HEARTBEAT_TYPE.encode(),
                                        make_envelope(HEARTBEAT_TYPE, hb, source=self.name)])
                    next_beat = now + self.heartbeat_ms / 1000.0
                while delayed and delayed[0][0] <= now:
                    _, _, identity, frame = heapq.heappop(delayed)
                    router.send_multipart([identity, frame])
                timeout = 20
                if delayed:
                    timeout = max(0, min(timeout, int((delayed[0][0] - now) * 1000)))
                if not dict(poller.poll(timeout)):
                    continue
                frames = router.recv_multipart()
                identity, frame = frames[0], frames[-1]
                try:
                    env = parse_envelope(frame)
                except Exception:  # garbage: answer nothing, like a lost message
                    continue
                with self._lock:
                    self.requests.append(env)
                if self.silent:
                    continue
                handler = self.handlers.get(env.type)
                answer = (handler(env) if handler else
                          make_reply("INVALID_ARGUMENT", f"unknown message type {env.type}"))
                if answer is None:
                    continue
                delay, reply = answer if isinstance(answer, tuple) else (0, answer)
                out = make_envelope(REPLY_TYPE, reply, source=self.name,
                                    correlation_id=env.id)
                if delay:
                    seq += 1
                    heapq.heappush(delayed, (time.monotonic() + delay, seq, identity, out))
                else:
                    router.send_multipart([identity, out])
        finally:
            router.close()
            pub.close()


# --------------------------------------------------------------- HTTP


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Response({self.status}, {self.body[:300]!r})"


class HttpClient:
    """HTTP/1.1 with keep-alive through http.client."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0, token=None):
        self.port, self.host, self.timeout, self.token = port, host, timeout, token
        self.conn = None

    def request(self, method, path, body=None, headers=None, token=None):
        """Sends a request; a dict/list body is sent as JSON."""
        headers = dict(headers or {})
        token = token or self.token
        if token:
            headers.setdefault("Authorization", f"Bearer {token}")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (ConnectionError, http.client.HTTPException, OSError):
            self.close()
            raise
        if resp.will_close:
            self.close()
        return Response(resp.status, resp.getheaders(), data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def read_responses(sock, count, timeout=10.0):
    """Reads `count` HTTP responses (Content-Length framed) from a socket:
    a list of Response, fewer if the peer closes first."""
    sock.settimeout(timeout)
    buf = b""
    out = []
    while len(out) < count:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("latin-1").split("\r\n")
            status = int(head[0].split()[1])
            headers = [tuple(h.split(": ", 1)) for h in head[1:]]
            length = int(dict((k.lower(), v) for k, v in headers).get("content-length", 0))
            if status == 100:
                buf = buf[end + 4:]
                continue
            if len(buf) >= end + 4 + length:
                out.append(Response(status, headers, buf[end + 4:end + 4 + length]))
                buf = buf[end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return out


def raw_exchange(port, data, count=1, timeout=10.0):
    """Sends raw bytes on a new connection and reads `count` responses."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_responses(s, count, timeout)


def peer_closed(sock, timeout=5.0):
    """True when the peer closes the connection (EOF or reset) in time."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


# --------------------------------------------------------------- gateway


class Gateway(Daemon):
    """concerto-gateway on a free port.

    services: {name: object with .router and .pub} (FakeService or a
    Daemon from start_service); services not given point at free ports
    nobody serves (so they are down). required: the services /readyz
    waits for (default: those given). tokens: [(role, name)] -> self.tokens
    {name: token}. routes: extra routes text. partners: allow-list text
    (turns the partner ingress on, with keys made by concerto-keygen; then
    self.partner_endpoint and self.server_public are set). env: more
    variables.
    """

    def __init__(self, tmp_dir, services=None, tokens=(), routes=None, partners=None,
                 partner_types=None, env=None, heartbeat_ms=100, required=None):
        self.port = free_port()
        self.tmp_dir = tmp_dir
        full = dict(os.environ, CONCERTO_GATEWAY_HTTP=f"127.0.0.1:{self.port}",
                    CONCERTO_HEARTBEAT_MS=str(heartbeat_ms), CONCERTO_LOG_LEVEL="info")
        services = services or {}
        for name in SERVICES:
            svc = services.get(name)
            router, pub = (svc.router, svc.pub) if svc else (tcp_endpoint(), tcp_endpoint())
            full.update(service_env(name, router, pub))
        required = list(services) if required is None else list(required)
        full["CONCERTO_GATEWAY_REQUIRED_SERVICES"] = ",".join(required) or "none"
        self.tokens = {}
        if tokens:
            lines = []
            for role, name in tokens:
                token, line = token_line(role, name)
                self.tokens[name] = token
                lines.append(line)
            full["CONCERTO_GATEWAY_TOKENS"] = self._write("tokens", "\n".join(lines) + "\n")
        if routes:
            full["CONCERTO_GATEWAY_ROUTES_FILE"] = self._write("routes", routes)
        self.partner_endpoint = None
        if partners is not None:
            keys = os.path.join(tmp_dir, "gateway-keys")
            os.makedirs(keys, exist_ok=True)
            subprocess.run([os.path.join(BIN, "concerto-keygen"), "--out", keys, "gateway"],
                           check=True, capture_output=True)
            with open(os.path.join(keys, "gateway.pub")) as f:
                self.server_public = f.read().strip().encode()
            self.partner_endpoint = tcp_endpoint()
            full.update(CONCERTO_GATEWAY_PARTNER=self.partner_endpoint,
                        CONCERTO_GATEWAY_CURVE_SECRET=os.path.join(keys, "gateway.key"),
                        CONCERTO_GATEWAY_CURVE_PUBLIC=os.path.join(keys, "gateway.pub"),
                        CONCERTO_GATEWAY_PARTNERS=self._write("partners", partners))
            if partner_types:
                full["CONCERTO_GATEWAY_PARTNER_TYPES"] = partner_types
        full.update(env or {})
        super().__init__("gateway", [os.path.join(BIN, "concerto-gateway")], full, tmp_dir)

    def _write(self, name, text):
        path = os.path.join(self.tmp_dir, f"gateway.{name}")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, wait_ready=True):
        super().start()
        if wait_ready:
            self.wait_log("listening")
        return self

    def http(self, **kw):
        return HttpClient(self.port, **kw)

    def wait_ready(self, timeout=10.0):
        client = self.http()
        try:
            wait_until(lambda: client.get("/readyz").status == 200, timeout,
                       what="gateway /readyz")
        finally:
            client.close()

    def wait_service(self, name, up=True, timeout=10.0):
        """Waits until /v1/status shows the service up (or down)."""
        client = self.http()
        try:
            wait_until(lambda: client.get("/v1/status").json()["services"][name]["up"] == up,
                       timeout, what=f"{name} {'up' if up else 'down'}")
        finally:
            client.close()

    def metric(self, name, **labels):
        """The value of one /metrics sample (0 when absent)."""
        client = self.http()
        try:
            text = client.get("/metrics").body.decode()
        finally:
            client.close()
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        key = f"{name}{{{want}}}" if labels else name
        for line in text.splitlines():
            if line.startswith(key + " "):
                return float(line.split()[-1])
        return 0.0


def start_gateway(tmp_dir, **kw):
    """A started Gateway (see Gateway for the arguments)."""
    return Gateway(tmp_dir, **kw).start()


@contextlib.contextmanager
def ready_gateway(tmp_dir, **kw):
    """A Gateway started and ready (see Gateway for the arguments); it must
    exit cleanly."""
    g = Gateway(tmp_dir, **kw).start()
    try:
        g.wait_ready()
        yield g
    finally:
        assert g.stop() == 0, g.log()


def http_ok(resp, status=200):
    """The JSON answer of `resp`, which must have `status`."""
    assert resp.status == status, resp
    return resp.json()


def http_error(resp, status, code, field=None, text=None):
    """The error of `resp`, which must have `status` and `code` and, when
    given, a violation of `field` whose description contains `text`."""
    assert resp.status == status, resp
    err = resp.json()["error"]
    assert err["code"] == code, err
    if field is not None:
        hits = [f for f in err["fields"]
                if f["field"] == field and (text is None or text in f["description"])]
        assert hits, err
    return err


def partner_socket(gw, keypair, server_key=None, kind=zmq.DEALER):
    """A CURVE client (DEALER unless told) connected to gw's partner ingress,
    authenticating with `keypair`; `server_key` defaults to the gateway's."""
    sock = zmq.Context.instance().socket(kind)
    sock.linger = 0
    sock.curve_publickey, sock.curve_secretkey = keypair
    sock.curve_serverkey = server_key or gw.server_public
    sock.connect(gw.partner_endpoint)
    return sock


def ask(sock, frames, timeout_ms=3000):
    """Sends `frames` (one packed Envelope, or a list of frames) and returns
    the answer as (Envelope, Reply), or None when none comes in time."""
    if isinstance(frames, bytes):
        frames = [frames]
    sock.send_multipart(frames)
    if not sock.poll(timeout_ms):
        return None
    env = parse_envelope(sock.recv_multipart()[-1])
    return env, parse_reply(env)


# --------------------------------------------------------------- registry behind a gateway

REGISTRY_TOKENS = [("reader", "rita"), ("operator", "otto"), ("admin", "ada")]


@pytest.fixture(scope="module")
def tmp():
    """A directory for the module's daemons."""
    with tempfile.TemporaryDirectory() as d:
        yield d


@pytest.fixture(scope="module")
def registry(tmp):
    """The demo registry (demo_registry), one per module."""
    with demo_registry(tmp) as d:
        yield d


@pytest.fixture(scope="module")
def gw(tmp, registry):
    """A ready gateway in front of `registry`, with REGISTRY_TOKENS."""
    with ready_gateway(tmp, services={"registry": registry}, tokens=REGISTRY_TOKENS) as g:
        yield g


def _client_fixture(name):
    """A fixture: an HttpClient of `gw` with the token of `name` (None: the
    public, without one), closed after the test."""

    @pytest.fixture
    def client(gw):
        c = gw.http(token=gw.tokens[name]) if name else gw.http()
        yield c
        c.close()

    return client


reader = _client_fixture("rita")
op = _client_fixture("otto")
admin = _client_fixture("ada")
public = _client_fixture(None)


def history(c, table):
    """Every entry of the Table's history (one page of 500)."""
    return http_ok(c.get(f"/v1/tables/{table}/history?limit=500"))["entries"]


def of_type(entries, name):
    """The events of type `name` (RecognitionChanged...) among `entries`."""
    key = name[0].lower() + name[1:]
    return [e[key] for e in entries if e["type"] == f"concerto.registry.v1.{name}"]

"""Fixtures and helpers the registry's HTTP tests share: a real
concerto-registry loaded with the demo data behind a real gateway (one per
test module), HTTP clients for each role and for the public, and the
Table history helpers. A test module imports the fixtures it uses by name.
"""
import tempfile

import pytest

from concerto_harness import demo_registry, ready_gateway

TOKENS = [("reader", "rita"), ("operator", "otto"), ("admin", "ada")]


@pytest.fixture(scope="module")
def tmp():
    with tempfile.TemporaryDirectory() as d:
        yield d


@pytest.fixture(scope="module")
def registry(tmp):
    with demo_registry(tmp) as d:
        yield d


@pytest.fixture(scope="module")
def gw(tmp, registry):
    with ready_gateway(tmp, services={"registry": registry}, tokens=TOKENS) as g:
        yield g


def _client(gw, name=None):
    return gw.http(token=gw.tokens[name]) if name else gw.http()


@pytest.fixture
def reader(gw):
    c = _client(gw, "rita")
    yield c
    c.close()


@pytest.fixture
def op(gw):
    c = _client(gw, "otto")
    yield c
    c.close()


@pytest.fixture
def admin(gw):
    c = _client(gw, "ada")
    yield c
    c.close()


@pytest.fixture
def public(gw):
    c = _client(gw)
    yield c
    c.close()


def history(c, table):
    """Every entry of the Table's history (one page of 500)."""
    resp = c.get(f"/v1/tables/{table}/history?limit=500")
    assert resp.status == 200, resp
    return resp.json()["entries"]


def of_type(entries, name):
    """The events of type `name` (RecognitionChanged...) among `entries`."""
    key = name[0].lower() + name[1:]
    return [e[key] for e in entries if e["type"] == f"concerto.registry.v1.{name}"]

"""The answers clients rely on (issue 14), through concerto-gateway in front
of a real concerto-registry loaded with the demo data: empty lists, counts,
404s for unknown names in filters, CSV export, search as people type,
history with old values, archiving, errors in one naming, imports of what
Excel in French saves.
"""
import csv
import io
import tempfile

import pytest

from concerto_harness import Gateway, demo_registry


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
    g = Gateway(tmp, services={"registry": registry},
                tokens=[("reader", "rita"), ("operator", "otto"), ("admin", "ada")]).start()
    try:
        g.wait_ready()
        yield g
    finally:
        assert g.stop() == 0, g.log()


@pytest.fixture
def reader(gw):
    c = gw.http(token=gw.tokens["rita"])
    yield c
    c.close()


@pytest.fixture
def op(gw):
    c = gw.http(token=gw.tokens["otto"])
    yield c
    c.close()


@pytest.fixture
def admin(gw):
    c = gw.http(token=gw.tokens["ada"])
    yield c
    c.close()


def ok(resp, status=200):
    assert resp.status == status, resp
    return resp.json()


def error(resp, status, code):
    assert resp.status == status, resp
    err = resp.json()["error"]
    assert err["code"] == code, err
    return err


def post(client, path, body, **kw):
    return client.request("POST", path, body, headers={"Content-Type": "application/json"}, **kw)


# ------------------------------------------------------------ empty lists


@pytest.mark.parametrize("path,key", [
    ("/v1/tables?search=zzzqqq", "tables"),
    ("/v1/territories?search=zzzqqq", "territories"),
    ("/v1/organizations?search=zzzqqq", "organizations"),
    ("/v1/tables/tqmn/attestations", "attestations"),
    ("/v1/tables/tqmn/members?activeOn=1900-01-01", "memberships"),
])
def test_an_empty_list_is_an_empty_array(reader, path, key):
    body = ok(reader.get(path))
    assert body[key] == [], body
    assert "nextCursor" not in body


def test_repeated_fields_of_a_message_are_always_present(reader):
    t = ok(reader.get("/v1/tables/tqmn"))
    assert t["languages"] == []

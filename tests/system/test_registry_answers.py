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


# ------------------------------------------------------- errors in one naming


def test_errors_name_fields_as_json_in_message_and_fields(op):
    err = error(post(op, "/v1/tables", {"id": "tq-naming", "name": "Naming",
                                        "territoryId": "verdun", "foundingYear": 1700,
                                        "contact": {"email": "nobody"}}),
                400, "INVALID_ARGUMENT")
    assert err["message"].startswith("table.foundingYear: must be between 1800 and "), err
    assert err["message"].endswith(" (and 1 more problem)"), err
    assert {f["field"] for f in err["fields"]} == {"table.foundingYear", "table.contact.email"}
    err = error(post(op, "/v1/tables", {"id": "tq-naming", "name": "Naming",
                                        "territoryId": "nowhere-at-all"}), 404, "NOT_FOUND")
    assert err["message"] == "table.territoryId: territory nowhere-at-all is not registered"
    assert err["fields"] == [{"field": "table.territoryId",
                              "description": "territory nowhere-at-all is not registered"}]
    err = error(post(op, "/v1/tables/tq-missing/recognition",
                     {"status": "recognized", "reason": "x", "effectiveOn": "someday"}),
                400, "INVALID_ARGUMENT")
    assert err["message"].startswith("effectiveOn: must be a calendar date"), err
    assert [f["field"] for f in err["fields"]] == ["effectiveOn"]


def test_errors_mention_other_fields_by_their_json_names(op, reader):
    err = error(reader.get("/v1/tables?cursor=abcd"), 400, "INVALID_ARGUMENT")
    assert "pass nextCursor back" in err["message"] and "next_cursor" not in err["message"]


def test_import_errors_name_the_csv_header_columns(op):
    csv_text = "id,name,territory_id,founding_year\nbad-row,Bad,nowhere-at-all,1700\n"
    err = error(post(op, "/v1/import", {"files": [{"kind": "tables", "content": csv_text}]}),
                400, "INVALID_ARGUMENT")
    names = [f["field"] for f in err["fields"]]
    assert "tables.csv:2:founding_year" in names, err
    assert err["message"].startswith("import refused, nothing was written: "), err
    assert " 1 problems" not in err["message"]


def test_plural_agreement_in_summaries(op, reader):
    assert ok(post(op, "/v1/organizations", {"id": "plural-org", "name": "Plural",
                                             "sector": "housing", "network": "community"}), 201)
    assert ok(post(op, "/v1/tables", {"id": "tq-plural", "name": "Plural",
                                      "territoryId": "verdun"}), 201)
    assert ok(post(op, "/v1/tables/tq-plural/members",
                   {"organizationId": "plural-org", "joinedOn": "2020-01-01"}), 201)
    chars = ok(reader.get("/v1/tables/tq-plural/characteristics"))
    summaries = {c["code"]: c["summary"] for c in chars["characteristics"]}
    assert summaries["intersectoral"].startswith("1 distinct sector among"), summaries
    assert summaries["multi_network"].startswith("1 distinct network among"), summaries

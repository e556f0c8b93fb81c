"""The answers clients rely on (issue 14), through concerto-gateway in front
of a real concerto-registry loaded with the demo data: empty lists, counts,
404s for unknown names in filters, CSV export, search as people type,
history with old values, archiving, errors in one naming, imports of what
Excel in French saves.
"""
import csv
import io
import os

import pytest

from concerto_harness import admin, gw, op, reader, registry, tmp  # noqa: F401
from concerto_harness import http_error as error
from concerto_harness import http_ok as ok
from concerto_harness import Gateway, run_import, start_service


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


# ----------------------------------------------------------------- lists


def all_ids(client, path):
    """Every id of a paged list, following nextCursor."""
    ids, cursor, totals = [], None, set()
    key = path.split("?")[0].rsplit("/", 1)[1]
    while True:
        sep = "&" if "?" in path else "?"
        page = ok(client.get(path + (f"{sep}cursor={cursor}" if cursor else "")))
        ids += [x["id"] for x in page[key]]
        totals.add(page["total"])
        cursor = page.get("nextCursor")
        if not cursor:
            return ids, totals


def test_withdrawn_and_refused_tables_are_left_out_unless_asked(op, reader):
    for tid, status in (("tq-gone", "withdrawn"), ("tq-no", "refused")):
        assert ok(op.post("/v1/tables", {"id": tid, "name": f"Table {status}",
                                         "territoryId": "verdun"}), 201)
        if status == "refused":
            ok(op.post(f"/v1/tables/{tid}/recognition", {"status": "under_review",
                                                         "reason": "review"}))
        ok(op.post(f"/v1/tables/{tid}/recognition", {"status": status, "reason": "test"}))
    ids, _ = all_ids(reader, "/v1/tables?limit=7")
    assert "tq-gone" not in ids and "tq-no" not in ids and "tqmn" in ids
    assert [t["id"] for t in ok(reader.get("/v1/tables?status=withdrawn"))["tables"]] == \
        ["tq-gone"]
    assert [t["id"] for t in ok(reader.get("/v1/tables?status=refused"))["tables"]] == ["tq-no"]


def test_lists_count_every_row_matching_the_filters(reader):
    ids, totals = all_ids(reader, "/v1/tables?limit=5")
    assert totals == {len(ids)} and len(ids) >= 22
    ids, totals = all_ids(reader, "/v1/tables?borough=le-sud-ouest&limit=2")
    assert totals == {3} and len(ids) == 3
    ids, totals = all_ids(reader, "/v1/territories?kind=borough&limit=5")
    assert totals == {12} and len(ids) == 12
    page = ok(reader.get("/v1/organizations?limit=1"))
    assert len(page["organizations"]) == 1 and page["total"] > 100
    assert ok(reader.get("/v1/tables/tqmn/members?limit=1"))["total"] >= 1
    assert ok(reader.get("/v1/tables?search=zzzqqq"))["total"] == 0


def test_a_first_page_holding_every_row_counts_them(reader):
    """Without a next page the first page's rows are the total (counted
    without a second statement): the same totals as the paged lists'."""
    for path, key, total in (("/v1/tables?borough=le-sud-ouest", "tables", 3),
                             ("/v1/tables?borough=le-sud-ouest&limit=3", "tables", 3),
                             ("/v1/territories?kind=borough", "territories", 12)):
        page = ok(reader.get(path))
        assert len(page[key]) == total and page["total"] == total, path
        assert "nextCursor" not in page, path


@pytest.mark.parametrize("path,field,noun", [
    ("/v1/tables?borough=montreal-nrd", "borough", "territory montreal-nrd"),
    ("/v1/territories?parentId=montreal-nrd", "parentId", "territory montreal-nrd"),
    ("/v1/tables/no-such-table/members", "tableId", "Table no-such-table"),
    ("/v1/tables/no-such-table/attestations", "tableId", "Table no-such-table"),
])
def test_unknown_names_in_filters_are_404(reader, path, field, noun):
    err = error(reader.get(path), 404, "NOT_FOUND")
    assert err["fields"] == [{"field": field, "description": f"{noun} is not registered"}], err
    assert err["message"] == f"{field}: {noun} is not registered"


def csv_rows(resp):
    assert resp.status == 200, resp
    assert resp.header("Content-Type").startswith("text/csv")
    assert resp.body.startswith(b"\xef\xbb\xbf"), resp.body[:10]  # BOM: Excel shows accents
    text = resp.body.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_export_holds_every_row_matching_the_filters(reader):
    ids, _ = all_ids(reader, "/v1/tables?limit=5")
    rows = csv_rows(reader.get("/v1/tables?format=csv&limit=5"))
    assert [r["id"] for r in rows] == ids  # every row, not one page
    by_id = {r["id"]: r for r in rows}
    assert by_id["tds-centre-sud"]["mandataire_id"] == "cdc-centre-sud"
    assert by_id["tds-centre-sud"]["recognition_status"] == "recognized"
    assert "Montréal-Nord" in by_id["tqmn"]["name"]
    rows = csv_rows(reader.get("/v1/tables?borough=le-sud-ouest",
                               headers={"Accept": "text/csv"}))
    assert sorted(r["id"] for r in rows) == sorted(all_ids(
        reader, "/v1/tables?borough=le-sud-ouest")[0])
    rows = csv_rows(reader.get("/v1/territories?format=csv&kind=borough"))
    assert len(rows) == 12 and list(rows[0]) [:3] == ["id", "name", "kind"]
    rows = csv_rows(reader.get("/v1/organizations?format=csv&sector=housing"))
    assert rows and all(r["sector"] == "housing" for r in rows)
    error(reader.get("/v1/tables?format=csv&borough=montreal-nrd"), 404, "NOT_FOUND")


def test_csv_export_is_versioned(reader, op):
    first = reader.get("/v1/tables?format=csv")
    etag = first.header("ETag")
    assert etag
    again = reader.get("/v1/tables?format=csv", headers={"If-None-Match": etag})
    assert again.status == 304
    ok(op.post("/v1/territories", {"id": "etag-quartier", "name": "Quartier ETag",
                                   "kind": "borough"}), 201)
    assert reader.get("/v1/tables?format=csv", headers={"If-None-Match": etag}).status == 200


def test_a_csv_export_guards_formulas_and_keeps_phone_numbers(op, reader):
    """Text Excel would run as a formula gets a ' first (CSV injection);
    numbers and phone numbers are written as they are."""
    ok(op.post("/v1/tables", {"id": "tq-formula", "territoryId": "verdun",
                              "name": '=HYPERLINK("http://x.example","clic")',
                              "notes": "-2+3+cmd|' /C calc'!A0", "foundingYear": 1999,
                              "contact": {"phone": "+1 514 555-0100", "address": "@ la mairie"}}),
       201)
    (row,) = [r for r in csv_rows(reader.get("/v1/tables?format=csv&status=requested"))
              if r["id"] == "tq-formula"]
    assert row["name"] == '\'=HYPERLINK("http://x.example","clic")'
    assert row["notes"] == "'-2+3+cmd|' /C calc'!A0"
    assert row["address"] == "'@ la mairie"
    assert row["phone"] == "+1 514 555-0100" and row["founding_year"] == "1999"


def test_a_large_csv_export_is_streamed_in_parts(tmp):
    """With 64 KiB frames, an export of 120 Tables with long notes is larger
    than a frame: the registry keeps it and the gateway streams it."""
    frame = {"CONCERTO_MAX_FRAME": "65536"}
    os.makedirs(tmp + "/big", exist_ok=True)
    d = start_service("registry", tmp + "/big", env=frame)
    g = Gateway(tmp + "/big", services={"registry": d}, tokens=[("operator", "otto")],
                env={**frame, "CONCERTO_GATEWAY_MAX_BODY": "60000"}).start()
    try:
        g.wait_ready()
        c = g.http(token=g.tokens["otto"])
        ok(c.post("/v1/territories", {"id": "big-borough", "name": "Gros arrondissement",
                                      "kind": "borough"}), 201)
        for i in range(120):
            ok(c.post("/v1/tables", {"id": f"tq-big-{i:03d}", "name": f"Table {i} «é»",
                                     "territoryId": "big-borough",
                                     "notes": f"note {i}, \"quoted\"\n" + "x" * 1500}), 201)
        resp = c.get("/v1/tables?format=csv")
        assert resp.header("Transfer-Encoding") == "chunked"
        assert len(resp.body) > 65536
        rows = csv_rows(resp)
        assert [r["id"] for r in rows] == [f"tq-big-{i:03d}" for i in range(120)]
        assert rows[7]["notes"].startswith('note 7, "quoted"\n')
        c.close()
    finally:
        assert g.stop() == 0, g.log()
        assert d.stop() == 0, d.log()


# ------------------------------------------------------ search as people type


def search(client, path, text):
    from urllib.parse import quote
    return [x["id"] for x in ok(client.get(f"{path}?search={quote(text)}"))[
        path.rsplit("/", 1)[1]]]


@pytest.mark.parametrize("text,table", [
    ("st-leonard", "concertation-saint-leonard"),
    ("St-Léonard", "concertation-saint-leonard"),
    ("ST LEONARD", "concertation-saint-leonard"),
    ("saint leonard", "concertation-saint-leonard"),
    ("St-Michel", "vsms"),
    ("Little Burgundy", "coalition-petite-bourgogne"),
    ("little burg", "coalition-petite-bourgogne"),
    ("Park Extension", "parc-extension"),
    ("Pointe-Claire", "tqsoi"),
    ("pointe claire", "tqsoi"),
    ("West Island", "tqsoi"),
    ("cote neiges", "ndg-community-council"),
])
def test_table_search_finds_the_spellings_people_type(reader, text, table):
    assert table in search(reader, "/v1/tables", text), text


def test_territory_search_uses_aliases_and_ligatures(reader, op):
    assert search(reader, "/v1/territories", "Little Burgundy") == ["petite-bourgogne"]
    t = ok(reader.get("/v1/territories/petite-bourgogne"))
    assert t["aliases"] == ["Little Burgundy"]
    assert "saint-leonard" in search(reader, "/v1/territories", "St-Léonard")
    ok(op.post("/v1/organizations", {"id": "oeuvres-leonard", "name": "Les Œuvres du Père",
                                     "sector": "community", "network": "community"}), 201)
    assert search(reader, "/v1/organizations", "oeuvres") == ["oeuvres-leonard"]
    assert search(reader, "/v1/organizations", "ŒUVRES") == ["oeuvres-leonard"]
    ok(op.post("/v1/territories", {"id": "aelred", "name": "Quartier Æbelø",
                                   "kind": "borough", "aliases": ["Ste-Aelred"]}), 201)
    assert search(reader, "/v1/territories", "aebel") == ["aelred"]
    assert search(reader, "/v1/territories", "Sainte Aelred") == ["aelred"]
    ok(op.request("PATCH", "/v1/territories/aelred", {"aliases": ["Other Name"]},
                  headers={"Content-Type": "application/json"}))
    assert search(reader, "/v1/territories", "Sainte Aelred") == []
    assert search(reader, "/v1/territories", "other name") == ["aelred"]
    err = error(op.post("/v1/territories", {"id": "too-many", "name": "Many", "kind": "borough",
                                            "aliases": [f"a{i}" for i in range(9)]}),
                400, "INVALID_ARGUMENT")
    assert err["fields"][0]["field"] == "territory.aliases"


# ----------------------------------------------------- history and archive


def patch(client, path, body):
    return client.request("PATCH", path, body, headers={"Content-Type": "application/json"})


def delete(client, path, body):
    return client.request("DELETE", path, body, headers={"Content-Type": "application/json"})


def test_history_of_territories_and_organizations_lists_old_and_new_values(op, reader):
    ok(op.post("/v1/territories", {"id": "hist-quartier", "name": "Quartier Histoire",
                                   "kind": "borough", "population": 1000}), 201)
    ok(patch(op, "/v1/territories/hist-quartier",
             {"name": "Quartier de l'Histoire", "population": 1200, "notes": "new"}))
    h = ok(reader.get("/v1/territories/hist-quartier/history"))
    assert h["territoryId"] == "hist-quartier"
    kinds = [e["type"].rsplit(".", 1)[1] for e in h["entries"]]
    assert kinds == ["TerritoryRegistered", "TerritoryUpdated"]
    upd = h["entries"][1]["territoryUpdated"]
    assert upd["changes"] == [
        {"field": "name", "oldValue": "Quartier Histoire", "newValue": "Quartier de l'Histoire"},
        {"field": "population", "oldValue": "1000", "newValue": "1200"},
        {"field": "notes", "newValue": "new"}]
    assert h["entries"][1]["actor"] == "otto"

    ok(op.post("/v1/organizations", {"id": "hist-org", "name": "Org Histoire",
                                     "sector": "housing", "network": "community",
                                     "website": "https://a.example"}), 201)
    ok(patch(op, "/v1/organizations/hist-org", {"sector": "education", "website": ""}))
    h = ok(reader.get("/v1/organizations/hist-org/history"))
    # `sector` alone is the organization's one sector: `sectors` follows.
    assert h["entries"][1]["organizationUpdated"]["changes"] == [
        {"field": "sector", "oldValue": "housing", "newValue": "education"},
        {"field": "website", "oldValue": "https://a.example"},
        {"field": "sectors", "oldValue": "housing", "newValue": "education"}]
    error(reader.get("/v1/organizations/no-such-org/history"), 404, "NOT_FOUND")


def test_table_history_lists_old_and_new_values(op, reader):
    ok(op.post("/v1/tables", {"id": "tq-hist", "name": "Histoire", "territoryId": "verdun",
                              "languages": ["fr"], "contact": {"phone": "514-555-0100"}}), 201)
    ok(patch(op, "/v1/tables/tq-hist", {"languages": ["fr", "en"],
                                        "contact": {"phone": "514-555-0199"}}))
    h = ok(reader.get("/v1/tables/tq-hist/history"))
    changes = h["entries"][-1]["tableUpdated"]["changes"]
    assert {"field": "contact.phone", "oldValue": "514-555-0100",
            "newValue": "514-555-0199"} in changes
    assert {"field": "languages", "oldValue": "fr", "newValue": "fr; en"} in changes


def test_an_admin_archives_a_mistaken_record(op, admin, reader):
    ok(op.post("/v1/territories", {"id": "oops-quartier", "name": "Quartier par erreur",
                                   "kind": "borough"}), 201)
    ok(op.post("/v1/tables", {"id": "tq-oops", "name": "Table par erreur",
                              "territoryId": "oops-quartier"}), 201)
    # Only an admin archives, and with a reason.
    assert delete(op, "/v1/tables/tq-oops", {"reason": "entered twice"}).status == 403
    err = error(delete(admin, "/v1/tables/tq-oops", {}), 400, "INVALID_ARGUMENT")
    assert err["fields"] == [{"field": "reason", "description": "is required"}]
    # A territory still holding a Table is not archived.
    err = error(delete(admin, "/v1/territories/oops-quartier", {"reason": "mistake"}),
                409, "FAILED_PRECONDITION")
    assert "Tables that are not archived" in err["message"]
    t = ok(delete(admin, "/v1/tables/tq-oops", {"reason": "entered twice"}))
    assert t["archived"]["reason"] == "entered twice" and t["archived"]["by"] == "ada"
    ok(delete(admin, "/v1/territories/oops-quartier", {"reason": "mistake"}))
    # Hidden from lists and searches, still answered by id, kept in history.
    ids, _ = all_ids(reader, "/v1/tables?limit=500")
    assert "tq-oops" not in ids
    assert search(reader, "/v1/tables", "par erreur") == []
    assert search(reader, "/v1/territories", "par erreur") == []
    assert "tq-oops" not in [r["id"] for r in csv_rows(reader.get("/v1/tables?format=csv"))]
    assert ok(reader.get("/v1/tables/tq-oops"))["archived"]["reason"] == "entered twice"
    h = ok(reader.get("/v1/tables/tq-oops/history"))
    assert h["entries"][-1]["tableArchived"]["reason"] == "entered twice"
    # Its id is never reused, it is no longer updated nor named.
    err = error(op.post("/v1/tables", {"id": "tq-oops", "name": "Again",
                                       "territoryId": "verdun"}), 409, "CONFLICT")
    assert "never reused" in err["message"]
    error(patch(op, "/v1/tables/tq-oops", {"name": "Renamed"}), 409, "FAILED_PRECONDITION")
    error(delete(admin, "/v1/tables/tq-oops", {"reason": "again"}), 409, "FAILED_PRECONDITION")
    error(op.post("/v1/tables", {"id": "tq-oops-2", "name": "Other",
                                 "territoryId": "oops-quartier"}), 404, "NOT_FOUND")
    error(reader.get("/v1/tables?borough=oops-quartier"), 404, "NOT_FOUND")
    # An organization that is a Table's mandataire stays until that Table goes.
    err = error(delete(admin, "/v1/organizations/cdc-centre-sud", {"reason": "test"}),
                409, "FAILED_PRECONDITION")
    assert "mandataire" in err["message"]


# ------------------------------------------------------- errors in one naming


def test_errors_name_fields_as_json_in_message_and_fields(op):
    err = error(op.post("/v1/tables", {"id": "tq-naming", "name": "Naming",
                                       "territoryId": "verdun", "foundingYear": 1700,
                                       "contact": {"email": "nobody"}}),
                400, "INVALID_ARGUMENT")
    assert err["message"].startswith("table.foundingYear: must be between 1800 and "), err
    assert err["message"].endswith(" (and 1 more problem)"), err
    assert {f["field"] for f in err["fields"]} == {"table.foundingYear", "table.contact.email"}
    err = error(op.post("/v1/tables", {"id": "tq-naming", "name": "Naming",
                                       "territoryId": "nowhere-at-all"}), 404, "NOT_FOUND")
    assert err["message"] == "table.territoryId: territory nowhere-at-all is not registered"
    assert err["fields"] == [{"field": "table.territoryId",
                              "description": "territory nowhere-at-all is not registered"}]
    err = error(op.post("/v1/tables/tq-missing/recognition",
                    {"status": "recognized", "reason": "x", "effectiveOn": "someday"}),
                400, "INVALID_ARGUMENT")
    assert err["message"].startswith("effectiveOn: must be a calendar date"), err
    assert [f["field"] for f in err["fields"]] == ["effectiveOn"]


def test_errors_mention_other_fields_by_their_json_names(op, reader):
    err = error(reader.get("/v1/tables?cursor=abcd"), 400, "INVALID_ARGUMENT")
    assert "pass nextCursor back" in err["message"] and "next_cursor" not in err["message"]


def test_import_errors_name_the_csv_header_columns(op):
    csv_text = "id,name,territory_id,founding_year\nbad-row,Bad,nowhere-at-all,1700\n"
    err = error(op.post("/v1/import", {"files": [{"kind": "tables", "content": csv_text}]}),
                400, "INVALID_ARGUMENT")
    names = [f["field"] for f in err["fields"]]
    assert "tables.csv:2:founding_year" in names, err
    assert err["message"].startswith("import refused, nothing was written: "), err
    assert " 1 problems" not in err["message"]


def test_plural_agreement_in_summaries(op, reader):
    assert ok(op.post("/v1/organizations", {"id": "plural-org", "name": "Plural",
                                            "sector": "housing", "network": "community"}), 201)
    assert ok(op.post("/v1/tables", {"id": "tq-plural", "name": "Plural",
                                     "territoryId": "verdun"}), 201)
    assert ok(op.post("/v1/tables/tq-plural/members",
                  {"organizationId": "plural-org", "joinedOn": "2020-01-01"}), 201)
    chars = ok(reader.get("/v1/tables/tq-plural/characteristics"))
    summaries = {c["code"]: c["summary"] for c in chars["characteristics"]}
    assert summaries["intersectoral"].startswith("1 distinct sector among"), summaries
    assert summaries["multi_network"].startswith("1 distinct network among"), summaries


# ------------------------------------------- imports of what Excel saves in French


def test_import_reads_semicolons_as_excel_saves_in_french(op, reader):
    text = ("\ufeffid;name;kind;parent_id;notes;aliases\r\n"
            "fr-quartier;Quartier « Français »;borough;;\"note; avec, ponctuation\";"
            "\"French Quarter; Le Quartier\"\r\n")
    res = ok(op.post("/v1/import", {"files": [{"kind": "territories", "content": text}]}))
    assert res["territories"] == 1
    t = ok(reader.get("/v1/territories/fr-quartier"))
    assert t["name"] == "Quartier « Français »" and t["notes"] == "note; avec, ponctuation"
    assert t["aliases"] == ["French Quarter", "Le Quartier"]


def test_a_row_with_several_problems_reports_all_of_them(op):
    text = ("id;name;territory_id;founding_year;email;phone;board_seats\n"
            "tq-multi;Multi;verdun;l'an 2000;not-an-email;123;-4\n")
    err = error(op.post("/v1/import", {"files": [{"kind": "tables", "content": text}]}),
                400, "INVALID_ARGUMENT")
    fields = {f["field"] for f in err["fields"]}
    assert fields == {"tables.csv:2:founding_year", "tables.csv:2:email",
                      "tables.csv:2:phone", "tables.csv:2:board_seats"}, err
    assert err["message"].startswith("import refused, nothing was written: 4 problems; first: "
                                     "tables.csv:2:"), err


def test_cli_import_converts_windows_1252_or_refuses_it_with_its_place(registry, reader, tmp):
    folder = os.path.join(tmp, "cp1252")
    os.makedirs(folder)
    text = ("id;name;kind;notes\r\n"
            "cp-quartier;Côte-à-l'Œuvre;borough;ancienne « gare »\r\n")
    with open(os.path.join(folder, "territories.csv"), "wb") as f:
        f.write(text.encode("cp1252"))
    refused = run_import(registry, folder, CONCERTO_REGISTRY_IMPORT_ENCODING="off")
    assert refused.returncode == 2, refused
    # Line 2, column 14: the ô of Côte (after "cp-quartier;C").
    assert "territories.csv:2:14: byte 0xF4 is not UTF-8" in refused.stderr, refused.stderr
    done = run_import(registry, folder)
    assert done.returncode == 0, done.stderr
    t = ok(reader.get("/v1/territories/cp-quartier"))
    assert t["name"] == "Côte-à-l'Œuvre" and t["notes"] == "ancienne « gare »"
    # Bytes Windows-1252 leaves undefined are refused, with their place.
    with open(os.path.join(folder, "territories.csv"), "wb") as f:
        f.write(b"id;name;kind\r\ncp-2;Caf\xe9 \x81;borough\r\n")
    bad = run_import(registry, folder)
    assert bad.returncode == 2
    assert "territories.csv:2:11: byte 0x81 is neither UTF-8 nor WINDOWS-1252" in bad.stderr, \
        bad.stderr

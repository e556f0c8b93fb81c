#!/usr/bin/python3
"""Writes docs/openapi.json from services/gateway/routes.def and the
protobuf schemas, so the document never drifts from the routes.

    PYTHONPATH=build/python python3 services/gateway/openapi_gen.py

Each ROUTE line becomes an operation: its {params} are path parameters; the
request's other scalar fields are query parameters (GET, DELETE) or the JSON
body (POST, PUT, PATCH, and optionally DELETE; the named sub-message when
body_field is given); a ROUTE_DOC line also lists its formats (the `format`
parameter, one content type each in the OK answer, 304 and 406);
schemas come from the messages, with the gateway's JSON names
(lowerCamelCase). The answer's schema is the result message, found from,
in order: a `/* result: full.Name */` comment at the end of the route's
line, an "Answered with the <Message>" comment above the request message in
its .proto, or the request's name (GetTableRequest -> Table,
ListTablesRequest -> TableList, ImportRequest -> ImportResult). The
gateway's own routes (ROUTE_LOCAL) are described here by hand.
tests/unit/gateway/test_openapi.c checks the result against routes.def,
and tests/openapi/ validates it with a validator from the npm registry.

Descriptions come from the comments in the .proto files: a message's
comment describes its operation, a field's comment (the lines above it and
the end of its line) describes it, with this small convention in them:

    // requested | under_review | recognized     the values of a fixed set:
                                                 an enum (parenthesised notes
                                                 after a value are dropped)
    // @examples community | housing | other     configurable values: shown
                                                 as examples, not an enum
    // @values Recognition.status                the set of another field
    // @required                                 required where the message
                                                 is created (POST, PUT) or is
                                                 the whole request
    // read-only                                 readOnly in the schema

Formats follow the names: *_on, since, as_of, until, on are dates
(YYYY-MM-DD); a string id or *_id is a slug; *_ms are Unix milliseconds;
email, website and *_url are an e-mail address and URIs; limit is 0-500.
"""
import importlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
OUT = os.path.join(ROOT, "docs/openapi.json")

ERROR_REF = {"$ref": "#/components/schemas/Error"}
STATUS_TEXT = {
    "400": "Malformed request, or a parameter or body field that does not fit the request "
           "(`fields` names it), or the service's INVALID_ARGUMENT.",
    "401": "Token missing on a route that needs one, or invalid.",
    "403": "The token's role is below the route's, or the service's PERMISSION_DENIED.",
    "404": "No such route, or the service's NOT_FOUND.",
    "405": "Known path, other method; `Allow` lists the methods.",
    "409": "The service's CONFLICT or FAILED_PRECONDITION.",
    "413": "Body larger than CONCERTO_GATEWAY_MAX_BODY.",
    "415": "The body is not application/json.",
    "406": "None of the formats the route offers fits `?format=` or `Accept`.",
    "503": "The service is down (no recent heartbeat) or overloaded; retry after Retry-After.",
    "504": "The service did not answer within CONCERTO_GATEWAY_DEADLINE_MS.",
}


def error_response(code):
    if code == "401":
        return {"$ref": "#/components/responses/Unauthenticated"}
    return {"description": STATUS_TEXT[code],
            "content": {"application/json": {"schema": ERROR_REF}}}


# ------------------------------------------------------------------ schemas


def load_messages(python_dir):
    """Every message descriptor of the generated modules, by full name."""
    found = {}
    sys.path.insert(0, python_dir)
    for dirpath, _, files in os.walk(python_dir):
        for f in sorted(files):
            if not f.endswith("_pb2.py"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f[:-3]), python_dir)
            mod = importlib.import_module(rel.replace(os.sep, "."))

            def walk(desc):
                found[desc.full_name] = desc
                for nested in desc.nested_types:
                    walk(nested)

            for desc in mod.DESCRIPTOR.message_types_by_name.values():
                walk(desc)
    return found


def c_symbol(desc):
    """protoc-c's descriptor symbol for a message (its CamelToLower)."""
    def lower(name):
        out, was_upper = "", True
        for ch in name:
            if ch.isupper():
                out += ("" if was_upper else "_") + ch.lower()
                was_upper = True
            else:
                out += ch
                was_upper = False
        return out

    pkg = desc.file.package.replace(".", "__")
    names = desc.full_name[len(desc.file.package) + 1:].split(".")
    return f"{pkg}__{'__'.join(lower(n) for n in names)}__descriptor"


# ------------------------------------------------------------ proto comments

FIELD_LINE = re.compile(r"^\s*(?:optional|repeated|required)\s+[\w.]+\s+(\w+)\s*=\s*\d+\s*"
                        r"(?:\[[^\]]*\])?\s*;\s*(?://(.*))?$")
MESSAGE_LINE = re.compile(r"^\s*message\s+(\w+)\s*\{")
CODE = re.compile(r"^[a-z][a-z0-9_]*$")


class ProtoComments:
    """The comments of every message and field of the .proto files, by full
    name ("concerto.registry.v1.Table", "concerto.registry.v1.Table.kind")."""

    def __init__(self, proto_root):
        self.of = {}
        for dirpath, _, files in os.walk(proto_root):
            for f in sorted(files):
                if f.endswith(".proto"):
                    self._read(os.path.join(dirpath, f))

    def _read(self, path):
        package, stack, pending = "", [], []
        with open(path) as f:
            for line in f:
                text = line.strip()
                if text.startswith("package "):
                    package = text[len("package "):].rstrip(";").strip()
                if text.startswith("//"):
                    pending.append(text[2:].strip())
                    continue
                m = MESSAGE_LINE.match(line)
                if m:
                    stack.append(m.group(1))
                    self.of[".".join([package] + stack)] = " ".join(pending)
                elif stack and (m := FIELD_LINE.match(line)):
                    words = pending + ([m.group(2).strip()] if m.group(2) else [])
                    self.of[".".join([package] + stack + [m.group(1)])] = " ".join(words)
                elif text.startswith("}") and stack:
                    stack.pop()
                pending = []

    def field(self, field):
        return self.of.get(field.full_name, "")

    def message(self, desc):
        return self.of.get(desc.full_name, "")


def codes_of(text):
    """The values of an "a | b | c" list in a comment, or None."""
    for part in re.split(r"[.;:]\s", text + " "):
        if "|" not in part:
            continue
        values = [re.sub(r"\(.*?\)", "", v).strip() for v in part.split("|")]
        values = [v.split()[-1] if v.split() else "" for v in values[:1]] + \
            [v.split()[0] if v.split() else "" for v in values[1:]]
        if len(values) > 1 and all(CODE.match(v) for v in values):
            return values
    return None


def prose(text):
    """A comment without its annotations, for a description."""
    text = re.sub(r"\(?@values\s+[\w.]+\)?", "", text)
    text = re.sub(r"@examples\s+[a-z0-9_]+(\s*\|\s*[a-z0-9_]+)*\.?", "", text)
    text = re.sub(r"@required[.,:]?", "", text)
    text = re.sub(r"\s+", " ", text).strip(" .,:;")
    text = re.sub(r"\s+([.,;])", r"\1", text)
    return text[:1].upper() + text[1:] + ("." if text and text[-1] not in ".)" else "") \
        if text else ""


def json_name(field):
    parts = field.name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


DATE_NAMES = {"since", "as_of", "until", "on"}
SLUG = "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])$"


class Schemas:
    def __init__(self, comments, messages):
        self.components = {}
        self.comments = comments
        self.messages = messages

    def ref(self, desc):
        if desc.full_name not in self.components:
            self.components[desc.full_name] = None  # recursion guard
            self.components[desc.full_name] = self.object(desc)
        return {"$ref": f"#/components/schemas/{desc.full_name}"}

    def scalar(self, field):
        t = field.type
        if t == field.TYPE_MESSAGE:
            return self.ref(field.message_type)
        if t == field.TYPE_ENUM:
            return {"type": "string", "enum": [v.name for v in field.enum_type.values]}
        if t == field.TYPE_BOOL:
            return {"type": "boolean"}
        if t in (field.TYPE_DOUBLE, field.TYPE_FLOAT):
            return {"type": "number"}
        if t == field.TYPE_BYTES:
            return {"type": "string", "format": "byte"}
        if t == field.TYPE_STRING:
            return {"type": "string"}
        wide = t in (field.TYPE_INT64, field.TYPE_UINT64, field.TYPE_SINT64,
                     field.TYPE_FIXED64, field.TYPE_SFIXED64)
        unsigned = t in (field.TYPE_UINT32, field.TYPE_UINT64, field.TYPE_FIXED32,
                         field.TYPE_FIXED64)
        s = {"type": "integer", "format": "int64" if wide else "int32"}
        if unsigned:
            s["minimum"] = 0
        return s

    def values(self, field, comment, depth=0):
        """(values, fixed) a field's comment gives, following @values."""
        m = re.search(r"@values\s+([\w.]+)", comment)
        if m and depth < 3:
            msg, _, name = m.group(1).rpartition(".")
            desc = self.messages.get(f"{field.containing_type.file.package}.{msg}")
            other = desc.fields_by_name.get(name) if desc else None
            if other:
                return self.values(other, self.comments.field(other), depth + 1)
        codes = codes_of(comment)
        return codes, codes is not None and "@examples" not in comment

    def formats(self, field, s):
        """Formats and limits that follow from the field's name."""
        name = field.name
        if field.type != field.TYPE_STRING:
            if name.endswith("_ms"):
                s["description"] = (s.get("description", "") + " Unix milliseconds, UTC.").strip()
            if name == "limit":
                s.update(maximum=500, default=100)
            return
        if name.endswith("_on") or name in DATE_NAMES:
            s["format"] = "date"
        elif name == "id" or name.endswith("_id") or name in ("borough",):
            s.update(pattern=SLUG, minLength=2, maxLength=64)
        elif name == "email":
            s["format"] = "email"
        elif name in ("website",) or name.endswith("_url"):
            s["format"] = "uri"

    def field(self, field):
        s = self.scalar(field)
        comment = self.comments.field(field)
        text = prose(comment)
        if "$ref" not in s:
            self.formats(field, s)
            values, fixed = self.values(field, comment)
            if values and field.type == field.TYPE_STRING:
                if fixed:
                    s["enum"] = values
                else:
                    s["example"] = values[0]
                    text = (text + " Configurable; for example: " + ", ".join(values) +
                            ".").strip()
        extra = s.pop("description", "")
        if field.label == field.LABEL_REPEATED:
            s = {"type": "array", "items": s}
        elif "$ref" in s and (text or "read-only" in comment):
            s = {"allOf": [s]}  # a reference takes no siblings in OpenAPI 3.0
        text = (text + " " + extra).strip()
        if text:
            s["description"] = text
        if "read-only" in comment:
            s["readOnly"] = True
        return s

    def required(self, desc, skip=()):
        return [json_name(f) for f in desc.fields
                if "@required" in self.comments.field(f) and json_name(f) not in skip]

    def object(self, desc, skip=(), creating=False):
        props = {json_name(f): self.field(f) for f in desc.fields if json_name(f) not in skip}
        s = {"type": "object", "additionalProperties": False, "properties": props}
        text = prose(self.comments.message(desc))
        if text:
            s["description"] = text
        required = self.required(desc, skip) if creating else []
        if required:
            s["required"] = required
        return s


# ------------------------------------------------------------------ routes

ROUTE_RE = re.compile(
    r'^ROUTE\((\w+),\s*"([^"]+)",\s*(\w+),\s*(\w+),\s*(\w+),\s*(NULL|"\w+"),\s*(\d+)\)'
    r'\s*(?:/\*\s*result:\s*([\w.]+)\s*\*/)?')
DOC_RE = re.compile(
    r'^ROUTE_DOC\((\w+),\s*"([^"]+)",\s*(\w+),\s*(\w+),\s*(\w+),\s*"([\w,]+)",\s*(\d+)\)'
    r'\s*(?:/\*\s*result:\s*([\w.]+)\s*\*/)?')
LOCAL_RE = re.compile(r'^ROUTE_LOCAL\((\w+),\s*"([^"]+)",\s*(\w+),\s*(\w+)\)')

# The gateway's formats (services/gateway/negotiate.c), by name.
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "ics": "text/calendar",
}


def read_routes():
    routes, local = [], []
    with open(os.path.join(HERE, "routes.def")) as f:
        for line in f:
            m = ROUTE_RE.match(line.strip())
            if m:
                method, path, svc, sym, role, body, status, result = m.groups()
                routes.append(dict(method=method.lower(), path=path, service=svc.lower(),
                                   symbol=sym, role=role.lower(),
                                   body=None if body == "NULL" else body.strip('"'),
                                   status=status, result=result, formats=[]))
                continue
            m = DOC_RE.match(line.strip())
            if m:
                method, path, svc, sym, role, formats, status, result = m.groups()
                routes.append(dict(method=method.lower(), path=path, service=svc.lower(),
                                   symbol=sym, role=role.lower(), body=None, status=status,
                                   result=result, formats=formats.split(",")))
                continue
            m = LOCAL_RE.match(line.strip())
            if m:
                local.append((m.group(1).lower(), m.group(2), m.group(3), m.group(4).lower()))
    return routes, local


def answered_with(desc, messages):
    """The message an "Answered with the X" comment above `desc` names."""
    path = os.path.join(ROOT, "proto", desc.file.name)
    try:
        text = open(path).read()
    except OSError:
        return None
    short = desc.full_name.rsplit(".", 1)[1]
    m = re.search(r"((?://[^\n]*\n)+)message\s+" + re.escape(short) + r"\s*\{", text)
    if not m:
        return None
    comment = " ".join(line.strip().lstrip("/").strip() for line in m.group(1).splitlines())
    hit = re.search(r"[Aa]nswered with (?:the |a |an )?(\w+)", comment)
    if hit:
        return messages.get(f"{desc.file.package}.{hit.group(1)}")
    return None


def result_of(route, desc, messages):
    if route["result"]:
        return messages[route["result"]]
    found = answered_with(desc, messages)
    if found:
        return found
    pkg, short = desc.file.package, desc.name
    stem = short[:-len("Request")] if short.endswith("Request") else short
    verb = re.match(r"(Get|List|Register|Update|Add|End|Record|Change|Delete)(.+)", stem)
    noun = verb.group(2) if verb else stem
    singular = re.sub(r"ies$", "y", noun) if noun.endswith("ies") else re.sub(r"s$", "", noun)
    for name in (stem + "Result", noun + "List" if verb and verb.group(1) == "List" else None,
                 singular + "List" if verb and verb.group(1) == "List" else None, noun,
                 "Table" + noun):
        if name and f"{pkg}.{name}" in messages:
            return messages[f"{pkg}.{name}"]
    return None


def words(name):
    """ListTablesRequest -> "List tables"."""
    parts = re.findall(r"[A-Z][a-z0-9]*", name.removesuffix("Request"))
    return " ".join([parts[0]] + [p.lower() for p in parts[1:]]) if parts else name


PARAM_TEXT = {
    "cursor": "The nextCursor of the previous page, unchanged, with the same filters.",
    "limit": "Items a page holds: 100 by default, at most 500.",
    "search": "Words of a name, in order, ignoring case, accents and punctuation (St and Saint "
              "alike).",
    "afterSequence": "The nextAfterSequence of the previous page.",
}


def parameter(field, where, schemas, required=False):
    s = schemas.field(field)
    text = s.pop("description", "")
    name = json_name(field)
    subject = words(field.containing_type.name)
    text = text or PARAM_TEXT.get(name) or (
        f"The {subject.split(' ', 1)[-1].lower()}'s id." if name == "id" else
        f"{subject}: the {field.name.replace('_', ' ')}.")
    return {"name": name, "in": where, "required": required, "description": text, "schema": s}


def operation(route, desc, messages, schemas):
    params = re.findall(r"\{([\w.]+)\}", route["path"])
    path_params = []
    for p in params:
        f = next((f for f in desc.fields if json_name(f) == p or f.name == p), None)
        path_params.append(parameter(f, "path", schemas, True) if f else
                           {"name": p, "in": "path", "required": True,
                            "description": f"Sets {p}.", "schema": {"type": "string"}})
    text = prose(schemas.comments.message(desc))
    op = {
        "operationId": desc.name[:1].lower() + desc.name[1:].removesuffix("Request")
        if route["service"] != "all" else "getTableStatus",
        "summary": words(desc.name) if route["service"] != "all" else
        "Table status from every service",
        "tags": [route["service"]],
        "parameters": path_params,
    }
    if text:
        op["description"] = text
    if route["role"] == "public":
        op["security"] = [{}]
    elif route["role"] != "reader":
        op["security"] = [{"bearer": []}]
        op["description"] = (op.get("description", "") + " Needs a token with the "
                             f"{route['role']} role or above.").strip()
    if route["method"] in ("get", "delete"):
        for f in desc.fields:
            if json_name(f) in params or f.type == f.TYPE_MESSAGE:
                continue
            op["parameters"].append(parameter(f, "query", schemas))
    if route["formats"]:
        op["parameters"].append({
            "name": "format", "in": "query", "required": False,
            "description": "The format of the answer; without it, `Accept` chooses, and "
                           "without that, the first.",
            "schema": {"type": "string", "enum": route["formats"]}})
    creating = route["method"] in ("post", "put")
    if route["method"] == "delete":
        body = schemas.object(desc, skip=params, creating=True)
        op["requestBody"] = {"required": "required" in body, "content": {"application/json": {
            "schema": body}}}
    elif route["method"] != "get":
        if route["body"]:
            field = desc.fields_by_name[route["body"]]
            body = schemas.ref(field.message_type)
            required = schemas.required(field.message_type) if creating else []
            if required:
                body = {"allOf": [body, {"required": required}]}
        else:
            body = schemas.object(desc, skip=params, creating=creating)
        op["requestBody"] = {"required": creating,
                             "content": {"application/json": {"schema": body}}}
    if route["service"] == "all":
        ok = {"description": "Every service's answer, merged (200 whatever each said).",
              "content": {"application/json": {
                  "schema": {"$ref": "#/components/schemas/TableStatus"}}}}
    elif route["status"] == "204":
        ok = {"description": "Done."}
    else:
        result = result_of(route, desc, messages)
        schema = schemas.ref(result) if result else {"type": "object"}
        ok = {"description": f"The service's result ({result.full_name if result else 'any'}).",
              "content": {"application/json": {"schema": schema}}}
    if route["formats"]:
        json_content = ok["content"]["application/json"]
        ok["description"] = ("In the chosen format: a document the service built, or its result "
                             "as JSON. Documents larger than a frame come in chunks.")
        ok["content"] = {MEDIA_TYPES[f]: json_content if f == "json" else
                         {"schema": {"type": "string", "format": "binary"}}
                         for f in route["formats"]}
    codes = ["400", "401", "403", "404", "405", "413", "503", "504"]
    if route["method"] != "get":
        codes[5:5] = ["409", "415"]
    if route["formats"]:
        codes.insert(5, "406")
    op["responses"] = {route["status"]: ok, **{c: error_response(c) for c in codes}}
    if route["formats"] and route["method"] == "get":
        op["responses"]["304"] = {
            "description": "If-None-Match names the version the service would answer (its "
                           "ETag): nothing was built."}
    return op


# ------------------------------------------------------------------ the gateway's own

LOCAL_OPS = {
    "healthz": ("Liveness: the gateway's loop answers.", "Health", "application/json"),
    "readyz": ("Readiness: every service named by CONCERTO_GATEWAY_REQUIRED_SERVICES sent a "
               "heartbeat within CONCERTO_GATEWAY_HEARTBEAT_MISSES intervals; otherwise 503 "
               "with a `fields` entry per service that is down.", "Ready", "application/json"),
    "metrics": ("Prometheus metrics (text format 0.0.4): requests by route and status, latency "
                "histograms by route, calls in flight per service, service health and head "
                "sequence, late replies dropped, partner events by outcome, connections.",
                None, "text/plain"),
    "status": ("Each service: up, heartbeat age, head sequence, calls in flight, and each of "
               "its subscriber cursors with its lag behind the source's head.", "Status",
               "application/json"),
    "openapi": ("This document.", None, "application/json"),
}

LOCAL_SUMMARIES = {"healthz": "Liveness", "readyz": "Readiness", "metrics": "Metrics",
                   "status": "Status of every service", "openapi": "This document"}

COMPONENT_SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string", "description":
                     "A wire status name (INVALID_ARGUMENT, NOT_FOUND, CONFLICT, "
                     "FAILED_PRECONDITION, UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE, "
                     "INTERNAL, DEADLINE_EXCEEDED) or an HTTP-level code (METHOD_NOT_ALLOWED, "
                     "LENGTH_REQUIRED, PAYLOAD_TOO_LARGE, URI_TOO_LONG, HEADERS_TOO_LARGE, "
                     "UNSUPPORTED_MEDIA_TYPE, REQUEST_TIMEOUT, BAD_GATEWAY)."},
            "message": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string",
                          "description": "lowerCamelCase path, e.g. contact.email"},
                "description": {"type": "string"}}}}}}}},
    "Health": {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}},
    "Ready": {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["ready"]},
        "services": {"type": "object",
                     "additionalProperties": {"type": "string", "enum": ["up", "down"]}}}},
    "Cursor": {"type": "object", "properties": {
        "source": {"type": "string"},
        "appliedSequence": {"type": "integer", "format": "int64"},
        "sourceHead": {"type": "integer", "format": "int64", "description":
                       "The newer of the head the subscriber reports and the head in the "
                       "source's own heartbeat."},
        "lag": {"type": "integer", "format": "int64",
                "description": "sourceHead - appliedSequence"}}},
    "ServiceStatus": {"type": "object", "properties": {
        "up": {"type": "boolean"},
        "required": {"type": "boolean"},
        "inFlight": {"type": "integer"},
        "heartbeatAgeMs": {"type": "integer", "nullable": True,
                           "description": "null: no heartbeat received yet"},
        "headSequence": {"type": "integer", "format": "int64"},
        "startedMs": {"type": "integer", "format": "int64"},
        "cursors": {"type": "array", "items": {"$ref": "#/components/schemas/Cursor"}}}},
    "Status": {"type": "object", "properties": {
        "gateway": {"type": "object", "properties": {
            "uptimeMs": {"type": "integer"}, "connections": {"type": "integer"},
            "partnerInFlight": {"type": "integer"}}},
        "services": {"type": "object",
                     "additionalProperties": {"$ref": "#/components/schemas/ServiceStatus"}}}},
    "ServiceAnswer": {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "description":
                   "ok; unavailable (down, overloaded or no answer within the deadline); error "
                   "(an unreadable answer); or the lower-case status the service answered "
                   "(not_found, invalid_argument, ...)."},
        "resultType": {"type": "string", "description": "Full protobuf name of `result`."},
        "result": {"type": "object", "description": "The service's result, as JSON."},
        "error": {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "object"}}}}}},
    "TableStatus": {"type": "object", "properties": {
        "tableId": {"type": "string"},
        "services": {"type": "object", "properties": {
            name: {"$ref": "#/components/schemas/ServiceAnswer"}
            for name in ("registry", "funding", "forum", "reporting")}}}},
}


def local_operation(method, path, handler, role):
    text, schema, ctype = LOCAL_OPS[handler]
    body = {"schema": {"$ref": f"#/components/schemas/{schema}"}} if schema else {
        "schema": {"type": "string" if ctype == "text/plain" else "object"}}
    op = {"operationId": handler, "summary": LOCAL_SUMMARIES[handler], "description": text,
          "tags": ["operations"],
          "responses": {"200": {"description": "OK", "content": {ctype: body}}}}
    if role == "public":
        op["security"] = [{}]
    else:
        op["responses"]["401"] = error_response("401")
    if handler == "readyz":
        op["responses"]["503"] = {"description": "Not ready.",
                                  "content": {"application/json": {"schema": ERROR_REF}}}
    return op


def main():
    python_dir = os.environ.get("CONCERTO_PYTHON", os.path.join(ROOT, "build/python"))
    messages = load_messages(python_dir)
    by_symbol = {c_symbol(d): d for d in messages.values()}
    routes, local = read_routes()
    schemas = Schemas(ProtoComments(os.path.join(ROOT, "proto")), messages)
    paths = {}
    for method, path, handler, role in local:
        paths.setdefault(path, {})[method] = local_operation(method, path, handler, role)
    for r in routes:
        desc = by_symbol.get(r["symbol"])
        if desc is None:
            sys.exit(f"openapi_gen: no message for {r['symbol']} (is {python_dir} built?)")
        paths.setdefault(r["path"], {})[r["method"]] = operation(r, desc, messages, schemas)
    components = dict(COMPONENT_SCHEMAS)
    components.update({k: v for k, v in sorted(schemas.components.items())})
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": "Concerto gateway API",
            "version": "1",
            "description":
                "The HTTP/JSON API of concerto-gateway in front of the Concerto services. "
                "Generated from services/gateway/routes.def and the .proto files by "
                "services/gateway/openapi_gen.py; docs/gateway.md explains the mapping. "
                "JSON names are lowerCamelCase of the protobuf names; 64-bit integers are "
                "JSON integers (decimal strings are accepted). Every error has the body "
                "{\"error\":{\"code\":..,\"message\":..,\"fields\":[..]}}. Reader routes "
                "need no token while CONCERTO_GATEWAY_PUBLIC_READS=1 (the default), but a "
                "token that is sent must be valid. Malformed HTTP gets 400, 408, 411, 413, "
                "414 or 431 and the connection is closed.",
        },
        # Relative: the gateway that serves this document (/v1/openapi.json).
        "servers": [{"url": "/", "description": "The gateway serving this document"}],
        "security": [{"bearer": []}, {}],
        "tags": [{"name": n} for n in ("operations", "all", "registry", "funding", "forum",
                                       "reporting")],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "Configured as SHA-256 hashes in CONCERTO_GATEWAY_TOKENS, each "
                               "with a role: reader < operator < admin."}},
            "responses": {"Unauthenticated": {
                "description": STATUS_TEXT["401"],
                "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": ERROR_REF}}}},
            "schemas": components,
        },
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"openapi_gen: {OUT}: {sum(len(v) for v in paths.values())} operations")


if __name__ == "__main__":
    main()

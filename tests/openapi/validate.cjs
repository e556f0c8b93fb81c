// Validates the OpenAPI document (docs/openapi.json) as a client generator
// would read it: @apidevtools/swagger-parser (pinned in package.json and
// package-lock.json, installed by deploy/install-deps.sh) checks it against
// the OpenAPI 3.0 schema and its rules (references resolve, path parameters
// declared, operation ids unique); then the project's own rules: summaries
// in words, a description for every parameter, a relative server, enums
// where the set is fixed and examples where it is configurable, required
// fields and formats in request bodies. Prints "N passed, M failed" and
// exits non-zero when anything failed.
"use strict";
const fs = require("fs");
const path = require("path");

const doc_path = process.argv[2] || path.join(__dirname, "../../docs/openapi.json");
let SwaggerParser;
try {
  SwaggerParser = require("@apidevtools/swagger-parser");
} catch (e) {
  console.error("openapi: the validator is not installed in " + __dirname +
                "/node_modules (run deploy/install-deps.sh, which runs npm ci there): " +
                e.message);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

let passed = 0, failed = 0;
function check(what, ok, detail) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.error("FAIL " + what + (detail ? ": " + detail : ""));
  }
}

function schemaOf(doc, ref) {
  return doc.components.schemas[ref.replace("#/components/schemas/", "")];
}

function projectRules(doc) {
  check("servers are relative", doc.servers.every(s => !/^[a-z]+:\/\//.test(s.url)),
        JSON.stringify(doc.servers));
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const where = method.toUpperCase() + " " + p;
      check(where + " has a summary in words",
            op.summary && !/Request\b|concerto\.|_/.test(op.summary), op.summary);
      for (const param of op.parameters || [])
        check(where + " describes " + param.name, param.description && param.description.length > 3);
    }
  }
  const s = doc.components.schemas;
  const reg = "concerto.registry.v1.";
  const enums = [["Recognition", "status"], ["Territory", "kind"], ["Membership", "role"]];
  for (const [m, f] of enums)
    check(m + "." + f + " is an enum", Array.isArray(s[reg + m].properties[f].enum));
  for (const f of ["sector", "network"]) {
    const prop = s[reg + "Organization"].properties[f];
    check("Organization." + f + " is configurable: an example, no enum",
          !prop.enum && typeof prop.example === "string");
  }
  const post = doc.paths["/v1/tables"].post.requestBody.content["application/json"].schema;
  const required = (post.allOf || []).flatMap(x => x.required || []);
  check("POST /v1/tables requires id, name, territoryId",
        ["id", "name", "territoryId"].every(r => required.includes(r)), JSON.stringify(post));
  const table = s[reg + "Table"].properties;
  check("Table.foundingYear is an integer", table.foundingYear.type === "integer");
  check("Table.id is a slug", typeof table.id.pattern === "string" && table.id.maxLength === 64);
  check("Recognition.since is a date", s[reg + "Recognition"].properties.since.format === "date");
  const list = doc.paths["/v1/tables"].get;
  const status = list.parameters.find(x => x.name === "status");
  check("GET /v1/tables?status= is an enum", status && Array.isArray(status.schema.enum));
  const limit = list.parameters.find(x => x.name === "limit");
  check("limit is at most 500", limit && limit.schema.maximum === 500);
  check("GET /v1/tables offers CSV", !!list.responses["200"].content["text/csv"]);
  const tableList = schemaOf(doc, list.responses["200"].content["application/json"].schema.$ref);
  check("TableList has a total", !!tableList.properties.total);
}

(async () => {
  const text = fs.readFileSync(doc_path, "utf8");
  const doc = JSON.parse(text);
  try {
    // validate() dereferences its argument: give it a copy.
    await SwaggerParser.validate(JSON.parse(text));
    check("the OpenAPI 3.0 schema and rules (swagger-parser)", true);
  } catch (e) {
    check("the OpenAPI 3.0 schema and rules (swagger-parser)", false, e.message);
  }
  projectRules(doc);
  console.log(passed + " passed, " + failed + " failed");
  process.exit(failed ? 1 : 0);
})().catch(e => {
  console.error("openapi: " + e.stack);
  console.log(passed + " passed, " + (failed + 1) + " failed");
  process.exit(1);
});

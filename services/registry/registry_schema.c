/* registry_schema: the registry's tables (see registry_schema.h).
 *
 * Dates are ISO text (they sort as text); *_folded columns hold the search
 * form of names (registry_fold.h). Vocabularies are checked here too, so
 * that no code path can store a value the handlers would reject. */
#include "registry_schema.h"

#include "registry.h"

#define SECTORS                                                                                    \
    "('community','health_social_services','education','municipal','housing',"                     \
    "'employment_economy','culture_leisure','security','environment','citizens',"                  \
    "'philanthropy','other')"
#define NETWORKS                                                                                   \
    "('community','public_institution','municipal','private','philanthropic','citizen')"
#define STATUSES "('requested','under_review','recognized','refused','suspended','withdrawn')"
#define ORIGINS "('registration','decision','scheduled','import')"

const store_migration_t registry_migrations[] = {
    /* 1: territories, organizations, Tables, recognition history,
     * memberships and attestations. */
    {"CREATE TABLE territory("
     " id TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " name_folded TEXT NOT NULL,"
     " kind TEXT NOT NULL CHECK(kind IN ('borough','neighbourhood','municipality','sector')),"
     " parent_id TEXT REFERENCES territory(id),"
     " boundary TEXT,"
     " population INTEGER CHECK(population >= 0),"
     " source_url TEXT,"
     " notes TEXT,"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX territory_by_parent ON territory(parent_id);"

     "CREATE TABLE organization("
     " id TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " name_folded TEXT NOT NULL,"
     " sector TEXT NOT NULL CHECK(sector IN " SECTORS "),"
     " network TEXT NOT NULL CHECK(network IN " NETWORKS "),"
     " neq TEXT UNIQUE CHECK(length(neq) = 10),"
     " website TEXT,"
     " source_url TEXT,"
     " notes TEXT,"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX organization_by_sector ON organization(sector);"

     "CREATE TABLE concertation_table("
     " id TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " name_folded TEXT NOT NULL,"
     " acronym TEXT,"
     " acronym_folded TEXT,"
     " territory_id TEXT NOT NULL REFERENCES territory(id),"
     " founding_year INTEGER,"
     " mandataire_id TEXT REFERENCES organization(id),"
     " email TEXT,"
     " phone TEXT,"
     " website TEXT,"
     " address TEXT,"
     " languages TEXT NOT NULL DEFAULT ''," /* space-separated ISO 639 codes */
     " incorporated INTEGER CHECK(incorporated IN (0, 1)),"
     " bylaws_adopted_on TEXT,"
     " board_seats INTEGER CHECK(board_seats >= 0),"
     " meetings_per_year INTEGER CHECK(meetings_per_year >= 0),"
     " paid_staff INTEGER CHECK(paid_staff >= 0),"
     " status TEXT NOT NULL CHECK(status IN " STATUSES "),"
     " status_since TEXT NOT NULL,"
     " status_reason TEXT,"
     " status_by TEXT,"
     " source_url TEXT,"
     " notes TEXT,"
     " uncertain INTEGER NOT NULL DEFAULT 0 CHECK(uncertain IN (0, 1)),"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX table_by_territory ON concertation_table(territory_id);"
     "CREATE INDEX table_by_status ON concertation_table(status);"

     /* Every recognition status a Table had, kept even if the outbox is
      * pruned. */
     "CREATE TABLE recognition_change("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL REFERENCES concertation_table(id),"
     " from_status TEXT,"
     " to_status TEXT NOT NULL CHECK(to_status IN " STATUSES "),"
     " effective_on TEXT NOT NULL,"
     " reason TEXT NOT NULL,"
     " actor TEXT NOT NULL,"
     " recorded_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX recognition_by_table ON recognition_change(table_id, id);"

     /* Ended memberships are kept: left_on is set, never deleted. */
     "CREATE TABLE membership("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL REFERENCES concertation_table(id),"
     " organization_id TEXT NOT NULL REFERENCES organization(id),"
     " role TEXT NOT NULL CHECK(role IN ('member','board','observer')),"
     " joined_on TEXT NOT NULL,"
     " left_on TEXT CHECK(left_on IS NULL OR left_on >= joined_on),"
     " notes TEXT,"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL) STRICT;"
     "CREATE UNIQUE INDEX membership_active ON membership(table_id, organization_id)"
     " WHERE left_on IS NULL;"
     "CREATE INDEX membership_by_table ON membership(table_id, id);"
     "CREATE INDEX membership_by_organization ON membership(organization_id);"

     "CREATE TABLE attestation("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL REFERENCES concertation_table(id),"
     " attested_on TEXT NOT NULL,"
     " author TEXT NOT NULL,"
     " statement TEXT,"
     " source_url TEXT,"
     " recorded_by TEXT NOT NULL,"
     " recorded_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX attestation_by_table ON attestation(table_id, attested_on);"},

    /* 2: recognition decisions in time (unknown dates, origins,
     * justifications, scheduled decisions), disputes, each Table's stored
     * evaluation of the four characteristics, and where a territory sits.
     * The Table keeps its current decision's facts beside its status. Rows
     * of step 1: a Table's first status is "registration" when its reason
     * says "registered", else an import; the demo data's first statuses
     * have unknown dates (the sources give none). */
    {"ALTER TABLE recognition_change ADD COLUMN effective_known INTEGER NOT NULL DEFAULT 1"
     " CHECK(effective_known IN (0, 1));"
     "ALTER TABLE recognition_change ADD COLUMN recorded_on TEXT;"
     "ALTER TABLE recognition_change ADD COLUMN origin TEXT NOT NULL DEFAULT 'decision'"
     " CHECK(origin IN " ORIGINS ");"
     "ALTER TABLE recognition_change ADD COLUMN schedule_id INTEGER;"
     "ALTER TABLE recognition_change ADD COLUMN dispute_id INTEGER;"
     "ALTER TABLE recognition_change ADD COLUMN unmet TEXT;" /* space-separated codes */
     "ALTER TABLE recognition_change ADD COLUMN justification TEXT;"
     "ALTER TABLE recognition_change ADD COLUMN exemption TEXT;"
     "UPDATE recognition_change SET recorded_on = date(recorded_ms / 1000, 'unixepoch',"
     " 'localtime');"
     "UPDATE recognition_change SET origin = CASE WHEN reason = 'registered' THEN 'registration'"
     " ELSE 'import' END WHERE from_status IS NULL;"
     "UPDATE recognition_change SET exemption = CASE WHEN actor = '" REGISTRY_DEMO_ACTOR "'"
     " THEN 'demo data' ELSE 'imported history' END WHERE origin = 'import';"
     "UPDATE recognition_change SET effective_known = 0"
     " WHERE origin = 'import' AND actor = '" REGISTRY_DEMO_ACTOR "';"

     "ALTER TABLE concertation_table ADD COLUMN status_since_known INTEGER NOT NULL DEFAULT 1"
     " CHECK(status_since_known IN (0, 1));"
     "ALTER TABLE concertation_table ADD COLUMN status_recorded_on TEXT;"
     "ALTER TABLE concertation_table ADD COLUMN status_decision_id INTEGER"
     " REFERENCES recognition_change(id);"
     "ALTER TABLE concertation_table ADD COLUMN status_origin TEXT;"
     "ALTER TABLE concertation_table ADD COLUMN status_unmet TEXT;"
     "ALTER TABLE concertation_table ADD COLUMN status_justification TEXT;"
     "ALTER TABLE concertation_table ADD COLUMN status_exemption TEXT;"
     "ALTER TABLE concertation_table ADD COLUMN status_dispute_id INTEGER;"
     "UPDATE concertation_table SET status_decision_id = (SELECT max(id) FROM"
     " recognition_change c WHERE c.table_id = concertation_table.id);"
     "UPDATE concertation_table SET (status_since_known, status_recorded_on, status_origin,"
     " status_exemption) = (SELECT effective_known, recorded_on, origin, exemption"
     " FROM recognition_change c WHERE c.id = concertation_table.status_decision_id);"

     /* At most one pending decision a Table; the others are kept with how
      * they ended. */
     "CREATE TABLE recognition_schedule("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL REFERENCES concertation_table(id),"
     " from_status TEXT NOT NULL CHECK(from_status IN " STATUSES "),"
     " status TEXT NOT NULL CHECK(status IN " STATUSES "),"
     " effective_on TEXT NOT NULL,"
     " reason TEXT NOT NULL,"
     " justification TEXT,"
     " dispute_id INTEGER,"
     " unmet TEXT,"
     " scheduled_by TEXT NOT NULL,"
     " scheduled_ms INTEGER NOT NULL,"
     " state TEXT NOT NULL DEFAULT 'pending'"
     "  CHECK(state IN ('pending','applied','cancelled','failed')),"
     " settled_note TEXT," /* the cancellation's reason, or why it failed */
     " settled_by TEXT,"
     " settled_ms INTEGER,"
     " decision_id INTEGER REFERENCES recognition_change(id)) STRICT;"
     "CREATE UNIQUE INDEX recognition_schedule_pending ON recognition_schedule(table_id)"
     " WHERE state = 'pending';"

     "CREATE TABLE dispute("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL REFERENCES concertation_table(id),"
     " decision_id INTEGER NOT NULL REFERENCES recognition_change(id),"
     " party TEXT NOT NULL CHECK(party IN ('table','partners')),"
     " grounds TEXT NOT NULL,"
     " state TEXT NOT NULL CHECK(state IN ('opened','in_mediation','closed')),"
     " outcome TEXT CHECK(outcome IN ('upheld','reversed','withdrawn')),"
     " opened_on TEXT NOT NULL,"
     " closed_on TEXT,"
     " reversal_decision_id INTEGER REFERENCES recognition_change(id),"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL,"
     " CHECK((state = 'closed') = (outcome IS NOT NULL))) STRICT;"
     "CREATE INDEX dispute_by_table ON dispute(table_id, id);"
     "CREATE TABLE dispute_step("
     " id INTEGER PRIMARY KEY,"
     " dispute_id INTEGER NOT NULL REFERENCES dispute(id),"
     " state TEXT NOT NULL CHECK(state IN ('opened','in_mediation','closed')),"
     " on_date TEXT NOT NULL,"
     " note TEXT NOT NULL,"
     " outcome TEXT,"
     " actor TEXT NOT NULL,"
     " recorded_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX dispute_step_by_dispute ON dispute_step(dispute_id, id);"

     /* The evaluation of the four characteristics last emitted for each
      * Table ("<date>:<met bits>;..."), and the thresholds it was made
      * with: CharacteristicsChanged is emitted when a change makes it
      * differ. */
     "CREATE TABLE characteristics_timeline("
     " table_id TEXT PRIMARY KEY REFERENCES concertation_table(id),"
     " periods TEXT NOT NULL,"
     " thresholds TEXT NOT NULL) STRICT;"

     /* Where each territory sits: its borough, municipality and sector,
      * itself or up the (at most two-level) hierarchy. */
     "CREATE VIEW territory_place AS SELECT x.id, x.kind,"
     " CASE WHEN x.kind = 'borough' THEN x.id WHEN p.kind = 'borough' THEN p.id END"
     "  AS borough_id,"
     " CASE WHEN x.kind = 'municipality' THEN x.id WHEN p.kind = 'municipality' THEN p.id END"
     "  AS municipality_id,"
     " CASE WHEN x.kind = 'sector' THEN x.id WHEN p.kind = 'sector' THEN p.id"
     "  WHEN g.kind = 'sector' THEN g.id END AS sector_id"
     " FROM territory x LEFT JOIN territory p ON p.id = x.parent_id"
     " LEFT JOIN territory g ON g.id = p.parent_id;"},

    /* 3: territories' other names (aliases, searched like names), records
     * an admin archived (hidden from lists, their ids kept), and the
     * search forms recomputed: folding now spells out St/Ste and œ/æ. */
    {"ALTER TABLE territory ADD COLUMN aliases TEXT NOT NULL DEFAULT '';" /* one a line */
     "ALTER TABLE territory ADD COLUMN aliases_folded TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE territory ADD COLUMN archived_ms INTEGER;"
     "ALTER TABLE territory ADD COLUMN archived_by TEXT;"
     "ALTER TABLE territory ADD COLUMN archived_reason TEXT;"
     "ALTER TABLE organization ADD COLUMN archived_ms INTEGER;"
     "ALTER TABLE organization ADD COLUMN archived_by TEXT;"
     "ALTER TABLE organization ADD COLUMN archived_reason TEXT;"
     "ALTER TABLE concertation_table ADD COLUMN archived_ms INTEGER;"
     "ALTER TABLE concertation_table ADD COLUMN archived_by TEXT;"
     "ALTER TABLE concertation_table ADD COLUMN archived_reason TEXT;"
     "UPDATE territory SET name_folded = fold(name);"
     "UPDATE organization SET name_folded = fold(name);"
     "UPDATE concertation_table SET name_folded = fold(name), acronym_folded = fold(acronym);"},

    /* 4: dated facts (organizations' sectors and networks, Tables'
     * governance), several sectors per organization from the deployment's
     * lists (so the columns lose their CHECKs: the lists are data now,
     * registry_vocabulary.c), contact people, overlap justifications, and
     * the views coverage is decided with. Existing facts migrate as
     * versions effective on their record's creation day. */
    {"CREATE TABLE organization_fact("
     " id INTEGER PRIMARY KEY,"
     " organization_id TEXT NOT NULL REFERENCES organization(id),"
     " effective_on TEXT NOT NULL,"
     " sectors TEXT NOT NULL," /* space-separated codes, the first the primary */
     " network TEXT NOT NULL,"
     " recorded_by TEXT NOT NULL,"
     " recorded_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX organization_fact_by_org ON organization_fact(organization_id, effective_on, "
     "id);"
     "INSERT INTO organization_fact(organization_id, effective_on, sectors, network, recorded_by,"
     " recorded_ms) SELECT id, date(created_ms / 1000, 'unixepoch', 'localtime'), sector, network,"
     " 'system:migration', created_ms FROM organization;"
     "ALTER TABLE organization ADD COLUMN sectors TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE organization ADD COLUMN sector_code TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE organization ADD COLUMN network_code TEXT NOT NULL DEFAULT '';"
     "UPDATE organization SET sectors = sector, sector_code = sector, network_code = network;"
     "DROP INDEX organization_by_sector;"
     "ALTER TABLE organization DROP COLUMN sector;"
     "ALTER TABLE organization DROP COLUMN network;"
     "ALTER TABLE organization RENAME COLUMN sector_code TO sector;"
     "ALTER TABLE organization RENAME COLUMN network_code TO network;"
     "CREATE INDEX organization_by_sector ON organization(sector);"

     "CREATE TABLE governance_fact("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL REFERENCES concertation_table(id),"
     " effective_on TEXT NOT NULL,"
     " incorporated INTEGER CHECK(incorporated IN (0, 1)),"
     " bylaws_adopted_on TEXT,"
     " board_seats INTEGER CHECK(board_seats >= 0),"
     " meetings_per_year INTEGER CHECK(meetings_per_year >= 0),"
     " paid_staff INTEGER CHECK(paid_staff >= 0),"
     " recorded_by TEXT NOT NULL,"
     " recorded_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX governance_fact_by_table ON governance_fact(table_id, effective_on, id);"
     "INSERT INTO governance_fact(table_id, effective_on, incorporated, bylaws_adopted_on,"
     " board_seats, meetings_per_year, paid_staff, recorded_by, recorded_ms)"
     " SELECT id, date(created_ms / 1000, 'unixepoch', 'localtime'), incorporated,"
     " bylaws_adopted_on, board_seats, meetings_per_year, paid_staff, 'system:migration',"
     " created_ms FROM concertation_table;"

     "ALTER TABLE concertation_table ADD COLUMN overlap_justification TEXT;"

     "CREATE TABLE person("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL REFERENCES concertation_table(id),"
     " name TEXT NOT NULL,"
     " role TEXT NOT NULL CHECK(role IN ('coordinator','president','other')),"
     " title TEXT,"
     " email TEXT,"
     " phone TEXT,"
     " since TEXT NOT NULL,"
     " until TEXT CHECK(until IS NULL OR until >= since),"
     " notes TEXT,"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX person_by_table ON person(table_id, id);"

     /* Each territory with itself and its ancestors (at most two up). */
     "CREATE VIEW territory_within AS"
     " SELECT id, id AS ancestor_id FROM territory"
     " UNION ALL SELECT id, parent_id FROM territory WHERE parent_id IS NOT NULL"
     " UNION ALL SELECT x.id, p.parent_id FROM territory x JOIN territory p ON p.id = x.parent_id"
     " WHERE p.parent_id IS NOT NULL;"
     /* Each status a Table held, from its date (NULL: unknown, held since
      * before any date) until the next decision's. */
     "CREATE VIEW recognition_period AS SELECT table_id, to_status AS status,"
     " CASE WHEN effective_known THEN effective_on END AS starts_on,"
     " lead(effective_on) OVER (PARTITION BY table_id ORDER BY id) AS ends_on"
     " FROM recognition_change;"},

    /* 5: recognition_period goes: SQLite computes a window view whole
     * before filtering it, so coverage reads the decisions by index; the
     * recognized Tables of a territory are found by index too. */
    {"DROP VIEW recognition_period;"
     "CREATE INDEX table_by_territory_status ON concertation_table(territory_id, status);"},
};

const size_t registry_migration_count = sizeof registry_migrations / sizeof registry_migrations[0];

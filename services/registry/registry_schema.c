/* registry_schema: the registry's tables (see registry_schema.h).
 *
 * Dates are ISO text (they sort as text); *_folded columns hold the search
 * form of names (registry_fold.h). Vocabularies are checked here too, so
 * that no code path can store a value the handlers would reject. */
#include "registry_schema.h"

#define SECTORS                                                                                    \
    "('community','health_social_services','education','municipal','housing',"                     \
    "'employment_economy','culture_leisure','security','environment','citizens',"                  \
    "'philanthropy','other')"
#define NETWORKS                                                                                   \
    "('community','public_institution','municipal','private','philanthropic','citizen')"
#define STATUSES "('requested','under_review','recognized','refused','suspended','withdrawn')"

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
};

const size_t registry_migration_count = sizeof registry_migrations / sizeof registry_migrations[0];

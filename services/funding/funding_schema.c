/* funding_schema: the funding daemon's tables (see funding_schema.h).
 *
 * Money columns hold integer cents and are checked never negative; dates
 * are ISO text (they sort as text); fiscal years are their labels
 * ("2025-2026"). The reg_* tables are the read models kept from the
 * registry's events (funding never reads the registry's file), compliance
 * the reporting daemon's. Steps are only appended. */
#include "funding_schema.h"

const store_migration_t funding_migrations[FUNDING_MIGRATIONS] = {
    /* 1: funders, programs and their years, the registry's facts, the
     * eligibility decisions and the allocations. */
    {"CREATE TABLE funder("
     " id TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " notes TEXT,"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL) STRICT;"

     "CREATE TABLE program("
     " id TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " core INTEGER NOT NULL DEFAULT 0 CHECK(core IN (0, 1)),"
     " notes TEXT,"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL) STRICT;"

     "CREATE TABLE program_year("
     " program_id TEXT NOT NULL REFERENCES program(id),"
     " fiscal_year TEXT NOT NULL,"
     " first_day TEXT NOT NULL,"
     " last_day TEXT NOT NULL,"
     " amount_per_table_cents INTEGER NOT NULL CHECK(amount_per_table_cents > 0),"
     " envelope_cents INTEGER NOT NULL CHECK(envelope_cents >= 0),"
     " notes TEXT,"
     " updated_ms INTEGER NOT NULL,"
     " PRIMARY KEY(program_id, fiscal_year)) STRICT;"

     "CREATE TABLE funder_share("
     " program_id TEXT NOT NULL,"
     " fiscal_year TEXT NOT NULL,"
     " funder_id TEXT NOT NULL REFERENCES funder(id),"
     " share_bp INTEGER NOT NULL CHECK(share_bp BETWEEN 1 AND 10000),"
     " PRIMARY KEY(program_id, fiscal_year, funder_id),"
     " FOREIGN KEY(program_id, fiscal_year) REFERENCES program_year(program_id, fiscal_year))"
     " STRICT;"

     /* The registry's facts. A recognition row per status change: the
      * status on a day is the latest that took effect on that day or
      * before, where an unknown date (NULL effective_on) counts as the
      * earliest (docs/registry.md, "Unknown dates"). The characteristics
      * are the registry's periods of met flags, starts_on inclusive, until
      * exclusive (NULL: open-ended); a day no period covers has nothing
      * met (the registry's baseline). `evaluation` keeps the registry's
      * full evaluation (TableCharacteristics, packed) on a period's first
      * day when the event carried it. */
     "CREATE TABLE reg_territory("
     " id TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " kind TEXT NOT NULL,"
     " parent_id TEXT) STRICT;"

     "CREATE TABLE reg_table("
     " id TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " territory_id TEXT NOT NULL,"
     " mandataire_id TEXT,"
     " status TEXT NOT NULL) STRICT;"

     "CREATE TABLE reg_recognition("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL,"
     " status TEXT NOT NULL,"
     " effective_on TEXT,"
     " recorded_on TEXT,"
     " reason TEXT) STRICT;"
     "CREATE INDEX reg_recognition_by_table ON reg_recognition(table_id, effective_on);"

     "CREATE TABLE reg_characteristics("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL,"
     " starts_on TEXT NOT NULL,"
     " until TEXT,"
     " all_met INTEGER NOT NULL CHECK(all_met IN (0, 1)),"
     " met TEXT NOT NULL DEFAULT '',"
     " unmet TEXT NOT NULL DEFAULT '',"
     " evaluation BLOB) STRICT;"
     "CREATE INDEX reg_characteristics_by_table ON reg_characteristics(table_id, starts_on);"

     "CREATE TABLE compliance("
     " table_id TEXT NOT NULL,"
     " fiscal_year TEXT NOT NULL,"
     " compliant INTEGER NOT NULL CHECK(compliant IN (0, 1)),"
     " summary TEXT,"
     " evaluated_on TEXT,"
     " PRIMARY KEY(table_id, fiscal_year)) STRICT;"

     /* The current decision of each Table, program and year (`decision`:
      * the packed EligibilityDecision), and every revision. */
     "CREATE TABLE eligibility("
     " id INTEGER PRIMARY KEY,"
     " table_id TEXT NOT NULL,"
     " program_id TEXT NOT NULL,"
     " fiscal_year TEXT NOT NULL,"
     " revision INTEGER NOT NULL,"
     " eligible INTEGER NOT NULL CHECK(eligible IN (0, 1)),"
     " decision BLOB NOT NULL,"
     " UNIQUE(table_id, program_id, fiscal_year),"
     " FOREIGN KEY(program_id, fiscal_year) REFERENCES program_year(program_id, fiscal_year))"
     " STRICT;"
     "CREATE INDEX eligibility_by_year ON eligibility(program_id, fiscal_year);"
     "CREATE TABLE eligibility_revision("
     " eligibility_id INTEGER NOT NULL REFERENCES eligibility(id),"
     " revision INTEGER NOT NULL,"
     " decision BLOB NOT NULL,"
     " PRIMARY KEY(eligibility_id, revision)) STRICT;"

     /* States: 1 proposed, 2 approved, 3 suspended, 4 closed (the wire's
      * AllocationState). */
     "CREATE TABLE allocation("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " program_id TEXT NOT NULL,"
     " fiscal_year TEXT NOT NULL,"
     " table_id TEXT NOT NULL,"
     " state INTEGER NOT NULL CHECK(state BETWEEN 1 AND 4),"
     " amount_cents INTEGER NOT NULL CHECK(amount_cents > 0),"
     " overridden INTEGER NOT NULL DEFAULT 0 CHECK(overridden IN (0, 1)),"
     " suspended_by_registry INTEGER NOT NULL DEFAULT 0 CHECK(suspended_by_registry IN (0, 1)),"
     " state_reason TEXT,"
     " state_changed_by TEXT,"
     " state_changed_ms INTEGER NOT NULL,"
     " demo INTEGER NOT NULL DEFAULT 0 CHECK(demo IN (0, 1)),"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL,"
     " UNIQUE(program_id, fiscal_year, table_id),"
     " FOREIGN KEY(program_id, fiscal_year) REFERENCES program_year(program_id, fiscal_year))"
     " STRICT;"
     "CREATE INDEX allocation_by_table ON allocation(table_id);"
     "CREATE TABLE allocation_part("
     " allocation_id INTEGER NOT NULL REFERENCES allocation(id),"
     " funder_id TEXT NOT NULL REFERENCES funder(id),"
     " share_bp INTEGER NOT NULL CHECK(share_bp BETWEEN 1 AND 10000),"
     " amount_cents INTEGER NOT NULL CHECK(amount_cents >= 0),"
     " paid_cents INTEGER NOT NULL DEFAULT 0 CHECK(paid_cents BETWEEN 0 AND amount_cents),"
     " PRIMARY KEY(allocation_id, funder_id)) STRICT;"},

    /* 2: the years' schedules, the allocations' installments, the
     * append-only ledger of payments and reversals, annual reports
     * received. Existing years get the default schedule (one payment on
     * the first day); allocations approved before this step have no
     * installments. */
    {"CREATE TABLE installment_plan("
     " program_id TEXT NOT NULL,"
     " fiscal_year TEXT NOT NULL,"
     " number INTEGER NOT NULL CHECK(number BETWEEN 1 AND 12),"
     " share_bp INTEGER NOT NULL CHECK(share_bp BETWEEN 1 AND 10000),"
     " due_on TEXT,"
     " on_report INTEGER NOT NULL DEFAULT 0 CHECK(on_report IN (0, 1)),"
     " CHECK((due_on IS NULL) = (on_report = 1)),"
     " PRIMARY KEY(program_id, fiscal_year, number),"
     " FOREIGN KEY(program_id, fiscal_year) REFERENCES program_year(program_id, fiscal_year))"
     " STRICT;"
     "INSERT INTO installment_plan(program_id, fiscal_year, number, share_bp, due_on)"
     " SELECT program_id, fiscal_year, 1, 10000, first_day FROM program_year;"

     /* States: 1 pending, 2 due, 3 held, 4 cancelled (InstallmentState). */
     "CREATE TABLE allocation_installment("
     " allocation_id INTEGER NOT NULL REFERENCES allocation(id),"
     " number INTEGER NOT NULL,"
     " share_bp INTEGER NOT NULL,"
     " due_on TEXT,"
     " on_report INTEGER NOT NULL DEFAULT 0,"
     " state INTEGER NOT NULL DEFAULT 1 CHECK(state BETWEEN 1 AND 4),"
     " amount_cents INTEGER CHECK(amount_cents >= 0),"
     " due_ms INTEGER,"
     " PRIMARY KEY(allocation_id, number)) STRICT;"
     "CREATE TABLE installment_part("
     " allocation_id INTEGER NOT NULL,"
     " number INTEGER NOT NULL,"
     " funder_id TEXT NOT NULL,"
     " amount_cents INTEGER NOT NULL CHECK(amount_cents >= 0),"
     " PRIMARY KEY(allocation_id, number, funder_id),"
     " FOREIGN KEY(allocation_id, number) REFERENCES allocation_installment(allocation_id, number))"
     " STRICT;"

     /* Kinds: 1 payment (amount > 0), 2 reversal (amount < 0). A payment
      * is one per funder reference, and reversed at most once. Updates
      * and deletes are refused by the database itself. */
     "CREATE TABLE ledger("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " kind INTEGER NOT NULL CHECK(kind IN (1, 2)),"
     " allocation_id INTEGER NOT NULL REFERENCES allocation(id),"
     " funder_id TEXT NOT NULL REFERENCES funder(id),"
     " table_id TEXT NOT NULL,"
     " program_id TEXT NOT NULL,"
     " fiscal_year TEXT NOT NULL,"
     " mandataire_id TEXT,"
     " amount_cents INTEGER NOT NULL"
     "  CHECK((kind = 1 AND amount_cents > 0) OR (kind = 2 AND amount_cents < 0)),"
     " paid_on TEXT NOT NULL,"
     " reference TEXT NOT NULL,"
     " reverses_id INTEGER UNIQUE REFERENCES ledger(id),"
     " reason TEXT,"
     " notes TEXT,"
     " recorded_by TEXT,"
     " recorded_ms INTEGER NOT NULL,"
     " CHECK((kind = 2) = (reverses_id IS NOT NULL))) STRICT;"
     "CREATE UNIQUE INDEX ledger_by_reference ON ledger(funder_id, reference) WHERE kind = 1;"
     "CREATE INDEX ledger_by_year ON ledger(fiscal_year, id);"
     "CREATE INDEX ledger_by_allocation ON ledger(allocation_id);"
     "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN"
     " SELECT RAISE(ABORT, 'the ledger is append-only: correct a payment with a reversal');"
     " END;"
     "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN"
     " SELECT RAISE(ABORT, 'the ledger is append-only: correct a payment with a reversal');"
     " END;"

     "CREATE TABLE report_received("
     " table_id TEXT NOT NULL,"
     " fiscal_year TEXT NOT NULL,"
     " received_on TEXT NOT NULL,"
     " recorded_by TEXT,"
     " recorded_ms INTEGER NOT NULL,"
     " PRIMARY KEY(table_id, fiscal_year)) STRICT;"},
};

/* funding: what the funding daemon's modules share: short names for the
 * generated types, its settings, its entities and lists (rows of the
 * handler table in funding_service.c), and the functions one module
 * offers another. Handlers are written with the runtime's toolkit
 * (common/ctx.h, field.h, page.h, row.h, entity.h); money with
 * common/money.h. */
#ifndef CONCERTO_FUNDING_H
#define CONCERTO_FUNDING_H

#include <stddef.h>
#include <stdint.h>

#include "concerto/funding/v1/funding.pb-c.h"
#include "ctx.h"
#include "entity.h"
#include "page.h"
#include "service.h"

typedef Concerto__Funding__V1__Funder fund_funder_t;
typedef Concerto__Funding__V1__Program fund_program_t;
typedef Concerto__Funding__V1__ProgramYear fund_year_t;
typedef Concerto__Funding__V1__FunderShare fund_share_t;
typedef Concerto__Funding__V1__EligibilityDecision fund_decision_t;
typedef Concerto__Funding__V1__Criterion fund_criterion_t;
typedef Concerto__Funding__V1__Allocation fund_allocation_t;
typedef Concerto__Funding__V1__AllocationPart fund_part_t;
typedef Concerto__Funding__V1__Installment fund_installment_t;
typedef Concerto__Funding__V1__AllocationInstallment fund_alloc_installment_t;
typedef Concerto__Funding__V1__LedgerEntry fund_entry_t;

#define FUNDING_MAX_NAME 200
#define FUNDING_MAX_TEXT 2000 /* notes, justifications */
#define FUNDING_MAX_REASON 1000
#define FUNDING_MAX_SHARES 16       /* funders of one program year */
#define FUNDING_MAX_INSTALLMENTS 12 /* installments of one schedule */
#define FUNDING_MAX_REFERENCE 100   /* a funder's payment reference */
/* 100,000.00: what a recognized Table receives in a year (domain.md 0). */
#define FUNDING_DEFAULT_AMOUNT_CENTS 10000000

/* Installment states and ledger kinds, as the wire numbers them. */
enum {
    FUNDING_PENDING = CONCERTO__FUNDING__V1__INSTALLMENT_STATE__PENDING,
    FUNDING_DUE = CONCERTO__FUNDING__V1__INSTALLMENT_STATE__DUE,
    FUNDING_HELD = CONCERTO__FUNDING__V1__INSTALLMENT_STATE__HELD,
    FUNDING_CANCELLED = CONCERTO__FUNDING__V1__INSTALLMENT_STATE__CANCELLED,
    FUNDING_PAYMENT = CONCERTO__FUNDING__V1__LEDGER_KIND__PAYMENT,
    FUNDING_REVERSAL = CONCERTO__FUNDING__V1__LEDGER_KIND__REVERSAL,
};

/* Allocation states, as the wire numbers them. */
enum {
    FUNDING_PROPOSED = CONCERTO__FUNDING__V1__ALLOCATION_STATE__PROPOSED,
    FUNDING_APPROVED = CONCERTO__FUNDING__V1__ALLOCATION_STATE__APPROVED,
    FUNDING_SUSPENDED = CONCERTO__FUNDING__V1__ALLOCATION_STATE__SUSPENDED,
    FUNDING_CLOSED = CONCERTO__FUNDING__V1__ALLOCATION_STATE__CLOSED,
};

/* The settings handlers read (their `arg`). */
typedef struct {
    const char *demo_dir; /* CONCERTO_FUNDING_DEMO_DATA; "" for none */
} funding_config_t;

/* --- entities and lists (rows of the handler table) */
extern const entity_t funding_funder_entity;
extern const entity_t funding_program_entity;
extern const page_list_t funding_funder_list;
extern const page_list_t funding_program_list;
extern const page_list_t funding_year_list;
extern const page_list_t funding_allocation_list;

/* --- program years (funding_program.c) */
/* The year `fiscal_year` of `program_id` with its shares and figures, or
 * NULL after recording NOT_FOUND on `field` (or a database error). */
fund_year_t *funding_year_require(ctx_t *ctx, const char *program_id, const char *fiscal_year,
                                  const char *field);
/* What the year has committed: approved and suspended allocations, and
 * what closed ones paid. -1 after recording a database error. */
int64_t funding_year_committed(ctx_t *ctx, const char *program_id, const char *fiscal_year);
/* A fiscal year label that fiscal_year_parse accepts; records a violation
 * on `path` otherwise. `first_year` may be NULL. */
int funding_field_year(ctx_t *ctx, const char *path, const char *label, int flags, int *first_year);
/* A request's program_id (a slug) and fiscal_year, both required. */
void funding_field_key(ctx_t *ctx, const char *program_id, const char *fiscal_year);

/* --- eligibility (funding_eligibility.c) */
/* Judges the Table's eligibility for the program's year from what funding
 * knows now, records it as a new revision when it differs from the last
 * (emitting EligibilityDecided with `cause`), and returns the current
 * decision (caller frees), or NULL after recording a problem. */
fund_decision_t *funding_eligibility_decide(ctx_t *ctx, const char *table_id,
                                            const char *program_id, const char *fiscal_year,
                                            const char *cause);
/* Judges again every decision recorded for the Table (after a registry or
 * reporting event about it); records and emits those that changed.
 * Returns the status recorded. */
status_t funding_eligibility_revisit(ctx_t *ctx, const char *table_id, const char *cause);
/* Records an admin's override (`demo` marks the demo data's). */
fund_decision_t *funding_eligibility_override(ctx_t *ctx, const char *table_id,
                                              const char *program_id, const char *fiscal_year,
                                              const char *justification, int demo);
/* The current decision, or NULL (none recorded, or a recorded error). */
fund_decision_t *funding_eligibility_load(ctx_t *ctx, const char *table_id, const char *program_id,
                                          const char *fiscal_year);

/* --- allocations (funding_allocation.c) */
/* The allocation with its parts and mandataire, or NULL (recorded
 * NOT_FOUND on `field` when `field` is given). */
fund_allocation_t *funding_allocation_load(ctx_t *ctx, uint64_t id, const char *field);
/* An allocation state's name ("PROPOSED"...), as the API spells it. */
const char *funding_allocation_state_name(int state);
/* Proposes and, when `approve`, approves an allocation of the year's
 * amount per Table (the demo data's path). Returns the status recorded. */
status_t funding_allocation_propose(ctx_t *ctx, const char *program_id, const char *fiscal_year,
                                    const char *table_id, int64_t amount_cents, int demo,
                                    fund_allocation_t **out);
status_t funding_allocation_approve(ctx_t *ctx, uint64_t id, fund_allocation_t **out);
/* The registry suspended (or withdrew) the Table from `effective_on`
 * (NULL: unknown): suspends its approved allocations of the fiscal years
 * that end on or after that day. */
status_t funding_allocation_registry_suspend(ctx_t *ctx, const char *table_id,
                                             const char *effective_on, const char *why);

/* --- installments (funding_installment.c) */
/* At approval: the allocation's installments from its year's schedule,
 * and a durable timer for each dated one (a holdback whose report is
 * already in falls due at once). */
status_t funding_installments_begin(ctx_t *ctx, const fund_allocation_t *a);
/* At resume: the installments held while suspended fall due. */
status_t funding_installments_resume(ctx_t *ctx, const fund_allocation_t *a);
/* At close: what is pending or held is cancelled, timers too. */
status_t funding_installments_cancel(ctx_t *ctx, const fund_allocation_t *a);
/* Reads an allocation's installments from its "installments_text" column
 * (see funding_allocation.c). */
void funding_installments_complete(fund_allocation_t *a, const char *text);

/* A Table's allocations a statement lists at most: every program, every
 * year. */
#define FUNDING_MAX_TABLE_ALLOCATIONS 500

/* The ids the bound statement `st` selects in its first column, at most
 * `max`, into `ids`; returns how many (a database error is recorded). */
size_t funding_ids(ctx_t *ctx, sqlite3_stmt *st, int64_t *ids, size_t max);

/* --- text columns of repeated fields */
/* Splits `s` in place at each `sep` (empty fields kept); returns how many,
 * at most `max`. */
size_t funding_split(char *s, char sep, char **out, size_t max);

/* --- the caller */
/* Whether the caller may do what only an admin may: an admin's token, or
 * the daemon's own work (no caller); records PERMISSION_DENIED otherwise. */
int funding_require_admin(ctx_t *ctx, const char *what);

/* --- handlers (service_handler_fn) */
int funding_handle_set_year(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_get_year(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_decide(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_override(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_get_eligibility(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_list_eligibility(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_propose(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_approve(service_call_t *call, const ProtobufCMessage *msg, void *arg);
/* Suspend, resume and close: {id, reason} requests, one handler whose
 * `arg` is the move (funding_allocation.c). */
typedef struct funding_move funding_move_t;
extern const funding_move_t funding_suspend, funding_resume, funding_close;
int funding_on_move(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_amend(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_get_allocation(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_table_funding(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_table_status(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_installment_due(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_report_received(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_record_payment(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_reverse_payment(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_list_ledger(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_handle_summary(service_call_t *call, const ProtobufCMessage *msg, void *arg);

/* --- events from the registry and reporting (funding_registry.c) */
int funding_on_territory_registered(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_on_territory_updated(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_on_table_registered(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_on_table_updated(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_on_recognition_changed(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_on_characteristics_changed(service_call_t *call, const ProtobufCMessage *msg,
                                       void *arg);
int funding_on_mandataire_changed(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int funding_on_compliance_evaluated(service_call_t *call, const ProtobufCMessage *msg, void *arg);

#endif

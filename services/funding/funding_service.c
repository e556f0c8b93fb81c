/* funding_service: the funding daemon's spec: its settings (the demo
 * data), schema, the table of its handlers and of the events it applies
 * from the registry and reporting, and the demo data at start (see
 * funding_service.h). */
#include "funding_service.h"

#include "concerto/common/v1/table_status.pb-c.h"
#include "concerto/registry/v1/registry.pb-c.h"
#include "concerto/reporting/v1/reporting.pb-c.h"
#include "funding_demo.h"
#include "funding_schema.h"
#include "log.h"

static const config_var_t funding_vars[] = {
    {"CONCERTO_FUNDING_DEMO_DATA", "",
     "folder of demo funders, programs and years loaded at start when no funder is registered, "
     "then demo allocations for the Tables the registry recognizes (empty: none)"},
};

static funding_config_t funding_cfg;

#define FUND(name) (&concerto__funding__v1__##name##__descriptor)
#define REG(name) (&concerto__registry__v1__##name##__descriptor)

/* Every request funding answers. */
static const service_handler_spec_t funding_handlers[] = {
    {FUND(register_funder_request), SERVICE_COMMAND, entity_on_register, &funding_funder_entity},
    {FUND(update_funder_request), SERVICE_COMMAND, entity_on_update, &funding_funder_entity},
    {FUND(get_funder_request), SERVICE_QUERY, entity_on_get, &funding_funder_entity},
    {FUND(list_funders_request), SERVICE_QUERY, page_on_list, &funding_funder_list},
    {FUND(register_program_request), SERVICE_COMMAND, entity_on_register, &funding_program_entity},
    {FUND(update_program_request), SERVICE_COMMAND, entity_on_update, &funding_program_entity},
    {FUND(get_program_request), SERVICE_QUERY, entity_on_get, &funding_program_entity},
    {FUND(list_programs_request), SERVICE_QUERY, page_on_list, &funding_program_list},
    {FUND(set_program_year_request), SERVICE_COMMAND, funding_handle_set_year, NULL},
    {FUND(get_program_year_request), SERVICE_QUERY, funding_handle_get_year, NULL},
    {FUND(list_program_years_request), SERVICE_QUERY, page_on_list, &funding_year_list},
    {FUND(decide_eligibility_request), SERVICE_COMMAND, funding_handle_decide, NULL},
    {FUND(override_eligibility_request), SERVICE_COMMAND, funding_handle_override, NULL},
    {FUND(get_eligibility_request), SERVICE_QUERY, funding_handle_get_eligibility, NULL},
    {FUND(list_eligibility_request), SERVICE_QUERY, funding_handle_list_eligibility, NULL},
    {FUND(propose_allocation_request), SERVICE_COMMAND, funding_handle_propose, NULL},
    {FUND(approve_allocation_request), SERVICE_COMMAND, funding_handle_approve, NULL},
    {FUND(suspend_allocation_request), SERVICE_COMMAND, funding_on_move, &funding_suspend},
    {FUND(resume_allocation_request), SERVICE_COMMAND, funding_on_move, &funding_resume},
    {FUND(close_allocation_request), SERVICE_COMMAND, funding_on_move, &funding_close},
    {FUND(amend_allocation_request), SERVICE_COMMAND, funding_handle_amend, NULL},
    {FUND(get_allocation_request), SERVICE_QUERY, funding_handle_get_allocation, NULL},
    {FUND(list_allocations_request), SERVICE_QUERY, page_on_list, &funding_allocation_list},
    {FUND(get_table_funding_request), SERVICE_QUERY, funding_handle_table_funding, NULL},
    {FUND(demo_allocations_request), SERVICE_COMMAND, funding_handle_demo_allocations, NULL},
    {FUND(installment_due_request), SERVICE_COMMAND, funding_handle_installment_due, NULL},
    {FUND(record_report_received_request), SERVICE_COMMAND, funding_handle_report_received, NULL},
    {FUND(record_payment_request), SERVICE_COMMAND, funding_handle_record_payment, NULL},
    {FUND(reverse_payment_request), SERVICE_COMMAND, funding_handle_reverse_payment, NULL},
    {FUND(list_ledger_request), SERVICE_QUERY, funding_handle_list_ledger, NULL},
    {FUND(get_program_summary_request), SERVICE_QUERY, funding_handle_summary, NULL},
    /* Funding's part of the gateway's fan-out status. */
    {&concerto__common__v1__table_status_request__descriptor, SERVICE_QUERY,
     funding_handle_table_status, NULL},
};

/* Every event funding applies: the registry's facts, reporting's
 * compliance. */
static const service_event_spec_t funding_events[] = {
    {"registry", REG(territory_registered), funding_on_territory_registered, NULL},
    {"registry", REG(territory_updated), funding_on_territory_updated, NULL},
    {"registry", REG(table_registered), funding_on_table_registered, NULL},
    {"registry", REG(table_updated), funding_on_table_updated, NULL},
    {"registry", REG(recognition_changed), funding_on_recognition_changed, NULL},
    {"registry", REG(characteristics_changed), funding_on_characteristics_changed, NULL},
    {"registry", REG(mandataire_changed), funding_on_mandataire_changed, NULL},
    {"reporting", &concerto__reporting__v1__compliance_evaluated__descriptor,
     funding_on_compliance_evaluated, NULL},
};

const service_handler_spec_t *funding_handler_table(size_t *n)
{
    *n = sizeof funding_handlers / sizeof funding_handlers[0];
    return funding_handlers;
}

const service_event_spec_t *funding_event_table(size_t *n)
{
    *n = sizeof funding_events / sizeof funding_events[0];
    return funding_events;
}

static int funding_setup(service_t *svc, const config_t *cfg)
{
    funding_cfg.demo_dir = config_str(cfg, "CONCERTO_FUNDING_DEMO_DATA");
    if (*funding_cfg.demo_dir && funding_demo_setup(svc, funding_cfg.demo_dir) != 0)
        return -1;
    return 0;
}

const service_spec_t funding_spec = {
    .name = "funding",
    .summary = "Funding of Montréal's Tables de quartier: programs and funders per fiscal year, "
               "eligibility from the registry's events, allocations split between funders to "
               "the cent.",
    .migrations = funding_migrations,
    .n_migrations = FUNDING_MIGRATIONS,
    .extra_vars = funding_vars,
    .n_extra_vars = sizeof funding_vars / sizeof funding_vars[0],
    .handlers = funding_handlers,
    .n_handlers = sizeof funding_handlers / sizeof funding_handlers[0],
    .events = funding_events,
    .n_events = sizeof funding_events / sizeof funding_events[0],
    .arg = &funding_cfg,
    .setup = funding_setup,
};

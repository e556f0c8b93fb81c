/* registry_decision: recognition decisions in time. A decision is entered
 * when it was taken: dated today or in the past (bounded by the current
 * status's date and the Table's registration), it applies at once; dated
 * in the future, it is scheduled and a durable timer applies it on that
 * date, after checking the rules again. Every status a Table has is a row
 * of recognition_change (its first too: a registration or an import) and a
 * RecognitionChanged event. The state machine is registry_recognition.c;
 * disputes, whose reversals decisions name, are registry_dispute.c. */
#ifndef CONCERTO_REGISTRY_DECISION_H
#define CONCERTO_REGISTRY_DECISION_H

#include <stdint.h>

#include "registry.h"

typedef Concerto__Registry__V1__ScheduledRecognition reg_scheduled_t;

/* A decision to record. Strings are borrowed. */
typedef struct registry_decision {
    const char *status;
    /* The date it takes effect; when the date is unknown (an import whose
     * sources give none), the day it is recorded, with effective_known 0. */
    const char *effective_on;
    int effective_known;
    const char *reason;
    const char *justification; /* NULL: none */
    uint64_t dispute_id;       /* 0: none */
    const char *origin;        /* registration | decision | scheduled | import */
    uint64_t schedule_id;      /* origin scheduled */
    const char *exemption;     /* NULL: the characteristics were checked */
    /* An admin's, given with the decision (NULL: the Table's, if any). */
    const char *overlap_justification;
    char unmet[96]; /* unmet characteristics when recognized, space-separated */
} registry_decision_t;

/* Records the first status of Table `table_id`, just inserted with it.
 * Its RecognitionChanged is emitted by registry_decision_emit once the
 * Table's own event is. */
status_t registry_decision_first(ctx_t *ctx, const char *table_id, registry_decision_t *d);
/* Emits RecognitionChanged for the Table's current decision. */
status_t registry_decision_emit_current(ctx_t *ctx, const char *table_id);

/* The Table's pending scheduled decision, or NULL (a database error is
 * recorded). Freed with protobuf_c_message_free_unpacked. */
reg_scheduled_t *registry_schedule_pending(ctx_t *ctx, const char *table_id);

/* FAILED_PRECONDITION on `path` when Table `table_id` is withdrawn (final,
 * read-only). Returns 1 when the Table may be changed (or is not there:
 * the caller reports that). */
int registry_table_writable(ctx_t *ctx, const char *table_id, const char *path);

#endif

/* service_loop: a daemon's life: configuration from the environment,
 * sockets, the loop (poll(2) on the sockets' ZMQ_FDs) with its timers, and
 * orderly shutdown on SIGTERM or SIGINT. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fiscal_year.h"
#include "dirs.h"
#include "log.h"
#include "services.h"
#include "service_internal.h"
#include "xalloc.h"

static volatile sig_atomic_t service_signalled;

static void service_on_signal(int sig)
{
    (void)sig;
    service_signalled = 1;
}

static void service_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = service_on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: poll must return EINTR so the loop sees the flag. */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Milliseconds until the next timer is due, at most one heartbeat. */
static long service_poll_timeout(service_t *svc, int64_t now, int64_t next_heartbeat)
{
    int64_t due = next_heartbeat;
    for (size_t i = 0; i < svc->n_timers; i++)
        if (svc->timers[i].due_ms < due)
            due = svc->timers[i].due_ms;
    int64_t wait = due - now;
    int64_t timer_wait = service_timers_wait_ms(svc);
    if (timer_wait < wait)
        wait = timer_wait;
    if (wait < 0)
        wait = 0;
    /* Subscribers check replay deadlines on each turn. */
    if (svc->n_subs && wait > 250)
        wait = 250;
    return (long)wait;
}

/* Runs the timers; `maybe[1 + i]` is set for each subscriber that sent on
 * its DEALER (see service_watch_t). */
static void service_run_timers(service_t *svc, int64_t now, int *maybe)
{
    for (size_t i = 0; i < svc->n_timers; i++) {
        struct service_timer *t = &svc->timers[i];
        if (t->due_ms > now)
            continue;
        t->due_ms = now + t->interval_ms;
        t->fn(svc, t->arg);
    }
    for (size_t i = 0; i < svc->n_subs; i++)
        if (subscriber_tick(svc->subs[i], now))
            maybe[1 + i] = 1;
}

/* The loop waits on the sockets' ZMQ_FDs with poll(2) rather than on the
 * sockets with zmq_poll, which asks every socket for ZMQ_EVENTS before and
 * after it waits (two system calls per socket and turn in libzmq).
 * ZMQ_FD only signals edges, and a send or receive may consume the edge
 * of a message already waiting, so each watched unit keeps a "may be
 * readable" flag, as the gateway's zwatch does: set when one of its fds
 * polls readable, and after a turn that read or sent anything on it;
 * cleared only when its drain found nothing, the one receive that also
 * consumes any pending edge. While a flag is set the loop does not block.
 * Units: the ROUTER (flag 0) and each subscriber, whose SUB and DEALER
 * are drained together (flag 1 + i). */
typedef struct {
    struct pollfd *fds; /* the ROUTER, then each subscriber's SUB and DEALER */
    size_t n_fds;
    int *maybe;
    struct pollfd *ask; /* the fds of the units whose flag is clear */
    size_t *ask_unit;
} service_watch_t;

static size_t service_watch_unit(size_t fd_index)
{
    return fd_index == 0 ? 0 : 1 + (fd_index - 1) / 2;
}

static int service_watch_init(service_watch_t *w, service_t *svc)
{
    w->n_fds = 1 + 2 * svc->n_subs;
    w->fds = xcalloc(w->n_fds, sizeof *w->fds);
    w->ask = xcalloc(w->n_fds, sizeof *w->ask);
    w->ask_unit = xcalloc(w->n_fds, sizeof *w->ask_unit);
    w->maybe = xcalloc(1 + svc->n_subs, sizeof *w->maybe);
    for (size_t i = 0; i < w->n_fds; i++) {
        void *sock = i == 0        ? svc->router
                     : (i - 1) % 2 ? subscriber_dealer_socket(svc->subs[(i - 1) / 2])
                                   : subscriber_sub_socket(svc->subs[(i - 1) / 2]);
        size_t len = sizeof w->fds[i].fd;
        if (zmq_getsockopt(sock, ZMQ_FD, &w->fds[i].fd, &len) != 0)
            return -1;
        w->fds[i].events = POLLIN;
    }
    /* Messages may be queued already (replies to the subscribers' first
     * replay requests). */
    for (size_t u = 0; u < 1 + svc->n_subs; u++)
        w->maybe[u] = 1;
    return 0;
}

static void service_watch_free(service_watch_t *w)
{
    free(w->fds);
    free(w->ask);
    free(w->ask_unit);
    free(w->maybe);
}

/* Polls the fds of the units not already flagged, for at most `timeout`
 * ms (0 when a unit is flagged: the loop must not block then), and flags
 * those that are readable. With every unit flagged there is nothing to ask.
 * Returns 0, or -1 with errno set. */
static int service_watch_wait(service_watch_t *w, long timeout)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n_fds; i++) {
        size_t u = service_watch_unit(i);
        if (w->maybe[u]) {
            timeout = 0;
            continue;
        }
        w->ask[n] = w->fds[i];
        w->ask_unit[n++] = u;
    }
    if (n == 0)
        return 0;
    if (poll(w->ask, (nfds_t)n, (int)timeout) < 0)
        return -1;
    for (size_t k = 0; k < n; k++)
        if (w->ask[k].revents)
            w->maybe[w->ask_unit[k]] = 1;
    return 0;
}

static int service_loop(service_t *svc)
{
    service_watch_t w;
    if (service_watch_init(&w, svc) != 0) {
        log_error("cannot watch the sockets", "error=\"%s\"", zmq_strerror(errno));
        service_watch_free(&w);
        return -1;
    }
    int64_t next_heartbeat = service_now_ms();
    while (!svc->stopping && !service_signalled) {
        int64_t now = service_now_ms();
        if (now >= next_heartbeat) {
            service_publish_heartbeat(svc);
            next_heartbeat = now + svc->heartbeat_ms;
        }
        /* A running backup copies a few pages each turn: no waiting then. */
        long timeout =
            service_backup_running(svc) ? 0 : service_poll_timeout(svc, now, next_heartbeat);
        if (service_watch_wait(&w, timeout) != 0) {
            if (errno == EINTR)
                continue;
            log_error("poll failed", "error=\"%s\"", strerror(errno));
            service_watch_free(&w);
            return -1;
        }
        if (w.maybe[0])
            w.maybe[0] = service_on_router(svc);
        for (size_t i = 0; i < svc->n_subs; i++)
            if (w.maybe[1 + i])
                w.maybe[1 + i] = subscriber_on_readable(svc->subs[i]);
        service_backup_step(svc);
        service_run_timers(svc, service_now_ms(), w.maybe);
        service_timers_fire_due(svc);
    }
    service_watch_free(&w);
    return 0;
}

/* The settings every daemon has; names carry the service's prefix. Then
 * those of each source the event table names: where its ROUTER and PUB
 * are. */
typedef struct {
    config_var_t *vars;
    size_t n;
    char *names[8];
    const char **sources;
    size_t n_sources;
    char **owned; /* the sources' variable names and help texts */
    size_t n_owned;
} service_vars_t;

static char *service_env_name(const char *service, const char *suffix)
{
    char *name = xasprintf("CONCERTO_%s_%s", service, suffix);
    for (char *p = name; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return name;
}

static char *service_vars_own(service_vars_t *sv, char *s)
{
    sv->owned[sv->n_owned++] = s;
    return s;
}

/* The distinct sources of the spec's event table, in order. */
static void service_vars_sources(service_vars_t *sv, const service_spec_t *spec)
{
    sv->sources = xcalloc(spec->n_events + 1, sizeof *sv->sources);
    for (size_t i = 0; i < spec->n_events; i++) {
        size_t j = 0;
        while (j < sv->n_sources && strcmp(sv->sources[j], spec->events[i].source) != 0)
            j++;
        if (j == sv->n_sources)
            sv->sources[sv->n_sources++] = spec->events[i].source;
    }
}

/* CONCERTO_<SOURCE>_ROUTER and _PUB for each source, with the defaults of
 * services.def (none for a source not in it: then they must be set). */
static void service_vars_add_sources(service_vars_t *sv, size_t at)
{
    sv->owned = xcalloc(4 * sv->n_sources + 1, sizeof *sv->owned);
    for (size_t i = 0; i < sv->n_sources; i++) {
        const char *src = sv->sources[i];
        const services_entry_t *known = services_find(src);
        sv->vars[at++] = (config_var_t){
            service_vars_own(sv, service_env_name(src, "ROUTER")), known ? known->router : NULL,
            service_vars_own(sv, xasprintf("where %s's ROUTER is (replay of its events)", src))};
        sv->vars[at++] = (config_var_t){
            service_vars_own(sv, service_env_name(src, "PUB")), known ? known->pub : NULL,
            service_vars_own(sv, xasprintf("where %s's PUB is (its events)", src))};
    }
}

static void service_vars_build(service_vars_t *sv, const service_spec_t *spec)
{
    memset(sv, 0, sizeof *sv);
    const char *suffixes[6] = {"ROUTER", "ROUTER_BIND", "PUB", "PUB_BIND", "DB", "SYNCHRONOUS"};
    for (int i = 0; i < 6; i++)
        sv->names[i] = service_env_name(spec->name, suffixes[i]);
    /* The list's daemons have default endpoints; others (the test kit's)
     * must be told theirs. */
    const services_entry_t *self = services_find(spec->name);
    config_var_t common[] = {
        {"CONCERTO_DATA_DIR", "./data", "folder holding each service's SQLite file"},
        {sv->names[0], self ? self->router : NULL, "endpoint others use to reach this ROUTER"},
        {sv->names[1], "", "where this ROUTER binds (default: the ROUTER endpoint)"},
        {sv->names[2], self ? self->pub : NULL, "endpoint others use to reach this PUB"},
        {sv->names[3], "", "where this PUB binds (default: the PUB endpoint)"},
        {sv->names[4], "", "SQLite file (default: $CONCERTO_DATA_DIR/<service>.db)"},
        {sv->names[5], "FULL", "SQLite synchronous setting: FULL or NORMAL"},
        {"CONCERTO_LOG_LEVEL", "info", "debug, info, warn or error"},
        {"CONCERTO_HEARTBEAT_MS", "1000", "interval between heartbeats on PUB"},
        {"CONCERTO_MAX_FRAME", "1048576", "largest frame accepted, in bytes"},
        {"CONCERTO_MAX_DOCUMENT", "33554432",
         "largest document answered, in bytes (larger than a frame: read in parts)"},
        {"CONCERTO_BATCH_MAX", "256", "requests committed together at most (group commit)"},
        {"CONCERTO_REPLY_CACHE_ENTRIES", "256",
         "answers of cacheable queries kept until the next write (16 MiB at most); 0: none"},
        {"CONCERTO_CLOCK_START", "",
         "business time at start, an ISO 8601 instant such as 2026-11-26T03:30:00Z, running on "
         "from there (tests, demonstrations); empty: the real time"},
        {"CONCERTO_FISCAL_YEAR_START_MONTH", "4", "first month of the fiscal year, 2 to 12"},
        {"CONCERTO_BACKUP_STEP_PAGES", "64",
         "database pages a backup copies per loop turn (backups go to "
         "$CONCERTO_DATA_DIR/backups/<service>/)"},
    };
    size_t nc = sizeof common / sizeof common[0];
    service_vars_sources(sv, spec);
    sv->n = nc + spec->n_extra_vars + 2 * sv->n_sources;
    sv->vars = xcalloc(sv->n, sizeof *sv->vars);
    memcpy(sv->vars, common, sizeof common);
    for (size_t i = 0; i < spec->n_extra_vars; i++)
        sv->vars[nc + i] = spec->extra_vars[i];
    service_vars_add_sources(sv, nc + spec->n_extra_vars);
}

static void service_vars_free(service_vars_t *sv)
{
    for (int i = 0; i < 6; i++)
        free(sv->names[i]);
    for (size_t i = 0; i < sv->n_owned; i++)
        free(sv->owned[i]);
    free(sv->owned);
    free(sv->sources);
    free(sv->vars);
}

/* Subscribes to each source of the event table, where the configuration
 * says, and registers the table; then starts every subscription. */
static int service_start_subscriptions(service_t *svc, const service_spec_t *spec,
                                       const service_vars_t *sv, const config_t *cfg)
{
    for (size_t i = 0; i < sv->n_sources; i++) {
        char *router = service_env_name(sv->sources[i], "ROUTER");
        char *pub = service_env_name(sv->sources[i], "PUB");
        int rc =
            service_subscribe(svc, sv->sources[i], config_str(cfg, router), config_str(cfg, pub));
        free(router);
        free(pub);
        if (rc != 0)
            return -1;
    }
    if (service_handle_events(svc, spec->events, spec->n_events, spec->arg) != 0)
        return -1;
    for (size_t i = 0; i < svc->n_subs; i++)
        if (subscriber_start(svc->subs[i]) != 0)
            return -1;
    return 0;
}

static const char *service_or(const char *value, const char *fallback)
{
    return value && *value ? value : fallback;
}

/* Business clock, Montréal's zone and the fiscal year (docs/architecture.md);
 * a daemon that cannot know Montréal's date does not start. */
static int service_calendar_init(const config_t *cfg)
{
    char err[512];
    const char *start = config_str(cfg, "CONCERTO_CLOCK_START");
    int64_t month;
    if (clock_init(CLOCK_ZONE, start, err, sizeof err) != 0) {
        log_error("cannot set the business clock", "error=\"%s%s\"",
                  *start ? "CONCERTO_CLOCK_START: " : "", err);
        return -1;
    }
    if (config_int(cfg, "CONCERTO_FISCAL_YEAR_START_MONTH", 2, 12, &month, err, sizeof err) != 0) {
        log_error("bad configuration", "error=\"%s\"", err);
        return -1;
    }
    fiscal_year_set_start_month((int)month);
    if (*start) {
        char today[CLOCK_DATE_LEN];
        clock_today(today);
        log_info("business clock set", "start=%s today=%s zone=%s", start, today, CLOCK_ZONE);
    }
    return 0;
}

/* Opens the store and sockets and applies settings; returns NULL after
 * logging the reason. */
static service_t *service_start(const service_spec_t *spec, const service_vars_t *sv,
                                const config_t *cfg)
{
    char err[512];
    int64_t heartbeat, max_frame, batch, backup_pages, max_document, replies;
    if (config_int(cfg, "CONCERTO_HEARTBEAT_MS", 50, 60000, &heartbeat, err, sizeof err) ||
        config_int(cfg, "CONCERTO_MAX_FRAME", 1024, 64 * 1024 * 1024, &max_frame, err,
                   sizeof err) ||
        config_int(cfg, "CONCERTO_MAX_DOCUMENT", 1024, 1024 * 1024 * 1024, &max_document, err,
                   sizeof err) ||
        config_int(cfg, "CONCERTO_BATCH_MAX", 1, 10000, &batch, err, sizeof err) ||
        config_int(cfg, "CONCERTO_REPLY_CACHE_ENTRIES", 0, 100000, &replies, err, sizeof err) ||
        config_int(cfg, "CONCERTO_BACKUP_STEP_PAGES", 1, 1000000, &backup_pages, err, sizeof err)) {
        log_error("bad configuration", "error=\"%s\"", err);
        return NULL;
    }
    if (service_calendar_init(cfg) != 0)
        return NULL;
    const char *data_dir = config_str(cfg, "CONCERTO_DATA_DIR");
    char *db_default = xasprintf("%s/%s.db", data_dir, spec->name);
    const char *db_path = service_or(config_str(cfg, sv->names[4]), db_default);
    if (dirs_make(data_dir) != 0) {
        log_error("cannot create data directory", "path=%s error=\"%s\"", data_dir,
                  strerror(errno));
        free(db_default);
        return NULL;
    }
    store_options_t sopt = {db_path, config_str(cfg, sv->names[5]), 5000};
    store_t *store = store_open(&sopt, spec->migrations, spec->n_migrations, err, sizeof err);
    free(db_default);
    if (!store) {
        log_error("cannot open store", "error=\"%s\"", err);
        return NULL;
    }
    service_t *svc = service_new(spec->name, store);
    svc->heartbeat_ms = (int)heartbeat;
    svc->topt.max_frame = max_frame;
    svc->batch_max = (size_t)batch;
    svc->backup_step_pages = (int)backup_pages;
    free(svc->backup_dir);
    svc->backup_dir = xasprintf("%s/backups/%s", data_dir, spec->name);
    svc->max_document = max_document;
    service_set_reply_cache(svc, (size_t)replies);
    if (service_handle(svc, spec->handlers, spec->n_handlers, spec->arg) != 0 ||
        (spec->setup && spec->setup(svc, cfg) != 0)) {
        log_error("setup failed", "service=%s", spec->name);
        goto fail;
    }
    svc->zctx = zmq_ctx_new();
    svc->router = transport_socket(svc->zctx, ZMQ_ROUTER, &svc->topt);
    svc->pub = transport_socket(svc->zctx, ZMQ_PUB, &svc->topt);
    const char *router_ep =
        service_or(config_str(cfg, sv->names[1]), config_str(cfg, sv->names[0]));
    const char *pub_ep = service_or(config_str(cfg, sv->names[3]), config_str(cfg, sv->names[2]));
    if (!svc->router || !svc->pub || zmq_bind(svc->router, router_ep) != 0) {
        log_error("cannot bind", "endpoint=%s error=\"%s\"", router_ep, zmq_strerror(errno));
        goto fail;
    }
    if (zmq_bind(svc->pub, pub_ep) != 0) {
        log_error("cannot bind", "endpoint=%s error=\"%s\"", pub_ep, zmq_strerror(errno));
        goto fail;
    }
    if (service_start_subscriptions(svc, spec, sv, cfg) != 0)
        goto fail;
    log_info("serving", "router=%s pub=%s db=%s schema=%d head=%llu", router_ep, pub_ep,
             store_path(store), store_schema_version(store),
             (unsigned long long)outbox_head(store));
    return svc;
fail:
    service_destroy(&svc);
    store_destroy(&store);
    return NULL;
}

int service_main(const service_spec_t *spec, int argc, char **argv)
{
    service_vars_t sv;
    service_vars_build(&sv, spec);
    char program[64];
    snprintf(program, sizeof program, "concerto-%s", spec->name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            config_print_help(stdout, program, spec->summary, sv.vars, sv.n);
            service_vars_free(&sv);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", program, CONCERTO_VERSION);
            service_vars_free(&sv);
            return 0;
        }
        fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", program, argv[i]);
        service_vars_free(&sv);
        return 2;
    }
    char err[512];
    config_t *cfg = config_load(sv.vars, sv.n, err, sizeof err);
    int code = 1;
    if (!cfg) {
        fprintf(stderr, "%s: %s\n", program, err);
        goto out;
    }
    if (log_init(spec->name, config_str(cfg, "CONCERTO_LOG_LEVEL")) != 0) {
        fprintf(stderr, "%s: CONCERTO_LOG_LEVEL must be debug, info, warn or error\n", program);
        goto out;
    }
    if (log_start() != 0)
        log_warn("no log writer thread; logging blocks", "reason=\"pthread_create failed\"");
    service_install_signals();
    service_t *svc = service_start(spec, &sv, cfg);
    if (!svc)
        goto out;
    code = service_loop(svc) == 0 ? 0 : 1;
    log_info("stopped", "head=%llu", (unsigned long long)outbox_head(svc->store));
    store_t *store = svc->store;
    service_destroy(&svc);
    store_destroy(&store);
out:
    config_destroy(&cfg);
    service_vars_free(&sv);
    return code;
}

#!/usr/bin/env bash
# deploy/run.sh: installs what Concerto needs, builds it, and runs every
# daemon that is built on this machine, logs to the terminal, until Ctrl-C.
# See usage() below, and README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CONCERTO_BUILD_DIR:-$ROOT/build}
# What partners may send to each daemon (CONCERTO_GATEWAY_PARTNER_TYPES);
# each daemon adds its partner commands here when it exists.
declare -A SERVICE_PARTNER_TYPES=(
    [registry]="concerto.registry.v1.AddMembershipRequest,concerto.registry.v1.EndMembershipRequest,concerto.registry.v1.RecordAttestationRequest"
    [funding]="concerto.funding.v1.RecordPaymentRequest"
)
STOP_SECS=${CONCERTO_STOP_TIMEOUT:-10}
READY_SECS=${CONCERTO_READY_TIMEOUT:-60}
RESTART_LIMIT=${CONCERTO_RESTART_LIMIT:-5}
RESTART_WINDOW=${CONCERTO_RESTART_WINDOW:-60}
LAST_LINES=20

usage() {
    cat <<EOF
usage: deploy/run.sh [--no-build] [--init-secrets] [--help]

Runs Concerto on this machine (Debian 12; as root the first time, to
install packages):
  1. deploy/install-deps.sh build   (installs missing Debian packages)
  2. configures and builds Release into ./build (incremental)
  3. creates \$CONCERTO_DATA_DIR (default ./data) and, on first start, demo
     secrets in \$CONCERTO_SECRETS_DIR (default \$CONCERTO_DATA_DIR/secrets):
     the gateway's CURVE key pair, demo partner key pairs (a Table's system,
     and Centraide's for funding payments) and their allow-list,
     and an admin token printed once and kept in admin.token (mode 0600)
  4. starts every daemon of common/services.def that is built (in its
     order: registry, funding, forum, reporting), then the gateway, their
     logs prefixed by name, waits until they answer, and prints URLs to try
  5. supervises them: a daemon that exits is logged and restarted after a
     backoff (0.5 s, 1 s, 2 s... at most 30 s); a daemon that exits
     \$CONCERTO_RESTART_LIMIT times (5) within \$CONCERTO_RESTART_WINDOW s
     (60), such as one with a bad setting or a port in use, makes this
     script stop everything and exit 1, printing its last log lines
  6. on Ctrl-C, SIGTERM or SIGHUP stops them (SIGTERM, then SIGKILL after
     \$CONCERTO_STOP_TIMEOUT s, default 10) and exits 0.

Options:
  --no-build       skip steps 1 and 2 (run what ./build already has)
  --init-secrets   only create the missing secrets (step 3) and exit; the
                   one-shot \`secrets\` service of docker-compose.yml runs this
  --help           this text

Every daemon reads its settings from the environment; see
build/bin/concerto-<daemon> --help. This script sets, when they are not set:
  CONCERTO_DATA_DIR               ./data (made absolute)
  CONCERTO_SECRETS_DIR            \$CONCERTO_DATA_DIR/secrets
  CONCERTO_GATEWAY_TOKENS         \$CONCERTO_SECRETS_DIR/tokens
  CONCERTO_GATEWAY_PARTNERS       \$CONCERTO_SECRETS_DIR/partners
  CONCERTO_GATEWAY_CURVE_SECRET   \$CONCERTO_SECRETS_DIR/gateway.key
  CONCERTO_GATEWAY_CURVE_PUBLIC   \$CONCERTO_SECRETS_DIR/gateway.pub
  CONCERTO_REGISTRY_DEMO_DATA     services/registry/demo (demo Tables)
  CONCERTO_FUNDING_DEMO_DATA      services/funding/demo (demo funders, program, allocations)
  CONCERTO_GATEWAY_REQUIRED_SERVICES  the services started here
  CONCERTO_GATEWAY_PARTNER_TYPES  the partner commands of the services started here
and reads CONCERTO_BUILD_DIR (./build), CONCERTO_READY_TIMEOUT (60 s),
CONCERTO_STOP_TIMEOUT (10 s), CONCERTO_RESTART_LIMIT (5) and
CONCERTO_RESTART_WINDOW (60 s).
EOF
}

say() {
    printf '%-9s | %s\n' run "$*" >&2
}

die() {
    say "error: $*"
    exit 1
}

# A tool from the build, else from PATH (the container has no build dir).
find_tool() {
    if [ -x "$BUILD/bin/$1" ]; then
        echo "$BUILD/bin/$1"
    else
        command -v "$1"
    fi
}

# ---------------------------------------------------------------- build

build() {
    sh "$ROOT/deploy/install-deps.sh" build || die "installing packages failed (run as root)"
    # Configure every time (a second when nothing changed): daemons are
    # picked up by their folder existing, which no build step notices.
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
        die "cmake configure failed"
    # concerto-deploy (deploy/CMakeLists.txt): the daemons and tools only.
    say "building the daemons and tools (minutes the first time, seconds after)"
    cmake --build "$BUILD" -j"$(nproc)" --target concerto-deploy >/dev/null || {
        # Show the errors, not thousands of lines of progress.
        cmake --build "$BUILD" -j1 --target concerto-deploy 2>&1 | grep -E -A3 'error|Error' | head -40 >&2
        die "build failed"
    }
}

# -------------------------------------------------------------- secrets

NEW_TOKEN=""

secrets_defaults() {
    export CONCERTO_SECRETS_DIR=${CONCERTO_SECRETS_DIR:-$CONCERTO_DATA_DIR/secrets}
    local dir=$CONCERTO_SECRETS_DIR
    export CONCERTO_GATEWAY_TOKENS=${CONCERTO_GATEWAY_TOKENS:-$dir/tokens}
    export CONCERTO_GATEWAY_PARTNERS=${CONCERTO_GATEWAY_PARTNERS:-$dir/partners}
    export CONCERTO_GATEWAY_CURVE_SECRET=${CONCERTO_GATEWAY_CURVE_SECRET:-$dir/gateway.key}
    export CONCERTO_GATEWAY_CURVE_PUBLIC=${CONCERTO_GATEWAY_CURVE_PUBLIC:-$dir/gateway.pub}
}

# Makes a CURVE key pair NAME.key / NAME.pub with concerto-keygen in a
# scratch directory and moves the files to SECRET_PATH and PUBLIC_PATH.
make_keypair() {
    local keygen=$1 name=$2 secret=$3 public=$4 tmp
    tmp=$(mktemp -d "$(dirname "$secret")/.keygen.XXXXXX")
    if "$keygen" --out "$tmp" "$name" >/dev/null; then
        chmod 600 "$tmp/$name.key"
        mv "$tmp/$name.key" "$secret"
        mv "$tmp/$name.pub" "$public"
        rm -rf "$tmp"
    else
        rm -rf "$tmp"
        die "concerto-keygen failed for $name"
    fi
}

# Creates whichever demo secret is missing; never overwrites one.
secrets_init() {
    local dir=$CONCERTO_SECRETS_DIR keygen old_umask
    old_umask=$(umask)
    umask 077 # everything made here is for the daemons' user only
    mkdir -p "$dir"
    chmod 700 "$dir"
    mkdir -p "$(dirname "$CONCERTO_GATEWAY_TOKENS")" "$(dirname "$CONCERTO_GATEWAY_PARTNERS")" \
        "$(dirname "$CONCERTO_GATEWAY_CURVE_SECRET")" "$(dirname "$CONCERTO_GATEWAY_CURVE_PUBLIC")"
    keygen=$(find_tool concerto-keygen) || keygen=""

    if [ ! -f "$CONCERTO_GATEWAY_CURVE_SECRET" ]; then
        if [ -n "$keygen" ]; then
            make_keypair "$keygen" gateway "$CONCERTO_GATEWAY_CURVE_SECRET" \
                "$CONCERTO_GATEWAY_CURVE_PUBLIC"
            say "made the gateway's CURVE key pair: $CONCERTO_GATEWAY_CURVE_PUBLIC"
        else
            say "warning: concerto-keygen is not built; no CURVE key pair for the gateway"
        fi
    fi

    if [ ! -f "$CONCERTO_GATEWAY_PARTNERS" ] && [ -n "$keygen" ]; then
        local name key
        # A Table's system, and a funder's (Centraide's, for the demo
        # funders of services/funding/demo) that records its payments.
        for name in demo-partner demo-funder; do
            [ -f "$dir/$name.key" ] || make_keypair "$keygen" "$name" "$dir/$name.key" "$dir/$name.pub"
            key=$(head -n 1 "$dir/$name.pub" | tr -d '[:space:]')
            [ ${#key} -eq 40 ] || die "$dir/$name.pub holds no Z85 public key"
        done
        {
            echo "# Partners allowed on the gateway's ingress:"
            echo "# <z85 public key> <name> [<scope>=<value>,<value>|* ...]"
            echo "# such as tables=tqmn,tqhm (or tables=*) and funder=centraide"
            echo "$(head -n 1 "$dir/demo-partner.pub" | tr -d '[:space:]') demo-partner tables=*"
            echo "$(head -n 1 "$dir/demo-funder.pub" | tr -d '[:space:]') demo-funder funder=centraide tables=*"
        } >"$CONCERTO_GATEWAY_PARTNERS"
        say "made demo partners (key pairs in $dir/demo-partner.* and $dir/demo-funder.*) and $CONCERTO_GATEWAY_PARTNERS"
    fi

    if [ ! -f "$CONCERTO_GATEWAY_TOKENS" ]; then
        local token hash
        token=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
        hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
        printf '%s\n' "$token" >"$dir/admin.token"
        chmod 600 "$dir/admin.token"
        {
            echo "# Gateway bearer tokens: <sha256 hex of token> <reader|operator|admin> <name>"
            echo "$hash admin demo-admin"
        } >"$CONCERTO_GATEWAY_TOKENS"
        NEW_TOKEN=$token
        say "made a demo admin token: $dir/admin.token (mode 0600), its hash in $CONCERTO_GATEWAY_TOKENS"
    fi
    umask "$old_umask"
}

# -------------------------------------------------------------- daemons

# The daemons, their variables' prefix and default ROUTER port, in the
# order they start (gateway last), from common/services.def.
SERVICES=()
declare -A SERVICE_VAR=() SERVICE_PORT=()

read_services() {
    local def=$ROOT/common/services.def name var router
    [ -f "$def" ] || die "missing $def"
    # SERVICE(name, NAME, router_port, pub_port), one a line.
    while read -r name var router; do
        SERVICES+=("$name")
        SERVICE_VAR[$name]=$var
        SERVICE_PORT[$name]=$router
    done < <(sed -nE 's/^SERVICE\(([a-z]+), *([A-Z_]+), *([0-9]+), *[0-9]+\).*/\1 \2 \3/p' "$def")
    [ ${#SERVICES[@]} -gt 0 ] || die "no SERVICE line in $def"
}

# One entry per daemon run here, by index: its name and binary, its pid
# while it runs (empty while it waits to restart), when to restart it, and
# the times of its recent exits (ms).
NAMES=()
BINS=()
PIDS=()
RESTART_AT=()
EXITS=()
LOG_DIR=""
NOW=0

# Sets NOW to the wall clock in milliseconds, without a subshell.
now_ms() {
    NOW=${EPOCHREALTIME//[!0-9]/}
    NOW=$((NOW / 1000))
}

add_daemon() {
    NAMES+=("$1")
    BINS+=("$2")
    PIDS+=("")
    RESTART_AT+=(0)
    EXITS+=("")
    start_daemon $((${#NAMES[@]} - 1))
}

start_daemon() {
    local i=$1 label
    label=$(printf '%-9s | ' "${NAMES[$i]}")
    # Own session: the terminal's Ctrl-C reaches this script only, which
    # then stops the daemons in order. The log prefixer ignores INT/TERM so
    # it outlives its daemon's last lines; it keeps this run's output in
    # LOG_DIR for the report of a daemon that will not start.
    setsid "${BINS[$i]}" </dev/null > >(
        trap '' INT TERM
        tee "$LOG_DIR/${NAMES[$i]}.log" | sed -u "s/^/$label/"
    ) 2>&1 &
    PIDS[i]=$!
    say "${NAMES[$i]} started (pid $!)"
}

# "status N" with the signal's name when N says the process was killed.
exit_text() {
    if [ "$1" -gt 128 ] && kill -l $(($1 - 128)) >/dev/null 2>&1; then
        echo "status $1, SIG$(kill -l $(($1 - 128)))"
    else
        echo "status $1"
    fi
}

# Daemon $1 exited with status $2 (NOW is current): schedules its restart
# after a backoff that doubles with each recent exit (0.5 s, 1 s, 2 s...,
# 30 s at most), or gives up at RESTART_LIMIT exits within RESTART_WINDOW s.
daemon_exited() {
    local i=$1 rc=$2 t recent=() delay
    for t in ${EXITS[$i]}; do
        [ $((NOW - t)) -ge $((RESTART_WINDOW * 1000)) ] || recent+=("$t")
    done
    recent+=("$NOW")
    EXITS[i]=${recent[*]}
    [ ${#recent[@]} -lt "$RESTART_LIMIT" ] || give_up "$i" "$rc"
    delay=$((500 << (${#recent[@]} - 1)))
    [ "$delay" -le 30000 ] || delay=30000
    RESTART_AT[i]=$((NOW + delay))
    say "${NAMES[$i]} exited ($(exit_text "$rc")); restarting in $((delay / 1000)).$((delay % 1000 / 100))s" \
        "(exit ${#recent[@]} of $RESTART_LIMIT allowed within ${RESTART_WINDOW}s)"
}

# One pass of supervision: notes the daemons that exited, restarts those
# whose backoff is over.
supervise() {
    local i rc
    now_ms
    for i in "${!NAMES[@]}"; do
        if [ -n "${PIDS[$i]}" ]; then
            if kill -0 "${PIDS[$i]}" 2>/dev/null; then
                continue
            fi
            rc=0
            wait "${PIDS[$i]}" 2>/dev/null || rc=$?
            PIDS[i]=""
            daemon_exited "$i" "$rc"
        elif [ "$NOW" -ge "${RESTART_AT[$i]}" ]; then
            start_daemon "$i"
        fi
    done
}

stop_all() {
    local i pid rc t
    trap '' INT TERM
    for ((i = ${#NAMES[@]} - 1; i >= 0; i--)); do
        pid=${PIDS[$i]}
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null || true
        for ((t = 0; t < STOP_SECS * 10; t++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "${NAMES[$i]} did not stop in ${STOP_SECS}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        PIDS[i]=""
        say "${NAMES[$i]} stopped ($(exit_text "$rc"))"
    done
    wait 2>/dev/null || true # the log prefixers, so the last lines show
}

# Daemon $1 keeps exiting (last status $2): stops everything and exits 1,
# ending with that daemon's last log lines.
give_up() {
    local name=${NAMES[$1]} rc=$2
    stop_all
    say "error: $name exited $RESTART_LIMIT times within ${RESTART_WINDOW}s" \
        "(last: $(exit_text "$rc")); everything is stopped. Its last lines:"
    tail -n "$LAST_LINES" "$LOG_DIR/$name.log" | sed "s/^/$(printf '%-9s | ' "$name")/" >&2
    exit 1
}

# HTTP status code of GET http://HOST:PORT/PATH, with bash only.
http_status() {
    (
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$3" "$1" >&3
        IFS=' ' read -r -t 2 _ code _ <&3 || exit 1
        echo "$code"
    ) 2>/dev/null
}

STOPPING=0

# Sleeps a little and supervises; returns 1 when asked to stop.
tick() {
    sleep "${1:-0.2}"
    [ "$STOPPING" = 0 ] || return 1
    supervise
    return 0
}

wait_service() {
    local name=$1 endpoint=$2 ping i
    ping=$(find_tool concerto-ping) || return 0
    for ((i = 0; i < READY_SECS * 5; i++)); do
        "$ping" --timeout-ms 500 "$endpoint" >/dev/null 2>&1 && return 0
        tick || return 0
    done
    say "warning: $name does not answer on $endpoint after ${READY_SECS}s"
}

wait_gateway() {
    local host=$1 port=$2 i
    for ((i = 0; i < READY_SECS * 5; i++)); do
        # Probe once a second (each probe is an access-log line).
        if [ $((i % 5)) = 1 ] && [ "$(http_status "$host" "$port" /readyz)" = 200 ]; then
            return 0
        fi
        tick || return 0
    done
    say "warning: the gateway is not ready after ${READY_SECS}s (see its log above)"
}

banner() {
    local gw=$1 host=$2 port=$3 rel_token
    rel_token=$CONCERTO_SECRETS_DIR/admin.token
    rel_token=${rel_token#"$PWD"/}
    {
        echo
        echo "Concerto is running: ${NAMES[*]}"
        if [ -n "$gw" ]; then
            local base="http://$host:$port"
            echo "Try:"
            echo "  curl $base/healthz"
            echo "  curl $base/readyz"
            echo "  curl $base/v1/status"
            echo "  curl $base/v1/territories"
            echo "  curl $base/v1/tables"
            echo "  curl $base/v1/funding/allocations"
            echo "  curl $base/metrics"
            echo "  curl -H \"Authorization: Bearer \$(cat $rel_token)\" $base/v1/status"
        else
            echo "(no gateway built yet: no HTTP API)"
        fi
        local name ping
        ping=$(find_tool concerto-ping) || ping=""
        for name in "${NAMES[@]}"; do
            if [ "$name" = gateway ] || [ -z "$ping" ]; then
                continue
            fi
            echo "  ${ping#"$PWD"/} $(router_endpoint "$name")"
        done
        if [ -n "$NEW_TOKEN" ]; then
            echo
            echo "Demo admin token (shown once; kept in $rel_token):"
            echo "  $NEW_TOKEN"
        fi
        echo
        echo "Ctrl-C stops everything."
        echo
    } >&2
}

router_endpoint() {
    local var="CONCERTO_${SERVICE_VAR[$1]}_ROUTER"
    echo "${!var:-tcp://127.0.0.1:${SERVICE_PORT[$1]}}"
}

# ----------------------------------------------------------------- main

main() {
    local do_build=1 only_secrets=0
    while [ $# -gt 0 ]; do
        case $1 in
        --help | -h)
            usage
            exit 0
            ;;
        --no-build) do_build=0 ;;
        --init-secrets) only_secrets=1 ;;
        *)
            usage >&2
            exit 2
            ;;
        esac
        shift
    done

    : "${CONCERTO_DATA_DIR:=./data}"
    mkdir -p "$CONCERTO_DATA_DIR"
    CONCERTO_DATA_DIR=$(cd "$CONCERTO_DATA_DIR" && pwd)
    export CONCERTO_DATA_DIR
    secrets_defaults
    if [ "$only_secrets" = 1 ]; then
        secrets_init
        [ -z "$NEW_TOKEN" ] || say "demo admin token (shown once): $NEW_TOKEN"
        exit 0
    fi

    cd "$ROOT"
    [ "$do_build" = 0 ] || build
    secrets_init
    if [ -z "${CONCERTO_REGISTRY_DEMO_DATA+x}" ] && [ -d "$ROOT/services/registry/demo" ]; then
        export CONCERTO_REGISTRY_DEMO_DATA=$ROOT/services/registry/demo
    fi
    if [ -z "${CONCERTO_FUNDING_DEMO_DATA+x}" ] && [ -d "$ROOT/services/funding/demo" ]; then
        export CONCERTO_FUNDING_DEMO_DATA=$ROOT/services/funding/demo
    fi

    read_services
    LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/concerto-run.XXXXXX")
    trap 'rm -rf "$LOG_DIR"' EXIT
    trap 'STOPPING=1' INT TERM HUP
    # Bash reports a job killed by a signal the shell does not trap with a
    # message of its own; supervise() says it instead. (KILL cannot be
    # caught: the trap only marks it as handled here.)
    # shellcheck disable=SC2173
    trap : KILL SEGV ABRT BUS FPE ILL TRAP SYS
    local name gw=""
    for name in "${SERVICES[@]}"; do
        [ -x "$BUILD/bin/concerto-$name" ] || continue
        add_daemon "$name" "$BUILD/bin/concerto-$name"
    done
    # The gateway is ready when the services started here are.
    if [ -z "${CONCERTO_GATEWAY_REQUIRED_SERVICES+x}" ]; then
        CONCERTO_GATEWAY_REQUIRED_SERVICES=$(
            IFS=,
            echo "${NAMES[*]}"
        )
        export CONCERTO_GATEWAY_REQUIRED_SERVICES=${CONCERTO_GATEWAY_REQUIRED_SERVICES:-none}
    fi
    if [ -z "${CONCERTO_GATEWAY_PARTNER_TYPES+x}" ]; then
        local types=()
        for name in "${NAMES[@]}"; do
            [ -z "${SERVICE_PARTNER_TYPES[$name]:-}" ] || types+=("${SERVICE_PARTNER_TYPES[$name]}")
        done
        CONCERTO_GATEWAY_PARTNER_TYPES=$(
            IFS=,
            echo "${types[*]}"
        )
        export CONCERTO_GATEWAY_PARTNER_TYPES
    fi
    for name in "${NAMES[@]}"; do
        wait_service "$name" "$(router_endpoint "$name")"
    done
    local http=${CONCERTO_GATEWAY_HTTP:-127.0.0.1:8080} host port
    port=${http##*:}
    host=${http%:*}
    host=${host#[}
    host=${host%]}
    case $host in '' | 0.0.0.0 | '*') host=127.0.0.1 ;; '::') host=::1 ;; esac
    if [ "$STOPPING" = 0 ] && [ -x "$BUILD/bin/concerto-gateway" ]; then
        gw=gateway
        add_daemon gateway "$BUILD/bin/concerto-gateway"
        wait_gateway "$host" "$port"
    fi
    [ ${#NAMES[@]} -gt 0 ] || die "no daemon is built yet (looked in $BUILD/bin)"
    [ "$STOPPING" = 1 ] || banner "$gw" "$host" "$port"

    while tick 0.5; do :; done
    say "stopping"
    stop_all
    exit 0
}

main "$@"

#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store's tests against a real server.
#
#   bash .ci/postgres.sh          start it (or reuse it); print PLAYBOOK_TEST_POSTGRES_URL=<url>
#   bash .ci/postgres.sh --url    the same, printing only the URL
#   source .ci/postgres.sh        the same, exporting PLAYBOOK_TEST_POSTGRES_URL into this shell
#   bash .ci/postgres.sh --stop   stop the server (the data folder stays for the next start)
#
# Needs only Debian/Ubuntu with apt: installs PostgreSQL from apt when no server binaries are
# found (as root, or through sudo). The cluster lives in its own folder
# (PLAYBOOK_PG_DIR, default $TMPDIR/playbook-postgres), listens on 127.0.0.1 only, on a free
# port, with trust authentication: it is for tests, never for data worth keeping. PostgreSQL
# refuses to run as root, so when run as root the server runs as the `postgres` system user.
#
# Idempotent: a second run finds the running server and prints the same URL; a data folder left
# by an earlier run is started again (on a new port if the old one is taken). Progress goes to
# stderr; stdout carries only the result, so `export PLAYBOOK_TEST_POSTGRES_URL="$(... --url)"`
# works. Also appends the variable to $GITHUB_ENV when that is set.

# Sourced: run in a child shell (so its `set -e` and helpers stay out of the caller), export.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    _playbook_pg_url="$(bash "${BASH_SOURCE[0]}" --url)" || { unset _playbook_pg_url; return 1; }
    export PLAYBOOK_TEST_POSTGRES_URL="$_playbook_pg_url"
    unset _playbook_pg_url
    echo "PLAYBOOK_TEST_POSTGRES_URL=$PLAYBOOK_TEST_POSTGRES_URL"
    return 0
fi

set -euo pipefail

PG_DIR="${PLAYBOOK_PG_DIR:-${TMPDIR:-/tmp}/playbook-postgres}"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/server.log"
PG_PORT_FILE="$PG_DIR/port"
PG_USER="playbook"
PG_DATABASE="${PLAYBOOK_PG_DATABASE:-playbook_test}"

say() {
    printf 'postgres.sh: %s\n' "$*" >&2
}

die() {
    say "$*"
    exit 1
}

# --------------------------------------------------------------------------- the binaries

find_bindir() {
    local candidate
    if command -v pg_config >/dev/null 2>&1; then
        candidate="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$candidate" && -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            echo "$candidate"
            return 0
        fi
    fi
    # Debian keeps the server binaries per major version, off the PATH; take the newest.
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

install_postgres() {
    local -a as_root=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "PostgreSQL is not installed and installing it needs root (or sudo)"
        as_root=(sudo -n)
    fi
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available"
    say "installing PostgreSQL from apt"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        postgresql postgresql-client >&2
}

# --------------------------------------------------------------------------- running as whom

# When root, the server (and initdb) run as this unprivileged user; otherwise as ourselves.
RUN_AS=""

choose_user() {
    if [[ "$(id -u)" -ne 0 ]]; then
        return 0
    fi
    RUN_AS="postgres"
    if ! id -u "$RUN_AS" >/dev/null 2>&1; then
        say "creating the system user $RUN_AS"
        useradd --system --home-dir /var/lib/postgresql --shell /bin/sh "$RUN_AS"
    fi
}

as_server_user() {
    if [[ -z "$RUN_AS" ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$RUN_AS" -- "$@"
    else
        su -s /bin/sh "$RUN_AS" -c "$(printf '%q ' "$@")"
    fi
}

# --------------------------------------------------------------------------- ports

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    local port
    if command -v python3 >/dev/null 2>&1; then
        port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        if [[ -n "$port" ]] && ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    fi
    for port in $(seq 55432 55532); do
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    die "no free port between 55432 and 55532"
}

# --------------------------------------------------------------------------- the cluster

running() {
    [[ -f "$PG_DATA/postmaster.pid" ]] && as_server_user "$BINDIR/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

running_port() {
    # The postmaster.pid file's fourth line is the port the server listens on.
    sed -n 4p "$PG_DATA/postmaster.pid"
}

init_cluster() {
    say "creating a cluster in $PG_DATA"
    mkdir -p "$PG_DIR"
    chmod 0755 "$PG_DIR"
    if [[ -n "$RUN_AS" ]]; then
        chown "$RUN_AS" "$PG_DIR"
    fi
    as_server_user "$BINDIR/initdb" -D "$PG_DATA" -U "$PG_USER" --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
        || as_server_user "$BINDIR/initdb" -D "$PG_DATA" -U "$PG_USER" --auth=trust --encoding=UTF8 \
            --no-locale >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
}

start_cluster() {
    local port="$1"
    say "starting PostgreSQL on 127.0.0.1:$port (log: $PG_LOG)"
    # The socket goes into the cluster's own folder, not /var/run/postgresql (which may not exist).
    as_server_user "$BINDIR/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >&2 || { tail -n 30 "$PG_LOG" >&2 || true; die "the server did not start"; }
    echo "$port" >"$PG_PORT_FILE"
}

stop_cluster() {
    if running; then
        say "stopping PostgreSQL in $PG_DATA"
        as_server_user "$BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w stop >&2
    else
        say "PostgreSQL in $PG_DATA is not running"
    fi
}

create_database() {
    local port="$1" exists
    exists="$("$PSQL" -h 127.0.0.1 -p "$port" -U "$PG_USER" -d postgres -tAq \
        -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")"
    if [[ "$exists" != "1" ]]; then
        say "creating the database $PG_DATABASE"
        "$PSQL" -h 127.0.0.1 -p "$port" -U "$PG_USER" -d postgres -q \
            -c "CREATE DATABASE \"$PG_DATABASE\" OWNER \"$PG_USER\"" >&2
    fi
}

# --------------------------------------------------------------------------- main

main() {
    local mode="print" port url
    case "${1:-}" in
        "") ;;
        --url) mode="url" ;;
        --stop) mode="stop" ;;
        -h | --help)
            sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
            return 0
            ;;
        *) die "unknown option ${1}; see --help" ;;
    esac

    if ! BINDIR="$(find_bindir)"; then
        install_postgres
        BINDIR="$(find_bindir)" || die "PostgreSQL was installed but initdb and pg_ctl are not found"
    fi
    PSQL="$BINDIR/psql"
    if [[ ! -x "$PSQL" ]]; then
        PSQL="$(command -v psql)" || die "psql is not found (apt-get install -y postgresql-client)"
    fi
    choose_user

    if [[ "$mode" == "stop" ]]; then
        stop_cluster
        return 0
    fi

    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        init_cluster
    fi
    if running; then
        port="$(running_port)"
        say "PostgreSQL is already running on 127.0.0.1:$port"
    else
        port="$(cat "$PG_PORT_FILE" 2>/dev/null || true)"
        if [[ -z "$port" ]] || port_in_use "$port"; then
            port="$(free_port)"
        fi
        start_cluster "$port"
    fi
    create_database "$port"

    url="postgresql+psycopg://$PG_USER@127.0.0.1:$port/$PG_DATABASE"
    echo "$url" >"$PG_DIR/url"
    if [[ -n "${GITHUB_ENV:-}" ]]; then
        echo "PLAYBOOK_TEST_POSTGRES_URL=$url" >>"$GITHUB_ENV"
    fi
    if [[ "$mode" == "url" ]]; then
        echo "$url"
    else
        echo "PLAYBOOK_TEST_POSTGRES_URL=$url"
    fi
}

main "$@"

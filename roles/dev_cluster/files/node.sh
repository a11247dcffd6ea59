#!/usr/bin/env bash
# Host-side preparation and clean-up of the dev node (containerd + kubelet).
#
# Usage:
#   node.sh preflight NODEDIR CGROUP_ROOT   prints what this host lacks to run the node (nothing: ok)
#   node.sh prepare   NODEDIR CGROUP_ROOT   records the kernel settings kubelet changes (once) and
#                                           creates the node's cgroup parent in every hierarchy;
#                                           prints "changed" or "unchanged"
#   node.sh cleanup   NODEDIR CGROUP_ROOT   after kubelet and containerd stopped: kills what is left
#                                           in the node's cgroups (containers, containerd shims),
#                                           unmounts everything below NODEDIR, removes the cgroups
#                                           and restores the recorded kernel settings;
#                                           prints "changed" or "unchanged"
#
# CGROUP_ROOT is the kubelet's cgroupRoot (for example /dynamic_secrets-1a2b3c4d); the node's
# pods live below it, so nothing else on the host is touched.
set -euo pipefail

action="${1:?action}"
nodedir="${2:?node directory}"
cgroup_root="${3:?cgroup root}"
sysctl_record="$nodedir/sysctl.orig"
# kubelet sets these at start (protectKernelDefaults=false).
sysctls=(vm/overcommit_memory kernel/panic kernel/panic_on_oops)

cgroup_dirs() {
    local hierarchy
    for hierarchy in /sys/fs/cgroup/*/; do
        [ -e "$hierarchy/cgroup.procs" ] || continue
        printf '%s\n' "${hierarchy%/}$cgroup_root"
    done
}

preflight() {
    [ "$(id -u)" -eq 0 ] || echo "the node needs root (containerd and kubelet manage mounts and cgroups); run as root or set dev_cluster_node=false"
    grep -qw overlay /proc/filesystems || echo "the kernel has no overlay filesystem (containerd's overlayfs snapshotter needs it)"
    [ -e /sys/fs/cgroup/memory/cgroup.procs ] || [ -e /sys/fs/cgroup/cgroup.controllers ] ||
        echo "no cgroup hierarchy is mounted under /sys/fs/cgroup"
    [ -w "$(dirname "$nodedir")" ] || [ ! -e "$(dirname "$nodedir")" ] || echo "$(dirname "$nodedir") is not writable"
}

prepare() {
    local changed=unchanged dir key
    mkdir -p "$nodedir"
    if [ ! -s "$sysctl_record" ]; then
        for key in "${sysctls[@]}"; do printf '%s=%s\n' "$key" "$(cat "/proc/sys/$key")"; done > "$sysctl_record.tmp"
        mv "$sysctl_record.tmp" "$sysctl_record"
        changed=changed
    fi
    while read -r dir; do
        [ -d "$dir" ] || { mkdir -p "$dir"; changed=changed; }
    done < <(cgroup_dirs)
    echo "$changed"
}

cleanup() {
    local changed=unchanged dir pid mnt key value
    # Containers and shims left behind (a kill -9'd kubelet, a crashed containerd).
    for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $nodedir/" || true); do
        kill -KILL "$pid" 2>/dev/null && changed=changed
    done
    while read -r dir; do
        [ -d "$dir" ] || continue
        while read -r pid; do
            kill -KILL "$pid" 2>/dev/null && changed=changed
        done < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
    done < <(cgroup_dirs)
    # Mounts below the node directory (overlay rootfs, shm, kubelet volumes), deepest first.
    while read -r mnt; do
        umount -l "$mnt" 2>/dev/null && changed=changed
    done < <(awk -v d="$nodedir/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
    # Cgroups, children before parents; a cgroup can only go once it is empty.
    while read -r dir; do
        [ -d "$dir" ] || continue
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [ -d "$dir" ] || break
            sleep 0.2
        done
        [ -d "$dir" ] && echo "could not remove cgroup $dir" >&2
        changed=changed
    done < <(cgroup_dirs)
    if [ -s "$sysctl_record" ]; then
        while IFS='=' read -r key value; do
            [ "$(cat "/proc/sys/$key")" = "$value" ] || { echo "$value" > "/proc/sys/$key"; changed=changed; }
        done < "$sysctl_record"
        rm -f "$sysctl_record"
        changed=changed
    fi
    echo "$changed"
}

case "$action" in
    preflight) preflight ;;
    prepare) prepare ;;
    cleanup) cleanup ;;
    *) echo "unknown action: $action" >&2; exit 2 ;;
esac

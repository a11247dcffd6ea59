#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: daemon
short_description: Keep a long-running local process started, restarted or stopped
version_added: 0.3.0
description:
  - Runs one program as a detached background process (its own session, output appended to a log file)
    that outlives the playbook, the way the collection's roles run OpenBao/Vault, etcd, the Kubernetes
    components, containerd, the kubelet and the injector on the embedded test bed.
  - The process is known by C(<run_dir>/<name>.pid) and C(<run_dir>/<name>.state). The state file records the
    process start time, so a pid the kernel gave to another process is never taken for (or killed as) it.
  - O(state=started) starts the process when it does not run, and restarts it when its command line, its
    environment, or the content of a file in O(watch) changed since it was started; otherwise nothing
    happens (C(changed=false)).
  - Meant for the machine the play runs on (the roles run on the control node). It is not a service manager
    for production hosts; use M(ansible.builtin.systemd_service) there.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports what it would do; with O(state=stopped) it is the way to ask whether the process runs.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  name:
    description: Name of the process; the pid, state and default log files are named after it.
    type: str
    required: true
  run_dir:
    description:
      - Directory of the pid and state files. It must exist to start a process; where it does not, nothing runs.
    type: path
    required: true
  argv:
    description: The command line, the program first. Required with O(state=started) and O(state=restarted).
    type: list
    elements: str
  env:
    description:
      - Environment variables of the process. Values are treated as secrets (never logged); the state file only
        keeps a hash of them.
      - The process gets these and C(PATH) only, never the environment of the playbook (so a E(VAULT_TOKEN) or
        E(VAULT_ADDR) of the user does not leak into a server).
    type: dict
    default: {}
  watch:
    description: Files whose content belongs to the command line (configuration files); a change restarts the process.
    type: list
    elements: path
    default: []
  service_account_dir:
    description:
      - Run the process in a private mount namespace in which C(/var/run/secrets/kubernetes.io/serviceaccount) is
        this directory (C(token), C(ca.crt), C(namespace)), as inside a pod. For programs that only know
        in-cluster configuration, such as vault-k8s. The host's own C(/var/run) is not touched.
      - Needs C(unshare) (util-linux); without root it maps the user to root in a new user namespace.
    type: path
  log:
    description: Log file the process's output is appended to. Defaults to C(<run_dir>/<name>.log).
    type: path
  stop_timeout:
    description: Seconds to wait after SIGTERM before the process is killed with SIGKILL.
    type: int
    default: 30
  startup_check:
    description: Seconds the new process must stay alive for the start to count; else the task fails with the end of the log.
    type: float
    default: 1.0
  state:
    description: What the process should be.
    type: str
    choices: [started, restarted, stopped]
    default: started
notes:
  - Linux only (reads C(/proc)).
"""

EXAMPLES = r"""
- name: Run etcd on loopback
  dynamic_secrets.vault.daemon:
    name: etcd
    run_dir: "{{ state_dir }}/run"
    log: "{{ state_dir }}/logs/etcd.log"
    argv:
      - /opt/bin/etcd
      - --data-dir={{ state_dir }}/etcd
      - --listen-client-urls=http://127.0.0.1:2379
      - --advertise-client-urls=http://127.0.0.1:2379

- name: Run a dev server whose token stays out of the process list; restart it when its config changes
  dynamic_secrets.vault.daemon:
    name: server
    run_dir: "{{ state_dir }}"
    argv: ["{{ bao }}", server, -dev, "-config={{ state_dir }}/server.hcl"]
    env:
      BAO_DEV_ROOT_TOKEN_ID: "{{ root_token }}"
    watch: ["{{ state_dir }}/server.hcl"]

- name: Does it run? (check mode never stops it)
  dynamic_secrets.vault.daemon:
    name: server
    run_dir: "{{ state_dir }}"
    state: stopped
  check_mode: true
  register: server_status

- name: Stop it, killing it after 10 seconds
  dynamic_secrets.vault.daemon:
    name: server
    run_dir: "{{ state_dir }}"
    state: stopped
    stop_timeout: 10
"""

RETURN = r"""
operation:
  description: What was done (or, in check mode, would be done).
  returned: always
  type: str
  sample: started
  choices: [started, restarted, stopped, none]
running:
  description: Whether the process ran before the task.
  returned: always
  type: bool
pid:
  description: Pid of the process after the task (before it in check mode); absent when none runs.
  returned: when a process runs
  type: int
  sample: 4242
log:
  description: The log file.
  returned: always
  type: str
"""

import hashlib
import json
import os
import signal
import time

from ansible.module_utils.basic import AnsibleModule

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Inside the private mount namespace: a tmpfs over /var/run (wherever it points) holding the
# ServiceAccount directory where client-go's in-cluster configuration looks, then the program.
IN_POD = (
    'run="$(readlink -f /var/run)" && mount -t tmpfs -o mode=0755 tmpfs "$run" '
    '&& mkdir -p "$run/secrets/kubernetes.io" '
    '&& ln -s "$1" "$run/secrets/kubernetes.io/serviceaccount" && shift && exec "$@"'
)


def start_time(pid, zombies=False):
    """The kernel's start time of ``pid`` (clock ticks since boot); None when it is gone, or
    (unless ``zombies``) has exited and waits to be reaped."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except (IOError, OSError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X") and not zombies:
        return None
    return int(fields[19])


class Process(object):
    """The recorded process of one name in one run directory."""

    def __init__(self, run_dir, name):
        self.pid_file = os.path.join(run_dir, name + ".pid")
        self.state_file = os.path.join(run_dir, name + ".state")

    def recorded(self):
        try:
            with open(self.state_file) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return None

    def live(self):
        """The state record of the running process, or None when it does not run."""
        record = self.recorded()
        if not record or start_time(record["pid"]) != record["start_time"]:
            return None
        return record

    def record(self, pid, fingerprint):
        old_umask = os.umask(0o077)
        try:
            with open(self.state_file, "w") as handle:
                json.dump(dict(pid=pid, start_time=start_time(pid), fingerprint=fingerprint), handle)
            with open(self.pid_file, "w") as handle:
                handle.write("%d\n" % pid)
        finally:
            os.umask(old_umask)

    def forget(self):
        for path in (self.pid_file, self.state_file):
            if os.path.exists(path):
                os.remove(path)

    def stop(self, timeout):
        record = self.live()
        if record is not None:
            pid, started = record["pid"], record["start_time"]
            os.kill(pid, signal.SIGTERM)
            if not _gone(pid, started, timeout):
                os.kill(pid, signal.SIGKILL)
                _gone(pid, started, None)
            # Until its parent (init) reaps it, an exited process still shows in /proc: wait a little.
            _gone(pid, started, 5, zombies=True)
        self.forget()


def _gone(pid, started, timeout, zombies=False):
    """Wait until ``pid`` (started at ``started``) is gone; False when ``timeout`` passed first."""
    deadline = None if timeout is None else time.time() + timeout
    while start_time(pid, zombies) == started:
        if deadline is not None and time.time() >= deadline:
            return False
        time.sleep(0.05)
    return True


def fingerprint(params):
    """What a running process is compared by: command line, environment, watched files' content."""
    digest = hashlib.sha256()
    digest.update(json.dumps([params["argv"], sorted(params["env"].items()), params["service_account_dir"]])
                  .encode("utf-8"))
    for path in params["watch"]:
        digest.update(path.encode("utf-8") + b"\0")
        try:
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
        except (IOError, OSError):
            digest.update(b"missing")
    return digest.hexdigest()


def log_tail(path, lines=20):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace").splitlines()[-lines:]
    except (IOError, OSError):
        return []


def spawn(module, process, params, log):
    argv = list(params["argv"])
    if not os.access(argv[0], os.X_OK):
        module.fail_json(msg="%s: argv[0] %s is not an executable file" % (params["name"], argv[0]))
    if params["service_account_dir"]:
        userns = [] if os.geteuid() == 0 else ["--map-root-user"]
        argv = (["unshare"] + userns + ["--mount", "--propagation", "private", "/bin/sh", "-c", IN_POD, "sh",
                                        params["service_account_dir"]] + argv)
    env = dict(PATH=PATH)
    env.update((key, str(value)) for key, value in params["env"].items())
    # A new session (setsid): the process outlives this task and ansible-playbook. Its output goes
    # to the log, which may hold what the program prints about its secrets: owner-only.
    try:
        pid = os.posix_spawnp(argv[0], argv, env, setsid=True, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ])
    except OSError as exc:
        module.fail_json(msg="%s: cannot start %s: %s" % (params["name"], argv[0], exc))
    deadline = time.time() + params["startup_check"]
    code = None
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        time.sleep(0.05)
    if code is not None:
        process.forget()
        module.fail_json(msg="%s exited at once (code %s); last lines of %s:\n%s"
                         % (params["name"], code, log, "\n".join(log_tail(log))))
    return pid


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            run_dir=dict(type="path", required=True),
            argv=dict(type="list", elements="str"),
            env=dict(type="dict", default={}, no_log=True),
            watch=dict(type="list", elements="path", default=[]),
            service_account_dir=dict(type="path"),
            log=dict(type="path"),
            stop_timeout=dict(type="int", default=30),
            startup_check=dict(type="float", default=1.0),
            state=dict(type="str", default="started", choices=["started", "restarted", "stopped"]),
        ),
        required_if=[("state", "started", ("argv",)), ("state", "restarted", ("argv",))],
        supports_check_mode=True,
    )
    params = module.params
    if "/" in params["name"] or params["name"] in ("", ".", ".."):
        module.fail_json(msg="name must be a file name without '/': %r" % params["name"])
    log = params["log"] or os.path.join(params["run_dir"], params["name"] + ".log")
    process = Process(params["run_dir"], params["name"])
    record = process.live()
    result = dict(changed=False, operation="none", running=record is not None, log=log)
    if record is not None:
        result["pid"] = record["pid"]

    if params["state"] == "stopped":
        if record is not None:
            result.update(changed=True, operation="stopped")
            result.pop("pid")
        if not module.check_mode:
            process.stop(params["stop_timeout"])
        module.exit_json(**result)

    wanted = fingerprint(params)
    if record is None:
        action = "started"
    elif params["state"] == "restarted" or record["fingerprint"] != wanted:
        action = "restarted"
    else:
        module.exit_json(**result)
    result.update(changed=True, operation=action)
    if not module.check_mode:
        if not os.path.isdir(params["run_dir"]):
            module.fail_json(msg="%s: run_dir %s is not a directory" % (params["name"], params["run_dir"]))
        process.stop(params["stop_timeout"])
        pid = spawn(module, process, params, log)
        process.record(pid, wanted)
        result["pid"] = pid
    module.exit_json(**result)


if __name__ == "__main__":
    main()

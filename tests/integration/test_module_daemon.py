"""dynamic_secrets.vault.daemon: the one way the roles run long-lived processes, on real processes."""

from __future__ import annotations

import os
import signal
import stat
import sys
import time
from pathlib import Path

import pytest

from .ansible_runner import run_playbook

TASK = """
- name: daemon
  dynamic_secrets.vault.daemon:
    name: sleeper
    run_dir: "{{ run_dir }}"
    argv: "{{ argv | default(omit) }}"
    env: "{{ daemon_env | default({}) }}"
    watch: "{{ watch | default([]) }}"
    state: "{{ daemon_state | default('started') }}"
    stop_timeout: "{{ stop_timeout | default(30) }}"
    startup_check: 0.3
"""

# A process that records its environment, then sleeps; with ``stubborn`` it ignores SIGTERM.
PROGRAM = """
import os, signal, sys, time
if "stubborn" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("env:", sorted(os.environ), flush=True)
if "fail" in sys.argv:
    print("cannot start: port taken", flush=True)
    sys.exit(3)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture
def run_dir(tmp_path):
    directory = tmp_path / "run"
    directory.mkdir()
    program = tmp_path / "program.py"
    program.write_text(PROGRAM)
    yield directory
    pid_file = directory / "sleeper.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except OSError:
            pass


def daemon(run_dir, **extra):
    program = str(run_dir.parent / "program.py")
    variables = {"run_dir": str(run_dir), "argv": [sys.executable, program] + extra.pop("args", [])}
    variables.update(extra)
    kwargs = {key: variables.pop(key) for key in ("check", "expect_failure", "verbosity", "diff")
              if key in variables}
    return run_playbook(TASK, extra_vars=variables, **kwargs)


def test_started_then_unchanged_then_restarted_when_the_command_line_changes(run_dir):
    """A start is a change, a re-run is not and keeps the pid, a new argument restarts it."""
    first = daemon(run_dir)["daemon"]
    assert first["changed"] and first["operation"] == "started"
    pid = int((run_dir / "sleeper.pid").read_text())
    assert pid == first["pid"] and alive(pid)
    assert stat.S_IMODE((run_dir / "sleeper.log").stat().st_mode) == 0o600

    again = daemon(run_dir)["daemon"]
    assert not again["changed"] and again["operation"] == "none" and again["pid"] == pid

    check = daemon(run_dir, args=["other"], check=True)["daemon"]
    assert check["changed"] and check["operation"] == "restarted"
    assert int((run_dir / "sleeper.pid").read_text()) == pid and alive(pid)

    moved = daemon(run_dir, args=["other"])["daemon"]
    assert moved["operation"] == "restarted" and moved["pid"] != pid
    assert not alive(pid) and alive(moved["pid"])

    restarted = daemon(run_dir, args=["other"], daemon_state="restarted")["daemon"]
    assert restarted["changed"] and restarted["pid"] != moved["pid"]


def test_a_changed_watched_file_or_environment_restarts_it(run_dir):
    config = run_dir / "server.hcl"
    config.write_text("a = 1\n")
    pid = daemon(run_dir, watch=[str(config)])["daemon"]["pid"]
    assert not daemon(run_dir, watch=[str(config)])["daemon"]["changed"]
    config.write_text("a = 2\n")
    second = daemon(run_dir, watch=[str(config)])["daemon"]
    assert second["operation"] == "restarted" and not alive(pid)
    third = daemon(run_dir, watch=[str(config)], daemon_env={"TOKEN": "s3cr3t-env-value"}, verbosity=3)
    assert "s3cr3t-env-value" not in third.output
    assert "s3cr3t-env-value" not in (run_dir / "sleeper.state").read_text()


def test_the_process_gets_only_path_and_its_own_environment(run_dir):
    run_playbook(TASK, extra_vars={"run_dir": str(run_dir),
                                   "argv": [sys.executable, str(run_dir.parent / "program.py")],
                                   "daemon_env": {"ONLY": "this"}},
                 env={"VAULT_TOKEN": "leak-me-not", "VAULT_ADDR": "http://127.0.0.1:1"})
    deadline = time.monotonic() + 5
    log = run_dir / "sleeper.log"
    while "env:" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    line = [entry for entry in log.read_text().splitlines() if entry.startswith("env:")][0]
    names = set(eval(line[4:]))  # noqa: S307 - the list the program printed itself
    assert names - {"LC_CTYPE"} == {"ONLY", "PATH"}


def test_a_process_that_exits_at_once_fails_the_task_with_its_log(run_dir):
    result = daemon(run_dir, args=["fail"], expect_failure=True)
    message = result["daemon"]["msg"]
    assert "exited at once (code 3)" in message and "cannot start: port taken" in message
    assert not (run_dir / "sleeper.pid").exists()


def test_stopped_kills_after_the_timeout_and_a_reused_pid_is_never_taken_for_it(run_dir):
    pid = daemon(run_dir, args=["stubborn"])["daemon"]["pid"]
    status = daemon(run_dir, daemon_state="stopped", check=True)["daemon"]
    assert status["changed"] and status["running"] and alive(pid)

    started = time.monotonic()
    stop = daemon(run_dir, daemon_state="stopped", stop_timeout=2)["daemon"]
    assert stop["changed"] and stop["operation"] == "stopped"
    assert time.monotonic() - started >= 2 and not alive(pid)
    assert not (run_dir / "sleeper.pid").exists()
    assert not daemon(run_dir, daemon_state="stopped")["daemon"]["changed"]

    # A state file naming a live process that is not ours (this test's own pid, other start time).
    (run_dir / "sleeper.state").write_text('{"pid": %d, "start_time": 1, "fingerprint": "x"}' % os.getpid())
    (run_dir / "sleeper.pid").write_text("%d\n" % os.getpid())
    assert not daemon(run_dir, daemon_state="stopped")["daemon"]["changed"]
    assert alive(os.getpid())


def test_a_missing_run_dir_means_nothing_runs(tmp_path):
    missing = tmp_path / "nowhere"
    status = run_playbook(TASK, extra_vars={"run_dir": str(missing), "daemon_state": "stopped"})["daemon"]
    assert not status["changed"] and not status["running"]
    failed = run_playbook(TASK, extra_vars={"run_dir": str(missing), "argv": ["/bin/sleep", "60"]},
                          expect_failure=True)["daemon"]
    assert "run_dir" in failed["msg"] and "not a directory" in failed["msg"]

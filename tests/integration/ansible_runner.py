"""Run a real ``ansible-playbook`` from the project venv and parse what it did.

Tests hand over YAML text (so they can use ``!unsafe`` and ``{% raw %}`` for
Vault's own ``{{name}}``/``{{password}}`` templates exactly like the README),
either a full playbook or just a list of tasks, which is wrapped in a play on
localhost without fact gathering.
"""

from __future__ import annotations

import dataclasses
import string
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def _ansible_playbook() -> Path:
    for candidate in (REPO_ROOT / ".venv" / "bin" / "ansible-playbook",
                      Path(sys.executable).parent / "ansible-playbook"):
        if candidate.exists():
            return candidate
    raise RuntimeError("ansible-playbook not found in the project venv")


class _AnyTagLoader(yaml.SafeLoader):
    """Loads YAML with Ansible tags (``!unsafe``, ``!vault``) as plain values."""


_AnyTagLoader.add_multi_constructor(
    "!", lambda loader, suffix, node: loader.construct_scalar(node)
    if isinstance(node, yaml.ScalarNode) else None)


def _as_playbook(tasks_or_playbook: str | list | dict) -> str:
    if not isinstance(tasks_or_playbook, str):
        data = tasks_or_playbook if isinstance(tasks_or_playbook, list) else [tasks_or_playbook]
        if data and isinstance(data[0], dict) and ("hosts" in data[0] or "import_playbook" in data[0]):
            return yaml.safe_dump(data, sort_keys=False)
        return yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": data}],
                              sort_keys=False)
    text = textwrap.dedent(tasks_or_playbook).strip("\n")
    parsed = yaml.load(text, Loader=_AnyTagLoader)  # noqa: S506 - SafeLoader subclass
    if isinstance(parsed, dict):
        parsed = [parsed]
        text = "- " + textwrap.indent(text, "  ").lstrip()
    first = parsed[0] if parsed else {}
    if isinstance(first, dict) and ("hosts" in first or "import_playbook" in first):
        return text + "\n"
    return ("- hosts: localhost\n"
            "  gather_facts: false\n"
            "  tasks:\n" + textwrap.indent(text, "    ") + "\n")


@dataclasses.dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    playbook: str
    tasks: list[tuple[str, dict]]
    stats: dict[str, int]

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr

    @property
    def changed(self) -> int:
        return self.stats.get("changed", 0)

    @property
    def failed(self) -> int:
        return self.stats.get("failures", 0)

    def task(self, name: str) -> dict:
        """The localhost result of the task called ``name`` (must be unique).

        Role tasks are reported as ``<role> : <name>``; the bare name finds them too.
        """
        found = [r for n, r in self.tasks if n == name]
        if not found:
            found = [r for n, r in self.tasks if n.endswith(" : " + name)]
        assert found, f"no task named {name!r}; tasks: {[n for n, _result in self.tasks]}\n{self.describe()}"
        assert len(found) == 1, f"{len(found)} tasks named {name!r}"
        return found[0]

    def __getitem__(self, name: str) -> dict:
        return self.task(name)

    def describe(self) -> str:
        return (f"rc={self.rc}\n--- playbook ---\n{self.playbook}\n--- stdout ---\n"
                f"{self.stdout[-6000:]}\n--- stderr ---\n{self.stderr[-3000:]}")


def _parse_json_output(stdout: str) -> dict | None:
    try:
        return json.loads(stdout)
    except ValueError:
        pass
    start = stdout.find("\n{")
    if stdout.startswith("{"):
        start = 0
    if start < 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(stdout[start:].lstrip())[0]
    except ValueError:
        return None


def run_playbook(tasks_or_playbook: str | list | dict, *, env: dict[str, str | None] | None = None,
                 extra_vars: dict[str, Any] | None = None, check: bool = False, diff: bool = False,
                 verbosity: int = 0, expect_failure: bool = False, callback: str | None = None,
                 values: dict[str, Any] | None = None, timeout: int = 300) -> Result:
    """Run ``tasks_or_playbook`` with ansible-playbook from the repo root.

    The child environment drops every ``VAULT_*``/``BAO_*`` variable of the
    test process and uses a private ``HOME`` (no stray ``~/.vault-token``);
    ``env`` adds variables (``None`` removes one). Output is parsed with the
    ``ansible.posix.json`` callback, unless ``callback`` names another one;
    with ``verbosity`` > 0 the default text callback is used. ``values``
    fills ``$name`` placeholders of YAML text (string.Template), leaving
    Jinja and Vault ``{{...}}`` templates alone. Raises AssertionError when
    rc does not match ``expect_failure``.
    """
    if values and isinstance(tasks_or_playbook, str):
        tasks_or_playbook = string.Template(tasks_or_playbook).substitute(values)
    if callback is None:
        callback = "default" if verbosity else "ansible.posix.json"
    playbook_text = _as_playbook(tasks_or_playbook)
    with tempfile.TemporaryDirectory(prefix="it-ansible-") as tmp:
        tmpdir = Path(tmp)
        home = tmpdir / "home"
        home.mkdir()
        pb = tmpdir / "playbook.yml"
        pb.write_text(playbook_text)
        cmd = [str(_ansible_playbook()), str(pb)]
        if extra_vars:
            ev = tmpdir / "extra_vars.json"
            ev.write_text(json.dumps(extra_vars))
            cmd += ["-e", f"@{ev}"]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)

        child_env = {k: v for k, v in os.environ.items()
                     if not k.startswith(("VAULT_", "BAO_", "ANSIBLE_"))}
        child_env.update({
            "HOME": str(home),
            "ANSIBLE_STDOUT_CALLBACK": callback,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": str(tmpdir / "ansible-local"),
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        for key, value in (env or {}).items():
            if value is None:
                child_env.pop(key, None)
            else:
                child_env[key] = str(value)

        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=child_env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    tasks: list[tuple[str, dict]] = []
    stats: dict[str, int] = {}
    if callback == "ansible.posix.json":
        data = _parse_json_output(proc.stdout) or {}
        for play in data.get("plays", []):
            for task in play.get("tasks", []):
                result = task.get("hosts", {}).get("localhost")
                if result is not None:
                    tasks.append((task["task"]["name"], result))
        stats = data.get("stats", {}).get("localhost", {})
    result = Result(rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr,
                    playbook=playbook_text, tasks=tasks, stats=stats)
    if expect_failure:
        assert result.rc != 0, f"expected the playbook to fail\n{result.describe()}"
    else:
        assert result.rc == 0, f"playbook failed\n{result.describe()}"
    return result

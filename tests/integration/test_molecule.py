"""The molecule scenarios, run as part of the suite (delegated driver, localhost).

default:  converge = site.yml, idempotence, verify = the pod agent's rendered
          credentials log in and can SELECT/INSERT, destroy = teardown.yml
rotation: default_ttl 30s / max_ttl 90s; the running agent renders new
          credentials before the old ones expire, expired logins leave pg_roles
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@pytest.mark.parametrize("scenario", ["default", "rotation"])
def test_molecule_scenario(scenario, tmp_path):
    """`molecule test -s <scenario>` passes end to end against real servers."""
    env = dict(os.environ)
    env["PATH"] = "%s:%s" % (VENV_BIN, env.get("PATH", ""))
    env["ANSIBLE_CONFIG"] = str(REPO_ROOT / "ansible.cfg")
    env.pop("DYNAMIC_SECRETS_HOME", None)
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["NO_COLOR"] = "1"
    log = tmp_path / ("molecule-%s.log" % scenario)
    with log.open("wb") as out:
        proc = subprocess.run(
            [str(VENV_BIN / "molecule"), "test", "-s", scenario],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=1800, check=False,
        )
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, "molecule test -s %s failed (rc=%s); last lines:\n%s" % (
        scenario, proc.returncode, "\n".join(text.splitlines()[-60:]))

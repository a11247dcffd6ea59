"""`ansible-playbook site.yml` as a user runs it: the whole runbook on the embedded default.

One fresh converge in a private DYNAMIC_SECRETS_HOME on free loopback ports, run with
`-vvv --diff` so every secret that passes through a task would show if any task leaked it;
then a check-mode run of the converged system; then teardown.yml.
"""

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.fixtures_cluster import free_loopback_ports
from tests.integration.fixtures_servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
RECAP = re.compile(r"^localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def _ports():
    ports = free_loopback_ports(8)
    # Vault also binds its port + 1 (cluster port).
    return dict(vault_server_port=free_port(pairs=True), postgres_server_port=ports[2],
                dev_cluster_etcd_client_port=ports[3], dev_cluster_etcd_peer_port=ports[4],
                dev_cluster_apiserver_port=ports[5], dev_cluster_controller_manager_port=ports[6],
                injector_external_port=ports[7])


def _playbook(home, extra, *args, log):
    env = dict(os.environ)
    env.update(DYNAMIC_SECRETS_HOME=str(home), ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", PATH="%s:%s" % (VENV_BIN, env.get("PATH", "")))
    for name in ("VAULT_ADDR", "VAULT_TOKEN", "BAO_ADDR", "BAO_TOKEN"):
        env.pop(name, None)
    cmd = [str(VENV_BIN / "ansible-playbook")] + list(args)
    for key, value in extra.items():
        cmd += ["-e", "%s=%s" % (key, value)]
    with open(log, "wb") as out:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              timeout=1800, check=False)
    text = Path(log).read_text(errors="replace")
    recap = RECAP.findall(text)
    return proc.returncode, text, recap[-1] if recap else None


@pytest.fixture(scope="module")
def converged(tmp_path_factory):
    """site.yml run once with -vvv --diff on a fresh home; torn down afterwards."""
    work = tmp_path_factory.mktemp("site")
    home = work / "home"
    extra = _ports()
    log = work / "site-vvv.log"
    rc, text, recap = _playbook(home, extra, "site.yml", "-vvv", "--diff", log=log)
    yield dict(home=home, extra=extra, rc=rc, text=text, recap=recap, work=work)
    _playbook(home, extra, "playbooks/teardown.yml", log=work / "teardown.log")


def test_site_converges_and_proves_the_webapp_login(converged):
    """site.yml ends with the proof that the pod's rendered credentials log in."""
    assert converged["rc"] == 0, "\n".join(converged["text"].splitlines()[-60:])
    assert re.search(r"login works: v-\S+ @ 127\.0\.0\.1:\d+/appdb .*INSERT ok", converged["text"])


def _secrets(home):
    found = {
        "vault root token": (home / "vault" / "root-token").read_text().strip(),
        "postgres superuser password": (home / "postgres" / "superuser-password").read_text().strip(),
        "vault_admin initial password": (home / "postgres" / "vault_admin-password").read_text().strip(),
    }
    creds = (home / "webapp" / "pod-agent" / "vault-secrets" / "db-creds").read_text()
    found["webapp DB password"] = re.search(r'DB_PASSWORD="([^"]+)"', creds).group(1)
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(home / "kubeconfig"))
    for secret in client.CoreV1Api(api).list_namespaced_secret("vault-auth").items:
        if secret.type == "kubernetes.io/service-account-token" and (secret.data or {}).get("token"):
            found["reviewer JWT " + secret.metadata.name] = base64.b64decode(secret.data["token"]).decode()
    assert any(name.startswith("reviewer JWT") for name in found)
    return found


def test_vvv_diff_output_holds_no_secret(converged):
    """The full -vvv --diff output of a first site.yml run never shows a password, token or JWT."""
    assert converged["rc"] == 0
    leaked = [name for name, value in _secrets(converged["home"]).items()
              if len(value) >= 8 and value in converged["text"]]
    assert leaked == []


def test_rerun_and_check_mode_report_no_change(converged):
    """On the converged system a second run and a --check run both report changed=0."""
    assert converged["rc"] == 0
    for args, name in ((["site.yml"], "rerun"), (["site.yml", "--check"], "check")):
        rc, text, recap = _playbook(converged["home"], converged["extra"], *args,
                                    log=converged["work"] / ("%s.log" % name))
        assert rc == 0, "\n".join(text.splitlines()[-40:])
        assert recap is not None and recap[1] == "0" and recap[3] == "0", (name, recap)

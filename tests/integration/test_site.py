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

from tests.integration.fixtures_cluster import PORT_VARS, free_loopback_ports
from tests.integration.fixtures_servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
RECAP = re.compile(r"^localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def _ports():
    ports = free_loopback_ports(len(PORT_VARS) + 3)
    # Vault also binds its port + 1 (cluster port).
    return dict(vault_server_port=free_port(pairs=True), postgres_server_port=ports[0],
                injector_external_port=ports[1], webapp_agent_cache_port=ports[2],
                **dict(zip(PORT_VARS, ports[3:])))


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
    """site.yml ends with the proof from the running pod: its own log shows a working login
    and PostgreSQL shows that login's session."""
    assert converged["rc"] == 0, "\n".join(converged["text"].splitlines()[-60:])
    assert re.search(r"pod default/webapp-\S+ Running on node 127\.0\.0\.1 \(vault-agent-init Completed, "
                     r"vault-agent ready\); its log at \S+: login v-kubernet-\S+ works, SELECT saw \d+ rows "
                     r"of public\.items, login valid until \S+, PostgreSQL shows [1-9]\d* session",
                     converged["text"].replace("\n", " ")), "\n".join(converged["text"].splitlines()[-30:])


def _secrets(home):
    found = {
        "vault root token": (home / "vault" / "root-token").read_text().strip(),
        "postgres superuser password": (home / "postgres" / "superuser-password").read_text().strip(),
        "vault_admin initial password": (home / "postgres" / "vault_admin-password").read_text().strip(),
    }
    from kubernetes import client, config
    from kubernetes.stream import stream

    api = config.new_client_from_config(config_file=str(home / "kubeconfig"))
    core = client.CoreV1Api(api)
    pod = next(p for p in core.list_namespaced_pod("default", label_selector="app=webapp").items
               if p.status.phase == "Running").metadata.name
    creds = stream(core.connect_get_namespaced_pod_exec, pod, "default", container="webapp",
                   command=["cat", "/vault/secrets/db-creds"], stderr=True, stdin=False, stdout=True, tty=False)
    found["webapp DB password"] = re.search(r'DB_PASSWORD="([^"]+)"', creds).group(1)
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


def _vault(home):
    import hvac

    env = dict(re.findall(r"^export (VAULT_ADDR|VAULT_TOKEN)='?([^'\n]+)'?$", (home / "vault.env").read_text(), re.M))
    return hvac.Client(url=env["VAULT_ADDR"], token=env["VAULT_TOKEN"])


def test_check_diff_on_a_drifted_system_reads_like_a_plan(converged):
    """Out of band: a DB role's TTL changed, the webapp policy deleted, the auth role's TTL changed.
    `site.yml --check --diff` names exactly those objects with their action, writes nothing, shows
    no secret; a normal run then repairs them."""
    assert converged["rc"] == 0
    vault = _vault(converged["home"])
    role = vault.read("database/roles/webapp-readonly")["data"]
    vault.write("database/roles/webapp-readonly", db_name=role["db_name"],
                creation_statements=role["creation_statements"], revocation_statements=role["revocation_statements"],
                default_ttl=600, max_ttl=role["max_ttl"])
    vault.sys.delete_policy("webapp-policy")
    auth_role = vault.read("auth/kubernetes/role/webapp")["data"]
    vault.write("auth/kubernetes/role/webapp", bound_service_account_names=auth_role["bound_service_account_names"],
                bound_service_account_namespaces=auth_role["bound_service_account_namespaces"],
                token_policies=auth_role["token_policies"], token_ttl=60)

    rc, text, recap = _playbook(converged["home"], converged["extra"], "site.yml", "--check", "--diff",
                                log=converged["work"] / "drift-check.log")
    assert rc == 0, "\n".join(text.splitlines()[-40:])
    headers = sorted(set(re.findall(r"^--- before: (create|update|delete) (\S+)$", text, re.M)))
    assert headers == [("create", "sys/policies/acl/webapp-policy"),
                       ("update", "auth/kubernetes/role/webapp"),
                       ("update", "database/roles/webapp-readonly")], text
    assert re.search(r'^-\s+"default_ttl": 600,?$', text, re.M), text
    assert re.search(r'^\+\s+"default_ttl": 3600,?$', text, re.M), text
    # Nothing written.
    assert vault.read("database/roles/webapp-readonly")["data"]["default_ttl"] == 600
    assert "webapp-policy" not in vault.sys.list_acl_policies()["data"]["keys"]
    leaked = [name for name, value in _secrets(converged["home"]).items() if len(value) >= 8 and value in text]
    assert leaked == []

    rc, text, recap = _playbook(converged["home"], converged["extra"], "site.yml",
                                log=converged["work"] / "drift-repair.log")
    assert rc == 0, "\n".join(text.splitlines()[-40:])
    assert vault.read("database/roles/webapp-readonly")["data"]["default_ttl"] == 3600
    assert vault.read("auth/kubernetes/role/webapp")["data"]["token_ttl"] == 86400
    assert "webapp-policy" in vault.sys.list_acl_policies()["data"]["keys"]

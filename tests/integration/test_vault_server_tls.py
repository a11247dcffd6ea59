"""The vault_server role with TLS: a generated CA, an HTTPS listener on 127.0.0.1, and the
collection's modules talking to it through `ca_cert` (certificate verified, not skipped)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import hvac
import pytest
import requests

from tests.integration.ansible_runner import run_playbook
from tests.integration.fixtures_servers import free_port

PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/dynamic_secrets.vault.vault:
      url: "{{ vault_server_addr }}"
      token: "{{ vault_server_token }}"
      ca_cert: "{{ vault_server_ca_cert }}"
  roles:
    - role: vault_server
      vault_server_tls: true
  tasks:
    - name: Write a policy over TLS
      dynamic_secrets.vault.vault_policy:
        name: tls-check
        policy: 'path "secret/*" { capabilities = ["read"] }'
"""

STOP = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: vault_server
      vault_server_state: absent
"""


@pytest.fixture(scope="module")
def tls_server():
    base = Path(tempfile.mkdtemp(prefix="it-tls-"))
    env = {"DYNAMIC_SECRETS_HOME": str(base / "home")}
    extra = {"vault_server_port": free_port(pairs=True)}
    try:
        first = run_playbook(PLAY, env=env, extra_vars=extra, timeout=600)
        second = run_playbook(PLAY, env=env, extra_vars=extra, timeout=600)
        yield dict(home=base / "home", port=extra["vault_server_port"], first=first, second=second)
    finally:
        run_playbook(STOP, env=env, extra_vars=extra, timeout=600)
        shutil.rmtree(base, ignore_errors=True)


def _vault_env(home: Path) -> dict:
    values = {}
    for line in (home / "vault.env").read_text().splitlines():
        if line.startswith("export "):
            key, _sep, value = line[len("export "):].partition("=")
            values[key] = value.strip("'")
    return values


def test_modules_write_over_verified_tls_and_rerun_changes_nothing(tls_server):
    """With TLS on, a module writes through the generated CA; a second run reports changed=0."""
    assert tls_server["first"].changed > 0, tls_server["first"].describe()
    assert tls_server["second"].changed == 0, tls_server["second"].describe()
    values = _vault_env(tls_server["home"])
    assert values["VAULT_ADDR"] == "https://127.0.0.1:%d" % tls_server["port"]
    client = hvac.Client(url=values["VAULT_ADDR"], token=values["VAULT_TOKEN"], verify=values["VAULT_CACERT"])
    assert "secret/*" in client.sys.read_acl_policy("tls-check")["data"]["policy"]


def test_server_certificate_is_not_trusted_without_the_ca(tls_server):
    """The listener really is TLS with the generated CA: the system trust store rejects it."""
    values = _vault_env(tls_server["home"])
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(values["VAULT_ADDR"] + "/v1/sys/health", timeout=10)

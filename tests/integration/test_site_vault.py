"""`ansible-playbook site.yml -e vault_server_flavor=vault`: the whole runbook on HashiCorp
Vault (built from the Go module proxy into the binary cache) instead of OpenBao, ending with
the proof from the running pod. The agents in the pod are OpenBao's; the server is Vault."""

import json
import re
import urllib.request

import pytest

from tests.integration.fixtures_servers import build_vault
from tests.integration.test_site import _playbook, _ports


@pytest.fixture(scope="module")
def converged_on_vault(tmp_path_factory):
    build_vault()
    work = tmp_path_factory.mktemp("site-vault")
    home = work / "home"
    extra = dict(_ports(), vault_server_flavor="vault")
    rc, text, recap = _playbook(home, extra, "site.yml", log=work / "site.log")
    yield dict(home=home, rc=rc, text=text, recap=recap, port=extra["vault_server_port"])
    _playbook(home, extra, "playbooks/teardown.yml", log=work / "teardown.log")


def test_site_on_hashicorp_vault_proves_the_webapp_login(converged_on_vault):
    """The server is HashiCorp Vault 1.21.0 and site.yml ends with the pod's own proof."""
    site = converged_on_vault
    assert site["rc"] == 0, "\n".join(site["text"].splitlines()[-60:])
    with urllib.request.urlopen(f"http://127.0.0.1:{site['port']}/v1/sys/health") as response:
        health = json.load(response)
    assert health["version"] == "1.21.0" and health["enterprise"] is False
    assert re.search(r"pod default/webapp-\S+ Running on node 127\.0\.0\.1 \(vault-agent-init Completed, "
                     r"vault-agent ready\); its log at \S+: login v-kubernet-\S+ works, SELECT saw \d+ rows "
                     r"of public\.items, login valid until \S+, PostgreSQL shows [1-9]\d* session",
                     site["text"].replace("\n", " ")), "\n".join(site["text"].splitlines()[-30:])
    assert (site["home"] / "vault" / "audit.log").stat().st_size > 0, "the audit device (enabled via the API) logs"

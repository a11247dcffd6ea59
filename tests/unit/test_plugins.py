"""The lookup, filter and doc fragment plugins: state directory, kubeconfig parsing, resource option docs."""

import ast
import base64
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.dynamic_secrets.vault.plugins.doc_fragments.resources import ModuleDocFragment
from ansible_collections.dynamic_secrets.vault.plugins.filter.kubeconfig import kubeconfig_cluster
from ansible_collections.dynamic_secrets.vault.plugins.lookup.local_dir import local_dir
from ansible_collections.dynamic_secrets.vault.plugins.module_utils import _resources

KUBECONFIG = """
apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: dev-cluster
    cluster: {server: "https://127.0.0.1:26443", certificate-authority-data: %s}
  - name: prod-cluster
    cluster: {server: "https://prod:6443", certificate-authority: /etc/prod-ca.pem}
contexts:
  - name: dev
    context: {cluster: dev-cluster, user: admin}
  - name: prod
    context: {cluster: prod-cluster, user: admin}
users:
  - name: admin
    user: {client-key-data: c2VjcmV0}
""" % base64.b64encode(b"-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n").decode()


def test_local_dir_prefers_the_environment_and_falls_back_below_home(monkeypatch):
    monkeypatch.setenv("HOME", "/home/u")
    assert local_dir(environ={}) == "/home/u/.local/share/dynamic_secrets"
    assert local_dir("cache", environ={}) == "/home/u/.cache/dynamic_secrets"
    assert local_dir(environ={"DYNAMIC_SECRETS_HOME": "/srv/ds"}) == "/srv/ds"
    assert local_dir(environ={"DYNAMIC_SECRETS_HOME": ""}) == "/home/u/.local/share/dynamic_secrets"
    assert local_dir("cache", environ={"DYNAMIC_SECRETS_CACHE": "/var/cache/ds"}) == "/var/cache/ds"


def test_kubeconfig_cluster_of_the_current_context():
    got = kubeconfig_cluster(KUBECONFIG)
    assert got["server"] == "https://127.0.0.1:26443"
    assert got["ca_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert (got["context"], got["cluster"], got["ca_file"]) == ("dev", "dev-cluster", "")
    assert "c2VjcmV0" not in repr(got) and "secret" not in repr(got)


def test_kubeconfig_cluster_of_a_named_context_with_a_ca_file():
    got = kubeconfig_cluster(KUBECONFIG, "prod")
    assert (got["server"], got["ca_pem"], got["ca_file"]) == ("https://prod:6443", "", "/etc/prod-ca.pem")


def test_kubeconfig_cluster_of_an_unknown_context_is_empty():
    assert kubeconfig_cluster(KUBECONFIG, "nope")["server"] == ""


@pytest.mark.parametrize("bad", ["key: [unclosed", "- a list"])
def test_kubeconfig_cluster_refuses_what_is_no_kubeconfig(bad):
    with pytest.raises(AnsibleFilterError, match="kubeconfig"):
        kubeconfig_cluster(bad)


@pytest.mark.parametrize("module, fragment", [
    ("vault_db_connection", "DB_CONNECTION"), ("vault_db_role", "DB_ROLE"),
    ("vault_db_static_role", "DB_STATIC_ROLE"), ("vault_policy", "POLICY"),
    ("vault_k8s_auth", "K8S_AUTH"), ("vault_k8s_auth_role", "K8S_AUTH_ROLE")])
def test_a_resource_module_documents_its_options_from_the_resource_definition(module, fragment):
    """Each option is written once: its argument spec and its documentation come from one Field."""
    source = Path(__file__).resolve().parents[2].joinpath("plugins", "modules", module + ".py").read_text()
    documentation = [node.value.value for node in ast.parse(source).body
                     if isinstance(node, ast.Assign) and node.targets[0].id == "DOCUMENTATION"][0]
    doc = yaml.safe_load(documentation)
    assert "options" not in doc
    assert "dynamic_secrets.vault.resources.%s" % fragment.lower() in doc["extends_documentation_fragment"]
    resource = getattr(_resources, fragment)
    options = yaml.safe_load(getattr(ModuleDocFragment, fragment))["options"]
    assert set(options) == set(resource.options)
    for name, spec in resource.options.items():
        assert options[name]["description"], name
        assert options[name]["type"] == spec.get("type", "str")
        assert options[name].get("default") == spec.get("default")
        assert options[name].get("choices") == spec.get("choices")

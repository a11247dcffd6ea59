"""Runbook steps 6-10 end to end: Kubernetes auth, the Vault Agent Injector and the webapp.

Everything is real and on 127.0.0.1: a dev OpenBao, PostgreSQL with the ``vault_admin``
login, and a local control plane (etcd, kube-apiserver, kube-controller-manager) started
by playbooks/dev_cluster.yml, with one real node (containerd + kubelet) that runs the
webapp pod: its injected agents render the credentials, its app container logs in.
The roles run through ``ansible-playbook``.

Vault mounts and the injector port are unique to the session, so the tests never touch
another test's objects.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import time
import uuid
from pathlib import Path

import hvac
import pytest

from tests.integration.ansible_runner import REPO_ROOT, Result, run_playbook
from tests.integration.fixtures_servers import READONLY_CREATION, READWRITE_CREATION, free_port

BUILD_CACHE = os.environ.get("DYNAMIC_SECRETS_CACHE") or str(Path.home() / ".cache" / "dynamic_secrets")
EXPORT_LINE = re.compile(r'^export ([A-Z_]+)="([^"]*)"$', re.MULTILINE)


@dataclasses.dataclass
class Stack:
    """The session's servers plus the names and variables the roles run with."""

    cluster: object
    openbao: object
    postgres: object
    db_mount: str
    k8s_mount: str
    role_vars: dict

    def env(self) -> dict:
        return {**self.openbao.env(), "DYNAMIC_SECRETS_HOME": str(self.cluster.home),
                "DYNAMIC_SECRETS_CACHE": BUILD_CACHE}

    def run_role(self, role: str, tasks_from: str | None = None, check: bool = False,
                 expect_failure: bool = False, **extra) -> Result:
        include = {"name": f"dynamic_secrets.vault.{role}"}
        if tasks_from:
            include["tasks_from"] = tasks_from
        play = [{"hosts": "localhost", "gather_facts": False,
                 "tasks": [{"name": f"Run {role}", "ansible.builtin.include_role": include}]}]
        return run_playbook(play, env=self.env(), extra_vars={**self.role_vars, **extra},
                            check=check, expect_failure=expect_failure, timeout=600)

    def api(self):
        return self.cluster.api_client()

    def core(self):
        from kubernetes import client

        return client.CoreV1Api(self.api())

    def vault(self, token: str | None = None) -> hvac.Client:
        return hvac.Client(url=self.openbao.addr, token=token or self.openbao.token)

    def token_for(self, service_account: str, namespace: str) -> str:
        """A TokenRequest token (default audiences) for a ServiceAccount, as a pod would hold."""
        from kubernetes import client

        body = client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600))
        return self.core().create_namespaced_service_account_token(
            service_account, namespace, body).status.token

    def login(self, service_account: str, namespace: str, role: str = "webapp") -> dict:
        return self.vault().auth.kubernetes.login(
            role, self.token_for(service_account, namespace), mount_point=self.k8s_mount)

    def ensure_service_account(self, name: str, namespace: str) -> None:
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        core = self.core()
        for create, body in (
            (core.create_namespace,
             client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace))),
            (lambda b: core.create_namespaced_service_account(namespace, b),
             client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))),
        ):
            try:
                create(body)
            except ApiException as exc:
                if exc.status != 409:
                    raise


def _configure_database(vault: hvac.Client, postgres, mount: str) -> None:
    """The runbook's two roles plus ``reporting``, a role the webapp policy does not grant."""
    vault.sys.enable_secrets_engine("database", path=mount)
    vault.write_data(f"{mount}/config/appdb", data={
        "plugin_name": "postgresql-database-plugin",
        "connection_url": postgres.connection_url(),
        "username": postgres.admin_user,
        "password": postgres.admin_password,
        "allowed_roles": ["webapp-readonly", "webapp-readwrite", "reporting"],
        "verify_connection": True,
    })
    for role, statements in (("webapp-readonly", READONLY_CREATION),
                             ("webapp-readwrite", READWRITE_CREATION),
                             ("reporting", READONLY_CREATION)):
        vault.write_data(f"{mount}/roles/{role}", data={
            "db_name": "appdb", "creation_statements": statements,
            "default_ttl": "1h", "max_ttl": "24h",
        })


@pytest.fixture(scope="session")
def stack(k8s_cluster, openbao, postgres):
    suffix = uuid.uuid4().hex[:8]
    db_mount, k8s_mount = f"database-e2e-{suffix}", f"kubernetes-e2e-{suffix}"
    vault = openbao.client()
    _configure_database(vault, postgres, db_mount)
    role_vars = {
        # kubernetes_auth
        "kubernetes_auth_mount_point": k8s_mount,
        "kubernetes_auth_db_mount_point": db_mount,
        # injector
        "injector_vault_addr": openbao.addr,
        "injector_vault_auth_path": f"auth/{k8s_mount}",
        "injector_external_port": free_port(),
        # webapp
        "webapp_vault_auth_path": f"auth/{k8s_mount}",
        "webapp_secret_path": f"{db_mount}/creds/webapp-readwrite",
        "webapp_db_host": postgres.host,
        "webapp_db_port": postgres.port,
        "webapp_db_name": postgres.dbname,
        "webapp_image": k8s_cluster.image("webapp"),
        "webapp_host_network": True,
        "injector_agent_image": k8s_cluster.image("vault-agent"),
    }
    s = Stack(k8s_cluster, openbao, postgres, db_mount, k8s_mount, role_vars)
    yield s
    try:
        s.run_role("injector", injector_state="absent")
    finally:
        for disable, path in ((vault.sys.disable_auth_method, k8s_mount),
                              (vault.sys.disable_secrets_engine, db_mount)):
            try:
                disable(path)
            except Exception:  # noqa: BLE001 - best-effort cleanup
                pass


@pytest.fixture(scope="session")
def kubernetes_auth_applied(stack):
    """The first run of the kubernetes_auth role (runbook steps 6-8)."""
    result = stack.run_role("kubernetes_auth")
    assert result.changed > 0, result.describe()
    stack.ensure_service_account("webapp-sa", "default")
    return result


@pytest.fixture(scope="session")
def webapp_deployed(stack, kubernetes_auth_applied):
    """The injector (external process + webhook) and the webapp Deployment (runbook 9-10)."""
    injector = stack.run_role("injector")
    assert injector.changed > 0, injector.describe()
    webapp = stack.run_role("webapp")
    return injector, webapp


def _webapp_pod(stack, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        pods = [p for p in stack.core().list_namespaced_pod("default", label_selector="app=webapp").items
                if p.metadata.deletion_timestamp is None]
        if pods:
            return max(pods, key=lambda p: p.metadata.creation_timestamp)
        assert time.monotonic() < deadline, "the webapp Deployment produced no pod"
        time.sleep(1)


def _db_login(stack) -> dict:
    pg = stack.postgres
    return {"host": pg.host, "port": pg.port, "user": pg.superuser, "password": pg.superuser_password,
            "db": pg.dbname}


def _exec(stack, pod: str, container: str, command: list[str]) -> str:
    from kubernetes.stream import stream

    return stream(stack.core().connect_get_namespaced_pod_exec, pod, "default", container=container,
                  command=command, stderr=True, stdin=False, stdout=True, tty=False)


def test_webapp_pod_runs_and_its_own_log_shows_a_working_login(stack, webapp_deployed):
    """The webapp pod runs on the node (init agent Completed, sidecar ready); the app container's
    log shows the dynamic username, the row count and the expiry, PostgreSQL shows its session,
    and neither the log nor the playbook output holds the password it rendered."""
    result = stack.run_role("webapp", tasks_from="verify", webapp_verify_db_login=_db_login(stack))
    facts = result.task("dynamic_secrets.vault.webapp : Record the verification result")["ansible_facts"]["webapp_verify_result"]
    assert facts["username"].startswith("v-kubernet-")
    assert int(facts["select_rows"]) > 0
    assert int(facts["sessions"]) > 0
    assert facts["node"] == "127.0.0.1"

    pod = facts["pod"].split("/")[1]
    env = dict(EXPORT_LINE.findall(_exec(stack, pod, "webapp", ["cat", "/vault/secrets/db-creds"])))
    assert env["DB_USERNAME"] == facts["username"]
    assert (env["DB_HOST"], int(env["DB_PORT"]), env["DB_NAME"]) == (
        stack.postgres.host, stack.postgres.port, stack.postgres.dbname)
    log = stack.core().read_namespaced_pod_log(pod, "default", container="webapp")
    assert f"query ok: user={facts['username']} " in log
    assert env["DB_PASSWORD"] not in log
    assert env["DB_PASSWORD"] not in result.output
    assert stack.postgres.can_login(env["DB_USERNAME"], env["DB_PASSWORD"])


def test_verify_fails_clearly_when_the_pod_was_not_mutated(stack, webapp_deployed):
    """A Deployment without the inject annotation runs, but the proof refuses it: no
    vault-agent-init, no sidecar, and the message says so."""
    from kubernetes import client

    apps = client.AppsV1Api(stack.api())
    name = f"plain-{uuid.uuid4().hex[:6]}"
    labels = {"app": name}
    apps.create_namespaced_deployment("default", client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(host_network=True, termination_grace_period_seconds=1,
                                      containers=[client.V1Container(
                                          name=name, image=stack.cluster.image("webapp"),
                                          command=["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"])])))))
    try:
        result = stack.run_role("webapp", tasks_from="verify", webapp_name=name, webapp_verify_timeout=60,
                                expect_failure=True)
        assert "with vault-agent-init Completed and vault-agent" in result.output
    finally:
        apps.delete_namespaced_deployment(name, "default")


def test_injector_and_webapp_rerun_change_nothing(stack, webapp_deployed):
    """Re-running injector and webapp reports changed=0 and leaves the injector process alone."""
    pid_file = stack.cluster.home / "injector" / "injector.pid"
    before = pid_file.read_text().strip()
    for role in ("injector", "webapp"):
        check = stack.run_role(role, check=True)
        assert check.changed == 0, check.describe()
        rerun = stack.run_role(role)
        assert rerun.changed == 0, rerun.describe()
    assert pid_file.read_text().strip() == before
    assert Path(f"/proc/{before}").exists()


def test_injector_absent_stops_the_process_and_removes_the_webhook(stack, webapp_deployed, tmp_path):
    """A second external injector (own name, port and home) started and then set absent
    leaves no process and no MutatingWebhookConfiguration behind."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    home = tmp_path / "home"
    home.mkdir()
    name = f"injector-{uuid.uuid4().hex[:6]}"
    extra = {"injector_name": name, "injector_namespace": name, "injector_home": str(home),
             "injector_kubeconfig": str(stack.cluster.kubeconfig),
             "injector_external_port": free_port(), "injector_failure_policy": "Ignore",
             # a selector no pod carries, so the two injectors never both mutate a pod
             "injector_object_selector": {"matchLabels": {"example.invalid/never": "true"}}}
    stack.run_role("injector", **extra)
    pid = int((home / "injector" / "injector.pid").read_text())
    assert Path(f"/proc/{pid}").exists()
    admission = client.AdmissionregistrationV1Api(stack.api())
    admission.read_mutating_webhook_configuration(f"{name}-cfg")

    result = stack.run_role("injector", injector_state="absent", injector_purge=True, **extra)
    assert result.changed > 0
    assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(ApiException) as exc:
        admission.read_mutating_webhook_configuration(f"{name}-cfg")
    assert exc.value.status == 404
    assert not (home / "injector").exists()
    again = stack.run_role("injector", injector_state="absent", injector_purge=True, **extra)
    assert again.changed == 0, again.describe()

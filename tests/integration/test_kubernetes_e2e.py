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
import psycopg2
import pytest

from tests.integration.ansible_runner import Result, run_playbook
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
        "webapp_agent_cache_port": free_port(),
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


def _pg_can_login(postgres, user: str, password: str) -> bool:
    try:
        postgres.connect(user, password).close()
        return True
    except psycopg2.OperationalError:
        return False


# --------------------------------------------------------------------------- #
# Issue 3: Kubernetes auth (runbook steps 6-8)
# --------------------------------------------------------------------------- #
def test_auth_config_uses_the_cluster_and_a_dedicated_reviewer(stack, kubernetes_auth_applied):
    """Vault's kubernetes auth points at the cluster's API server with its CA and issuer, and
    reviews tokens with the dedicated vault-token-reviewer bound to system:auth-delegator."""
    from kubernetes import client

    cfg = stack.vault().read(f"auth/{stack.k8s_mount}/config")["data"]
    assert cfg["kubernetes_host"] == stack.cluster.server
    assert cfg["kubernetes_ca_cert"].strip() == stack.cluster.ca_cert.read_text().strip()
    assert cfg["issuer"] == "https://kubernetes.default.svc.cluster.local"
    assert cfg["disable_local_ca_jwt"] is True
    assert cfg["token_reviewer_jwt_set"] is True

    rbac = client.RbacAuthorizationV1Api(stack.api())
    bindings = [b for b in rbac.list_cluster_role_binding().items
                if b.role_ref.name == "system:auth-delegator"
                and any(s.kind == "ServiceAccount" and s.name == "vault-token-reviewer"
                        and s.namespace == "vault-auth" for s in b.subjects or [])]
    assert bindings, "vault-token-reviewer is not bound to system:auth-delegator"


def test_webapp_sa_token_logs_in_and_reads_working_readonly_credentials(stack, kubernetes_auth_applied):
    """A TokenRequest token of default/webapp-sa logs in with role webapp; the Vault token
    reads database/creds/webapp-readonly, and those credentials log in to PostgreSQL."""
    auth = stack.login("webapp-sa", "default")["auth"]
    assert "webapp-policy" in auth["policies"]
    assert auth["lease_duration"] == 24 * 3600

    creds = stack.vault(auth["client_token"]).read(f"{stack.db_mount}/creds/webapp-readonly")
    user, password = creds["data"]["username"], creds["data"]["password"]
    conn = stack.postgres.connect(user, password)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM public.items")
            assert cur.fetchone()[0] >= 1
    finally:
        conn.close()
    stack.vault().sys.revoke_lease(creds["lease_id"])
    assert not _pg_can_login(stack.postgres, user, password)


def test_a_module_logs_in_with_auth_method_kubernetes_and_a_real_service_account_token(
        stack, kubernetes_auth_applied, tmp_path):
    """What a job in the cluster does: vault_db_credentials with auth_method=kubernetes and no
    Vault token anywhere logs in with a real webapp-sa token, and the login it gets works; the
    audit log shows the credential was read by the Kubernetes login, not the root token."""
    out = tmp_path / "creds.json"
    mark = stack.openbao.mark()
    run_playbook("""
- name: issue
  dynamic_secrets.vault.vault_db_credentials:
    role: webapp-readonly
    mount_point: "{{ db_mount }}"
    auth_method: kubernetes
    auth_mount_point: "{{ k8s_mount }}"
    auth_role: webapp
    auth_jwt: "{{ jwt }}"
  register: creds
  no_log: true

- name: save
  ansible.builtin.copy:
    content: "{{ creds | to_json }}"
    dest: "{{ out }}"
    mode: "0600"
""", env={"VAULT_ADDR": stack.openbao.addr}, extra_vars={
        "db_mount": stack.db_mount, "k8s_mount": stack.k8s_mount, "out": str(out),
        "jwt": stack.token_for("webapp-sa", "default")})
    creds = json.loads(out.read_text())
    assert _pg_can_login(stack.postgres, creds["username"], creds["password"])
    with stack.openbao.audit_log.open("rb") as fh:
        fh.seek(mark)
        readers = [json.loads(line).get("auth", {}).get("display_name", "")
                   for line in fh.read().decode().splitlines() if line.strip()
                   and json.loads(line).get("type") == "request"
                   and json.loads(line).get("request", {}).get("path") == f"{stack.db_mount}/creds/webapp-readonly"]
    assert readers and all(name.startswith(f"{stack.k8s_mount}-") for name in readers), readers
    stack.vault().sys.revoke_lease(creds["lease_id"])


def test_a_service_account_with_another_name_is_denied(stack, kubernetes_auth_applied):
    """A ServiceAccount other than webapp-sa in the same namespace cannot log in as webapp."""
    stack.ensure_service_account("intruder-sa", "default")
    with pytest.raises(hvac.exceptions.Forbidden, match="not authorized"):
        stack.login("intruder-sa", "default")


def test_webapp_sa_in_another_namespace_is_denied(stack, kubernetes_auth_applied):
    """webapp-sa outside the bound namespace 'default' cannot log in as webapp."""
    namespace = f"other-{uuid.uuid4().hex[:6]}"
    stack.ensure_service_account("webapp-sa", namespace)
    with pytest.raises(hvac.exceptions.Forbidden, match="not authorized"):
        stack.login("webapp-sa", namespace)


def test_webapp_token_cannot_read_outside_its_policy(stack, kubernetes_auth_applied):
    """The webapp's Vault token is refused another role's credentials and the policy list,
    which the root token can read."""
    root = stack.vault()
    reporting = root.read(f"{stack.db_mount}/creds/reporting")
    assert reporting["data"]["username"]
    root.sys.revoke_lease(reporting["lease_id"])
    assert root.sys.list_acl_policies()["data"]["keys"]

    webapp = stack.vault(stack.login("webapp-sa", "default")["auth"]["client_token"])
    with pytest.raises(hvac.exceptions.Forbidden):
        webapp.read(f"{stack.db_mount}/creds/reporting")
    with pytest.raises(hvac.exceptions.Forbidden):
        webapp.sys.list_acl_policies()
    with pytest.raises(hvac.exceptions.Forbidden):
        webapp.read(f"{stack.db_mount}/config/appdb")


def test_kubernetes_auth_rerun_and_check_mode_change_nothing(stack, kubernetes_auth_applied):
    """Re-running kubernetes_auth, in check mode and for real, reports changed=0 and keeps
    the reviewer token Vault holds working."""
    check = stack.run_role("kubernetes_auth", check=True)
    assert check.changed == 0, check.describe()
    rerun = stack.run_role("kubernetes_auth")
    assert rerun.changed == 0, rerun.describe()
    assert stack.login("webapp-sa", "default")["auth"]["client_token"]


# --------------------------------------------------------------------------- #
# Issue 4: injector + webapp (runbook steps 9-10)
# --------------------------------------------------------------------------- #
def test_injector_mutates_the_webapp_pod(stack, webapp_deployed):
    """The webapp pod gets the vault-agent-init init container, the vault-agent sidecar and
    the /vault/secrets volume, and its agent config points at our Vault and auth mount."""
    pod = _webapp_pod(stack)
    assert pod.metadata.annotations.get("vault.hashicorp.com/agent-inject-status") == "injected"
    assert [c.name for c in pod.spec.init_containers or []][:1] == ["vault-agent-init"]
    assert "vault-agent" in [c.name for c in pod.spec.containers]
    app = next(c for c in pod.spec.containers if c.name == "webapp")
    assert "/vault/secrets" in [m.mount_path for m in app.volume_mounts]

    init = next(c for c in pod.spec.init_containers if c.name == "vault-agent-init")
    config = json.loads(base64.b64decode(next(e.value for e in init.env if e.name == "VAULT_CONFIG")))
    assert config["vault"]["address"] == stack.openbao.addr
    assert config["auto_auth"]["method"]["mount_path"] == f"auth/{stack.k8s_mount}"
    assert config["auto_auth"]["method"]["config"]["role"] == "webapp"
    assert config["template"][0]["destination"] == "/vault/secrets/db-creds"


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

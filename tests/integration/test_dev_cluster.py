"""The dev_cluster role gives a newcomer a working Kubernetes cluster on 127.0.0.1.

Everything here runs against real etcd, kube-apiserver, kube-controller-manager and kube-scheduler
processes and a real node (containerd, runc, kubelet) started by playbooks/dev_cluster.yml
(see fixtures_cluster.py).
"""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests.integration.fixtures_cluster import COMPONENTS, PORT_VARS, REPO_ROOT, start_cluster, stop_cluster

DEFAULTS = yaml.safe_load((REPO_ROOT / "roles" / "dev_cluster" / "defaults" / "main.yml").read_text())


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(1)


def _jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_api_server_reports_the_pinned_version(k8s_cluster):
    """`kubectl version` against the dev cluster shows the Kubernetes release the role pins."""
    from kubernetes import client

    info = client.VersionApi(k8s_cluster.api_client()).get_code()
    assert info.git_version == DEFAULTS["dev_cluster_kubernetes_version"]
    assert info.major == "1"
    assert info.minor == DEFAULTS["dev_cluster_kubernetes_version"].split(".")[1]


def test_kubeconfig_is_private_and_points_at_loopback(k8s_cluster):
    """The admin kubeconfig holds a client key, so only its owner can read it; it targets 127.0.0.1."""
    assert k8s_cluster.kubeconfig.stat().st_mode & 0o777 == 0o600
    config = yaml.safe_load(k8s_cluster.kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"] == k8s_cluster.server
    assert k8s_cluster.server.startswith("https://127.0.0.1:")


def test_deployment_yields_a_pod_and_default_service_account_exists(k8s_cluster):
    """The controller-manager runs: namespaces get a `default` ServiceAccount and a Deployment
    becomes a ReplicaSet and a Pod (which stays Pending: its image cannot be pulled)."""
    from kubernetes import client

    api = k8s_cluster.api_client()
    core = client.CoreV1Api(api)
    apps = client.AppsV1Api(api)
    name = f"probe-{uuid.uuid4().hex[:8]}"

    _wait_for(
        lambda: any(sa.metadata.name == "default" for sa in core.list_namespaced_service_account("default").items),
        60,
        "the default ServiceAccount in namespace default",
    )
    apps.create_namespaced_deployment(
        "default",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
                },
            },
        },
    )
    try:
        pods = _wait_for(
            lambda: core.list_namespaced_pod("default", label_selector=f"app={name}").items,
            90,
            f"a Pod of Deployment {name}",
        )
        assert pods[0].metadata.owner_references[0].kind == "ReplicaSet"
        assert pods[0].status.phase == "Pending"
        assert pods[0].spec.service_account_name == "default"
    finally:
        apps.delete_namespaced_deployment(name, "default")


def test_token_request_issues_a_verifiable_service_account_token(k8s_cluster):
    """A TokenRequest returns a JWT from the configured issuer that the API server's own
    TokenReview accepts: what Vault's Kubernetes auth method relies on."""
    from kubernetes import client

    api = k8s_cluster.api_client()
    core = client.CoreV1Api(api)
    name = f"probe-sa-{uuid.uuid4().hex[:8]}"
    issuer = DEFAULTS["dev_cluster_service_account_issuer"]
    core.create_namespaced_service_account("default", {"metadata": {"name": name}})
    try:
        token = core.create_namespaced_service_account_token(
            name, "default", {"spec": {"audiences": [issuer], "expirationSeconds": 600}}
        ).status.token
        claims = _jwt_claims(token)
        assert claims["iss"] == issuer
        assert claims["sub"] == f"system:serviceaccount:default:{name}"

        review = client.AuthenticationV1Api(api).create_token_review({"spec": {"token": token}})
        assert review.status.authenticated is True
        assert review.status.user.username == f"system:serviceaccount:default:{name}"

        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        review = client.AuthenticationV1Api(api).create_token_review({"spec": {"token": forged}})
        assert not review.status.authenticated
    finally:
        core.delete_namespaced_service_account(name, "default")


def test_issuer_discovery_documents_are_public(k8s_cluster):
    """Anyone can read the OIDC discovery document and JWKS without credentials, so Vault can
    validate ServiceAccount JWTs by issuer."""
    context = ssl.create_default_context(cafile=str(k8s_cluster.ca_cert))
    with urllib.request.urlopen(f"{k8s_cluster.server}/.well-known/openid-configuration", context=context) as resp:
        discovery = json.load(resp)
    assert discovery["issuer"] == DEFAULTS["dev_cluster_service_account_issuer"]
    with urllib.request.urlopen(f"{k8s_cluster.server}/openid/v1/jwks", context=context) as resp:
        jwks = json.load(resp)
    assert jwks["keys"] and jwks["keys"][0]["kty"] == "RSA"


def test_rerun_changes_nothing_and_keeps_the_processes(k8s_cluster):
    """Running the playbook again (also in check mode) reports changed=0 and leaves the three
    processes running with the same pids."""
    before = k8s_cluster.pids()
    assert set(before) == set(COMPONENTS)
    assert all(_alive(pid) for pid in before.values())

    for args in ((), ("--check",)):
        run = k8s_cluster.run_playbook(*args)
        assert run.returncode == 0, run.output[-4000:]
        assert run.failed == 0 and run.changed == 0, run.output[-4000:]

    assert k8s_cluster.pids() == before
    assert all(_alive(pid) for pid in before.values())


def test_check_mode_on_a_fresh_home_starts_nothing(tmp_path):
    """`--check` on a machine without a cluster succeeds, reports what it would do and starts nothing."""
    from tests.integration.fixtures_cluster import DevCluster, free_loopback_ports

    ports = dict(zip(PORT_VARS, free_loopback_ports(len(PORT_VARS))))
    cluster = DevCluster(
        home=tmp_path,
        kubeconfig=tmp_path / "kubeconfig",
        server=f"https://127.0.0.1:{ports['dev_cluster_apiserver_port']}",
        ca_cert=tmp_path / "cluster" / "pki" / "ca.crt",
        extra_vars=ports,
    )
    run = cluster.run_playbook("--check")
    assert run.returncode == 0, run.output[-4000:]
    assert run.changed > 0
    assert cluster.pids() == {}
    assert not cluster.kubeconfig.exists()
    assert not (tmp_path / "cluster").exists()


SYSCTLS = ("vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops")


def _sysctls() -> dict:
    return {key: Path("/proc/sys", key).read_text().strip() for key in SYSCTLS}


def _node_leftovers(home: Path) -> dict:
    """Processes, mounts and cgroups of the node in ``home`` that are still on the host."""
    node_dir = str(home / "cluster" / "node")
    procs = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(node_dir.encode() in arg for arg in args):
            procs.append(b" ".join(args).decode(errors="replace")[:120])
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
              if line.split()[1].startswith(node_dir + "/")]
    kubelet_config = next((home / "cluster" / "node").glob("kubelet-*.yaml"), None)
    cgroup_root = yaml.safe_load(kubelet_config.read_text())["cgroupRoot"] if kubelet_config else None
    cgroups = [str(p) for p in Path("/sys/fs/cgroup").glob("*" + cgroup_root)] if cgroup_root else []
    return {"processes": procs, "mounts": mounts, "cgroups": cgroups}


def _run_probe_pod(core, name: str, image: str, command: list[str]):
    """Create a hostNetwork pod and wait until it is Running; returns the pod."""
    core.create_namespaced_pod("default", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"hostNetwork": True, "terminationGracePeriodSeconds": 5,
                 "containers": [{"name": "app", "image": image, "command": command}]},
    })

    def running():
        pod = core.read_namespaced_pod(name, "default")
        return pod if pod.status.phase == "Running" else None

    return _wait_for(running, 120, f"pod {name} Running")


def test_the_node_is_ready_and_serves_on_loopback_only(k8s_cluster):
    """`kubectl get nodes` shows one Ready node named 127.0.0.1 whose kubelet is reached on 127.0.0.1."""
    from kubernetes import client

    nodes = client.CoreV1Api(k8s_cluster.api_client()).list_node().items
    assert [n.metadata.name for n in nodes] == ["127.0.0.1"]
    ready = {c.type: c.status for c in nodes[0].status.conditions}["Ready"]
    assert ready == "True"
    assert [(a.type, a.address) for a in nodes[0].status.addresses if a.type == "InternalIP"] == [
        ("InternalIP", "127.0.0.1")]
    assert nodes[0].status.daemon_endpoints.kubelet_endpoint.port == k8s_cluster.extra_vars["dev_cluster_kubelet_port"]


def test_a_host_network_pod_runs_and_kubectl_logs_and_exec_work(k8s_cluster):
    """A pod from the locally built webapp image is scheduled, runs (never pulled), and the API
    server reaches the kubelet for logs and exec; deleting it takes seconds, not the grace period."""
    from kubernetes import client
    from kubernetes.stream import stream

    core = client.CoreV1Api(k8s_cluster.api_client())
    name = f"probe-{uuid.uuid4().hex[:8]}"
    image = k8s_cluster.image("webapp")
    pod = _run_probe_pod(core, name, image,
                         ["/bin/sh", "-c", "trap 'exit 0' TERM; echo hello-from-the-node; psql --version; "
                                           "while true; do sleep 1 & wait $!; done"])
    try:
        assert pod.spec.node_name == "127.0.0.1"

        def log_with_psql():
            text = core.read_namespaced_pod_log(name, "default")
            return text if "psql (PostgreSQL)" in text else None

        logs = _wait_for(log_with_psql, 30, "the probe pod's log")
        assert "hello-from-the-node" in logs
        out = stream(core.connect_get_namespaced_pod_exec, name, "default", command=["id", "-u"],
                     stderr=True, stdin=False, stdout=True, tty=False)
        assert out.strip() == "65534"
    finally:
        started = time.monotonic()
        core.delete_namespaced_pod(name, "default")
        _wait_for(lambda: not [p for p in core.list_namespaced_pod("default").items if p.metadata.name == name],
                  60, f"pod {name} gone")
    assert time.monotonic() - started < 20


def test_state_absent_stops_every_process(tmp_path_factory):
    """`dev_cluster_state: absent` stops the control plane and the node and waits until they are
    gone: no process, mount or cgroup of the node is left, the kernel settings kubelet changed are
    as they were, and running it again changes nothing."""
    sysctls_before = _sysctls()
    home = tmp_path_factory.mktemp("dynamic-secrets-absent")
    cluster = start_cluster(home)
    try:
        pids = cluster.pids()
        assert set(pids) == set(COMPONENTS)
        assert all(_alive(pid) for pid in pids.values())
        from kubernetes import client

        core = client.CoreV1Api(cluster.api_client())
        _run_probe_pod(core, "leftover", cluster.image("pause"), ["/pause"])
        assert _node_leftovers(home)["mounts"], "a running pod should hold mounts below the node directory"

        run = cluster.run_playbook(dev_cluster_state="absent")
        assert run.returncode == 0, run.output[-4000:]
        assert run.changed > 0
        assert not any(_alive(pid) for pid in pids.values())
        assert cluster.pids() == {}
        assert _node_leftovers(home) == {"processes": [], "mounts": [], "cgroups": []}
        assert _sysctls() == sysctls_before
        # Data is kept unless dev_cluster_purge is set.
        assert (cluster.home / "cluster" / "etcd").is_dir()

        run = cluster.run_playbook(dev_cluster_state="absent")
        assert run.returncode == 0 and run.changed == 0, run.output[-4000:]
    finally:
        stop_cluster(cluster)

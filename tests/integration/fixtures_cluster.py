"""pytest plugin: a real local Kubernetes cluster started by playbooks/dev_cluster.yml.

The control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) and one real
node (containerd + runc from Debian, a kubelet on 127.0.0.1) that runs hostNetwork pods from
locally built images.

The ``k8s_cluster`` fixture (session scope) runs the playbook with ``DYNAMIC_SECRETS_HOME``
pointing at a temporary directory and loopback ports picked free at runtime, so tests never
touch a developer's own dev cluster. Binaries come from the shared build cache
(``DYNAMIC_SECRETS_CACHE`` or ``~/.cache/dynamic_secrets``); a cold cache builds them first,
which takes several minutes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO_ROOT / "playbooks" / "dev_cluster.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet")
PORT_VARS = ("dev_cluster_etcd_client_port", "dev_cluster_etcd_peer_port", "dev_cluster_apiserver_port",
             "dev_cluster_controller_manager_port", "dev_cluster_scheduler_port", "dev_cluster_kubelet_port",
             "dev_cluster_kubelet_healthz_port", "dev_cluster_containerd_metrics_port")
RECAP = re.compile(r"^localhost\s*:\s*(?P<counts>.*)$", re.MULTILINE)


def free_loopback_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports that are free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _attempt in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class PlaybookRun:
    """Result of one ansible-playbook run, with its recap counters for localhost."""

    returncode: int
    output: str
    recap: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.recap.get("changed", -1)

    @property
    def failed(self) -> int:
        return self.recap.get("failed", -1)


@dataclass
class DevCluster:
    """A control plane started by the dev_cluster role in its own home directory."""

    home: Path
    kubeconfig: Path
    server: str
    ca_cert: Path
    extra_vars: dict

    @property
    def run_dir(self) -> Path:
        return self.home / "cluster" / "run"

    def pids(self) -> dict[str, int]:
        """Pids recorded in the pid files, by component (missing files are left out)."""
        pids = {}
        for name in COMPONENTS:
            pid_file = self.run_dir / f"{name}.pid"
            if pid_file.exists():
                pids[name] = int(pid_file.read_text().strip())
        return pids

    def run_playbook(self, *args: str, **extra_vars) -> PlaybookRun:
        """Run playbooks/dev_cluster.yml for this cluster; ``extra_vars`` override its own."""
        return run_playbook(self.home, {**self.extra_vars, **extra_vars}, *args)

    def image(self, name: str) -> str:
        """The reference of a locally built image (pause, vault-agent, webapp) in the node's containerd."""
        socket = self.home / "cluster" / "node" / "containerd.sock"
        refs = subprocess.run(["ctr", "--address", str(socket), "-n", "k8s.io", "images", "ls", "-q"],
                              capture_output=True, text=True, check=True).stdout.split()
        matches = [ref for ref in refs if ref.startswith(f"dynamic-secrets.local/{name}:")]
        assert len(matches) == 1, refs
        return matches[0]

    def api_client(self):
        """A kubernetes.client.ApiClient authenticated as the admin of this cluster."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))


def run_playbook(home: Path, extra_vars: dict, *args: str) -> PlaybookRun:
    """Run the dev_cluster playbook with ``DYNAMIC_SECRETS_HOME=home`` and the given extra vars."""
    vars_file = home / "dev_cluster_vars.json"
    vars_file.write_text(json.dumps(extra_vars))
    env = {
        **os.environ,
        "DYNAMIC_SECRETS_HOME": str(home),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "PATH": f"{ANSIBLE_PLAYBOOK.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    proc = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), str(PLAYBOOK), "-e", f"@{vars_file}", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    recap = {}
    match = RECAP.search(proc.stdout)
    if match:
        recap = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group("counts"))}
    return PlaybookRun(proc.returncode, proc.stdout, recap)


def start_cluster(home: Path) -> DevCluster:
    """Start a control plane in ``home`` on free loopback ports; fail the test with the log if it cannot."""
    ports = dict(zip(PORT_VARS, free_loopback_ports(len(PORT_VARS))))
    apiserver = ports["dev_cluster_apiserver_port"]
    extra_vars = {"dev_cluster_state": "present", **ports}
    result = run_playbook(home, extra_vars)
    cluster = DevCluster(
        home=home,
        kubeconfig=home / "kubeconfig",
        server=f"https://127.0.0.1:{apiserver}",
        ca_cert=home / "cluster" / "pki" / "ca.crt",
        extra_vars=extra_vars,
    )
    if result.returncode != 0:
        stop_cluster(cluster)
        pytest.fail(f"dev_cluster playbook failed (rc={result.returncode}):\n{result.output[-6000:]}")
    return cluster


def stop_cluster(cluster: DevCluster) -> PlaybookRun:
    """Stop the cluster's processes and delete its state."""
    return cluster.run_playbook(dev_cluster_state="absent", dev_cluster_purge=True)


@pytest.fixture(scope="session")
def k8s_cluster(tmp_path_factory):
    """A running control plane and node on loopback, for the whole session."""
    cluster = start_cluster(tmp_path_factory.mktemp("dynamic-secrets-home"))
    yield cluster
    stop_cluster(cluster)

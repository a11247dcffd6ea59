#!/usr/bin/env python
"""Play the kubelet for one pod that the Vault Agent Injector mutated.

A cluster without a kubelet creates pods but never runs them. This runner does
for one pod what the kubelet and the injected containers would do:

1. finds the pod (``--deployment`` or ``--selector``) and checks that the injector
   added the ``vault-agent-init`` init container, the ``vault-agent`` sidecar and
   the ``/vault/secrets`` volume;
2. takes the agent configuration the injector put into those containers
   (env ``VAULT_CONFIG``, base64 JSON) and maps the in-pod paths (ServiceAccount
   token, ``/vault/secrets``, ``/home/vault``) into a work directory;
3. writes a TokenRequest token of the pod's ServiceAccount, bound to the pod, where
   the projected token volume would put it;
4. runs ``bao agent`` (or ``vault agent``) with the init configuration, which logs in,
   renders the templates once and exits, and optionally with the sidecar
   configuration for ``--sidecar-seconds``, counting re-renders.

It prints one JSON document on stdout with the paths of the rendered files; it never
prints their content. Only the standard library and the kubernetes client are used.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from kubernetes import client, config
from kubernetes.client.rest import ApiException

SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
SECRETS_MOUNT = "/vault/secrets"
AGENT_HOME = "/home/vault"
INIT_CONTAINER = "vault-agent-init"
SIDECAR_CONTAINER = "vault-agent"
ANNOTATION_STATUS = "vault.hashicorp.com/agent-inject-status"
ANNOTATION_PRE_POPULATE = "vault.hashicorp.com/agent-pre-populate"
ANNOTATION_PRE_POPULATE_ONLY = "vault.hashicorp.com/agent-pre-populate-only"
TOKEN_SECONDS = 3607  # what the kubelet asks for a projected ServiceAccount token


class PodAgentError(Exception):
    """A failure with a message meant for the user (no traceback)."""


def log(message: str) -> None:
    print(f"pod_agent: {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"),
                        help="admin kubeconfig (default: $KUBECONFIG, then ~/.kube/config)")
    parser.add_argument("--context", default=None, help="kubeconfig context")
    parser.add_argument("--namespace", default="default", help="namespace of the pod")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--deployment", help="Deployment whose pod to run")
    which.add_argument("--selector", help="label selector of the pod, e.g. app=webapp")
    parser.add_argument("--workdir", required=True,
                        help="directory for the token, agent configs, logs and rendered secrets")
    parser.add_argument("--bao", default="",
                        help="agent binary (bao or vault); default: bao or vault on PATH or next to python")
    parser.add_argument("--vault-addr", default="",
                        help="Vault address for the agent (default: the one the injector configured)")
    parser.add_argument("--timeout", type=float, default=120,
                        help="seconds to wait for the pod and for the first render")
    parser.add_argument("--sidecar-seconds", type=float, default=0,
                        help="keep the sidecar agent running this long after the first render")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- #
# Finding and checking the pod
# --------------------------------------------------------------------------- #
def deployment_selector(apps: client.AppsV1Api, namespace: str, name: str) -> str:
    try:
        deployment = apps.read_namespaced_deployment(name, namespace)
    except ApiException as exc:
        raise PodAgentError(f"cannot read Deployment {namespace}/{name}: {exc.status} {exc.reason}") from None
    selector = deployment.spec.selector
    if selector.match_expressions:
        raise PodAgentError(f"Deployment {namespace}/{name} uses matchExpressions; pass --selector")
    return ",".join(f"{key}={value}" for key, value in sorted((selector.match_labels or {}).items()))


def find_pod(core: client.CoreV1Api, namespace: str, selector: str, timeout: float):
    """The newest pod matching ``selector`` that is not being deleted (waits up to ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        pods = [pod for pod in core.list_namespaced_pod(namespace, label_selector=selector).items
                if pod.metadata.deletion_timestamp is None]
        if pods:
            return max(pods, key=lambda pod: pod.metadata.creation_timestamp)
        if time.monotonic() >= deadline:
            raise PodAgentError(f"no pod matches {selector!r} in namespace {namespace} "
                                f"after {timeout:.0f}s (is kube-controller-manager running?)")
        time.sleep(1)


def injected_containers(pod) -> tuple[object | None, object | None]:
    """The init and sidecar agent containers; raise when the pod was not mutated as asked."""
    name = f"{pod.metadata.namespace}/{pod.metadata.name}"
    annotations = pod.metadata.annotations or {}
    init = next((c for c in pod.spec.init_containers or [] if c.name == INIT_CONTAINER), None)
    sidecar = next((c for c in pod.spec.containers or [] if c.name == SIDECAR_CONTAINER), None)
    volumes_mounted = {m.mount_path for c in (pod.spec.containers or []) for m in (c.volume_mounts or [])}
    want_init = annotations.get(ANNOTATION_PRE_POPULATE, "true").lower() != "false"
    want_sidecar = annotations.get(ANNOTATION_PRE_POPULATE_ONLY, "false").lower() != "true"
    missing = []
    if annotations.get(ANNOTATION_STATUS) != "injected":
        missing.append(f"annotation {ANNOTATION_STATUS}=injected")
    if want_init and init is None:
        missing.append(f"init container {INIT_CONTAINER}")
    if want_sidecar and sidecar is None:
        missing.append(f"sidecar container {SIDECAR_CONTAINER}")
    if SECRETS_MOUNT not in volumes_mounted:
        missing.append(f"a volume mounted at {SECRETS_MOUNT}")
    if missing or (init is None and sidecar is None):
        raise PodAgentError(
            f"the injector did not mutate the pod {name}: missing {', '.join(missing) or 'agent containers'}. "
            "Is the injector running and its MutatingWebhookConfiguration registered, and does the "
            "pod template carry vault.hashicorp.com/agent-inject: \"true\"?")
    return init, sidecar


def agent_config(container) -> dict:
    for env in container.env or []:
        if env.name == "VAULT_CONFIG" and env.value:
            try:
                return json.loads(base64.b64decode(env.value))
            except (ValueError, TypeError) as exc:
                raise PodAgentError(f"VAULT_CONFIG of {container.name} is not base64 JSON: {exc}") from None
    raise PodAgentError(f"container {container.name} carries no VAULT_CONFIG")


def literal_env(container) -> dict[str, str]:
    """The container's plain env values (downward-API values are resolved by the caller)."""
    return {env.name: env.value for env in container.env or []
            if env.value is not None and env.name != "VAULT_CONFIG"}


def service_account_mount(container) -> str:
    for mount in container.volume_mounts or []:
        if "serviceaccount" in mount.mount_path:
            return mount.mount_path.rstrip("/")
    return SERVICE_ACCOUNT_MOUNT


# --------------------------------------------------------------------------- #
# Preparing what the kubelet would provide
# --------------------------------------------------------------------------- #
def rewrite_paths(value, mapping: dict[str, str]):
    """Replace in-pod path prefixes in every string of a JSON value."""
    if isinstance(value, dict):
        return {key: rewrite_paths(item, mapping) for key, item in value.items()}
    if isinstance(value, list):
        return [rewrite_paths(item, mapping) for item in value]
    if isinstance(value, str):
        for prefix, target in mapping.items():
            if value == prefix or value.startswith(prefix + "/"):
                return target + value[len(prefix):]
    return value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def localise(cfg: dict, mapping: dict[str, str], vault_addr: str) -> dict:
    cfg = rewrite_paths(cfg, mapping)
    if vault_addr:
        cfg.setdefault("vault", {})["address"] = vault_addr
    # The pod's loopback is private; on the host the cache listener needs a free port.
    for listener in cfg.get("listener") or []:
        if listener.get("type") == "tcp":
            listener["address"] = f"127.0.0.1:{free_port()}"
    return cfg


def request_token(core: client.CoreV1Api, pod) -> str:
    """A token for the pod's ServiceAccount, bound to the pod, with the API server's
    default audiences: what the kubelet projects into the pod."""
    body = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
        audiences=[],
        expiration_seconds=TOKEN_SECONDS,
        bound_object_ref=client.V1BoundObjectReference(
            api_version="v1", kind="Pod", name=pod.metadata.name, uid=pod.metadata.uid),
    ))
    account = pod.spec.service_account_name or "default"
    try:
        result = core.create_namespaced_service_account_token(account, pod.metadata.namespace, body)
    except ApiException as exc:
        raise PodAgentError(f"TokenRequest for ServiceAccount {pod.metadata.namespace}/{account} failed: "
                            f"{exc.status} {exc.reason}") from None
    return result.status.token


def write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


def provide_service_account(core: client.CoreV1Api, pod, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(directory / "token", request_token(core, pod))
    write_private(directory / "namespace", pod.metadata.namespace)
    try:
        root_ca = core.read_namespaced_config_map("kube-root-ca.crt", pod.metadata.namespace)
        write_private(directory / "ca.crt", (root_ca.data or {}).get("ca.crt", ""))
    except ApiException:
        pass  # the agent does not need it; the projected volume would carry it


def find_agent_binary(explicit: str) -> str:
    candidates = [explicit] if explicit else []
    here = Path(sys.executable).parent
    candidates += [shutil.which("bao"), str(here / "bao"), shutil.which("vault")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise PodAgentError(f"no agent binary found (tried {explicit or 'bao/vault on PATH and next to python'})")


# --------------------------------------------------------------------------- #
# Running the agent
# --------------------------------------------------------------------------- #
def agent_env(container, pod, home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VAULT_", "BAO_"))}
    env.update(literal_env(container))
    env.update({"HOME": str(home), "NAMESPACE": pod.metadata.namespace})
    return env


def template_destinations(cfg: dict) -> list[Path]:
    return [Path(t["destination"]) for t in cfg.get("template") or [] if t.get("destination")]


def write_config(path: Path, cfg: dict) -> None:
    write_private(path, json.dumps(cfg, indent=2))


def run_init(binary: str, cfg_path: Path, env: dict, timeout: float, log_path: Path) -> None:
    with log_path.open("ab") as out:
        try:
            proc = subprocess.run([binary, "agent", f"-config={cfg_path}"], env=env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PodAgentError(f"the init agent did not finish within {timeout:.0f}s; see {log_path}") from None
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        raise PodAgentError(f"the init agent exited with {proc.returncode}; {log_path} ends with:\n"
                            + "\n".join(tail))


USERNAME_LINE = re.compile(r'^export [A-Z_]*USERNAME="?([^"\n]*)"?$', re.MULTILINE)


def rendered_username(path: Path) -> str | None:
    """The login name in a rendered file, or None (the password is never read out)."""
    try:
        match = USERNAME_LINE.search(path.read_text(errors="replace"))
    except OSError:
        return None
    return match.group(1) if match else None


def run_sidecar(binary: str, cfg_path: Path, env: dict, seconds: float, log_path: Path,
                files: list[Path]) -> dict:
    """Run the sidecar agent for ``seconds``; count how often each file is (re)written."""
    def stamps() -> dict[Path, float]:
        return {path: path.stat().st_mtime_ns for path in files if path.exists()}

    renders = {str(path): 0 for path in files}
    # Each (re)render: when (seconds after the agent started), which file and the
    # login name it holds (a *_USERNAME export; a name, not a secret).
    history = []
    started = time.monotonic()
    last = stamps()
    with log_path.open("ab") as out:
        proc = subprocess.Popen([binary, "agent", f"-config={cfg_path}"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.5)
                now = stamps()
                for path, stamp in now.items():
                    if last.get(path) != stamp:
                        renders[str(path)] += 1
                        history.append({"at": round(time.monotonic() - started, 1), "file": path.name,
                                        "username": rendered_username(path)})
                last = now
        finally:
            exited_early = proc.poll() is not None
            if not exited_early:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    return {"seconds": seconds, "renders": renders, "history": history, "exited_early": exited_early,
            "returncode": proc.returncode if exited_early else None, "log": str(log_path)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        api = config.new_client_from_config(config_file=args.kubeconfig, context=args.context)
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        selector = args.selector or deployment_selector(apps, args.namespace, args.deployment)
        pod = find_pod(core, args.namespace, selector, args.timeout)
        pod_name = f"{pod.metadata.namespace}/{pod.metadata.name}"
        init, sidecar = injected_containers(pod)
        log(f"pod {pod_name} carries the injected agent "
            f"({', '.join(c.name for c in (init, sidecar) if c is not None)})")

        workdir = Path(args.workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        workdir.chmod(0o700)
        secrets_dir = workdir / "vault-secrets"
        secrets_dir.mkdir(exist_ok=True, mode=0o700)
        binary = find_agent_binary(args.bao)

        first = init or sidecar
        sa_dir = workdir / "serviceaccount"
        provide_service_account(core, pod, sa_dir)
        log(f"wrote a pod-bound TokenRequest token for ServiceAccount "
            f"{pod.metadata.namespace}/{pod.spec.service_account_name or 'default'}")

        def mapping(container, home: Path) -> dict[str, str]:
            home.mkdir(exist_ok=True, mode=0o700)
            return {service_account_mount(container): str(sa_dir), SECRETS_MOUNT: str(secrets_dir),
                    AGENT_HOME: str(home)}

        init_home = workdir / "home-init"
        init_cfg = localise(agent_config(first), mapping(first, init_home), args.vault_addr)
        init_cfg["exit_after_auth"] = True
        init_cfg_path = workdir / "agent-init.json"
        write_config(init_cfg_path, init_cfg)
        files = template_destinations(init_cfg)
        for path in files:
            path.unlink(missing_ok=True)
        run_init(binary, init_cfg_path, agent_env(first, pod, init_home), args.timeout,
                 workdir / "agent-init.log")
        missing = [str(path) for path in files if not path.exists()]
        if missing:
            raise PodAgentError(f"the init agent exited without rendering {', '.join(missing)}")
        log(f"the init agent rendered {', '.join(path.name for path in files)} into {secrets_dir}")

        result = {
            "pod": pod_name,
            "service_account": pod.spec.service_account_name or "default",
            "vault_addr": (init_cfg.get("vault") or {}).get("address", ""),
            "secrets_dir": str(secrets_dir),
            "files": {path.name: str(path) for path in files},
            "init_log": str(workdir / "agent-init.log"),
            "sidecar": None,
        }
        if args.sidecar_seconds > 0 and sidecar is not None:
            side_home = workdir / "home-sidecar"
            side_cfg = localise(agent_config(sidecar), mapping(sidecar, side_home), args.vault_addr)
            side_cfg_path = workdir / "agent-sidecar.json"
            write_config(side_cfg_path, side_cfg)
            result["sidecar"] = run_sidecar(binary, side_cfg_path, agent_env(sidecar, pod, side_home),
                                            args.sidecar_seconds, workdir / "agent-sidecar.log",
                                            template_destinations(side_cfg))
            log(f"the sidecar agent ran {args.sidecar_seconds:.0f}s: {result['sidecar']['renders']}")
        print(json.dumps(result))
        return 0
    except PodAgentError as exc:
        log(str(exc))
        return 2
    except ApiException as exc:
        log(f"Kubernetes API error: {exc.status} {exc.reason}")
        return 2


if __name__ == "__main__":
    sys.exit(main())

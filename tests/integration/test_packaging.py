"""The collection as users get it: the built tarball, installed with ansible-galaxy and run
against real OpenBao and PostgreSQL; the execution environment build context; a job as AWX /
Automation Controller runs it (ansible-runner, credentials only from injected environment
variables)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

# What users install, and nothing of the development tooling.
SHIPPED = ["LICENSE", "README.md", "CHANGELOG.rst", "changelogs/changelog.yaml", "meta/runtime.yml",
           "meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-bindep.txt",
           "plugins/modules/vault_config.py", "plugins/lookup/local_dir.py", "plugins/filter/kubeconfig.py",
           "roles/webapp/tasks/main.yml", "playbooks/site.yml"]
NOT_SHIPPED = ["tests", "molecule", "scripts", "bench", "Makefile", "requirements.txt", "ansible.cfg",
               "inventory", ".gitignore", ".ansible-lint", ".yamllint", ".ci", "site.yml"]


def _clean_env(**extra):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("VAULT_", "BAO_", "ANSIBLE_"))}
    env.update(PATH="%s:%s" % (VENV_BIN, os.environ.get("PATH", "")), ANSIBLE_NOCOLOR="1")
    env.update(extra)
    return env


def _run(cmd, cwd, env=None, timeout=600):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or _clean_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    _run([VENV_BIN / "ansible-galaxy", "collection", "build", "--output-path", out, REPO_ROOT], cwd=out)
    (path,) = out.glob("dynamic_secrets-vault-*.tar.gz")
    return path


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    """The tarball installed into an empty collections path (dependencies come from the
    ``ansible`` package, as Galaxy is not reachable here)."""
    path = tmp_path_factory.mktemp("collections")
    _run([VENV_BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", path, tarball], cwd=path)
    assert (path / "ansible_collections" / "dynamic_secrets" / "vault" / "MANIFEST.json").is_file()
    return path


def test_tarball_holds_only_what_users_install(tarball):
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    tops = {name.split("/")[0] for name in names}
    missing = [name for name in SHIPPED if name not in names]
    extra = [name for name in NOT_SHIPPED if name in tops]
    assert not missing and not extra, (missing, extra)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_installed_tarball_runs_a_module_against_openbao(installed, openbao, vault, unique_name, tmp_path):
    """A playbook outside the repository, with only the installed collection on its path,
    writes a policy; its re-run changes nothing."""
    name = unique_name("from-tarball")
    (tmp_path / "ansible.cfg").write_text("[defaults]\ncollections_path = %s\n" % installed)
    (tmp_path / "play.yml").write_text(textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          tasks:
            - dynamic_secrets.vault.vault_policy:
                name: %s
                policy: 'path "database/creds/x" { capabilities = ["read"] }'
        """ % name))
    env = _clean_env(ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), HOME=str(tmp_path), **openbao.env())
    cmd = [VENV_BIN / "ansible-playbook", "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable, "play.yml"]
    first = _run(cmd, cwd=tmp_path, env=env)
    try:
        assert "changed=1" in first, first
        assert name in vault.sys.list_acl_policies()["data"]["keys"]
        second = _run(cmd, cwd=tmp_path, env=env)
        assert "changed=0" in second, second
        doc = _run([VENV_BIN / "ansible-doc", "dynamic_secrets.vault.vault_config"], cwd=tmp_path, env=env)
        assert "prune_keep" in doc
    finally:
        vault.sys.delete_policy(name)


def test_execution_environment_definition_builds_a_context(installed, tarball, tmp_path):
    """ansible-builder reads the collection's requirements and writes a build context with a
    Containerfile (building the image needs a container engine, which these machines lack)."""
    deps = _run([VENV_BIN / "ansible-builder", "introspect", installed], cwd=tmp_path)
    data = yaml.safe_load(deps.split("---", 1)[1])
    python = " ".join(data["python"])
    assert all(pkg in python for pkg in ("hvac", "kubernetes", "psycopg2-binary")), deps
    assert any(line.startswith("postgresql-client") for line in data["system"]), deps

    (tmp_path / tarball.name).write_bytes(tarball.read_bytes())
    (tmp_path / "requirements.yml").write_text(
        "collections:\n  - name: /build/%s\n    type: file\n" % tarball.name)
    (tmp_path / "execution-environment.yml").write_text(textwrap.dedent("""\
        version: 3
        images:
          base_image:
            name: quay.io/fedora/python-311:latest
        dependencies:
          ansible_core:
            package_pip: ansible-core==2.19.14
          ansible_runner:
            package_pip: ansible-runner==2.4.3
          galaxy: requirements.yml
        additional_build_files:
          - src: %s
            dest: .
        additional_build_steps:
          prepend_galaxy:
            - COPY _build/%s /build/%s
        """ % (tarball.name, tarball.name, tarball.name)))
    _run([VENV_BIN / "ansible-builder", "create", "-f", "execution-environment.yml", "-c", "context",
          "--output-filename", "Containerfile"], cwd=tmp_path)
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile or "assemble" in containerfile
    assert (tmp_path / "context" / "_build" / tarball.name).is_file()
    assert (tmp_path / "context" / "_build" / "requirements.yml").is_file()


def _job_events(artifacts):
    events = []
    for path in sorted(artifacts.glob("job_events/*.json")):
        events.append(json.loads(path.read_text()))
    return events


def test_ansible_runner_job_like_awx(tarball, openbao, vault, postgres, mount_point, tmp_path):
    """A job template run: private data directory, collection installed from the project's
    collections/requirements.yml, Vault address and token only from injected environment
    variables, no prompts. The re-run's stats say changed=0 and no artifact holds a secret."""
    user, password = postgres.create_admin_role()
    pdd = tmp_path / "pdd"
    project = pdd / "project"
    (project / "collections").mkdir(parents=True)
    (project / tarball.name).write_bytes(tarball.read_bytes())
    (project / "collections" / "requirements.yml").write_text(
        "collections:\n  - name: ./%s\n    type: file\n" % tarball.name)
    _run([VENV_BIN / "ansible-galaxy", "collection", "install", "--offline", "-r", "collections/requirements.yml",
          "-p", "collections"], cwd=project)
    (project / "job.yml").write_text(textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: The database connection and a role, in one task
              dynamic_secrets.vault.vault_config:
                database:
                  - mount_point: %(mount)s
                    connections:
                      - name: appdb
                        connection_url: !unsafe "postgresql://{{username}}:{{password}}@%(host)s:%(port)s/%(db)s?sslmode=disable"
                        username: %(user)s
                        password: "{{ lookup('ansible.builtin.env', 'DB_ADMIN_PASSWORD') }}"
                        allowed_roles: [ro]
                    roles:
                      - name: ro
                        db_name: appdb
                        creation_statements:
                          - !unsafe "CREATE ROLE \\"{{name}}\\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"
                        default_ttl: 1h
        """ % dict(mount=mount_point, host=postgres.host, port=postgres.port, db=postgres.dbname, user=user)))
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    (pdd / "env").mkdir()
    # What a custom credential type injects; the token and password exist nowhere else.
    (pdd / "env" / "envvars").write_text(yaml.safe_dump({
        "VAULT_ADDR": openbao.addr, "VAULT_TOKEN": openbao.token, "DB_ADMIN_PASSWORD": password,
        "ANSIBLE_COLLECTIONS_PATH": str(project / "collections"), "HOME": str(tmp_path)}))
    env = _clean_env()
    stats = []
    for ident in ("first", "second"):
        _run([VENV_BIN / "ansible-runner", "run", pdd, "-p", "job.yml", "--ident", ident], cwd=tmp_path, env=env)
        artifacts = pdd / "artifacts" / ident
        assert (artifacts / "rc").read_text().strip() == "0", (artifacts / "stdout").read_text()[-3000:]
        (stat,) = [e for e in _job_events(artifacts) if e.get("event") == "playbook_on_stats"]
        stats.append(stat["event_data"]["changed"])
    assert stats[0] == {"localhost": 1}, stats
    assert stats[1] == {}, stats  # no host changed anything
    assert vault.read("%s/roles/ro" % mount_point)["data"]["default_ttl"] == 3600

    # ansible-runner's own artifacts/<ident>/command records the environment it gave
    # ansible-playbook (the injected credentials, by design; AWX deletes the private data
    # directory after the job). Everything the job itself printed or emitted is checked.
    leaked = []
    for path in (pdd / "artifacts").rglob("*"):
        if path.is_file() and path.name != "command":
            text = path.read_text(errors="replace")
            leaked += [(str(path.relative_to(pdd)), label) for label, value in
                       (("Vault token", openbao.token), ("DB admin password", password)) if value in text]
    assert leaked == []

"""The PostgreSQL credential lifecycle past the runbook, against real OpenBao and PostgreSQL:
orphaned logins found and dropped, static roles that rotate, credentials read through the
lookup, and the read-only ``_info`` modules."""

from __future__ import annotations

import sys
import time
import uuid

import pytest

from tests.integration.fixtures_servers import configure_database_engine

from ansible_collections.dynamic_secrets.vault.plugins.module_utils import _postgres

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

CREATE_LOGIN = "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"

ORPHANS_TASK = """
- name: orphans
  dynamic_secrets.vault.vault_db_orphans:
    mount_point: "{{ mount }}"
    username_prefix: "{{ prefix }}"
    owner_role: webapp_owner
    state: "{{ state }}"
    tolerance: 2
    min_age: 0
    login_host: 127.0.0.1
    port: "{{ pg_port }}"
    login_db: appdb
    login_user: vault_admin
    login_password: "{{ pg_password }}"
    ssl_mode: disable
"""


def _engine_with_clean_revocation(vault, postgres, mount, role, username_template=None):
    """A mount whose role uses the collection's creation grant and revocation statements."""
    engine = configure_database_engine(vault, postgres, mount, allowed_roles=["*"], with_roles=False)
    if username_template:
        config = vault.read(f"{mount}/config/appdb")["data"]
        vault.write_data(f"{mount}/config/appdb", data={
            "plugin_name": config["plugin_name"], "connection_url": postgres.connection_url(),
            "username": engine.admin_user, "password": engine.admin_password,
            "allowed_roles": ["*"], "username_template": username_template})
    vault.write_data(f"{mount}/roles/{role}", data={
        "db_name": "appdb",
        "creation_statements": [CREATE_LOGIN, _postgres.creation_grant(engine.admin_user),
                                'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";'],
        "revocation_statements": _postgres.revocation_statements("webapp_owner"),
        "default_ttl": "1h", "max_ttl": "24h"})
    return engine


def test_a_login_whose_lease_was_force_revoked_while_postgres_was_down_is_found_and_dropped(
        server, vault, postgres, playbook, mount_point):
    """PostgreSQL is down when the lease is force-revoked, so Vault forgets a login that still
    works. Check mode reports exactly that login; state=absent drops it (its table goes to the
    owner role) and leaves the backed login and every other role alone; a re-run finds nothing."""
    prefix = f"t{uuid.uuid4().hex[:6]}-"
    _engine_with_clean_revocation(vault, postgres, mount_point, "rw",
                                  username_template=prefix + "{{.RoleName}}-{{random 8}}-{{unix_time}}")
    lost = vault.read(f"{mount_point}/creds/rw")
    time.sleep(3)  # more than the tolerance: the two logins' creation times must differ
    kept = vault.read(f"{mount_point}/creds/rw")
    lost_user, lost_password = lost["data"]["username"], lost["data"]["password"]
    kept_user, kept_password = kept["data"]["username"], kept["data"]["password"]
    assert lost_user.startswith(prefix) and kept_user.startswith(prefix)
    bystander = f"{prefix}manual"  # the prefix but no lease and no time: only reported
    postgres.superuser_query(f'CREATE ROLE "{bystander}" LOGIN')
    table = f"t_{uuid.uuid4().hex[:8]}"
    # vault_admin owns appdb here, so it grants as the schema's owner, like creation statements would.
    postgres.superuser_query(f'SET ROLE vault_admin; GRANT CREATE ON SCHEMA public TO "{lost_user}"; RESET ROLE')
    conn = postgres.connect(lost_user, lost_password)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id int)")
        cur.execute(f"INSERT INTO public.{table} VALUES (7)")
    conn.close()

    postgres.stop()
    try:
        vault.sys.revoke_force(lost["lease_id"])
    finally:
        postgres.start()
    assert postgres.can_login(lost_user, lost_password), "the lost login should still work"
    assert vault.sys.list_leases(f"{mount_point}/creds/rw/")["data"]["keys"] == [kept["lease_id"].rsplit("/", 1)[1]]

    ev = {"mount": mount_point, "prefix": prefix, "pg_port": postgres.port, "pg_password": postgres.admin_password}
    mark = server.mark()
    report = playbook(ORPHANS_TASK, extra_vars={**ev, "state": "absent"}, check=True)["orphans"]
    server.assert_no_writes(mark)
    assert report["changed"] is True
    assert [o["username"] for o in report["orphans"]] == [lost_user]
    assert report["dropped"] == [] and report["backed"] == 1 and report["leases"] == 1
    assert [u["username"] for u in report["undecided"]] == [bystander]
    assert postgres.can_login(lost_user, lost_password)

    result = playbook(ORPHANS_TASK, extra_vars={**ev, "state": "absent"})["orphans"]
    assert result["changed"] is True and result["dropped"] == [lost_user]
    assert not postgres.role_exists(lost_user)
    assert not postgres.can_login(lost_user, lost_password)
    assert postgres.superuser_query(
        "SELECT tableowner FROM pg_tables WHERE tablename = %s", (table,)) == [("webapp_owner",)]
    assert postgres.superuser_query(f"SELECT id FROM public.{table}") == [(7,)]
    assert postgres.can_login(kept_user, kept_password), "a backed login must never be dropped"
    assert postgres.role_exists(bystander) and postgres.role_exists("vault_admin")

    again = playbook(ORPHANS_TASK, extra_vars={**ev, "state": "absent"})["orphans"]
    assert again["changed"] is False and again["orphans"] == []
    assert "irrevocable_leases" in again
    postgres.superuser_query(f'DROP ROLE "{bystander}"')
    vault.sys.revoke_lease(kept["lease_id"])
    assert not postgres.role_exists(kept_user)


def test_a_login_past_its_valid_until_is_an_orphan(server, vault, postgres, playbook, mount_point):
    """A login whose VALID UNTIL has passed is reported even when its creation time matches a lease."""
    prefix = f"t{uuid.uuid4().hex[:6]}-"
    _engine_with_clean_revocation(vault, postgres, mount_point, "rw",
                                  username_template=prefix + "{{.RoleName}}-{{random 8}}-{{unix_time}}")
    creds = vault.read(f"{mount_point}/creds/rw")
    user = creds["data"]["username"]
    postgres.superuser_query(f"ALTER ROLE \"{user}\" VALID UNTIL '2001-01-01'")
    ev = {"mount": mount_point, "prefix": prefix, "pg_port": postgres.port,
          "pg_password": postgres.admin_password, "state": "present"}
    result = playbook(ORPHANS_TASK, extra_vars=ev)["orphans"]
    assert result["changed"] is False and result["dropped"] == []
    assert [(o["username"], "VALID UNTIL" in o["reason"]) for o in result["orphans"]] == [(user, True)]
    vault.sys.revoke_lease(creds["lease_id"])


STATIC_TASK = """
- name: static
  dynamic_secrets.vault.vault_db_static_role:
    name: "{{ role }}"
    mount_point: "{{ mount }}"
    db_name: appdb
    username: "{{ user }}"
    rotation_period: "{{ period }}"
"""

STATIC_READ = """
- name: read
  dynamic_secrets.vault.vault_db_credentials:
    role: "{{ role }}"
    mount_point: "{{ mount }}"
    static: true
  no_log: true
  register: read

- name: show
  ansible.builtin.copy:
    content: "{{ read | to_json }}"
    dest: "{{ out }}"
    mode: "0600"
"""


def test_static_role_is_idempotent_and_its_password_rotates(server, vault, postgres, playbook, mount_point,
                                                            tmp_path):
    """A static role maps an existing login to Vault: check mode writes nothing, the first run
    rotates the password it had, a re-run (10s == "10s") writes nothing, and after
    rotation_period the password read through vault_db_credentials changes and the old one
    stops working."""
    configure_database_engine(vault, postgres, mount_point, allowed_roles=["*"], with_roles=False)
    user = f"static_{uuid.uuid4().hex[:8]}"
    postgres.superuser_query(f"CREATE ROLE \"{user}\" LOGIN PASSWORD 'initial-pw-0'")
    ev = {"role": "reporting", "mount": mount_point, "user": user, "period": "10s"}

    mark = server.mark()
    assert playbook(STATIC_TASK, extra_vars=ev, check=True)["static"]["changed"] is True
    server.assert_no_writes(mark)
    assert vault.read(f"{mount_point}/static-roles/reporting") is None

    assert playbook(STATIC_TASK, extra_vars=ev)["static"]["changed"] is True
    assert vault.read(f"{mount_point}/static-roles/reporting")["data"]["rotation_period"] == 10
    mark = server.mark()
    again = playbook(STATIC_TASK, extra_vars={**ev, "period": 10})
    assert again["static"]["changed"] is False
    server.assert_no_writes(mark)
    assert not postgres.can_login(user, "initial-pw-0"), "Vault rotates the password on import"

    out = tmp_path / "read.json"
    import json

    first = playbook(STATIC_READ, extra_vars={**ev, "out": str(out)})
    assert first["read"]["changed"] is False
    creds = json.loads(out.read_text())
    assert creds["username"] == user and creds["rotation_period"] == 10
    assert postgres.can_login(user, creds["password"])

    deadline = time.monotonic() + 40
    newer = creds
    while newer["password"] == creds["password"] and time.monotonic() < deadline:
        time.sleep(2)
        newer = vault.read(f"{mount_point}/static-creds/reporting")["data"]
    assert newer["password"] != creds["password"], "the password did not rotate within 40 s"
    assert postgres.can_login(user, newer["password"])
    assert not postgres.can_login(user, creds["password"]), "the old password must stop working"

    assert playbook(STATIC_TASK.replace('rotation_period: "{{ period }}"', "state: absent"),
                    extra_vars=ev)["static"]["changed"] is True
    postgres.superuser_query(f'DROP ROLE "{user}"')


def test_static_role_bad_period_fails_before_any_write(server, playbook, mount_point):
    """A rotation period under Vault's 5 s minimum names the option and the path; nothing is written."""
    mark = server.mark()
    result = playbook(STATIC_TASK, extra_vars={"role": "r", "mount": mount_point, "user": "u", "period": "2s"},
                      expect_failure=True)
    assert "rotation_period" in result["static"]["msg"]
    assert f"{mount_point}/static-roles/r" in result["static"]["msg"]
    server.assert_no_writes(mark)


LOOKUP_TASKS = """
- name: issue
  ansible.builtin.set_fact:
    login: "{{ lookup('dynamic_secrets.vault.db_credentials', 'webapp-readonly', mount_point=mount) }}"
  no_log: true

- name: save
  ansible.builtin.copy:
    content: "{{ login | to_json }}"
    dest: "{{ out }}"
    mode: "0600"
"""


def test_lookup_issues_a_working_login_with_the_env_connection(server, vault, postgres, playbook,
                                                               database_engine, tmp_path):
    """The lookup takes VAULT_ADDR/VAULT_TOKEN from the environment like the modules, issues a login
    that works in PostgreSQL with its lease, and with -vvv nothing prints its password."""
    import json

    out = tmp_path / "login.json"
    result = playbook(LOOKUP_TASKS, extra_vars={"mount": database_engine.mount_point, "out": str(out)},
                      verbosity=3)
    login = json.loads(out.read_text())
    assert login["lease_id"].startswith(f"{database_engine.mount_point}/creds/webapp-readonly/")
    assert login["lease_duration"] == 3600
    assert postgres.can_login(login["username"], login["password"])
    assert login["password"] not in result.output
    vault.sys.revoke_lease(login["lease_id"])
    assert not postgres.role_exists(login["username"])


def test_lookup_failure_names_the_path(server, playbook, database_engine):
    """A role that does not exist fails the lookup with the Vault path in the message."""
    result = playbook("""
- name: issue
  ansible.builtin.debug:
    msg: "{{ lookup('dynamic_secrets.vault.db_credentials', 'nope', mount_point=mount) }}"
""", extra_vars={"mount": database_engine.mount_point}, expect_failure=True)
    assert f"{database_engine.mount_point}/creds/nope" in result.output


INFO_TASKS = """
- name: role
  dynamic_secrets.vault.vault_db_role_info:
    name: webapp-readonly
    mount_point: "{{ mount }}"

- name: missing
  dynamic_secrets.vault.vault_db_role_info:
    name: nope
    mount_point: "{{ mount }}"

- name: roles
  dynamic_secrets.vault.vault_db_role_info:
    mount_point: "{{ mount }}"

- name: connection
  dynamic_secrets.vault.vault_db_connection_info:
    name: appdb
    mount_point: "{{ mount }}"

- name: connections
  dynamic_secrets.vault.vault_db_connection_info:
    mount_point: "{{ mount }}"
"""


@pytest.mark.parametrize("check", [False, True], ids=["normal", "check-mode"])
def test_info_modules_read_without_writing_or_returning_a_password(server, postgres, playbook,
                                                                   database_engine, check):
    """The _info modules return the normalised role (TTLs in seconds) and the connection without
    its password, list a mount's objects, report a missing one, and write nothing, in check
    mode too."""
    mark = server.mark()
    result = playbook(INFO_TASKS, extra_vars={"mount": database_engine.mount_point}, check=check, verbosity=3)
    server.assert_no_writes(mark)
    assert postgres.admin_password not in result.output
    result = playbook(INFO_TASKS, extra_vars={"mount": database_engine.mount_point}, check=check)
    role = result["role"]
    assert role["changed"] is False and role["exists"] is True
    assert role["object"]["default_ttl"] == 3600 and role["object"]["max_ttl"] == 86400
    assert role["object"]["db_name"] == "appdb"
    assert result["missing"]["exists"] is False and result["missing"]["object"] == {}
    assert sorted(result["roles"]["objects"]) == ["webapp-readonly", "webapp-readwrite"]
    connection = result["connection"]["object"]
    assert connection["username"] == "vault_admin"
    assert connection["allowed_roles"] == ["webapp-readonly", "webapp-readwrite"]
    assert "password" not in connection
    assert sorted(result["connections"]["objects"]) == ["appdb"]
    assert postgres.admin_password not in result.output


COHERENCE_PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: kubernetes_auth
"""


@pytest.mark.parametrize("token_ttl,warned", [("1h", True), ("24h", False)])
def test_kubernetes_auth_preflight_warns_when_tokens_die_before_the_db_leases(
        server, playbook, database_engine, tmp_path, token_ttl, warned):
    """The database roles allow leases of 24h (max_ttl); an auth role whose tokens live 1h
    gets a warning naming both numbers, one whose tokens live 24h gets none."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    result = playbook(COHERENCE_PLAY, verbosity=1, extra_vars={
        "kubernetes_auth_kubeconfig": str(kubeconfig), "kubernetes_auth_role_ttl": token_ttl,
        "kubernetes_auth_db_mount_point": database_engine.mount_point,
        "ansible_python_interpreter": sys.executable,
    }, env={"ANSIBLE_RUN_TAGS": "kubernetes_auth_preflight"})
    text = " ".join(result.output.split())
    warning = ("[WARNING]: Kubernetes auth role 'webapp' issues tokens with a TTL of 3600s, shorter than the "
               "max_ttl of 86400s of database role 'webapp-readonly'")
    assert (warning in text) is warned, result.output[-3000:]
    assert ("database role 'webapp-readwrite'" in text) is warned
    if not warned:
        assert "[WARNING]: Kubernetes auth role" not in text


def test_info_modules_list_a_mount_without_objects(server, vault, postgres, playbook, mount_point):
    """A mount with a connection but no role yet: listing its roles returns none (Vault answers
    the LIST with 404), it does not fail."""
    configure_database_engine(vault, postgres, mount_point, with_roles=False)
    result = playbook("""
- name: roles
  dynamic_secrets.vault.vault_db_role_info:
    mount_point: "{{ mount }}"
""", extra_vars={"mount": mount_point})
    assert result["roles"]["changed"] is False and result["roles"]["objects"] == {}

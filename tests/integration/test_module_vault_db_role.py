"""dynamic_secrets.vault.vault_db_role against real OpenBao and PostgreSQL (runbook step 4)."""

from __future__ import annotations

import pytest

from tests.integration.fixtures_servers import configure_database_engine

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

# `{% raw %}` keeps Vault's {{name}}/{{password}}/{{expiration}} away from Jinja
# (the README shows this form next to `!unsafe`).
TASK = """
- name: role
  dynamic_secrets.vault.vault_db_role:
    name: "{{ role_name }}"
    mount_point: "{{ mount }}"
    db_name: appdb
    creation_statements:
      - "{% raw %}CREATE ROLE \\"{{name}}\\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';{% endraw %}"
      - "{% raw %}GRANT SELECT ON ALL TABLES IN SCHEMA public TO \\"{{name}}\\";{% endraw %}"
    default_ttl: "{{ default_ttl | default('1h') }}"
    max_ttl: "{{ max_ttl | default('24h') }}"
"""

ABSENT_TASK = """
- name: role
  dynamic_secrets.vault.vault_db_role:
    name: "{{ role_name }}"
    mount_point: "{{ mount }}"
    state: absent
"""

CREATION = [
    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{name}}\";",
]
ROLE = "webapp-reporting"


@pytest.fixture()
def engine(vault, postgres, mount_point):
    return configure_database_engine(vault, postgres, mount_point, allowed_roles=["*"], with_roles=False)


def stored_role(vault, mount, name=ROLE):
    data = vault.read(f"{mount}/roles/{name}")
    return None if data is None else data["data"]


def test_role_lifecycle(server, vault, postgres, playbook, engine):
    """The runbook's read-only role is created with TTLs 1h/24h, issues working logins, is left
    alone when unchanged, and is deleted once; check mode writes nothing."""
    ev = {"role_name": ROLE, "mount": engine.mount_point}

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev, check=True)
    assert result["role"]["changed"] is True
    server.assert_no_writes(mark)
    assert stored_role(vault, engine.mount_point) is None

    result = playbook(TASK, extra_vars=ev)
    assert result["role"]["changed"] is True
    assert result["role"]["path"] == f"{engine.mount_point}/roles/{ROLE}"
    stored = stored_role(vault, engine.mount_point)
    assert stored["db_name"] == "appdb"
    assert stored["creation_statements"] == CREATION
    assert stored["default_ttl"] == 3600
    assert stored["max_ttl"] == 86400

    creds = vault.read(f"{engine.mount_point}/creds/{ROLE}")
    assert creds["lease_duration"] == 3600
    conn = postgres.connect(creds["data"]["username"], creds["data"]["password"])
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public.items")
    conn.close()

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev)
    assert result["role"]["changed"] is False
    server.assert_no_writes(mark)

    mark = server.mark()
    result = playbook(ABSENT_TASK, extra_vars=ev, check=True)
    assert result["role"]["changed"] is True
    server.assert_no_writes(mark)
    assert stored_role(vault, engine.mount_point) is not None

    result = playbook(ABSENT_TASK, extra_vars=ev)
    assert result["role"]["changed"] is True
    assert stored_role(vault, engine.mount_point) is None

    mark = server.mark()
    result = playbook(ABSENT_TASK, extra_vars=ev)
    assert result["role"]["changed"] is False
    server.assert_no_writes(mark)


def test_equivalent_spellings_are_not_changes(server, vault, playbook, engine):
    """TTLs written as seconds or durations and a statement given as a string or a one-item
    list are the same thing to Vault, so switching spelling reports no change and sends no write."""
    ev = {"role_name": ROLE, "mount": engine.mount_point}
    ev_unsafe = """
- name: role
  dynamic_secrets.vault.vault_db_role:
    name: "{{ role_name }}"
    mount_point: "{{ mount }}"
    db_name: appdb
    creation_statements: !unsafe
      - CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';
      - GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";
    revocation_statements: !unsafe 'DROP ROLE IF EXISTS "{{name}}";'
    default_ttl: 1h
    max_ttl: 24h
"""
    result = playbook(ev_unsafe, extra_vars=ev)
    assert result["role"]["changed"] is True
    assert stored_role(vault, engine.mount_point)["revocation_statements"] == ['DROP ROLE IF EXISTS "{{name}}";']

    respelled = ev_unsafe.replace("default_ttl: 1h", "default_ttl: 3600").replace(
        "max_ttl: 24h", 'max_ttl: "1440m"').replace(
        "revocation_statements: !unsafe 'DROP ROLE IF EXISTS \"{{name}}\";'",
        "revocation_statements: !unsafe\n      - 'DROP ROLE IF EXISTS \"{{name}}\";'")
    assert respelled != ev_unsafe
    mark = server.mark()
    result = playbook(respelled, extra_vars=ev)
    assert result["role"]["changed"] is False
    server.assert_no_writes(mark)


def test_ttl_change_is_applied_and_diffed(server, vault, playbook, engine):
    """Shortening default_ttl is a change: check mode predicts it without writing, diff mode shows
    the TTL before and after in seconds, and the apply stores it."""
    ev = {"role_name": ROLE, "mount": engine.mount_point}
    playbook(TASK, extra_vars=ev)

    ev["default_ttl"] = "30m"
    mark = server.mark()
    result = playbook(TASK, extra_vars=ev, check=True, diff=True)
    assert result["role"]["changed"] is True
    server.assert_no_writes(mark)
    assert result["role"]["diff"]["before"]["default_ttl"] == 3600
    assert result["role"]["diff"]["after"]["default_ttl"] == 1800
    assert stored_role(vault, engine.mount_point)["default_ttl"] == 3600

    result = playbook(TASK, extra_vars=ev, diff=True)
    assert result["role"]["changed"] is True
    assert stored_role(vault, engine.mount_point)["default_ttl"] == 1800
    assert stored_role(vault, engine.mount_point)["max_ttl"] == 86400

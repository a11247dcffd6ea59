"""Pure logic of the credential lifecycle: matching logins to leases, the revocation SQL,
and the lease-coherence rule."""

import pytest

from ansible_collections.dynamic_secrets.vault.plugins.action.lease_coherence import incoherent
from ansible_collections.dynamic_secrets.vault.plugins.module_utils import _postgres
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._orphans import created_at, judge, parse_time

NOW = 1_800_000_000


def login(name, valid_until=None):
    return dict(username=name, valid_until=valid_until)


def lease(issued, expires=None):
    return dict(lease_id="database/creds/r/x", issue_time=issued, expire_time=expires)


def test_parse_time_handles_vault_nanoseconds_and_offsets():
    assert parse_time("2027-01-15T08:00:00.123456789Z") == pytest.approx(1800000000.123456)
    assert parse_time("2027-01-15T09:00:00+01:00") == 1800000000
    assert parse_time(None) is None


def test_created_at_reads_the_default_templates_unix_time():
    assert created_at("v-root-webapp-r-bVfl8UI3WMI5Tog6nuMP-1796161165") == 1796161165
    assert created_at("reporting") is None
    assert created_at("v-x-12345") is None


def test_a_login_with_a_lease_issued_at_its_creation_is_backed():
    orphans, backed, undecided = judge([login("v-a-%d" % (NOW - 600), NOW + 3000)], [lease(NOW - 599.4)], NOW)
    assert (orphans, len(backed), undecided) == ([], 1, [])


def test_a_login_without_a_lease_is_an_orphan():
    orphans, backed, _undecided = judge([login("v-a-%d" % (NOW - 600), NOW + 3000)], [lease(NOW - 100)], NOW)
    assert [o["username"] for o in orphans] == ["v-a-%d" % (NOW - 600)] and backed == []
    assert "no lease" in orphans[0]["reason"]


def test_a_login_past_valid_until_is_an_orphan_even_with_a_matching_lease():
    orphans, backed, _undecided = judge([login("v-a-%d" % (NOW - 600), NOW - 60)], [lease(NOW - 600)], NOW)
    assert len(orphans) == 1 and "VALID UNTIL" in orphans[0]["reason"] and backed == []


def test_a_young_login_is_never_an_orphan():
    orphans, backed, undecided = judge([login("v-a-%d" % (NOW - 10), NOW + 3000)], [], NOW, min_age=60)
    assert orphans == [] and backed == [] and len(undecided) == 1


def test_without_a_creation_time_the_expiry_decides():
    logins = [login("custom-1", NOW + 3600), login("custom-2", NOW + 7200), login("custom-3")]
    orphans, backed, undecided = judge(logins, [lease(NOW - 5, NOW + 3601)], NOW)
    assert [b["username"] for b in backed] == ["custom-1"]
    assert [o["username"] for o in orphans] == ["custom-2"]
    assert [u["username"] for u in undecided] == ["custom-3"]


def test_revocation_statements_quote_the_owner_and_keep_vaults_placeholder():
    [block] = _postgres.revocation_statements("it's")
    assert "'it''s'" in block and "{{name}}" in block
    assert "REASSIGN OWNED" in block and "DROP OWNED" in block and "pg_terminate_backend" in block
    with pytest.raises(ValueError):
        _postgres.revocation_statements("")


def test_render_fills_the_name_and_refuses_quotes():
    assert _postgres.render(_postgres.creation_grant('ad"min'), "v-1") == 'GRANT "v-1" TO "ad""min";'
    with pytest.raises(ValueError):
        _postgres.render("{{name}}", "x'; DROP TABLE t; --")


def test_lease_coherence_warns_with_both_numbers():
    [warning] = incoherent("webapp", "1h", {"webapp-readonly": "24h", "short": 1800, "system": 0})
    assert "3600s" in warning and "86400s" in warning and "'webapp-readonly'" in warning
    assert incoherent("webapp", "24h", {"webapp-readonly": 86400}) == []
    assert incoherent("webapp", 0, {"webapp-readonly": 86400}) == []

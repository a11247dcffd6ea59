#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_db_orphans
short_description: Find and drop PostgreSQL logins that Vault created but no lease backs
version_added: 0.3.0
description:
  - A lease that Vault could not revoke (PostgreSQL was down, the login owned a table, the lease was
    force-revoked) leaves its login in PostgreSQL, able to log in until its C(VALID UNTIL). This module
    lists the logins whose name starts with O(username_prefix) that no live lease under the
    O(mount_point) mounts backs and, with O(state=absent), drops them.
  - Vault's lease lookup does not return the username, so logins are matched to leases by time. The
    default username template ends with the creation time, and C(VALID UNTIL) carries the lease's
    expiry. A login whose C(VALID UNTIL) has passed is an orphan. A login younger than O(min_age) is
    left alone. A login whose name ends with its creation time is backed when a lease was issued within
    O(tolerance) seconds of it. Any other login is backed when a lease expires within O(tolerance)
    seconds of its C(VALID UNTIL). A login that cannot be judged is only reported, in RV(undecided).
  - Dropping uses the same statements as the C(database_secrets) role's revocation
    (P(dynamic_secrets.vault.postgresql_revocation_statements#filter)). They end the login's sessions,
    reassign what it owns to O(owner_role), drop its privileges and then the login.
  - It never touches a login without the prefix, a superuser or the login it connects as.
  - Also reports the irrevocable leases under the mounts when the server lists them (C(sys/leases?type=irrevocable),
    HashiCorp Vault 1.8 and later). Otherwise RV(irrevocable_leases) is null.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.connection
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports the orphans and whether it would drop them; drops nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action_group:
    description: Use C(group/dynamic_secrets.vault.vault) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - dynamic_secrets.vault.vault
options:
  mount_point:
    description:
      - The database secrets mounts whose leases may back the logins. List every mount that issues
        logins in this database, or their logins look like orphans.
    type: list
    elements: str
    default: [database]
  username_prefix:
    description: Only logins whose name starts with this are considered (the username template's prefix).
    type: str
    default: v-
  owner_role:
    description: Role that receives what a dropped login owned. Required with O(state=absent).
    type: str
  state:
    description: V(present) only reports the orphans; V(absent) drops them.
    type: str
    choices: [present, absent]
    default: present
  tolerance:
    description: Seconds between a login's times and a lease's times that still count as a match.
    type: int
    default: 5
  min_age:
    description: Logins created less than this many seconds ago are never orphans.
    type: int
    default: 60
  login_host:
    description: PostgreSQL host.
    type: str
    default: 127.0.0.1
  port:
    description: PostgreSQL port.
    type: int
    default: 5432
  login_db:
    description: The database Vault's connection uses (objects are reassigned there).
    type: str
    required: true
  login_user:
    description:
      - The login to connect as. Use the admin login of Vault's connection (the member of each login
        that granted its privileges) or a superuser.
    type: str
    required: true
  login_password:
    description: Its password.
    type: str
  ssl_mode:
    description: libpq sslmode.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
requirements:
  - psycopg2
notes:
  - The token needs C(sudo) on C(sys/leases/lookup/<mount_point>/creds/*) (listing leases) and
    C(update) on C(sys/leases/lookup).
  - Logins of another Vault cluster or another mount that writes to the same database look like
    orphans unless their mounts are listed; give a O(username_prefix) that only this Vault uses.
"""

EXAMPLES = r"""
- name: Report orphaned logins (drops nothing)
  dynamic_secrets.vault.vault_db_orphans:
    login_host: db.example.com
    login_db: appdb
    login_user: postgres
    login_password: "{{ postgres_password }}"
  register: orphans

- name: Drop them, handing what they own to webapp_owner
  dynamic_secrets.vault.vault_db_orphans:
    login_host: db.example.com
    login_db: appdb
    login_user: postgres
    login_password: "{{ postgres_password }}"
    owner_role: webapp_owner
    state: absent
"""

RETURN = r"""
orphans:
  description: Logins that no lease backs, with why.
  returned: always
  type: list
  elements: dict
  sample:
    - username: v-root-webapp-r-bVfl8UI3WMI5Tog6nuMP-1796161165
      created: 1796161165
      valid_until: 1796164765.0
      reason: no lease was issued when it was created
dropped:
  description: Logins dropped by this run (empty in check mode).
  returned: always
  type: list
  elements: str
backed:
  description: How many logins a live lease backs.
  returned: always
  type: int
undecided:
  description: Logins that could not be judged (too young, or nothing to match on), with why.
  returned: always
  type: list
  elements: dict
leases:
  description: How many live leases the mounts hold.
  returned: always
  type: int
irrevocable_leases:
  description: Irrevocable leases under the mounts, or null when the server does not list them.
  returned: always
  type: list
  elements: dict
"""

import time

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultModuleError
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._leases import leases_under, lookup_lease
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import new_module, run
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._orphans import judge, parse_time
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._postgres import render, revocation_statements

try:
    import psycopg2

    HAS_PSYCOPG2 = True
except ImportError:  # reported through missing_required_lib
    HAS_PSYCOPG2 = False


def live_leases(client, mount_points):
    """Every lease under ``<mount>/creds/`` with its issue and expiry time (epoch seconds)."""
    leases = []
    for mount in mount_points:
        for lease_id in leases_under(client, "%s/creds" % mount.strip("/")):
            data = lookup_lease(client, lease_id)
            if data is None:  # revoked or expired since it was listed
                continue
            leases.append(dict(lease_id=lease_id, issue_time=parse_time(data.get("issue_time")),
                               expire_time=parse_time(data.get("expire_time"))))
    return leases


def irrevocable_leases(client, mount_points):
    """Irrevocable leases under the mounts, or None when the server does not list them."""
    try:
        response = client.adapter.get("/v1/sys/leases", params={"type": "irrevocable"})
    except Exception:  # pylint: disable=broad-except
        return None
    data = (response or {}).get("data") or {}
    if "leases" not in data:
        return None
    prefixes = tuple("%s/" % m.strip("/") for m in mount_points)
    return [dict(lease_id=lease.get("lease_id"), error=lease.get("error"))
            for lease in data.get("leases") or [] if str(lease.get("lease_id", "")).startswith(prefixes)]


def pg_logins(cursor, prefix):
    cursor.execute(
        "SELECT rolname, CASE WHEN rolvaliduntil IS NULL OR rolvaliduntil = 'infinity' THEN NULL "
        "ELSE extract(epoch FROM rolvaliduntil)::float8 END "
        "FROM pg_catalog.pg_roles WHERE rolcanlogin AND NOT rolsuper AND rolname <> current_user "
        "AND starts_with(rolname, %s) ORDER BY rolname", (prefix,))
    return [dict(username=name, valid_until=valid_until) for name, valid_until in cursor.fetchall()]


def main():
    module = new_module(
        dict(
            mount_point=dict(type="list", elements="str", default=["database"]),
            username_prefix=dict(type="str", default="v-"),
            owner_role=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            tolerance=dict(type="int", default=5),
            min_age=dict(type="int", default=60),
            login_host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=5432),
            login_db=dict(type="str", required=True),
            login_user=dict(type="str", required=True),
            login_password=dict(type="str", no_log=True),
            ssl_mode=dict(type="str", default="prefer",
                          choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
        ),
        supports_check_mode=True,
        required_if=[("state", "absent", ("owner_role",))],
    )
    params = module.params
    if not HAS_PSYCOPG2:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("psycopg2"))
    where = "PostgreSQL %s:%s/%s" % (params["login_host"], params["port"], params["login_db"])

    def prepare():
        if not params["username_prefix"]:
            raise VaultModuleError("Invalid value for 'username_prefix': an empty prefix would match every login",
                                   field="username_prefix")
        if params["tolerance"] < 0 or params["min_age"] < 0:
            raise VaultModuleError("Invalid value: tolerance and min_age cannot be negative", field="tolerance")
        if params["owner_role"] is not None:
            revocation_statements(params["owner_role"])

    def body(client):
        leases = live_leases(client, params["mount_point"])
        try:
            conn = psycopg2.connect(host=params["login_host"], port=params["port"], dbname=params["login_db"],
                                    user=params["login_user"], password=params["login_password"],
                                    sslmode=params["ssl_mode"], connect_timeout=params["timeout"])
        except psycopg2.Error as exc:
            raise VaultModuleError("Could not connect to %s as %s: %s"
                                   % (where, params["login_user"], str(exc).strip()), field="login_password")
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                logins = pg_logins(cursor, params["username_prefix"])
                orphans, backed, undecided = judge(logins, leases, time.time(), params["tolerance"],
                                                   params["min_age"])
                dropped = []
                if params["state"] == "absent" and not module.check_mode:
                    statements = revocation_statements(params["owner_role"])
                    for orphan in orphans:
                        try:
                            for statement in statements:
                                cursor.execute(render(statement, orphan["username"]))
                        except psycopg2.Error as exc:
                            raise VaultModuleError(
                                "Could not drop the orphaned login %s in %s: %s (dropped before it: %s)"
                                % (orphan["username"], where, str(exc).strip(), ", ".join(dropped) or "none"),
                                field="owner_role", changed=bool(dropped))
                        dropped.append(orphan["username"])
        finally:
            conn.close()
        return dict(changed=params["state"] == "absent" and bool(orphans), orphans=orphans, dropped=dropped,
                    backed=len(backed), undecided=undecided, leases=len(leases),
                    irrevocable_leases=irrevocable_leases(client, params["mount_point"]))

    run(module, body, prepare)


if __name__ == "__main__":
    main()

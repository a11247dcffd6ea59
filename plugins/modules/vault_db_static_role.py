#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_db_static_role
short_description: Manage a static database role in Vault or OpenBao
version_added: 0.3.0
description:
  - Converges C(<mount_point>/static-roles/<name>). A static role maps one existing database login to
    Vault, which rotates its password every O(rotation_period); read the current password with
    M(dynamic_secrets.vault.vault_db_credentials) (O(dynamic_secrets.vault.vault_db_credentials#module:static=true))
    or the P(dynamic_secrets.vault.db_credentials#lookup) lookup.
  - Vault sets a new password as soon as the role is created; the old one stops working.
  - The connection's C(allowed_roles) must list the static role's name.
  - Only the options you set are compared; O(rotation_period) compares in seconds (V(1h) == V(3600)),
    a statement string equals a one-item list.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.resources.db_static_role
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.attributes
notes:
  - Vault requires the admin login of the connection to be allowed to change the login's password
    (on PostgreSQL 15, CREATEROLE is enough for a login that is not a superuser).
"""

EXAMPLES = r"""
- name: Let Vault rotate the reporting login every day
  dynamic_secrets.vault.vault_db_static_role:
    name: reporting
    db_name: appdb
    username: reporting
    rotation_period: 24h

- name: Read its current password
  dynamic_secrets.vault.vault_db_credentials:
    role: reporting
    static: true
  register: reporting
  no_log: true
"""

RETURN = r"""
path:
  description: The Vault path of the static role.
  returned: always
  type: str
  sample: database/static-roles/reporting
steps:
  description: The requests sent (in check mode, to be sent), in order, as in M(dynamic_secrets.vault.vault_db_connection).
  returned: always
  type: list
  elements: dict
action:
  description: What the task did or, in check mode, would do.
  returned: always
  type: str
  sample: none
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import run_resource
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import DB_STATIC_ROLE


def main():
    run_resource(DB_STATIC_ROLE)


if __name__ == "__main__":
    main()

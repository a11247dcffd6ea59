#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_db_role_info
short_description: Read dynamic database roles from Vault or OpenBao
version_added: 0.3.0
description:
  - Reads C(<mount_point>/roles/<name>), or every role of the mount when O(name) is not given.
  - Values are normalised the way M(dynamic_secrets.vault.vault_db_role) compares them (TTLs in seconds,
    statements as lists), so they can be fed back to it.
  - Changes nothing.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.info_attributes
options:
  name:
    description: The role to read; all roles of the mount when omitted.
    type: str
  mount_point:
    description: Where the database secrets engine is mounted.
    type: str
    default: database
"""

EXAMPLES = r"""
- name: Read the read-only role
  dynamic_secrets.vault.vault_db_role_info:
    name: webapp-readonly
  register: role

- name: Fail when its logins may live longer than a day
  ansible.builtin.assert:
    that: role.exists and role.object.max_ttl <= 86400

- name: Every role of the mount
  dynamic_secrets.vault.vault_db_role_info:
    mount_point: database
  register: roles
"""

RETURN = r"""
path:
  description: The Vault path read (the role, or the list of roles).
  returned: always
  type: str
  sample: database/roles/webapp-readonly
exists:
  description: Whether the role exists.
  returned: when O(name) is given
  type: bool
object:
  description: The role's options (empty when it does not exist).
  returned: when O(name) is given
  type: dict
  sample:
    db_name: appdb
    creation_statements: ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"]
    revocation_statements: []
    rollback_statements: []
    renew_statements: []
    default_ttl: 3600
    max_ttl: 86400
    credential_type: password
objects:
  description: Every role of the mount, by name.
  returned: when O(name) is not given
  type: dict
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import run_info
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import DB_ROLE


def main():
    run_info(DB_ROLE)


if __name__ == "__main__":
    main()

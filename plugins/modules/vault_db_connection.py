#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_db_connection
short_description: Manage a database secrets engine connection in Vault or OpenBao
version_added: 0.1.0
description:
  - Converges C(<mount_point>/config/<name>), the connection the database secrets engine uses
    to create dynamic database logins.
  - Mounts the database secrets engine at O(mount_point) when it is not mounted yet
    (reported as a change and shown in the diff). If the connection write then fails, the
    mount this task created is removed again, so a failed run leaves Vault as it found it.
  - Only the options you set are compared. TTL strings and seconds compare equal (V(30s) == V(30)),
    O(allowed_roles) is compared as a set.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.resources.db_connection
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.attributes
notes:
  - C(changed) is computed from what Vault returns; the password is invisible to Vault's readers, so
    with O(update_password=on_create) it never causes a change after creation.
"""

EXAMPLES = r"""
- name: Connect Vault to PostgreSQL with a least-privilege admin login
  dynamic_secrets.vault.vault_db_connection:
    url: https://vault.example.com:8200
    name: appdb
    connection_url: !unsafe "postgresql://{{username}}:{{password}}@db.example.com:5432/appdb"
    username: vault_admin
    password: "{{ vault_admin_password }}"
    allowed_roles: [webapp-readonly, webapp-readwrite]
    rotate_root: true
  no_log: true

- name: The same with raw blocks instead of !unsafe
  dynamic_secrets.vault.vault_db_connection:
    name: appdb
    connection_url: "{% raw %}postgresql://{{username}}:{{password}}@db.example.com:5432/appdb{% endraw %}"
    username: vault_admin
    password: "{{ vault_admin_password }}"
    allowed_roles: "*"

- name: Remove the connection
  dynamic_secrets.vault.vault_db_connection:
    name: appdb
    state: absent
"""

RETURN = r"""
path:
  description: The Vault path of the connection.
  returned: always
  type: str
  sample: database/config/appdb
steps:
  description:
    - The requests sent (in check mode, to be sent), in order; empty when nothing changes.
    - C(step) is C(enable mount), C(write), C(delete) or C(rotate root); a C(write) lists in
      C(sends_write_only) the write-only options whose values it sends (never the values).
  returned: always
  type: list
  elements: dict
  sample:
    - {step: write, path: database/config/appdb, sends_write_only: [password]}
    - {step: rotate root, path: database/rotate-root/appdb}
action:
  description: What the task did or, in check mode, would do.
  returned: always
  type: str
  sample: create
  choices: [none, create, update, delete]
root_rotated:
  description: Whether the root credential was rotated (or would be, in check mode).
  returned: always
  type: bool
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import run_resource
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import DB_CONNECTION
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._state import Step


def main():
    run_resource(DB_CONNECTION, report=lambda result: dict(
        root_rotated=any(step["step"] == Step.ROTATE for step in result["steps"])))


if __name__ == "__main__":
    main()

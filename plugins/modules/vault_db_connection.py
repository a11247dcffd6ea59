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
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.attributes
options:
  name:
    description: Name of the connection, the last part of C(<mount_point>/config/<name>).
    type: str
    required: true
  mount_point:
    description: Where the database secrets engine is mounted.
    type: str
    default: database
  plugin_name:
    description: Database plugin.
    type: str
    default: postgresql-database-plugin
  connection_url:
    description:
      - Connection string with Vault's own placeholders, for example
        C(postgresql://{{username}}:{{password}}@db.example.com:5432/app).
      - Vault's C({{ }}) placeholders collide with Jinja; write the value with C(!unsafe) or inside
        C({% raw %}...{% endraw %}) (see the examples).
    type: str
  username:
    description: The login Vault uses to manage database users. Use a least-privilege role, not the superuser.
    type: str
  password:
    description:
      - Password of O(username). Vault never returns it, so it is write-only.
      - Sent when the connection is created, and on update only with O(update_password=always).
    type: str
  update_password:
    description:
      - V(on_create) sends O(password) only when the connection is created. A later run does not resend it,
        so a root credential that Vault rotated (O(rotate_root), C(database/rotate-root)) stays valid and
        a changed O(password) alone does not report C(changed).
      - V(always) sends O(password) on every run, which then always reports C(changed=true)
        because the stored password cannot be read and compared.
    type: str
    choices: [on_create, always]
    default: on_create
  allowed_roles:
    description: Roles allowed to use this connection (compared as a set). V(*) allows all.
    type: list
    elements: str
  verify_connection:
    description:
      - Ask Vault to connect to the database before it stores the configuration. A connection that fails
        is rejected and nothing is stored. Not stored by Vault, so never compared.
    type: bool
    default: true
  password_authentication:
    description: How Vault hashes passwords it sets (PostgreSQL).
    type: str
    choices: [password, scram-sha-256]
  username_template:
    description: Go template for generated user names.
    type: str
  max_open_connections:
    description: Maximum open connections to the database.
    type: int
  max_idle_connections:
    description: Maximum idle connections to the database.
    type: int
  max_connection_lifetime:
    description: Maximum lifetime of a connection, seconds or a duration string like V(30s).
    type: raw
  root_rotation_statements:
    description: Statements Vault runs to rotate the root credential (a string is a one-item list).
    type: list
    elements: str
  rotate_root:
    description:
      - Rotate the root credential right after Vault received O(password) (on create, or with
        O(update_password=always)), so that only Vault knows the login it uses.
      - Rotation never happens on a run that did not send the password, which keeps this idempotent.
    type: bool
    default: false
  state:
    description: V(present) creates or updates the connection, V(absent) deletes it (the mount is kept).
    type: str
    choices: [present, absent]
    default: present
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


def main():
    run_resource(DB_CONNECTION, report=lambda result: dict(
        root_rotated=any(step["step"] == "rotate root" for step in result["steps"])))


if __name__ == "__main__":
    main()

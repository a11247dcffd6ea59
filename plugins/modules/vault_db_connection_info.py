#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_db_connection_info
short_description: Read database connections from Vault or OpenBao, without their passwords
version_added: 0.3.0
description:
  - Reads C(<mount_point>/config/<name>), or every connection of the mount when O(name) is not given.
  - Never returns a password. Vault does not return the admin password, and a password written into
    C(connection_url) is shown as C(********).
  - Values are normalised the way M(dynamic_secrets.vault.vault_db_connection) compares them.
  - Changes nothing.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.info_attributes
options:
  name:
    description: The connection to read; all connections of the mount when omitted.
    type: str
  mount_point:
    description: Where the database secrets engine is mounted.
    type: str
    default: database
"""

EXAMPLES = r"""
- name: Which roles may use the appdb connection
  dynamic_secrets.vault.vault_db_connection_info:
    name: appdb
  register: appdb

- name: Show them
  ansible.builtin.debug:
    msg: "{{ appdb.object.allowed_roles }}"
"""

RETURN = r"""
path:
  description: The Vault path read (the connection, or the list of connections).
  returned: always
  type: str
  sample: database/config/appdb
exists:
  description: Whether the connection exists.
  returned: when O(name) is given
  type: bool
object:
  description: The connection's options, without any password (empty when it does not exist).
  returned: when O(name) is given
  type: dict
  sample:
    plugin_name: postgresql-database-plugin
    connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:5432/appdb?sslmode=disable"
    username: vault_admin
    allowed_roles: [webapp-readonly, webapp-readwrite]
    password_authentication: scram-sha-256
    username_template: ""
    max_open_connections: 4
    max_idle_connections: 0
    max_connection_lifetime: 0
    root_rotation_statements: []
objects:
  description: Every connection of the mount, by name.
  returned: when O(name) is not given
  type: dict
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import run_info
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import DB_CONNECTION


def main():
    run_info(DB_CONNECTION)


if __name__ == "__main__":
    main()

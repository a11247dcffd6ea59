#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_db_role
short_description: Manage a dynamic database role in Vault or OpenBao
version_added: 0.1.0
description:
  - Converges C(<mount_point>/roles/<name>), the recipe Vault follows to create a database login
    each time someone reads C(<mount_point>/creds/<name>).
  - Only the options you set are compared. A statement string equals a one-item list; TTLs compare in
    seconds (V(1h) == V(3600)).
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.resources.db_role
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.attributes
"""

EXAMPLES = r"""
- name: Read-only role from the runbook
  dynamic_secrets.vault.vault_db_role:
    name: webapp-readonly
    db_name: appdb
    default_ttl: 1h
    max_ttl: 24h
    creation_statements: !unsafe
      - CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';
      - GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";
    revocation_statements: !unsafe
      - DROP ROLE IF EXISTS "{{name}}";

- name: Read-write role, statements kept in raw blocks
  dynamic_secrets.vault.vault_db_role:
    name: webapp-readwrite
    db_name: appdb
    default_ttl: 3600
    max_ttl: 86400
    creation_statements:
      - "{% raw %}CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';{% endraw %}"
      - "{% raw %}GRANT USAGE ON SCHEMA public TO \"{{name}}\";{% endraw %}"
      - "{% raw %}GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{{name}}\";{% endraw %}"
"""

RETURN = r"""
path:
  description: The Vault path of the role.
  returned: always
  type: str
  sample: database/roles/webapp-readonly
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
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import DB_ROLE


def main():
    run_resource(DB_ROLE)


if __name__ == "__main__":
    main()

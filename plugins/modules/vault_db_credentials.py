#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_db_credentials
short_description: Issue dynamic database credentials from Vault or OpenBao
version_added: 0.1.0
description:
  - Reads C(<mount_point>/creds/<role>), which makes Vault create a new database login with a lease.
  - Each run issues a new login, so the task reports C(changed=true); add C(changed_when) if your play
    treats it as a read. In check mode nothing is issued.
  - With O(static=true) it reads the current password of a static role from
    C(<mount_point>/static-creds/<role>) (M(dynamic_secrets.vault.vault_db_static_role)) instead. That is a read,
    reported as C(changed=false), run in check mode too.
  - The result holds the password. Set C(no_log) on the task.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.connection
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports C(changed=true) and issues nothing; the credential fields are then absent. A static
      read (O(static=true)) runs in check mode too.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action_group:
    description: Use C(group/dynamic_secrets.vault.vault) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - dynamic_secrets.vault.vault
options:
  role:
    description: Database role to issue credentials for.
    type: str
    required: true
  mount_point:
    description: Where the database secrets engine is mounted.
    type: str
    default: database
  static:
    description: Read the current password of a static role instead of issuing a dynamic login.
    type: bool
    default: false
    version_added: 0.3.0
"""

EXAMPLES = r"""
- name: Get a short-lived read-only login
  dynamic_secrets.vault.vault_db_credentials:
    role: webapp-readonly
  register: creds
  no_log: true

- name: Use it
  community.postgresql.postgresql_query:
    login_host: db.example.com
    login_user: "{{ creds.username }}"
    login_password: "{{ creds.password }}"
    db: appdb
    query: SELECT count(*) FROM items
  no_log: true

- name: Read the current password of a static role
  dynamic_secrets.vault.vault_db_credentials:
    role: reporting
    static: true
  register: reporting
  no_log: true
"""

RETURN = r"""
path:
  description: The Vault path read.
  returned: always
  type: str
  sample: database/creds/webapp-readonly
username:
  description: The database login Vault created.
  returned: success and not check mode
  type: str
password:
  description: Its password.
  returned: success and not check mode
  type: str
lease_id:
  description: Lease of the login; revoke it with M(dynamic_secrets.vault.vault_lease).
  returned: success and not check mode, dynamic roles
  type: str
  sample: database/creds/webapp-readonly/3yvGzGyCCWF5yHmiagqNcqGd
lease_duration:
  description: Seconds until the login expires unless renewed.
  returned: success and not check mode
  type: int
  sample: 3600
renewable:
  description: Whether the lease can be renewed.
  returned: success and not check mode, dynamic roles
  type: bool
last_vault_rotation:
  description: When Vault last rotated the static role's password (RFC 3339).
  returned: success, static roles
  type: str
  version_added: 0.3.0
rotation_period:
  description: Seconds between two rotations of the static role's password.
  returned: success, static roles
  type: int
  version_added: 0.3.0
ttl:
  description: Seconds until the static role's next rotation.
  returned: success, static roles
  type: int
  version_added: 0.3.0
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._credentials import (
    credentials_path,
    read_credentials,
)
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import new_module, run


def main():
    module = new_module(
        dict(
            role=dict(type="str", required=True),
            mount_point=dict(type="str", default="database"),
            static=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    static = module.params["static"]
    path = credentials_path(module.params["mount_point"], module.params["role"], static)
    if not module.no_log:
        module.warn("vault_db_credentials returns the password: set no_log: true on this task, "
                    "or the password shows in the output at -v and in callbacks")

    def body(client):
        result = dict(changed=not static, path=path)
        if module.check_mode and not static:
            return result
        result.update(read_credentials(client, module.params["mount_point"], module.params["role"], static))
        return result

    run(module, body)


if __name__ == "__main__":
    main()

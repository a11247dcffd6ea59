# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: db_credentials
short_description: Database credentials from Vault or OpenBao, in a template
version_added: 0.3.0
description:
  - For each term (a role name) issues a dynamic login from C(<mount_point>/creds/<role>), or with
    O(static=true) reads the current password of a static role from C(<mount_point>/static-creds/<role>).
  - Takes the same connection options as the modules, with the same environment fallbacks
    (E(VAULT_ADDR)/E(BAO_ADDR), E(VAULT_TOKEN)/E(BAO_TOKEN)/C(~/.vault-token), E(VAULT_NAMESPACE), E(VAULT_CACERT)).
  - A lookup runs each time the template is rendered, so a variable defined with it issues a new login
    every time it is used. Evaluate it once, in a C(ansible.builtin.set_fact) task with C(no_log=true),
    and use the fact.
  - Errors name the Vault path and never hold a secret.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.connection
options:
  _terms:
    description: Database role names.
    type: list
    elements: str
    required: true
  mount_point:
    description: Where the database secrets engine is mounted.
    type: str
    default: database
  static:
    description: Read static roles (C(static-creds)) instead of issuing dynamic logins.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Issue one read-only login, once
  ansible.builtin.set_fact:
    db_login: "{{ lookup('dynamic_secrets.vault.db_credentials', 'webapp-readonly') }}"
  no_log: true

- name: Use it
  community.postgresql.postgresql_query:
    login_host: db.example.com
    login_user: "{{ db_login.username }}"
    login_password: "{{ db_login.password }}"
    db: appdb
    query: SELECT count(*) FROM items
  no_log: true

- name: The current password of a static role, from another Vault
  ansible.builtin.set_fact:
    reporting: "{{ lookup('dynamic_secrets.vault.db_credentials', 'reporting', static=true,
                   url='https://vault.example.com:8200', auth_method='approle',
                   role_id=approle_id, secret_id=approle_secret) }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One dictionary per term with C(username) and C(password); dynamic logins add C(lease_id),
      C(lease_duration) and C(renewable), static roles C(last_vault_rotation), C(rotation_period)
      and C(ttl).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._client import (
    COMMON_ARGSPEC,
    connect,
    with_fallbacks,
)
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._credentials import read_credentials
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultModuleError


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        params = with_fallbacks(dict((name, self.get_option(name)) for name in COMMON_ARGSPEC))
        try:
            client = connect(params)
            return [read_credentials(client, self.get_option("mount_point"), term, self.get_option("static"))
                    for term in terms]
        except VaultModuleError as exc:
            raise AnsibleError("db_credentials: %s" % exc.message)

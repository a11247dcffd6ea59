#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_config_info
short_description: Export what a Vault holds as a vault_config document
version_added: 0.2.0
description:
  - Reads the database connections and roles under the given database mounts, the Kubernetes auth
    config and roles under the given auth mounts, and the ACL policies (Vault's built-in ones left
    out), and returns them as a document that M(dynamic_secrets.vault.vault_config) takes.
  - Adopting a hand-made Vault is export, then apply, and the apply reports C(changed=false).
  - Write-only values (the database C(password), C(token_reviewer_jwt), a password written into
    C(connection_url)) cannot be read back; they are left out and listed in RV(write_only).
  - Reads only; it never returns a secret.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.connection
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: It only reads, in check mode as otherwise.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action_group:
    description: Use C(group/dynamic_secrets.vault.vault) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - dynamic_secrets.vault.vault
options:
  database:
    description: Mount points of database secrets engines to export.
    type: list
    elements: str
    default: []
  kubernetes:
    description: Mount points of Kubernetes auth methods to export.
    type: list
    elements: str
    default: []
  policies:
    description: Export the ACL policies too.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Export the hand-made configuration
  dynamic_secrets.vault.vault_config_info:
    database: [database]
    kubernetes: [kubernetes]
  register: exported

- name: Take it over (changes nothing; add the write-only values to change them later)
  dynamic_secrets.vault.vault_config:
    database: "{{ exported.document.database }}"
    kubernetes: "{{ exported.document.kubernetes }}"
    policies: "{{ exported.document.policies }}"
"""

RETURN = r"""
document:
  description: The configuration as a M(dynamic_secrets.vault.vault_config) document.
  returned: always
  type: dict
write_only:
  description: Where the document leaves out a write-only value Vault holds.
  returned: always
  type: list
  elements: str
  sample: ["database[0].connections[0].password"]
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._config import export_document
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import new_module, run


def main():
    module = new_module(
        dict(
            database=dict(type="list", elements="str", default=[]),
            kubernetes=dict(type="list", elements="str", default=[]),
            policies=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    run(module, lambda client: export_document(client, module.params["database"], module.params["kubernetes"],
                                               module.params["policies"]))


if __name__ == "__main__":
    main()

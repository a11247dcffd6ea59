#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_policy
short_description: Manage an ACL policy in Vault or OpenBao
version_added: 0.1.0
description:
  - Converges C(sys/policies/acl/<name>).
  - The policy text is compared after ignoring line endings and trailing blanks, so re-indenting
    nothing does not report a change.
  - Text with unbalanced braces or quotes is refused before anything is sent; Vault rejects any other
    parse error atomically and its message is returned.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.resources.policy
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.attributes
"""

EXAMPLES = r"""
- name: Let the webapp read its database credentials
  dynamic_secrets.vault.vault_policy:
    name: webapp-policy
    policy: |
      path "database/creds/webapp-readonly" {
        capabilities = ["read"]
      }
      path "database/creds/webapp-readwrite" {
        capabilities = ["read"]
      }

- name: Policy from a file
  dynamic_secrets.vault.vault_policy:
    name: operators
    policy: "{{ lookup('ansible.builtin.file', 'operators.hcl') }}"
"""

RETURN = r"""
path:
  description: The Vault path of the policy.
  returned: always
  type: str
  sample: sys/policies/acl/webapp-policy
steps:
  description: The requests sent (in check mode, to be sent), in order, as in M(dynamic_secrets.vault.vault_db_connection).
  returned: always
  type: list
  elements: dict
action:
  description: What the task did or, in check mode, would do.
  returned: always
  type: str
  sample: update
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import run_resource
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import POLICY


def main():
    run_resource(POLICY)


if __name__ == "__main__":
    main()

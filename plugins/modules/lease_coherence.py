#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lease_coherence
short_description: Warn when an auth role's tokens expire before the database leases they own
version_added: 0.3.0
description:
  - A database lease is a child of the Vault token that asked for it. When the token expires, Vault
    revokes the lease with it, whatever the lease's own TTL. When an auth role's token TTL is shorter
    than a database role's C(max_ttl), a Vault Agent that does not renew its token in time loses its
    database login early. Operators then see credentials die "before their TTL".
  - Emits one warning per database role whose C(max_ttl) is longer than O(token_ttl), with both numbers
    in seconds. Never fails on an incoherent pair and changes nothing.
  - A TTL of V(0) means the mount's or the system's maximum and is not judged.
  - The C(kubernetes_auth) role runs it in its preflight against the database roles its policy grants.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
options:
  auth_role:
    description: Name of the auth role, for the message.
    type: str
  token_ttl:
    description: TTL of the tokens the auth role issues, seconds or a duration such as V(24h).
    type: raw
    required: true
  db_max_ttls:
    description: The C(max_ttl) of each database role the tokens may read, by role name.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Read the database role
  dynamic_secrets.vault.vault_db_role_info:
    name: webapp-readonly
  register: readonly

- name: Warn when the agent's tokens die before the leases do
  dynamic_secrets.vault.lease_coherence:
    auth_role: webapp
    token_ttl: 1h
    db_max_ttls:
      webapp-readonly: "{{ readonly.object.max_ttl }}"
"""

RETURN = r"""
coherent:
  description: Whether no database role outlives the token TTL.
  returned: always
  type: bool
msg:
  description: The warnings joined, or V(coherent).
  returned: always
  type: str
"""

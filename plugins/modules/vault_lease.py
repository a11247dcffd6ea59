#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_lease
short_description: Revoke or renew Vault or OpenBao leases
version_added: 0.1.0
description:
  - O(state=revoked) revokes one lease (O(lease_id)) or every lease under a path (O(prefix)), which for
    database credentials drops the database login at once.
  - A lease that no longer exists (expired or already revoked) is not an error; the task reports C(changed=false).
  - O(state=renewed) extends a lease by O(increment) (each renewal is a change).
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.connection
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Looks the lease up and reports whether it would be revoked or renewed.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action_group:
    description: Use C(group/dynamic_secrets.vault.vault) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - dynamic_secrets.vault.vault
options:
  lease_id:
    description: The lease, for example C(database/creds/webapp-readonly/<id>).
    type: str
  prefix:
    description: Revoke every lease under this path, for example C(database/creds/webapp-readonly).
      Only with O(state=revoked).
    type: str
  state:
    description: What should happen to the lease.
    type: str
    choices: [revoked, renewed]
    default: revoked
  increment:
    description: Requested extension for O(state=renewed), seconds or a duration such as V(1h).
    type: raw
"""

EXAMPLES = r"""
- name: Kill a leaked credential now
  dynamic_secrets.vault.vault_lease:
    lease_id: "{{ creds.lease_id }}"
    state: revoked

- name: Revoke every read-only credential
  dynamic_secrets.vault.vault_lease:
    prefix: database/creds/webapp-readonly

- name: Keep a credential for one more hour
  dynamic_secrets.vault.vault_lease:
    lease_id: "{{ creds.lease_id }}"
    state: renewed
    increment: 1h
"""

RETURN = r"""
lease_id:
  description: The lease acted on.
  returned: when O(lease_id) was given
  type: str
revoked:
  description: Lease IDs revoked (for O(prefix), the ones found under it).
  returned: O(state=revoked)
  type: list
  elements: str
lease_duration:
  description: Seconds the lease now has left.
  returned: O(state=renewed) and not check mode
  type: int
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import (
    VaultInputError,
    VaultModuleError,
    vault_errors,
)
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._leases import leases_under, lookup_lease
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import new_module, run
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._normalize import ttl_seconds


def main():
    module = new_module(
        dict(
            lease_id=dict(type="str"),
            prefix=dict(type="str"),
            state=dict(type="str", default="revoked", choices=["revoked", "renewed"]),
            increment=dict(type="raw"),
        ),
        supports_check_mode=True,
        required_one_of=[("lease_id", "prefix")],
        mutually_exclusive=[("lease_id", "prefix")],
    )
    params = module.params

    def prepare():
        if params["prefix"] is not None and params["state"] != "revoked":
            raise VaultInputError("prefix", "sys/leases/revoke-prefix", "prefix only works with state=revoked")
        if params["increment"] is not None:
            try:
                params["increment"] = ttl_seconds(params["increment"])
            except ValueError as exc:
                raise VaultInputError("increment", "sys/leases/renew", str(exc))

    def body(client):
        if params["prefix"] is not None:
            prefix = params["prefix"].strip("/")
            leases = leases_under(client, prefix)
            if leases and not module.check_mode:
                with vault_errors("revoke leases under", "sys/leases/revoke-prefix/%s" % prefix):
                    client.adapter.put("/v1/sys/leases/revoke-prefix/%s" % prefix)
            return dict(changed=bool(leases), revoked=leases)

        lease_id = params["lease_id"]
        lease = lookup_lease(client, lease_id)
        if params["state"] == "revoked":
            if lease is not None and not module.check_mode:
                with vault_errors("revoke", "sys/leases/revoke"):
                    client.sys.revoke_lease(lease_id=lease_id)
            return dict(changed=lease is not None, lease_id=lease_id,
                        revoked=[lease_id] if lease is not None else [])

        if lease is None:
            raise VaultModuleError("Cannot renew lease %s: Vault does not know it (expired or revoked)" % lease_id,
                                   path="sys/leases/renew", field="lease_id")
        result = dict(changed=True, lease_id=lease_id)
        if not module.check_mode:
            with vault_errors("renew", "sys/leases/renew"):
                response = client.sys.renew_lease(lease_id=lease_id, increment=params["increment"])
            result["lease_duration"] = response.get("lease_duration")
        return result

    run(module, body, prepare)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading leases (sys/leases/*, which Vault and OpenBao both have)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import is_vault_error, translate
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._state import list_keys


def lookup_lease(client, lease_id):
    """The lease's data, or None when Vault does not know it (revoked or expired)."""
    try:
        return client.sys.read_lease(lease_id=lease_id).get("data")
    except Exception as exc:  # pylint: disable=broad-except
        if is_vault_error(exc, "InvalidRequest", "InvalidPath"):
            return None
        raise translate(exc, "look up", "sys/leases/lookup")


def leases_under(client, prefix):
    """Lease IDs under a prefix (recursively), [] when there are none."""
    found = []
    pending = [prefix.strip("/") + "/"]
    while pending:
        here = pending.pop()
        for key in list_keys(client, "sys/leases/lookup/%s" % here):
            if key.endswith("/"):
                pending.append(here + key)
            else:
                found.append(here + key)
    return sorted(found)

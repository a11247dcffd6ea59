# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading database credentials: one place for the module and the lookup."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultModuleError, vault_errors


def credentials_path(mount_point, role, static=False):
    return "%s/%s/%s" % (mount_point.strip("/"), "static-creds" if static else "creds", role)


def read_credentials(client, mount_point, role, static=False):
    """Issue a dynamic login (or read a static role's password); never logs it.

    Returns username and password, plus lease_id/lease_duration/renewable for a
    dynamic login or last_vault_rotation/rotation_period/ttl for a static role.
    """
    path = credentials_path(mount_point, role, static)
    with vault_errors("read", path):
        response = client.read(path)
    if not response or not response.get("data"):
        raise VaultModuleError("Vault returned no credentials at %s: does the role exist?" % path, path=path)
    data = response["data"]
    result = dict(username=data.get("username"), password=data.get("password"))
    if static:
        result.update(last_vault_rotation=data.get("last_vault_rotation"),
                      rotation_period=data.get("rotation_period"), ttl=data.get("ttl"))
    else:
        result.update(lease_id=response.get("lease_id"), lease_duration=response.get("lease_duration"),
                      renewable=response.get("renewable"))
    return result

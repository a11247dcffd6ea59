# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method=approle: role_id and secret_id."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_base import AuthMethod


class AppRoleAuth(AuthMethod):
    NAME = "approle"
    DEFAULT_MOUNT = "approle"
    REQUIRED = ("role_id", "secret_id")

    def authenticate(self, client):
        client.auth.approle.login(role_id=self.params["role_id"], secret_id=self.params["secret_id"],
                                  mount_point=self.mount_point, use_token=True)

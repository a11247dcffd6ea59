# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method=userpass: auth_username and auth_password."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_base import AuthMethod


class UserpassAuth(AuthMethod):
    NAME = "userpass"
    DEFAULT_MOUNT = "userpass"
    REQUIRED = ("auth_username", "auth_password")

    def authenticate(self, client):
        client.auth.userpass.login(username=self.params["auth_username"], password=self.params["auth_password"],
                                   mount_point=self.mount_point, use_token=True)

# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method=jwt: a role and a JWT."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_base import AuthMethod


class JwtAuth(AuthMethod):
    NAME = "jwt"
    DEFAULT_MOUNT = "jwt"
    REQUIRED = ("auth_role", "auth_jwt")

    def authenticate(self, client):
        client.auth.jwt.jwt_login(role=self.params["auth_role"], jwt=self.params["auth_jwt"], path=self.mount_point,
                                  use_token=True)

# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method=kubernetes: a role and a ServiceAccount token (default: the pod's own)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_base import AuthMethod
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultAuthError

SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


class KubernetesAuth(AuthMethod):
    NAME = "kubernetes"
    DEFAULT_MOUNT = "kubernetes"
    REQUIRED = ("auth_role",)
    TOKEN_PATH = SERVICE_ACCOUNT_TOKEN

    def __init__(self, params):
        super(KubernetesAuth, self).__init__(params)
        self.jwt = None

    def validate(self):
        super(KubernetesAuth, self).validate()
        self.jwt = self.params.get("auth_jwt")
        if self.jwt:
            return
        if not os.path.exists(self.TOKEN_PATH):
            raise VaultAuthError("auth_method=kubernetes needs auth_jwt (no ServiceAccount token at %s)"
                                 % self.TOKEN_PATH, path=self.login_path, field="auth_jwt")
        with open(self.TOKEN_PATH) as handle:
            self.jwt = handle.read().strip()

    def authenticate(self, client):
        client.auth.kubernetes.login(role=self.params["auth_role"], jwt=self.jwt, mount_point=self.mount_point,
                                     use_token=True)

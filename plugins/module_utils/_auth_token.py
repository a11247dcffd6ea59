# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method=token: the token option, VAULT_TOKEN/BAO_TOKEN, or ~/.vault-token."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_base import AuthMethod
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultAuthError

TOKEN_FILE = "~/.vault-token"


class TokenAuth(AuthMethod):
    NAME = "token"

    def __init__(self, params):
        super(TokenAuth, self).__init__(params)
        self.token = None

    def validate(self):
        self.token = self.params.get("token") or self._token_file()
        if not self.token:
            raise VaultAuthError(
                "No Vault token: set the 'token' option, VAULT_TOKEN or BAO_TOKEN, or write ~/.vault-token "
                "(or choose another auth_method)", field="token")

    @staticmethod
    def _token_file():
        path = os.path.expanduser(TOKEN_FILE)
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return handle.read().strip() or None

    def authenticate(self, client):
        client.token = self.token

# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every login method shares: the options it needs and where it logs in.

One class per method lives in its own `_auth_<method>.py`. A method reads the module's
params but never writes into them: what it finds itself (a token file, a ServiceAccount
token) stays on the instance.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultAuthError


class AuthMethod(object):
    """One login method: its name, the options it needs, and how it logs in."""

    NAME = None
    DEFAULT_MOUNT = None
    REQUIRED = ()

    def __init__(self, params):
        self.params = params
        self.mount_point = params.get("auth_mount_point") or self.DEFAULT_MOUNT

    @property
    def login_path(self):
        return "auth/%s/login" % self.mount_point if self.mount_point else "auth/token/lookup-self"

    def validate(self):
        """Raise VaultAuthError naming what is missing; called before any request."""
        missing = [name for name in self.REQUIRED if not self.params.get(name)]
        if missing:
            raise VaultAuthError("auth_method=%s needs %s" % (self.NAME, ", ".join(missing)),
                                 path=self.login_path if self.mount_point else None, field=missing[0])

    def authenticate(self, client):
        """Log client in (sets its token)."""
        raise NotImplementedError

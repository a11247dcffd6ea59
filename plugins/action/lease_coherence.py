# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Warn when an auth role's tokens die before the database leases they own may."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.six import iteritems
from ansible.plugins.action import ActionBase

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._normalize import ttl_seconds


def incoherent(auth_role, token_ttl, db_max_ttls):
    """One warning per database role whose max_ttl is longer than the token TTL.

    A database lease is a child of the token that asked for it: when that token
    expires, Vault revokes the lease with it, whatever the lease's own TTL. A TTL of
    0 means "the mount's or system's maximum" and is not judged.
    """
    token = ttl_seconds(token_ttl)
    warnings = []
    if not token:
        return warnings
    for name, max_ttl in sorted(iteritems(db_max_ttls)):
        limit = ttl_seconds(max_ttl)
        if limit and token < limit:
            warnings.append(
                "Kubernetes auth role '%s' issues tokens with a TTL of %ss, shorter than the max_ttl of "
                "%ss of database role '%s'. Its leases are children of the agent's token, so they are "
                "revoked when the token expires unrenewed, after %ss instead of %ss. The pod then "
                "gets a new database login. Give the auth role a TTL of at least %ss, or the database "
                "role a shorter max_ttl." % (auth_role, token, limit, name, token, limit, limit))
    return warnings


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("auth_role", "token_ttl", "db_max_ttls"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        if args.get("token_ttl") is None or not isinstance(args.get("db_max_ttls"), dict):
            raise AnsibleActionFail("lease_coherence needs token_ttl and db_max_ttls (a mapping role -> max_ttl)")
        try:
            warnings = incoherent(args.get("auth_role") or "", args["token_ttl"], args["db_max_ttls"])
        except ValueError as exc:
            raise AnsibleActionFail("lease_coherence: %s" % exc)
        result.update(changed=False, coherent=not warnings, msg="; ".join(warnings) or "coherent")
        if warnings:
            result["warnings"] = warnings
        return result

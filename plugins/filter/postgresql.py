# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL statements of a Vault database role that revokes cleanly, for role YAML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.dynamic_secrets.vault.plugins.module_utils import _postgres


def postgresql_revocation_statements(owner_role):
    """Revocation statements that end the login's sessions, reassign what it owns to
    ``owner_role``, drop its privileges and drop it."""
    try:
        return _postgres.revocation_statements(owner_role)
    except ValueError as exc:
        raise AnsibleFilterError("postgresql_revocation_statements: %s" % exc)


def postgresql_creation_grant(admin_user):
    """The creation statement that makes ``admin_user`` a member of each new login."""
    try:
        return _postgres.creation_grant(admin_user)
    except ValueError as exc:
        raise AnsibleFilterError("postgresql_creation_grant: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {
            "postgresql_revocation_statements": postgresql_revocation_statements,
            "postgresql_creation_grant": postgresql_creation_grant,
        }

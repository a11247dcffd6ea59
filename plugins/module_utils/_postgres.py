# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a PostgreSQL login issued by Vault is created and removed, defined once.

Vault's PostgreSQL plugin revokes a login by running the role's
``revocation_statements``; its built-in default only revokes privileges and drops
the role, which fails as soon as the login owns an object and leaves its open
sessions running. The statements here end the login's sessions, hand what it owns
to an owner role, drop its remaining privileges and then the login itself.

They are used in two places: the ``database_secrets`` role writes them into the
Vault roles (through the ``postgresql_revocation_statements`` filter) and the
``vault_db_orphans`` module runs the very same text for logins whose lease is gone.

The Vault admin login needs, on PostgreSQL 15: CREATEROLE (create and drop the
logins), membership of each login (granted by ``creation_grant``; REASSIGN OWNED and
DROP OWNED need the privileges of the role they act on) and membership of the owner
role (REASSIGN OWNED needs the privileges of the target too). Membership of the
login also lets the admin end its sessions; ``pg_signal_backend`` is not needed for
that but does no harm.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Vault fills {{name}}; PostgreSQL identifiers are quoted with %I inside the block.
# One DO block: a login that is already gone is not an error (the lease can still
# be revoked), and nothing is half done (the block is one statement).
_REVOKE_BLOCK = """DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{{name}}') THEN
    PERFORM pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
      WHERE usename = '{{name}}' AND pid <> pg_catalog.pg_backend_pid();
    EXECUTE format('REASSIGN OWNED BY %%I TO %%I', '{{name}}', %(owner)s);
    EXECUTE format('DROP OWNED BY %%I', '{{name}}');
    EXECUTE format('DROP ROLE %%I', '{{name}}');
  END IF;
END
$$;"""


def sql_literal(text):
    """A PostgreSQL string literal."""
    return "'%s'" % str(text).replace("'", "''")


def sql_ident(text):
    """A PostgreSQL quoted identifier."""
    return '"%s"' % str(text).replace('"', '""')


def revocation_statements(owner_role):
    """The revocation statements (Vault template, with ``{{name}}``) for a role.

    ``owner_role`` receives every object the login created.
    """
    if not owner_role:
        raise ValueError("an owner role is needed: objects of a revoked login are reassigned to it")
    return [_REVOKE_BLOCK % dict(owner=sql_literal(owner_role))]


def creation_grant(admin_user):
    """The creation statement that makes the admin login a member of the new login."""
    if not admin_user:
        raise ValueError("the admin login's name is needed")
    return 'GRANT "{{name}}" TO %s;' % sql_ident(admin_user)


def render(statement, username):
    """A Vault statement template with ``{{name}}`` filled, as Vault would."""
    if '"' in username or "'" in username or "\\" in username:
        raise ValueError("refusing a login name with quotes or backslashes: %r" % username)
    return statement.replace("{{name}}", username).replace("{{username}}", username)

# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors raised by the helpers; modules turn them into ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from contextlib import contextmanager

try:
    import hvac.exceptions as hvac_exceptions
except ImportError:  # reported by the module through missing_required_lib
    hvac_exceptions = None

try:
    import requests.exceptions as requests_exceptions
except ImportError:
    requests_exceptions = None


class VaultModuleError(Exception):
    """An error the module reports as ``msg``; never carries a secret."""

    def __init__(self, message, path=None, field=None, changed=None):
        super(VaultModuleError, self).__init__(message)
        self.message = message
        self.path = path
        self.field = field
        # True when something was written before the failure (reported as ``changed``).
        self.changed = changed


class VaultInputError(VaultModuleError):
    """The user's input is invalid; raised before anything is written."""

    def __init__(self, field, path, problem):
        message = "Invalid value for '%s' (Vault path %s): %s" % (field, path, problem)
        super(VaultInputError, self).__init__(message, path=path, field=field)


class VaultAuthError(VaultModuleError):
    """Login failed or no credentials were found."""


def is_vault_error(exc, *kinds):
    """Whether ``exc`` is one of the named hvac exceptions, e.g. ``"InvalidPath"``."""
    if hvac_exceptions is None:
        return False
    return isinstance(exc, tuple(getattr(hvac_exceptions, kind) for kind in kinds))


def vault_messages(exc):
    """Vault's own error text from an hvac exception."""
    errors = getattr(exc, "errors", None)
    if errors:
        if isinstance(errors, (list, tuple)):
            return "; ".join(str(e) for e in errors)
        return str(errors)
    text = str(exc).strip()
    return text or exc.__class__.__name__


def translate(exc, action, path, field=None):
    """The VaultModuleError for an hvac or transport error (``raise translate(exc, ...)``);
    any other exception is returned as it is.

    ``action`` is a verb phrase (``"write"``, ``"read"``, ``"log in at"``); the message
    names the Vault path and carries Vault's own message. ``field`` names the option at
    fault, or is a callable that picks it from Vault's message (None when it names none).
    """
    if isinstance(exc, VaultModuleError):
        return exc
    if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.VaultError):
        kind = exc.__class__.__name__
        if isinstance(exc, hvac_exceptions.Forbidden):
            kind = "permission denied"
        elif isinstance(exc, hvac_exceptions.InvalidRequest):
            kind = "invalid request"
        elif isinstance(exc, hvac_exceptions.InvalidPath):
            kind = "no such path"
        text = vault_messages(exc)
        if callable(field):
            field = field(text)
        message = "Vault refused to %s %s (%s): %s" % (action, path, kind, text)
        if field:
            message += " [field: %s]" % field
        return VaultModuleError(message, path=path, field=field)
    if requests_exceptions is not None and isinstance(exc, requests_exceptions.RequestException):
        return VaultModuleError(
            "Could not reach Vault to %s %s: %s" % (action, path, exc.__class__.__name__ + ": " + str(exc)),
            path=path,
        )
    return exc


@contextmanager
def vault_errors(action, path, field=None):
    """Translate hvac and transport errors raised in the block (see ``translate``)."""
    try:
        yield
    except Exception as exc:  # pylint: disable=broad-except
        translated = translate(exc, action, path, field)
        if translated is exc:
            raise
        raise translated

# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative convergence of one Vault object: read -> normalise -> compare -> write.

A ``Resource`` describes one kind of Vault object (its path, its fields, how
they read back, which are write-only).  ``converge`` applies the user's
parameters to it with check mode, diff mode and write-only semantics, and
returns the module result.  Modules are thin wrappers around one Resource.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import (
    VaultInputError,
    VaultModuleError,
    is_vault_error,
    translate,
    vault_errors,
)
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._normalize import normalize

MASK = "********"
ON_CREATE = "on_create"
ALWAYS = "always"


class Field(object):
    """One option of a Vault object.

    name          module option name
    kind          normaliser: str, bool, int, ttl, list, set, statements, text
    api_name      name in the write payload (default: ``name``)
    read_path     keys to the value in the read response (default: ``(api_name,)``)
    write_only    never returned by Vault (passwords, JWTs); masked in diff
    update_option module option (on_create | always) saying when to resend it
    set_flag      read key telling whether a write-only value is stored
    compare       False for write-time switches that Vault does not return
    raw_wire      send the user's own value instead of the normalised one
    """

    def __init__(self, name, kind="str", api_name=None, read_path=None, write_only=False,
                 update_option=None, set_flag=None, compare=True, raw_wire=False):
        self.name = name
        self.kind = kind
        self.api_name = api_name or name
        self.read_path = tuple(read_path or (self.api_name,))
        self.write_only = write_only
        self.update_option = update_option
        self.set_flag = set_flag
        self.compare = compare and not write_only
        self.raw_wire = raw_wire

    def read(self, data):
        value = data
        for key in self.read_path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value


class Mount(object):
    """The secrets engine or auth method a resource lives in."""

    def __init__(self, kind, type_name, option="mount_point"):
        self.kind = kind  # "secrets" or "auth"
        self.type_name = type_name
        self.option = option

    def point(self, params):
        return params[self.option].strip("/")

    def sys_path(self, params):
        base = "sys/mounts" if self.kind == "secrets" else "sys/auth"
        return "%s/%s" % (base, self.point(params))

    def exists(self, client, params):
        """True/False, or None when the token may not read the mount table."""
        path = self.sys_path(params)
        try:
            data = client.adapter.get("/v1/%s" % path)
        except Exception as exc:  # pylint: disable=broad-except
            if is_vault_error(exc, "InvalidRequest", "InvalidPath"):
                return False
            if is_vault_error(exc, "Forbidden"):
                return None
            raise translate(exc, "read", path)
        data = _response_data(data) or {}
        found = data.get("type")
        if found and found != self.type_name:
            raise VaultModuleError(
                "%s/ is mounted as '%s', not '%s'; choose another %s"
                % (self.point(params), found, self.type_name, self.option),
                path=path, field=self.option,
            )
        return True

    def enable(self, client, params):
        path = self.sys_path(params)
        with vault_errors("enable", path, field=self.option):
            if self.kind == "secrets":
                client.sys.enable_secrets_engine(backend_type=self.type_name, path=self.point(params))
            else:
                client.sys.enable_auth_method(method_type=self.type_name, path=self.point(params))

    def disable(self, client, params):
        path = self.sys_path(params)
        with vault_errors("disable", path):
            if self.kind == "secrets":
                client.sys.disable_secrets_engine(path=self.point(params))
            else:
                client.sys.disable_auth_method(path=self.point(params))


class Resource(object):
    """One kind of Vault object.

    path            callable(params) -> Vault path of the object
    fields          list of Field
    options         the module's own argument spec (common options are added)
    mount           Mount to enable when absent, or None
    merge_on_write  True when Vault keeps stored values a write leaves out;
                    False when a write replaces the object (then every value
                    the user gave, write-only ones included, is sent again)
    error_hints     (phrase, option) pairs: a rejected write whose Vault message holds
                    the phrase is blamed on the option (after options named outright)
    validate        callable(params, path) raising VaultInputError, or None
    absent_disables_mount
                    ``state: absent`` disables the whole mount (for objects such
                    as an auth method's config that cannot be deleted alone)
    required_if     AnsibleModule ``required_if`` rules of the options
    after           callable(client, params, result, check_mode) run once the object
                    converged (rotating a root credential); may update ``result``
    """

    def __init__(self, path, fields, options, mount=None, merge_on_write=True,
                 error_hints=(), validate=None, absent_disables_mount=False, required_if=(), after=None):
        self.required_if = list(required_if)
        self.after = after
        self.absent_disables_mount = absent_disables_mount
        self.options = options
        self.path = path
        self.fields = fields
        self.mount = mount
        self.merge_on_write = merge_on_write
        self.error_hints = tuple(error_hints)
        self._validate = validate

    def field_at_fault(self, message):
        """The option a Vault error message is about, or None when it names none.

        An option Vault names outright wins (the first one in the message); then
        the resource's phrase hints; a wrong guess is worse than none.
        """
        text = message or ""
        named = []
        for field in self.fields:
            for word in set((field.api_name, field.name)):
                match = re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(word), text)
                if match:
                    named.append((match.start(), field.name))
        if named:
            return min(named)[1]
        lowered = text.lower()
        for phrase, option in self.error_hints:
            if phrase in lowered:
                return option
        return None

    def desired(self, params, path):
        """Normalised user values for the fields the user set; validates them."""
        wanted = {}
        for field in self.fields:
            value = params.get(field.name)
            if value is None:
                continue
            try:
                wanted[field.name] = normalize(field.kind, value)
            except (ValueError, TypeError) as exc:
                raise VaultInputError(field.name, path, str(exc))
        if self._validate:
            self._validate(params, path)
        return wanted

    def current(self, data):
        """Normalised stored values, for every comparable field."""
        return dict(
            (f.name, normalize(f.kind, f.read(data))) for f in self.fields if f.compare
        )


def _response_data(response):
    if response is None:
        return None
    if hasattr(response, "json"):
        response = response.json()
    if isinstance(response, dict) and isinstance(response.get("data"), dict):
        return response["data"]
    return response


def read_object(client, path):
    with vault_errors("read", path):
        return _response_data(client.read(path))


def list_keys(client, path):
    """Names under a LIST endpoint ([] when there are none: Vault answers 404)."""
    try:
        response = client.list(path)
    except Exception as exc:  # pylint: disable=broad-except
        if is_vault_error(exc, "InvalidPath"):
            return []
        raise translate(exc, "list", path)
    return list(((response or {}).get("data") or {}).get("keys") or [])


def _write_only_stored(field, stored):
    """Whether Vault holds a value for a write-only field (None: cannot tell)."""
    if stored is None:
        return False
    if field.set_flag:
        return bool(stored.get(field.set_flag))
    return None


class Plan(object):
    """What converge decided, kept separate from doing it (for tests)."""

    def __init__(self, path, action, changed_fields, payload, before, after):
        self.path = path
        self.action = action  # none | create | update | delete
        self.changed_fields = changed_fields
        self.payload = payload
        self.before = before
        self.after = after

    @property
    def changed(self):
        return self.action != "none"


def plan(resource, params, stored, mount_present=True):
    """Compare the user's wish with the stored object and decide what to send."""
    path = resource.path(params)
    state = params.get("state") or "present"
    wanted = resource.desired(params, path)

    before = {}
    if resource.mount is not None:
        before["mount"] = (resource.mount.point(params) + "/") if mount_present else None
    if stored is not None:
        current = resource.current(stored)
        for field in resource.fields:
            if field.write_only:
                held = _write_only_stored(field, stored)
                before[field.name] = MASK if held in (True, None) else None
            elif field.compare:
                before[field.name] = current[field.name]

    if state == "absent" and resource.absent_disables_mount:
        if not mount_present:
            return Plan(path, "none", [], None, {}, {})
        before.setdefault("mount", resource.mount.point(params) + "/")
        return Plan(path, "disable", [], None, before, {"mount": None})
    if state == "absent":
        action = "delete" if stored is not None else "none"
        after = {"mount": before["mount"]} if "mount" in before else {}
        return Plan(path, action, [], None, before if stored is not None else {}, after)

    after = dict(before)
    if resource.mount is not None:
        after["mount"] = resource.mount.point(params) + "/"
    changed = []
    for field in resource.fields:
        if field.name not in wanted:
            continue
        if field.write_only:
            after[field.name] = MASK
            continue
        if not field.compare:
            continue
        after[field.name] = wanted[field.name]
        if stored is None or current[field.name] != wanted[field.name]:
            changed.append(field.name)

    resend = []
    for field in resource.fields:
        if not field.write_only or field.name not in wanted:
            continue
        mode = params.get(field.update_option) if field.update_option else ON_CREATE
        if stored is None or mode == ALWAYS or _write_only_stored(field, stored) is False:
            resend.append(field.name)
    changed.extend(resend)

    if stored is None:
        action = "create"
    elif changed:
        action = "update"
    else:
        action = "none"
    if not mount_present:
        action = "create"

    payload = None
    if action != "none":
        payload = {}
        for field in resource.fields:
            if field.name not in wanted:
                continue
            if field.write_only and field.name not in resend and (
                    resource.merge_on_write or action == "create"):
                continue
            raw = params.get(field.name)
            payload[field.api_name] = raw if field.raw_wire else wanted[field.name]
    return Plan(path, action, changed, payload, before, after)


def converge(client, resource, params, check_mode=False, want_diff=False):
    """Bring one Vault object to the wanted state; return the module result."""
    path = resource.path(params)
    resource.desired(params, path)  # validate before touching Vault

    mount_present = True
    if resource.mount is not None:
        mount_present = resource.mount.exists(client, params) is not False
    stored = read_object(client, path) if mount_present else None

    if (params.get("state") or "present") == "absent" and not mount_present:
        result = dict(changed=False, path=path, state="absent")
        if want_diff:
            result["diff"] = dict(before={}, after={})
        return result

    decided = plan(resource, params, stored, mount_present)
    if decided.changed and not check_mode:
        execute(client, resource, params, decided, mount_present)

    result = dict(changed=decided.changed, path=path, state=params.get("state") or "present",
                  action=decided.action)
    if want_diff:
        result["diff"] = dict(before=decided.before, after=decided.after)
    return result


def execute(client, resource, params, decided, mount_present=True):
    path = decided.path
    if decided.action == "disable":
        resource.mount.disable(client, params)
        return
    if decided.action == "delete":
        with vault_errors("delete", path):
            client.delete(path)
        return
    created_mount = False
    if not mount_present:
        resource.mount.enable(client, params)
        created_mount = True
    try:
        with vault_errors("write", path, field=resource.field_at_fault):
            client.write_data(path, data=decided.payload)
    except VaultModuleError:
        if created_mount:
            # Leave Vault as it was: the mount was only needed for this object.
            resource.mount.disable(client, params)
        raise

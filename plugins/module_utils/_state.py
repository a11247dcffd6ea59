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


# The module option (argument spec) each kind of field is, unless the field says more.
OPTION_OF_KIND = {
    "str": dict(type="str"), "text": dict(type="str"), "url": dict(type="str"),
    "bool": dict(type="bool"), "int": dict(type="int"), "ttl": dict(type="raw"),
    "list": dict(type="list", elements="str"), "set": dict(type="list", elements="str"),
    "statements": dict(type="list", elements="str"),
}


class Field(object):
    """One option of a Vault object: its module option and how Vault stores it.

    name          module option name
    kind          normaliser: str, bool, int, ttl, list, set, statements, text, url
    description   the option's documentation (a string or a list of paragraphs)
    option        argument spec entries beyond what ``kind`` implies (default, choices,
                  aliases, no_log); write-only fields are no_log
    read_path     keys to the value in the read response (default: ``(name,)``)
    write_only    never returned by Vault (passwords, JWTs); masked in diff
    update_option module option (on_create | always) saying when to resend it
    set_flag      read key telling whether a write-only value is stored
    compare       False for write-time switches that Vault does not return
    raw_wire      send the user's own value instead of the normalised one
    """

    def __init__(self, name, kind="str", option=None, read_path=None, write_only=False,
                 update_option=None, set_flag=None, compare=True, raw_wire=False, description=""):
        self.name = name
        self.kind = kind
        self.option = dict(OPTION_OF_KIND[kind], **(option or {}))
        self.description = description
        if write_only:
            self.option["no_log"] = True
        self.read_path = tuple(read_path or (name,))
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
    fields          list of Field (each is a module option too)
    options         the module options that are not fields (name, mount_point, state...),
                    argument spec entries plus their ``description``; ``self.options`` is the
                    whole argument spec (the module adds the connection options) and
                    ``documentation()`` the options' documentation: each option is written once
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
    then            callable(request, sends) -> further Steps after a write, given the
                    write-only values it sends (rotating a root credential), or None
    """

    def __init__(self, path, fields, options, mount=None, merge_on_write=True,
                 error_hints=(), validate=None, absent_disables_mount=False, required_if=(), then=None):
        self.required_if = list(required_if)
        self.then = then
        self.absent_disables_mount = absent_disables_mount
        self.descriptions = dict((name, spec.get("description", "")) for name, spec in options.items())
        self.descriptions.update((field.name, field.description) for field in fields)
        self.options = dict((name, dict((k, v) for k, v in spec.items() if k != "description"))
                            for name, spec in options.items())
        self.options.update((field.name, field.option) for field in fields)
        self.path = path
        self.fields = fields
        self.mount = mount
        self.merge_on_write = merge_on_write
        self.error_hints = tuple(error_hints)
        self._validate = validate

    def documentation(self):
        """The ``options`` of the module's documentation, from the same definitions as the argument spec."""
        docs = {}
        for name, spec in self.options.items():
            doc = dict(description=self.descriptions[name], type=spec.get("type", "str"))
            for key in ("elements", "default", "choices", "aliases"):
                if spec.get(key) is not None:
                    doc[key] = spec[key]
            if spec.get("required"):
                doc["required"] = True
            docs[name] = doc
        return docs

    def field_at_fault(self, message):
        """The option a Vault error message is about, or None when it names none.

        An option Vault names outright wins (the first one in the message); then
        the resource's phrase hints; a wrong guess is worse than none.
        """
        text = message or ""
        named = []
        for field in self.fields:
            match = re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(field.name), text)
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
        """Normalised user values for the fields the user set; validates them (``Request`` calls this)."""
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


class Request(object):
    """One call on one object, built once: where it is and what the user wants, validated.

    path        Vault path of the object
    state       present | absent
    mount_point the mount the object lives in (None when the resource has no Mount)
    wanted      normalised values of the options the user set
    """

    def __init__(self, resource, params):
        self.resource = resource
        self.params = params
        self.path = resource.path(params)
        self.state = params.get("state") or "present"
        self.mount_point = resource.mount.point(params) if resource.mount is not None else None
        self.wanted = resource.desired(params, self.path)


class Step(object):
    """One request ``execute`` sends. ``sends`` names the write-only values in a write."""

    ENABLE = "enable mount"
    WRITE = "write"
    DELETE = "delete"
    DISABLE = "disable mount"
    ROTATE = "rotate root"

    def __init__(self, kind, path, payload=None, sends=(), rerun_hint=None):
        self.kind = kind
        self.path = path
        self.payload = payload
        self.sends = list(sends)
        self.rerun_hint = rerun_hint

    def describe(self):
        described = dict(step=self.kind, path=self.path)
        if self.kind == Step.WRITE:
            described["sends_write_only"] = self.sends
        return described


class Plan(object):
    """Every step converge will take for one object, and what it reports about them."""

    def __init__(self, path, action, changed_fields=(), before=None, after=None, steps=()):
        self.path = path
        self.action = action  # none | create | update | delete | disable
        self.changed_fields = list(changed_fields)
        self.before = before or {}
        self.after = after or {}
        self.steps = list(steps)

    @property
    def changed(self):
        return bool(self.steps)

    def step(self, kind):
        found = [step for step in self.steps if step.kind == kind]
        return found[0] if found else None

    @property
    def payload(self):
        write = self.step(Step.WRITE)
        return write.payload if write else None


def plan(request, stored, mount_present=True):
    """Compare the user's wish with the stored object; decide every step to take."""
    resource, params, path, wanted = request.resource, request.params, request.path, request.wanted

    before = {}
    if resource.mount is not None:
        before["mount"] = (request.mount_point + "/") if mount_present else None
    if stored is not None:
        current = resource.current(stored)
        for field in resource.fields:
            if field.write_only:
                held = _write_only_stored(field, stored)
                before[field.name] = MASK if held in (True, None) else None
            elif field.compare:
                before[field.name] = current[field.name]

    if request.state == "absent" and resource.absent_disables_mount:
        if not mount_present:
            return Plan(path, "none")
        before.setdefault("mount", request.mount_point + "/")
        return Plan(path, "disable", before=before, after={"mount": None},
                    steps=[Step(Step.DISABLE, resource.mount.sys_path(params))])
    if request.state == "absent":
        after = {"mount": before["mount"]} if "mount" in before else {}
        if stored is None:
            return Plan(path, "none", after=after)
        return Plan(path, "delete", before=before, after=after, steps=[Step(Step.DELETE, path)])

    after = dict(before)
    if resource.mount is not None:
        after["mount"] = request.mount_point + "/"
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

    if stored is None or not mount_present:
        action = "create"
    elif changed:
        action = "update"
    else:
        return Plan(path, "none", before=before, after=after)

    payload = {}
    for field in resource.fields:
        if field.name not in wanted:
            continue
        if field.write_only and field.name not in resend and (resource.merge_on_write or action == "create"):
            continue
        payload[field.name] = params.get(field.name) if field.raw_wire else wanted[field.name]
    sends = [f.name for f in resource.fields if f.write_only and f.name in payload]
    steps = []
    if not mount_present:
        steps.append(Step(Step.ENABLE, resource.mount.sys_path(params)))
    steps.append(Step(Step.WRITE, path, payload, sends))
    if resource.then is not None:
        steps.extend(resource.then(request, sends))
    return Plan(path, action, changed, before, after, steps)


def read_state(client, request):
    """(stored object or None, whether its mount is there) for a request."""
    mount_present = True
    if request.resource.mount is not None:
        mount_present = request.resource.mount.exists(client, request.params) is not False
    stored = read_object(client, request.path) if mount_present else None
    return stored, mount_present


def converge(client, request, check_mode=False, want_diff=False):
    """Bring one Vault object to the wanted state; return the module result."""
    stored, mount_present = read_state(client, request)
    decided = plan(request, stored, mount_present)
    if decided.changed and not check_mode:
        execute(client, request, decided)
    result = dict(changed=decided.changed, path=request.path, state=request.state, action=decided.action,
                  steps=[step.describe() for step in decided.steps])
    if want_diff:
        result["diff"] = dict(before=decided.before, after=decided.after)
    return result


def execute(client, request, decided):
    """Take exactly the planned steps. When one fails, what this call created is removed again."""
    done = []
    for step in decided.steps:
        try:
            _take(client, request, step)
        except VaultModuleError as exc:
            raise _after_failure(client, request, decided, done, exc)
        done.append(step)


def _take(client, request, step):
    resource, params = request.resource, request.params
    if step.kind == Step.ENABLE:
        resource.mount.enable(client, params)
    elif step.kind == Step.DISABLE:
        resource.mount.disable(client, params)
    elif step.kind == Step.DELETE:
        with vault_errors("delete", step.path):
            client.delete(step.path)
    elif step.kind == Step.WRITE:
        with vault_errors("write", step.path, field=resource.field_at_fault):
            client.write_data(step.path, data=step.payload)
    else:
        with vault_errors(step.kind + " at", step.path, field=resource.field_at_fault):
            client.write_data(step.path, data=step.payload or {})


def _after_failure(client, request, decided, done, exc):
    """Undo what this call created among the ``done`` steps (newest first); say what is left."""
    undone, kept = [], []
    for step in reversed(done):
        if step.kind == Step.ENABLE:
            request.resource.mount.disable(client, request.params)
            undone.append(step)
        elif step.kind == Step.WRITE and decided.action == "create":
            with vault_errors("remove the half-made object at", step.path):
                client.delete(step.path)
            undone.append(step)
        else:
            kept.append(step)
    if all(step.kind == Step.ENABLE for step in done):
        # Nothing, or only the mount this object needed, was made: Vault is as it was.
        return exc
    parts = [exc.message]
    if undone:
        parts.append("Undone, so Vault is as before: %s" % ", ".join("%s %s" % (s.kind, s.path) for s in undone))
    if kept:
        parts.append("Already done: %s" % ", ".join("%s %s" % (s.kind, s.path) for s in reversed(kept)))
    parts.extend(step.rerun_hint for step in decided.steps if step.rerun_hint)
    return VaultModuleError(". ".join(parts), path=exc.path, field=exc.field, changed=True)

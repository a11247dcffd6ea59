# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge a whole Vault configuration document in one run: validate, read, plan, apply.

Every object of the document goes through the same resource definitions and the same
``plan``/``execute`` as the per-object modules: this file only orders the objects,
reads them (concurrently), selects what ``prune`` deletes, and reports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import (
    VaultInputError,
    VaultModuleError,
)
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._normalize import url_password
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import (
    DB_CONNECTION,
    DB_ROLE,
    K8S_AUTH,
    K8S_AUTH_ROLE,
    POLICY,
)
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._state import (
    Request,
    Step,
    execute,
    list_keys,
    plan,
    read_object,
)

# Policies Vault creates itself; prune never deletes them.
BUILTIN_POLICIES = frozenset(["root", "default", "response-wrapping", "control-group"])
READ_THREADS = 8


class Item(object):
    """One object of the document: its request (validated once) and where it came from."""

    def __init__(self, kind, resource, params, where, mount=None):
        self.kind = kind
        self.request = Request(resource, params)
        self.params = params
        self.where = where
        self.mount = mount  # the MountItem it lives in, or None
        self.path = self.request.path
        self.stored = None
        self.decided = None


class MountItem(object):
    """A secrets engine or auth method the document manages (enabled when absent)."""

    def __init__(self, kind, mount, params, where):
        self.kind = kind
        self.mount = mount
        self.params = params
        self.where = where
        self.path = mount.sys_path(params)
        self.present = None


def _validated(resource, raw, where, inherited):
    """The item's params as the per-object module would see them, or a VaultInputError."""
    params = dict(raw or {})
    for key, value in inherited.items():
        if key in params and params[key] != value:
            raise VaultInputError(key, where, "is set by the enclosing mount (%s), not per item" % value)
        params[key] = value
    validator = ArgumentSpecValidator(resource.options, required_if=resource.required_if)
    result = validator.validate(params)
    if result.error_messages:
        raise VaultModuleError("Invalid item %s: %s" % (where, "; ".join(result.error_messages)), path=where)
    return result.validated_parameters


RESOURCES = (POLICY, DB_CONNECTION, DB_ROLE, K8S_AUTH, K8S_AUTH_ROLE)
SECRET_OPTIONS = frozenset(name for resource in RESOURCES for name, spec in resource.options.items()
                           if spec.get("no_log"))
URL_OPTIONS = frozenset(field.name for resource in RESOURCES for field in resource.fields if field.kind == "url")


def secrets_in(document):
    """Every secret value anywhere in a raw document or a module's params (for the module's
    no_log_values), found before validation so that even refused input never shows one."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in SECRET_OPTIONS and isinstance(value, str) and value:
                    found.add(value)
                elif key in URL_OPTIONS and url_password(value):
                    found.add(url_password(value))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found


def build(document):
    """Mounts and items in apply order, the whole document validated before anything is read."""
    mounts, items = [], []
    for index, policy in enumerate(document.get("policies") or []):
        params = _validated(POLICY, policy, "policies[%d]" % index, {})
        items.append(Item("policy", POLICY, params, "policies[%d]" % index))
    for index, entry in enumerate(document.get("database") or []):
        where = "database[%d]" % index
        point = (entry.get("mount_point") or "database").strip("/")
        mount = MountItem("database mount", DB_CONNECTION.mount, {"mount_point": point}, where)
        mounts.append(mount)
        for kind, resource, key in (("database connection", DB_CONNECTION, "connections"),
                                    ("database role", DB_ROLE, "roles")):
            for sub, raw in enumerate(entry.get(key) or []):
                here = "%s.%s[%d]" % (where, key, sub)
                params = _validated(resource, raw, here, {"mount_point": point})
                items.append(Item(kind, resource, params, here, mount))
    for index, entry in enumerate(document.get("kubernetes") or []):
        where = "kubernetes[%d]" % index
        point = (entry.get("mount_point") or "kubernetes").strip("/")
        mount = MountItem("kubernetes auth mount", K8S_AUTH.mount, {"mount_point": point}, where)
        mounts.append(mount)
        if entry.get("config") is not None:
            params = _validated(K8S_AUTH, entry["config"], where + ".config", {"mount_point": point})
            items.append(Item("kubernetes auth config", K8S_AUTH, params, where + ".config", mount))
        for sub, raw in enumerate(entry.get("roles") or []):
            here = "%s.roles[%d]" % (where, sub)
            params = _validated(K8S_AUTH_ROLE, raw, here, {"mount_point": point})
            items.append(Item("kubernetes auth role", K8S_AUTH_ROLE, params, here, mount))
    seen = {}
    for item in items:
        if item.path in seen:
            raise VaultModuleError("%s and %s are the same object (%s)" % (seen[item.path], item.where, item.path),
                                   path=item.path)
        seen[item.path] = item.where
    # Policies before the auth roles that name them; within a mount, connection before roles.
    order = {"policy": 0, "database connection": 1, "database role": 2,
             "kubernetes auth config": 3, "kubernetes auth role": 4}
    items.sort(key=lambda i: order[i.kind])
    return mounts, items


def prune_candidates(client, document, mounts, items):
    """Items (state absent) for the unlisted objects prune deletes."""
    keep = list(document.get("prune_keep") or [])
    wanted = set(i.path for i in items)
    found = []

    def keepable(name):
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in keep)

    sources = []
    for mount in mounts:
        if not mount.present:
            continue
        point = mount.params["mount_point"]
        if mount.mount.kind == "secrets":
            sources.append(("database role", DB_ROLE, "%s/roles" % point, point))
        else:
            sources.append(("kubernetes auth role", K8S_AUTH_ROLE, "auth/%s/role" % point, point))
    if document.get("policies") is not None:
        sources.append(("policy", POLICY, "sys/policies/acl", None))
    for kind, resource, list_path, point in sources:
        for name in sorted(list_keys(client, list_path)):
            name = name.rstrip("/")
            if kind == "policy" and name in BUILTIN_POLICIES:
                continue
            if keepable(name):
                continue
            params = {"name": name, "state": "absent"}
            if point is not None:
                params["mount_point"] = point
            item = Item(kind, resource, params, "prune")
            if item.path not in wanted:
                found.append(item)
    return found


def _read_all(client, targets):
    """Read every target's stored object, a few at a time (reads only)."""
    def read(item):
        if item.mount is not None and not item.mount.present:
            return None
        return read_object(client, item.path)

    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        for item, stored in zip(targets, pool.map(read, targets)):
            item.stored = stored


def _mount_present(client, mount):
    present = mount.mount.exists(client, mount.params)
    return present is not False


def converge_document(client, document, mounts, items, check_mode=False, want_diff=False):
    """Bring the whole document (``build``'s mounts and items) to Vault; return the module result."""
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        for mount, present in zip(mounts, pool.map(lambda m: _mount_present(client, m), mounts)):
            mount.present = present
    _read_all(client, items)
    pruned = prune_candidates(client, document, mounts, items) if document.get("prune") else []
    _read_all(client, pruned)

    steps = []
    for mount in mounts:
        steps.append((mount, "none" if mount.present else "create"))
    for item in items + pruned:
        # Objects in a mount the mount step creates count as in a present mount; only a
        # state=absent object looks at whether its mount is really there.
        present = item.mount.present if item.mount is not None and item.params.get("state") == "absent" else True
        item.decided = plan(item.request, item.stored, mount_present=present)

    written = []
    objects = []
    for mount, action in steps:
        if action != "none" and not check_mode:
            _apply(written, mount.path, lambda m=mount: m.mount.enable(client, m.params))
        entry = dict(path=mount.path, kind=mount.kind, action=action, changed_fields=[],
                     steps=[] if action == "none" else [Step(Step.ENABLE, mount.path).describe()])
        if want_diff:
            entry["diff"] = dict(before={"mount": None if action != "none" else mount.params["mount_point"] + "/"},
                                 after={"mount": mount.params["mount_point"] + "/"})
        objects.append(entry)
    for item in items + pruned:
        decided = item.decided
        if decided.changed and not check_mode:
            _apply(written, item.path, lambda i=item: execute(client, i.request, i.decided))
        entry = dict(path=item.path, kind=item.kind, action=decided.action,
                     changed_fields=list(decided.changed_fields),
                     steps=[step.describe() for step in decided.steps])
        if item.where == "prune":
            entry["pruned"] = True
        if want_diff:
            entry["diff"] = dict(before=decided.before, after=decided.after)
        objects.append(entry)

    summary = dict(create=0, update=0, delete=0, none=0)
    for entry in objects:
        action = "delete" if entry["action"] in ("delete", "disable") else entry["action"]
        summary[action] = summary.get(action, 0) + 1
    changed = any(entry["action"] != "none" for entry in objects)
    result = dict(changed=changed, objects=objects, summary=summary)
    if want_diff:
        # One unified diff per changed object, headed like a plan: "update database/roles/x".
        result["diff"] = [dict(before_header="%s %s" % (entry["action"], entry["path"]),
                               after_header="%s %s" % (entry["action"], entry["path"]),
                               before=entry["diff"]["before"], after=entry["diff"]["after"])
                          for entry in objects if entry["action"] != "none"]
    return result


def _apply(written, path, step):
    """Run one write step; a failure says which objects were already written."""
    try:
        step()
    except VaultModuleError as exc:
        done = ", ".join(written) if written else "nothing"
        raise VaultModuleError("%s (already written in this run: %s; a re-run converges the rest)"
                               % (exc.message, done), path=exc.path or path, field=exc.field,
                               changed=bool(written) or bool(exc.changed))
    written.append(path)


def _exported(resource, stored, where, write_only):
    """The per-object module options that reproduce ``stored``; write-only ones are listed, not read."""
    options = {}
    for field in resource.fields:
        if field.write_only:
            if field.set_flag is None or stored.get(field.set_flag):
                write_only.append("%s.%s" % (where, field.name))
            continue
        if not field.compare:
            continue
        value = field.read(stored)
        if value in (None, "", [], {}):
            continue
        if field.kind == "url" and url_password(value):
            write_only.append("%s.%s" % (where, field.name))  # Vault reads it back redacted
            continue
        options[field.name] = value
    return options


def export_document(client, database=(), kubernetes=(), policies=True):
    """What Vault holds under the given mounts (and its ACL policies) as a vault_config document."""
    document, write_only = {}, []

    def objects(list_path, resource, where, params):
        found = []
        for index, name in enumerate(sorted(n.rstrip("/") for n in list_keys(client, list_path))):
            item_params = dict(params, name=name)
            stored = read_object(client, resource.path(item_params)) or {}
            here = "%s[%d]" % (where, index)
            found.append(dict({"name": name}, **_exported(resource, stored, here, write_only)))
        return found

    if database:
        document["database"] = []
        for index, point in enumerate(database):
            point = point.strip("/")
            where = "database[%d]" % index
            document["database"].append({
                "mount_point": point,
                "connections": objects("%s/config" % point, DB_CONNECTION, where + ".connections",
                                       {"mount_point": point}),
                "roles": objects("%s/roles" % point, DB_ROLE, where + ".roles", {"mount_point": point}),
            })
    if kubernetes:
        document["kubernetes"] = []
        for index, point in enumerate(kubernetes):
            point = point.strip("/")
            where = "kubernetes[%d]" % index
            entry = {"mount_point": point}
            stored = read_object(client, K8S_AUTH.path({"mount_point": point}))
            if stored:
                entry["config"] = _exported(K8S_AUTH, stored, where + ".config", write_only)
            entry["roles"] = objects("auth/%s/role" % point, K8S_AUTH_ROLE, where + ".roles",
                                     {"mount_point": point})
            document["kubernetes"].append(entry)
    if policies:
        names = [n for n in sorted(list_keys(client, "sys/policies/acl")) if n not in BUILTIN_POLICIES]
        document["policies"] = []
        for name in names:
            stored = read_object(client, POLICY.path({"name": name})) or {}
            document["policies"].append({"name": name, "policy": stored.get("policy", "")})
    return dict(changed=False, document=document, write_only=write_only)

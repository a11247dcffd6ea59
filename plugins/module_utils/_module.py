# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module boundary: build the AnsibleModule, run, map typed errors to fail_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._client import (
    HAS_HVAC,
    HVAC_IMPORT_ERROR,
    argspec,
    connect,
)
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._config import secrets_in
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultModuleError
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._state import (
    Request,
    converge,
    list_keys,
    read_object,
)


def new_module(options, **kwargs):
    """AnsibleModule with the common options plus ``options``; fails early without hvac."""
    module = AnsibleModule(argument_spec=argspec(**options), **kwargs)
    if not HAS_HVAC:
        module.fail_json(msg=missing_required_lib("hvac"), exception=str(HVAC_IMPORT_ERROR))
    return module


def fail(module, exc):
    result = dict(msg=exc.message)
    if exc.changed is not None:
        result["changed"] = exc.changed
    if exc.path:
        result["path"] = exc.path
    if exc.field:
        result["field"] = exc.field
    module.fail_json(**result)


def run(module, body, prepare=None):
    """Call ``body(client)`` and exit with its result; typed errors become fail_json.

    ``prepare()`` validates the input before anything talks to Vault.
    """
    try:
        if prepare is not None:
            prepare()
        client = connect(module.params)
        result = body(client)
    except VaultModuleError as exc:
        fail(module, exc)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="Unexpected error: %s: %s" % (exc.__class__.__name__, exc),
                         exception=traceback.format_exc())
    module.exit_json(**result)


def run_resource(resource, report=None):
    """The whole life of a module that converges one Resource.

    ``report(result)`` returns extra result keys computed from the converge result.
    """
    module = new_module(resource.options, supports_check_mode=True, required_if=resource.required_if)
    # A password written into a URL option is a secret too: Ansible masks it in every output.
    module.no_log_values.update(secrets_in(module.params))
    request = []

    def prepare():
        request.append(Request(resource, module.params))

    def body(client):
        result = converge(client, request[0], check_mode=module.check_mode, want_diff=module._diff)
        if report is not None:
            result.update(report(result))
        return result

    run(module, body, prepare)


def read_info(client, resource, params):
    """What Vault holds for one object, normalised like the module compares it.

    Write-only values (passwords, JWTs) are never part of it: Vault does not return
    them, and a password written into a URL is masked.
    """
    stored = read_object(client, resource.path(params))
    if stored is None:
        return None
    return resource.current(stored)


def run_info(resource):
    """The life of a read-only ``*_info`` module: one object by ``name``, or all of them."""
    options = dict(name=dict(type="str"), mount_point=resource.options["mount_point"])
    module = new_module(options, supports_check_mode=True)

    def prepare():
        if module.params["name"] is not None:
            Request(resource, dict(module.params, state="absent"))

    def body(client):
        params = module.params
        if params["name"] is not None:
            found = read_info(client, resource, params)
            return dict(changed=False, path=resource.path(params), exists=found is not None,
                        object=found or {})
        listing = resource.path(dict(params, name="")).rstrip("/")
        names = sorted(list_keys(client, listing))
        objects = {}
        for name in names:
            found = read_info(client, resource, dict(params, name=name))
            if found is not None:
                objects[name] = found
        return dict(changed=False, path=listing, objects=objects)

    run(module, body, prepare)

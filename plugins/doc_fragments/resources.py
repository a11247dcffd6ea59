# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible_collections.dynamic_secrets.vault.plugins.module_utils import _resources


def _options(resource):
    return yaml.safe_dump({"options": resource.documentation()}, default_flow_style=False, sort_keys=True)


class ModuleDocFragment(object):
    # The options of each per-object module, written from the same definitions
    # (plugins/module_utils/_resources.py) as its argument spec and vault_config's items.
    DOCUMENTATION = r"""
options: {}
"""
    DB_CONNECTION = _options(_resources.DB_CONNECTION)
    DB_ROLE = _options(_resources.DB_ROLE)
    DB_STATIC_ROLE = _options(_resources.DB_STATIC_ROLE)
    POLICY = _options(_resources.POLICY)
    K8S_AUTH = _options(_resources.K8S_AUTH)
    K8S_AUTH_ROLE = _options(_resources.K8S_AUTH_ROLE)

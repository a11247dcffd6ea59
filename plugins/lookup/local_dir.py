# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: local_dir
short_description: The project's local state or cache directory
version_added: 0.2.0
description:
  - With O(kind=state) (the default) returns C($DYNAMIC_SECRETS_HOME) when set and not empty, else
    C(~/.local/share/dynamic_secrets) of the user running the controller. Every role of the collection
    finds its state (C(vault.env), C(kubeconfig), data, logs, pid files) below this directory; the
    roles' C(*_home) variables default to it.
  - With O(kind=cache) returns C($DYNAMIC_SECRETS_CACHE), else C(~/.cache/dynamic_secrets), the
    version-keyed cache of built binaries and images.
  - Terms, if given, are joined to the directory as sub-paths.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
options:
  _terms:
    description: Optional sub-paths below the state directory.
    type: list
    elements: str
    required: false
  kind:
    description: Which directory.
    type: str
    choices: [state, cache]
    default: state
"""

EXAMPLES = r"""
- name: Where vault.env is
  ansible.builtin.debug:
    msg: "{{ lookup('dynamic_secrets.vault.local_dir', 'vault.env') }}"

- name: The binary cache
  ansible.builtin.debug:
    msg: "{{ lookup('dynamic_secrets.vault.local_dir', kind='cache') }}"
"""

RETURN = r"""
_raw:
  description: The state directory, or each sub-path below it.
  type: list
  elements: path
"""

import os

from ansible.plugins.lookup import LookupBase


DIRS = {
    "state": ("DYNAMIC_SECRETS_HOME", (".local", "share", "dynamic_secrets")),
    "cache": ("DYNAMIC_SECRETS_CACHE", (".cache", "dynamic_secrets")),
}


def local_dir(kind="state", environ=None):
    """$DYNAMIC_SECRETS_HOME (cache: $DYNAMIC_SECRETS_CACHE), else its default below ~."""
    environ = os.environ if environ is None else environ
    variable, default = DIRS[kind]
    return environ.get(variable) or os.path.join(os.path.expanduser("~"), *default)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        home = local_dir(self.get_option("kind"))
        if not terms:
            return [home]
        return [os.path.join(home, term) for term in terms]

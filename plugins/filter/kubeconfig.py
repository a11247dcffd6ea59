# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One kubeconfig parser for the roles: the selected context's cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six import string_types

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None


def _named(items, name):
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return {}


def kubeconfig_cluster(kubeconfig, context=""):
    """The cluster of ``context`` (default: current-context) of a kubeconfig document.

    Returns ``server``, ``ca_pem`` (decoded certificate-authority-data, or empty),
    ``ca_file`` (certificate-authority path, or empty), ``context`` and ``cluster`` names.
    Never returns user credentials.
    """
    if isinstance(kubeconfig, string_types):
        try:
            kubeconfig = yaml.safe_load(kubeconfig)
        except yaml.YAMLError as exc:
            raise AnsibleFilterError("kubeconfig_cluster: the kubeconfig is not YAML: %s" % exc)
    if not isinstance(kubeconfig, dict):
        raise AnsibleFilterError("kubeconfig_cluster: the kubeconfig is not a mapping")
    context_name = context or kubeconfig.get("current-context") or ""
    ctx = _named(kubeconfig.get("contexts"), context_name).get("context") or {}
    cluster_name = ctx.get("cluster") or ""
    cluster = _named(kubeconfig.get("clusters"), cluster_name).get("cluster") or {}
    data = cluster.get("certificate-authority-data") or ""
    return dict(
        server=cluster.get("server") or "",
        ca_pem=to_text(base64.b64decode(data)) if data else "",
        ca_file=cluster.get("certificate-authority") or "",
        context=context_name,
        cluster=cluster_name,
    )


class FilterModule(object):
    def filters(self):
        return {"kubeconfig_cluster": kubeconfig_cluster}

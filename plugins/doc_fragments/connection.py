# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection and login options shared by every module.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of the Vault or OpenBao server, for example V(https://vault.example.com:8200).
      - Several addresses, comma-separated (the nodes of a cluster), are tried in order. The active node is used
        if one answers, else a standby (it forwards requests to the active node).
      - Falls back to E(VAULT_ADDR), then E(BAO_ADDR), then V(http://127.0.0.1:8200).
    type: str
  token:
    description:
      - Token used when O(auth_method=token).
      - Falls back to E(VAULT_TOKEN), then E(BAO_TOKEN), then the file C(~/.vault-token).
    type: str
  namespace:
    description:
      - Vault Enterprise / OpenBao namespace every request is made in.
      - Falls back to E(VAULT_NAMESPACE), then E(BAO_NAMESPACE).
    type: str
  ca_cert:
    description:
      - PEM file with the CA that signed the server certificate.
      - Falls back to E(VAULT_CACERT), then E(BAO_CACERT).
    type: path
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Only set to V(false) on a test server.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each request.
    type: int
    default: 30
  retries:
    description:
      - How many times to retry a request that failed to connect or got HTTP 412, 429 or 5xx,
        with exponential back-off. V(0) disables retries.
    type: int
    default: 3
  auth_method:
    description: How to log in.
    type: str
    choices: [token, approle, kubernetes, userpass, jwt]
    default: token
  auth_mount_point:
    description:
      - Mount point of the auth method.
      - Defaults to the method's name (V(approle), V(kubernetes), V(userpass), V(jwt)).
    type: str
  auth_role:
    description: Role to log in as, for O(auth_method=kubernetes) and O(auth_method=jwt).
    type: str
  role_id:
    description: AppRole role ID, for O(auth_method=approle).
    type: str
  secret_id:
    description: AppRole secret ID, for O(auth_method=approle).
    type: str
  auth_username:
    description: User name, for O(auth_method=userpass).
    type: str
  auth_password:
    description: Password, for O(auth_method=userpass).
    type: str
  auth_jwt:
    description:
      - JWT to log in with, for O(auth_method=jwt) and O(auth_method=kubernetes).
      - For O(auth_method=kubernetes) it defaults to the pod's ServiceAccount token
        C(/var/run/secrets/kubernetes.io/serviceaccount/token).
    type: str
requirements:
  - hvac >= 2.0
notes:
  - Every secret option (O(token), O(secret_id), O(auth_password), O(auth_jwt)) is marked C(no_log).
  - All modules of this collection are in the action group C(dynamic_secrets.vault.vault), so the
    connection options can be set once with C(module_defaults) and C(group/dynamic_secrets.vault.vault).
"""

    # Attributes of the modules that converge one Vault object.
    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the object and reports what would change; writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Returns C(diff.before) and C(diff.after) of the options you set; write-only secrets show as C(********).
  action_group:
    description: Use C(group/dynamic_secrets.vault.vault) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - dynamic_secrets.vault.vault
"""

    # Attributes of the read-only *_info modules.
    INFO_ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads only; runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: Changes nothing, so there is no diff.
  action_group:
    description: Use C(group/dynamic_secrets.vault.vault) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - dynamic_secrets.vault.vault
"""

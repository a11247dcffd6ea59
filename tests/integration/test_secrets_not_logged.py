"""Secrets never reach the console, even with `-vvv --diff` and the default text output."""

from __future__ import annotations

import socket

import pytest

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: create the connection with the admin password
      dynamic_secrets.vault.vault_db_connection:
        name: appdb
        mount_point: "{{ mount }}"
        connection_url: !unsafe "postgresql://{{username}}:{{password}}@$host:$port/appdb?sslmode=disable"
        username: "{{ admin_user }}"
        password: "{{ admin_password }}"
        allowed_roles: [webapp-readonly]

    - name: update it, resending the password
      dynamic_secrets.vault.vault_db_connection:
        name: appdb
        mount_point: "{{ mount }}"
        connection_url: !unsafe "postgresql://{{username}}:{{password}}@$host:$port/appdb?sslmode=disable"
        username: "{{ admin_user }}"
        password: "{{ admin_password }}"
        update_password: always
        allowed_roles: [webapp-readonly, webapp-readwrite]

    - name: a connection that cannot connect, with the same password
      dynamic_secrets.vault.vault_db_connection:
        name: unreachable
        mount_point: "{{ mount }}"
        connection_url: !unsafe "postgresql://{{username}}:{{password}}@127.0.0.1:$closed_port/appdb"
        username: "{{ admin_user }}"
        password: "{{ admin_password }}"
      ignore_errors: true

    - name: configure kubernetes auth with the reviewer JWT
      dynamic_secrets.vault.vault_k8s_auth:
        mount_point: "{{ k8s_mount }}"
        kubernetes_host: https://127.0.0.1:6443
        kubernetes_ca_cert: "{{ ca_pem }}"
        token_reviewer_jwt: "{{ reviewer_jwt }}"
        update_token_reviewer_jwt: always
        disable_local_ca_jwt: true

    - name: change it, resending the JWT
      dynamic_secrets.vault.vault_k8s_auth:
        mount_point: "{{ k8s_mount }}"
        kubernetes_host: https://127.0.0.2:6443
        kubernetes_ca_cert: "{{ ca_pem }}"
        token_reviewer_jwt: "{{ reviewer_jwt }}"
        update_token_reviewer_jwt: always
        disable_local_ca_jwt: true

    - name: a policy written with the token given as an option
      dynamic_secrets.vault.vault_policy:
        url: "{{ vault_url }}"
        token: "{{ vault_token }}"
        name: "{{ policy_name }}"
        policy: 'path "database/creds/webapp-readonly" { capabilities = ["read"] }'

    - name: a policy write with the token from VAULT_TOKEN that fails
      dynamic_secrets.vault.vault_policy:
        name: "{{ policy_name }}"
        policy: 'path "x" { capabilities = "read" bogus {} }'
      ignore_errors: true
"""


def test_secrets_not_in_verbose_diff_output(server, vault, postgres, playbook, mount_point,
                                            k8s_mount, k8s_ca_pem, fake_jwt, unique_name):
    """A run at -vvv with --diff that creates, updates and fails with the DB admin password,
    a reviewer JWT and the Vault token (as option and from the environment) prints none of them."""
    user, password = postgres.create_admin_role()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = playbook(
        PLAYBOOK,
        values={"host": postgres.host, "port": postgres.port, "closed_port": closed_port},
        extra_vars={"mount": mount_point, "admin_user": user, "admin_password": password,
                    "k8s_mount": k8s_mount, "ca_pem": k8s_ca_pem, "reviewer_jwt": fake_jwt,
                    "vault_url": server.addr, "vault_token": server.token,
                    "policy_name": unique_name("secret-test")},
        verbosity=3, diff=True,
    )
    output = result.output
    # The run did what it claims, so the output had every chance to leak.
    assert "changed: [localhost]" in output
    assert "ignoring" in output
    assert vault.read(f"{mount_point}/config/appdb")["data"]["allowed_roles"] == [
        "webapp-readonly", "webapp-readwrite"]
    assert vault.read(f"auth/{k8s_mount}/config")["data"]["token_reviewer_jwt_set"] is True

    secrets = {
        "DB admin password": password,
        "reviewer JWT": fake_jwt,
        "Vault token": server.token,
        "Vault token (without prefix)": server.token.removeprefix("t-"),
    }
    secrets.update({f"reviewer JWT part {i}": part for i, part in enumerate(fake_jwt.split("."))})
    leaked = [label for label, value in secrets.items() if value in output]
    assert not leaked, f"secrets printed by ansible-playbook -vvv --diff: {leaked}"

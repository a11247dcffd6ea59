//go:build tools

// Package tools pins the vault-k8s command built by build-binaries.sh.
package tools

import (
	_ "github.com/hashicorp/vault-k8s"
)

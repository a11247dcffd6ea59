//go:build tools

// Package tools pins the HashiCorp Vault server built by build-binaries.sh (BUSL-1.1:
// built on the user's machine to test against, never shipped).
package tools

import (
	_ "github.com/hashicorp/vault"
)

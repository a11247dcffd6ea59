#!/usr/bin/env bash
# Lint gate of `make test`: ansible-lint (profile production, .ansible-lint), yamllint
# (.yamllint), the changelog fragments (antsibull-changelog) and the rendered option docs
# (plugins/doc_fragments/resources.py matches the resource definitions). Zero findings pass.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.collections"
yamllint --strict .
ansible-lint --nocolor --offline
antsibull-changelog lint
python scripts/render_doc_fragments.py --check
echo "lint: clean"

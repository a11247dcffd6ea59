#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection laid out as
# ansible_collections/dynamic_secrets/vault (ansible-test needs that path).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
DEST="$WORK/ansible_collections/dynamic_secrets/vault"
mkdir -p "$DEST"
cd "$ROOT"
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$DEST"/ 2>/dev/null || true
# ansible-test bootstraps pip in its venvs with a script from a host that is not
# reachable here; give it an equivalent that uses ensurepip + PyPI.
for v in $("$ROOT/.venv/bin/python" - <<'PY'
import ansible_test, pathlib, re
text = pathlib.Path(ansible_test.__file__).parent.joinpath("_internal/python_requirements.py").read_text()
print(" ".join(sorted(set(re.findall(r"PIP_VERSION = '([0-9.]+)'", text) or ["24.2"]))))
PY
); do
  mkdir -p "$HOME/.ansible/test/cache"
  cp "$ROOT/scripts/get_pip_offline.py" "$HOME/.ansible/test/cache/get_pip_${v//./_}.py"
done
cd "$DEST"
"$ROOT/.venv/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"

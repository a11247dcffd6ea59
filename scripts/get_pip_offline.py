"""Stand-in for the pip bootstrap script ansible-test downloads from a host these
machines cannot reach: bootstrap pip with the interpreter's own ensurepip, then
let that pip install the requested version (from PyPI, which is reachable)."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null; the real pip must see the
# machine's configuration (index, certificates) again.
env = dict(os.environ)
env.pop("PIP_CONFIG_FILE", None)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"] + args, env=env))

import os
import sys

# Make `ansible_collections.dynamic_secrets.vault` importable from the checkout, for the unit
# tests and the integration tests that call module_utils directly.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

"""What the package's tests share: `DataDirCase`, a test case with a fresh data dir of its own
(`self.directory`, `self.data`, named in `MAGE_DATA_DIR`), no key or log variables from the
caller's environment, and the package's open vaults closed before and after each test; and
`snapshot`, which "changes nothing" compares."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "python"))

import mage_vault  # noqa: E402


def snapshot(folder):
    """Every file and folder under `folder`, with its bytes and mode (None when it is absent)."""
    if not os.path.exists(folder):
        return None
    found = {}
    for root, folders, files in os.walk(folder):
        for entry in folders:
            path = os.path.join(root, entry)
            found[os.path.relpath(path, folder) + "/"] = os.stat(path).st_mode
        for entry in files:
            path = os.path.join(root, entry)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, folder)] = (os.stat(path).st_mode, handle.read())
    return found


class DataDirCase(unittest.TestCase):
    """A test with a data dir of its own; `prefix` names its temporary folder."""

    prefix = "mage-vault-python-"

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix=self.prefix)
        self.data = os.path.join(self.directory, "data")
        os.environ["MAGE_DATA_DIR"] = self.data
        for variable in ("MAGE_VAULT_KEY", "MAGE_VAULT_KEY_FILE", "MAGE_VAULT_FILE", "MAGE_VAULT_IDENTITY", "MAGE_VAULT_IDENTITY_FILE"):
            os.environ.pop(variable, None)
        os.environ["XDG_CONFIG_HOME"] = os.path.join(self.directory, "config")  # no identity of the caller's
        mage_vault.close()

    def tearDown(self):
        mage_vault.close()
        shutil.rmtree(self.directory, ignore_errors=True)

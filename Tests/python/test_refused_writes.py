"""A write the library refuses creates nothing (issue 23): the C interface used to create a
scope's uuid and key files when a writer's handle was opened, before a name or value was
validated, so one refused create_secret (a tab in the name, a value over 1 MiB) left a scope
with a key and no log. And a scope with its uuid and key but no log has no secrets: listing
it is an empty list, never a crash. Run as test_mage_vault.py is."""

import os
import sys
import unittest

SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "python")
sys.path.insert(0, SOURCES)

import mage_vault  # noqa: E402
from mage_vault import VaultError  # noqa: E402
from vault_case import DataDirCase, snapshot  # noqa: E402


class RefusedWritesTests(DataDirCase):
    prefix = "mage-vault-python-refused-"

    def test_a_refused_create_creates_no_file(self):
        refused = [
            ("a\tname", "made-up", {}),
            ("db_password", "x" * ((1 << 20) + 1), {}),
            ("a\tname", "made-up", {"entity": "project", "project_uuid": "sales"}),
            ("db_password", "x" * ((1 << 20) + 1), {"entity": "pipeline", "project_uuid": "sales", "pipeline_uuid": "load"}),
        ]
        for name, value, scope in refused:
            with self.subTest(scope=scope, name_length=len(name), value_length=len(value)):
                with self.assertRaises(VaultError) as error:
                    mage_vault.create_secret(name, value, **scope)
                self.assertEqual(error.exception.code, 2, str(error.exception))
                self.assertIsNone(snapshot(self.data), "a refused write created files")
        # Then a valid one creates the scope, and a refused one next to it changes nothing.
        mage_vault.create_secret("db_password", "made-up", entity="project", project_uuid="sales")
        before = snapshot(self.data)
        with self.assertRaises(VaultError):
            mage_vault.create_secret("a\tname", "made-up-2", entity="project", project_uuid="sales")
        self.assertEqual(snapshot(self.data), before)
        self.assertEqual(mage_vault.get_secret_value("db_password", entity="project", project_uuid="sales"), "made-up")

    def test_a_scope_without_a_log_lists_nothing(self):
        mage_vault.create_secret("db_password", "made-up", entity="project", project_uuid="sales")
        mage_vault.close()
        os.remove(os.path.join(self.data, "secrets", "vault.log"))
        self.assertEqual(mage_vault.list_secrets(entity="project", project_uuid="sales"), [])
        self.assertIsNone(mage_vault.get_secret_value("db_password", entity="project", project_uuid="sales", suppress_warning=True))


if __name__ == "__main__":
    unittest.main()

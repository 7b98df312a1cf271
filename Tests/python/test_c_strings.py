"""What crosses into C as a NUL-terminated string (issue 23): a name, project_uuid,
pipeline_uuid or data dir holding a NUL byte would reach the library cut short
("db\\0evil" is `db`), so the package refuses it (VaultError, class 2, naming the
argument, never its text) before anything is opened or created. A value may hold NUL: it
crosses with its length. Run as test_mage_vault.py is."""

import os
import sys
import unittest

SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "python")
sys.path.insert(0, SOURCES)

import mage_vault  # noqa: E402
from mage_vault import VaultError  # noqa: E402
from vault_case import DataDirCase, snapshot  # noqa: E402


class NulInCStringsTests(DataDirCase):
    prefix = "mage-vault-python-nul-"

    def assertRefused(self, argument, call, *arguments, **keywords):
        """`call` raises VaultError class 2 naming `argument`, and changes no file."""
        before = snapshot(self.data)
        with self.assertRaises(VaultError) as refused:
            call(*arguments, **keywords)
        message = str(refused.exception)
        self.assertEqual(refused.exception.code, 2, message)
        self.assertIn(argument, message)
        self.assertIn("NUL", message)
        # Never the text itself, not even the part before the NUL or after it.
        for word in ("evil", "../..", "made-up"):
            self.assertNotIn(word, message)
        self.assertEqual(snapshot(self.data), before, f"{call.__name__} changed the vault's files")

    def test_a_name_with_nul_is_refused_and_db_keeps_its_value(self):
        mage_vault.create_secret("db", "made-up-db")
        mage_vault.create_secret("token", "made-up-token", "project", project_uuid="sales")
        self.assertRefused("name", mage_vault.create_secret, "db\x00evil", "made-up-evil")
        self.assertRefused("name", mage_vault.delete_secret, "db\x00x")
        self.assertRefused("name", mage_vault.get_secret_value, "db\x00x")
        self.assertRefused("name", mage_vault.get_secret_value, "db\x00x", suppress_warning=True)
        self.assertRefused("name", mage_vault.create_secret, "token\x00evil", "made-up-evil", "project", "sales")
        self.assertRefused("name", mage_vault.delete_secret, "token\x00", "project", project_uuid="sales")
        self.assertEqual(mage_vault.get_secret_value("db"), "made-up-db")
        self.assertEqual(mage_vault.get_secret_value("token", "project", project_uuid="sales"), "made-up-token")
        self.assertEqual(mage_vault.list_secrets(), ["db"])

    def test_a_scope_or_data_dir_with_nul_is_refused_before_anything_is_opened(self):
        mage_vault.create_secret("db", "made-up-db")
        mage_vault.create_secret("token", "made-up-token", "project", project_uuid="sales")
        mage_vault.create_secret("token", "made-up-daily", "pipeline", "sales", "daily")
        # Also when the scope's vault is already open (warm) under the name before the NUL.
        mage_vault.close()
        for attempt in range(2):
            self.assertRefused("project_uuid", mage_vault.create_secret, "token", "made-up-evil", "project",
                               project_uuid="sales\x00/../..")
            self.assertRefused("project_uuid", mage_vault.get_secret_value, "token", "project",
                               project_uuid="sales\x00/../..")
            self.assertRefused("project_uuid", mage_vault.delete_secret, "token", "project", project_uuid="sales\x00")
            self.assertRefused("project_uuid", mage_vault.list_secrets, "project", project_uuid="sales\x00evil")
            self.assertRefused("pipeline_uuid", mage_vault.create_secret, "token", "made-up-evil", "pipeline", "sales",
                               "daily\x00/../..")
            self.assertRefused("pipeline_uuid", mage_vault.delete_secret, "token", "pipeline", "daily\x00", "sales")
            self.assertRefused("data dir", mage_vault._set, "db", "made-up-evil", None, None, self.data + "\x00/evil")
            self.assertRefused("data dir", mage_vault._delete, "db", None, None, self.data + "\x00")
            self.assertRefused("data dir", mage_vault._get, "db", None, None, self.data + "\x00")
            self.assertEqual(mage_vault.get_secret_value("token", "project", project_uuid="sales"), "made-up-token")
            self.assertEqual(mage_vault.get_secret_value("token", "pipeline", "daily", "sales"), "made-up-daily")
            self.assertEqual(mage_vault._get("db", None, None, self.data), "made-up-db")

    def test_nothing_is_created_where_nothing_existed(self):
        self.assertRefused("name", mage_vault.create_secret, "db\x00evil", "made-up-evil")
        self.assertRefused("project_uuid", mage_vault.create_secret, "db", "made-up-evil", "project",
                           project_uuid="sales\x00/../..")
        self.assertRefused("data dir", mage_vault._set, "db", "made-up-evil", None, None, self.data + "\x00")
        self.assertFalse(os.path.exists(self.data))
        # With a global environment but no project yet: no project folder, no uuid, key or log.
        mage_vault.create_secret("db", "made-up-db")
        self.assertRefused("project_uuid", mage_vault.create_secret, "db", "made-up-evil", "project",
                           project_uuid="fresh\x00/../..")
        self.assertRefused("pipeline_uuid", mage_vault.create_secret, "db", "made-up-evil", "pipeline", "fresh",
                           "daily\x00")
        self.assertFalse(os.path.exists(os.path.join(self.data, "secrets", "projects")))

    def test_a_value_may_hold_nul(self):
        value = "made-up\x00after the nul\x00"
        mage_vault.create_secret("nul_value", value)
        self.assertEqual(mage_vault.get_secret_value("nul_value"), value)
        mage_vault.close()
        self.assertEqual(mage_vault.get_secret_value("nul_value"), value)

    def test_text_that_is_not_unicode_is_refused_without_its_text(self):
        mage_vault.create_secret("db", "made-up-db")
        before = snapshot(self.data)
        for call, arguments in ((mage_vault.create_secret, ("db\ud800", "made-up")),
                                (mage_vault.create_secret, ("db", "made-up\ud800")),
                                (mage_vault.get_secret_value, ("db", "project", None, "sales\udcff"))):
            with self.assertRaises(VaultError) as refused:
                call(*arguments)
            self.assertEqual(refused.exception.code, 2)
            self.assertNotIn("made-up", str(refused.exception))
            self.assertNotIn("\\ud", str(refused.exception))
        self.assertEqual(snapshot(self.data), before)
        self.assertEqual(mage_vault.get_secret_value("db"), "made-up-db")


if __name__ == "__main__":
    unittest.main()

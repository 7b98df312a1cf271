"""The mage_vault package through the C library: Mage's functions, scopes, absent names,
errors, and other processes writing between two reads. Run by `make test` with
MAGE_VAULT_LIB pointing at the built library and MAGE_VAULT_BIN at the tool."""

import os
import subprocess
import contextlib
import io
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "python"))

import mage_vault  # noqa: E402
from mage_vault import VaultError  # noqa: E402
from vault_case import DataDirCase  # noqa: E402

TOOL = os.environ.get("MAGE_VAULT_BIN", "mage-vault")


class MageVaultPackageTests(DataDirCase):
    prefix = "mage-vault-python-"

    def tool(self, *arguments, value=None):
        return subprocess.run(
            [TOOL, *arguments, "--data-dir", self.data], input=value.encode() if value is not None else b"",
            capture_output=True, check=False)

    def test_create_get_delete_as_mage_names_them(self):
        mage_vault.create_secret("secret1", "sooper dooper secret string")
        self.assertEqual(mage_vault.get_secret_value("secret1"), "sooper dooper secret string")
        self.assertEqual(mage_vault.list_secrets(), ["secret1"])
        self.assertTrue(mage_vault.delete_secret("secret1"))
        self.assertFalse(mage_vault.delete_secret("secret1"))
        self.assertIsNone(mage_vault.get_secret_value("secret1", suppress_warning=True))

    def test_absent_name_is_none_with_mages_warning_unless_suppressed(self):
        mage_vault.create_secret("present", "made-up")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            self.assertIsNone(mage_vault.get_secret_value("absent"))
            self.assertIsNone(mage_vault.get_secret_value("absent", suppress_warning=True))
        self.assertEqual(printed.getvalue(), "WARNING: Could not find secret value for secret absent.\n")

    def test_values_are_bytes_exact_unicode_and_multiline(self):
        value = "línea 1\nzeile 2 — ✓ \"quoted\" 'single'"
        mage_vault.create_secret("multi", value)
        self.assertEqual(mage_vault.get_secret_value("multi"), value)
        self.assertEqual(self.tool("get", "multi").stdout.decode(), value)

    def test_scopes_are_exact_as_in_mage(self):
        mage_vault.create_secret("shared", "global made-up")
        mage_vault.create_secret("shared", "project made-up", entity="project", project_uuid="p1")
        # create_secret(name, value, entity, project_uuid, pipeline_uuid), as in Mage.
        mage_vault.create_secret("only_pipeline", "pipeline made-up", "pipeline", "p1", "daily")
        self.assertEqual(mage_vault.get_secret_value("shared"), "global made-up")
        self.assertEqual(mage_vault.get_secret_value("shared", "project", project_uuid="p1"), "project made-up")
        quiet = {"suppress_warning": True}
        # No fallback to a parent scope, as Mage's own lookup.
        self.assertIsNone(mage_vault.get_secret_value("shared", "pipeline", "daily", "p1", **quiet))
        self.assertIsNone(mage_vault.get_secret_value("only_pipeline", "project", project_uuid="p1", **quiet))
        # A scope nobody created has no secrets (and is not created by a read).
        self.assertIsNone(mage_vault.get_secret_value("shared", "project", project_uuid="never", **quiet))
        self.assertFalse(os.path.exists(os.path.join(self.data, "secrets", "projects", "never")))
        # get_secret_value(name, entity, pipeline_uuid, project_uuid), as in Mage.
        self.assertEqual(mage_vault.get_secret_value("only_pipeline", "pipeline", "daily", "p1"), "pipeline made-up")
        self.assertEqual(mage_vault.list_secrets("project", "p1"), ["shared"])

    def test_mage_entity_enum_values_are_accepted(self):
        class Entity:  # Mage's Entity is an Enum whose values are these strings
            def __init__(self, value):
                self.value = value

        mage_vault.create_secret("enum", "made-up", Entity("project"), "p2")
        self.assertEqual(mage_vault.get_secret_value("enum", Entity("project"), project_uuid="p2"), "made-up")

    def test_another_process_writing_between_two_reads_is_seen(self):
        mage_vault.create_secret("rotating", "made-up-1")
        self.assertEqual(mage_vault.get_secret_value("rotating"), "made-up-1")
        self.assertEqual(self.tool("set", "rotating", value="made-up-2").returncode, 0)
        self.assertEqual(mage_vault.get_secret_value("rotating"), "made-up-2")
        self.assertEqual(self.tool("delete", "rotating").returncode, 0)
        self.assertIsNone(mage_vault.get_secret_value("rotating", suppress_warning=True))
        # A scope another process creates after this one looked is seen too.
        self.assertIsNone(mage_vault.get_secret_value("late", "project", project_uuid="p9", suppress_warning=True))
        self.assertEqual(self.tool("set", "late", "--project", "p9", value="made-up-3").returncode, 0)
        self.assertEqual(mage_vault.get_secret_value("late", "project", project_uuid="p9"), "made-up-3")

    def test_kept_values_go_with_every_change_to_the_log(self):
        # The library keeps what a handle read until the log changes: every way the file can
        # change under a warm reader is seen by the next read.
        log = os.path.join(self.data, "secrets", "vault.log")
        mage_vault.create_secret("kept", "made-up-1")
        mage_vault.create_secret("other", "made-up-other")
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-1")
        self.assertIsNone(mage_vault.get_secret_value("later", suppress_warning=True))
        # An append by another process, of the name read and of a name found absent.
        self.assertEqual(self.tool("set", "kept", value="made-up-2").returncode, 0)
        self.assertEqual(self.tool("set", "later", value="made-up-later").returncode, 0)
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-2")
        self.assertEqual(mage_vault.get_secret_value("later"), "made-up-later")
        # A rewrite renamed over the log (compact), then a write to the new file.
        self.assertEqual(self.tool("compact").returncode, 0)
        self.assertEqual(self.tool("set", "kept", value="made-up-3").returncode, 0)
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-3")
        # A rekey: new file, records sealed again.
        self.assertEqual(self.tool("rekey").returncode, 0)
        self.assertEqual(self.tool("set", "kept", value="made-up-4").returncode, 0)
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-4")
        # The log renamed away by hand (kept, so it still has a name) and an older copy put
        # in its place, as a restore would; within a tick of the last write, and after it.
        with open(log, "rb") as handle:
            before = handle.read()
        self.assertEqual(self.tool("set", "kept", value="made-up-5").returncode, 0)
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-5")
        os.rename(log, log + ".away")
        with open(log + ".new", "wb") as handle:
            handle.write(before)
        os.chmod(log + ".new", 0o600)
        os.rename(log + ".new", log)
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-4")
        self.assertEqual(mage_vault.get_secret_value("other"), "made-up-other")
        time.sleep(0.3)  # long past the write: the next reads take the one-fstat path
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-4")
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-4")
        os.rename(log, log + ".away2")
        with open(log + ".new", "wb") as handle:
            handle.write(before)  # the bytes of an older state, another file
        os.rename(log + ".new", log)
        self.assertEqual(self.tool("set", "kept", value="made-up-7").returncode, 0)
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-7")
        # This process's own write, through its writer's handle.
        mage_vault.create_secret("kept", "made-up-6")
        self.assertEqual(mage_vault.get_secret_value("kept"), "made-up-6")
        mage_vault.delete_secret("kept")
        self.assertIsNone(mage_vault.get_secret_value("kept", suppress_warning=True))

    def test_values_longer_than_the_read_buffer_and_empty_ones(self):
        long_value = "made-up-" + "x" * 70000 + "-end"
        mage_vault.create_secret("long", long_value)
        mage_vault.create_secret("short", "made-up-short")
        for _ in range(2):  # the second round reads what the library kept
            self.assertEqual(mage_vault.get_secret_value("short"), "made-up-short")
            self.assertEqual(mage_vault.get_secret_value("long"), long_value)
            self.assertEqual(mage_vault.get_secret_value("short"), "made-up-short")

    def test_a_data_dir_named_later_in_os_environ_is_the_one_read(self):
        mage_vault.create_secret("where", "made-up-first")
        second = os.path.join(self.directory, "second")
        self.assertEqual(
            subprocess.run([TOOL, "set", "where", "--data-dir", second], input=b"made-up-second", capture_output=True).returncode, 0)
        self.assertEqual(mage_vault.get_secret_value("where"), "made-up-first")
        os.environ["MAGE_DATA_DIR"] = second
        self.assertEqual(mage_vault.get_secret_value("where"), "made-up-second")
        os.environ["MAGE_DATA_DIR"] = self.data
        self.assertEqual(mage_vault.get_secret_value("where"), "made-up-first")

    def test_a_machine_reads_through_its_identity_without_a_key_file(self):
        # A production Mage or CI job as a team member: its identity in a variable, no key file.
        home = os.path.join(self.directory, "home")
        os.makedirs(home)
        machine = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"))
        made = subprocess.run([TOOL, "identity"], env=machine, capture_output=True, text=True, check=True)
        recipient = next(line.split()[1] for line in made.stdout.splitlines() if line.startswith("recipient"))
        with open(os.path.join(home, ".config", "mage-vault", "identity")) as handle:
            identity = handle.read()
        self.assertEqual(self.tool("set", "db_password", value="made-up-machine").returncode, 0)
        self.assertEqual(self.tool("access", "add", recipient, "--name", "prod").returncode, 0)
        os.remove(os.path.join(self.data, "secrets", "vault.key"))
        mage_vault.close()
        self.assertRaises(VaultError, mage_vault.get_secret_value, "db_password")  # no key, no identity: refused
        mage_vault.close()
        os.environ["MAGE_VAULT_IDENTITY"] = identity
        try:
            self.assertEqual(mage_vault.get_secret_value("db_password"), "made-up-machine")
            mage_vault.create_secret("written_by_prod", "made-up-prod")
            self.assertEqual(mage_vault.get_secret_value("written_by_prod"), "made-up-prod")
            self.assertFalse(os.path.exists(os.path.join(self.data, "secrets", "vault.key")))  # none was made
        finally:
            del os.environ["MAGE_VAULT_IDENTITY"]

    def test_errors_carry_the_tools_message_and_class_never_a_value(self):
        mage_vault.create_secret("guarded", "made-up-secret-value")
        with self.assertRaises(VaultError) as bad_name:
            mage_vault.create_secret("bad\tname", "made-up-secret-value")
        self.assertEqual(bad_name.exception.code, 2)
        self.assertNotIn("made-up-secret-value", str(bad_name.exception))
        with self.assertRaises(VaultError) as bad_entity:
            mage_vault.get_secret_value("guarded", entity="team")
        self.assertEqual(bad_entity.exception.code, 2)
        with self.assertRaises(VaultError) as no_project:
            mage_vault.get_secret_value("guarded", entity="project")
        self.assertEqual(no_project.exception.code, 2)
        # A wrong key: exit class 3, the key file named, nothing read.
        key_file = os.path.join(self.data, "secrets", "vault.key")
        os.remove(key_file)
        with open(key_file, "wb") as handle:
            handle.write(bytes(range(32)))
        os.chmod(key_file, 0o600)
        mage_vault.close()
        with self.assertRaises(VaultError) as wrong:
            mage_vault.get_secret_value("guarded")
        self.assertEqual(wrong.exception.code, 3)
        self.assertIn(key_file, str(wrong.exception))
        self.assertNotIn("made-up-secret-value", str(wrong.exception))

    def test_a_data_dir_without_an_environment_has_no_secrets_and_a_read_creates_nothing(self):
        self.assertIsNone(mage_vault.get_secret_value("anything", suppress_warning=True))
        self.assertEqual(mage_vault.list_secrets(), [])
        self.assertFalse(os.path.exists(self.data))


if __name__ == "__main__":
    unittest.main()

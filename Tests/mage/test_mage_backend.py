"""Real Mage (mage-ai 0.9.80) with the vault as its secrets backend, and without it.

`make mage-test` runs this with MAGE_PYTHON (a virtualenv derived from the Mage one, whose
site-packages holds mage_vault and its `mage_vault_mage.pth` hook, as the wheel installs
them), MAGE_VAULT_BIN and MAGE_VAULT_LIB. Each Mage session is a fresh interpreter
(mage_session.py) in its own data dir, repository and SQLite database; the switch is only
the environment variable. Every value is made up; assertion messages never show one.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MAGE_PYTHON = os.environ.get("MAGE_PYTHON", "")
TOOL = os.environ.get("MAGE_VAULT_BIN", "")
LIBRARY = os.environ.get("MAGE_VAULT_LIB", "")
SESSION_TIMEOUT = 240  # seconds; a session takes about ten

GIVEN = {
    "global_name": "warehouse_password",
    "global_value": "made-up wärehouse pässword ✓",
    "seeded_name": "warehouse_user",
    "seeded_value": "made-up-user",
    "pipeline_name": "daily_token",
    "pipeline_value": "made-up\nmulti-line daily token\n",
    "project": "sales",
    "pipeline": "daily",
    "api_name": "from the api",
    "api_value": "made-up api value",
    "api_value_updated": "made-up api value, updated",
}
VALUES = [GIVEN[key] for key in ("global_value", "seeded_value", "pipeline_value", "api_value", "api_value_updated")]


class MageSession:
    """A data dir, a repository and a database of Mage's, in one temporary folder."""

    def __init__(self, backend):
        self.root = tempfile.mkdtemp(prefix="mage-backend-")
        self.data_dir = os.path.join(self.root, "data")
        self.repo = os.path.join(self.root, "repo")
        self.database = os.path.join(self.root, "mage-ai.db")
        os.makedirs(self.data_dir)
        os.makedirs(self.repo)
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": self.root,
            "MAGE_DATA_DIR": self.data_dir,
            "MAGE_REPO_PATH": self.repo,
            "MAGE_DATABASE_CONNECTION_URL": "sqlite:///" + self.database,
            "MAGE_VAULT_LIB": LIBRARY,
        }
        if backend is not None:
            self.env["MAGE_SECRETS_BACKEND"] = backend

    def tool(self, *arguments, stdin=None):
        return subprocess.run([TOOL, *arguments, "--data-dir", self.data_dir], input=stdin,
                              capture_output=True, env=self.env, timeout=60)

    def run_mage(self, given, script="mage_session.py"):
        input_path = os.path.join(self.root, "input.json")
        report_path = os.path.join(self.root, "report.json")
        with open(input_path, "w", encoding="utf-8") as out:
            json.dump(given, out)
        result = subprocess.run([MAGE_PYTHON, os.path.join(HERE, script), report_path, input_path],
                                capture_output=True, env=self.env, timeout=SESSION_TIMEOUT)
        stderr = result.stderr.decode("utf-8", "replace")
        if result.returncode != 0 or any(value in stderr for value in VALUES):
            raise AssertionError(f"the Mage session failed (exit {result.returncode}); its stderr, values hidden:\n"
                                 + _hide(stderr)[-4000:])
        with open(report_path, encoding="utf-8") as report:
            return json.load(report)

    def database_bytes(self):
        with open(self.database, "rb") as database:
            return database.read()

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def _read(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def _hide(text):
    for value in VALUES:
        text = text.replace(value, "<made-up value>")
    return text


@unittest.skipUnless(MAGE_PYTHON and TOOL and LIBRARY, "run by `make mage-test` (MAGE_PYTHON, MAGE_VAULT_BIN, MAGE_VAULT_LIB)")
class MageBackendTests(unittest.TestCase):
    """One session with the switch on and one with it off, checked side by side."""

    @classmethod
    def setUpClass(cls):
        cls.on = MageSession("mage-vault")
        seeded = cls.on.tool("set", GIVEN["seeded_name"], stdin=GIVEN["seeded_value"].encode())
        assert seeded.returncode == 0, seeded.stderr.decode()
        cls.on_report = cls.on.run_mage(GIVEN)
        cls.off = MageSession(None)
        cls.off_report = cls.off.run_mage({**GIVEN, "seed_through_mage": True})

    @classmethod
    def tearDownClass(cls):
        cls.on.remove()
        cls.off.remove()

    def assertSecret(self, actual, expected, what):
        self.assertTrue(actual == expected, f"{what}: not the value stored (values hidden)")

    # --- the switch on ---------------------------------------------------------------------

    def test_switch_on_every_importer_of_mages_functions_gets_the_vaults(self):
        report = self.on_report
        self.assertTrue(report["hook_loaded_before_mage"], "the .pth hook did not run at start-up")
        self.assertEqual(set(report["answered_by"].values()), {"mage_vault.mage"}, report["answered_by"])
        self.assertEqual(report["block_bound"], "mage_vault.mage")

    def test_switch_on_config_file_loader_renders_vault_values(self):
        config = self.on_report["config"]
        self.assertSecret(config["POSTGRES_PASSWORD"], GIVEN["global_value"], "mage_secret_var of a Mage-created secret")
        self.assertSecret(config["POSTGRES_USER"], GIVEN["seeded_value"], "mage_secret_var of a secret set with mage-vault")
        self.assertEqual(config["POSTGRES_HOST"], "db.example.invalid")

    def test_switch_on_a_block_reads_the_vault_with_exact_scopes(self):
        block = self.on_report["block"]
        self.assertSecret(block["global"], GIVEN["global_value"], "global secret")
        self.assertSecret(block["seeded"], GIVEN["seeded_value"], "secret set with mage-vault")
        self.assertSecret(block["pipeline"], GIVEN["pipeline_value"], "pipeline secret")
        self.assertIsNone(block["pipeline_from_global"], "a pipeline secret leaked into the global scope")
        self.assertIsNone(block["missing"])

    def test_switch_on_the_secrets_api_creates_lists_and_deletes_in_the_vault(self):
        api = self.on_report["api"]
        self.assertEqual(api["created_name"], GIVEN["api_name"])
        self.assertEqual(sorted(api["presented"]), ["id", "name"])
        self.assertEqual(api["presented"]["name"], GIVEN["api_name"])
        self.assertIsInstance(api["presented"]["id"], int)
        self.assertIsNone(api["created_row_value"], "the API's row object carries a value")
        self.assertEqual(sorted(api["listed"]), sorted([GIVEN["api_name"], GIVEN["global_name"], GIVEN["seeded_name"]]))
        self.assertSecret(api["value_after_create"], GIVEN["api_value"], "value created through the API")
        self.assertSecret(api["value_after_update"], GIVEN["api_value_updated"], "value updated through the API")
        self.assertIsNone(api["value_after_delete"])
        self.assertNotIn(GIVEN["api_name"], api["listed_after_delete"])
        self.assertEqual(api["control_name"], "ApiError: 400", "a name the vault cannot hold is Mage's 400")

    def test_switch_on_values_are_in_the_vault_and_nowhere_in_mages_database(self):
        self.assertEqual(self.on_report["db_rows"], [])
        database = self.on.database_bytes()
        for value in VALUES:
            self.assertNotIn(value.encode(), database, "a value is in Mage's database")
        for name in (GIVEN["global_name"], GIVEN["seeded_name"], GIVEN["api_name"]):
            self.assertNotIn(name.encode(), database, f"the name {name!r} is in Mage's database")
        listed = self.on.tool("list", "--json")
        self.assertEqual(listed.returncode, 0, listed.stderr.decode())
        self.assertEqual([entry["name"] for entry in json.loads(listed.stdout)], sorted([GIVEN["global_name"], GIVEN["seeded_name"]]))
        got = self.on.tool("get", GIVEN["global_name"])
        self.assertSecret(got.stdout.decode(), GIVEN["global_value"], "mage-vault get of Mage's create_secret")
        got = self.on.tool("get", GIVEN["pipeline_name"], "--project", GIVEN["project"], "--pipeline", GIVEN["pipeline"])
        self.assertSecret(got.stdout.decode(), GIVEN["pipeline_value"], "mage-vault get of Mage's pipeline secret")
        self.assertEqual(self.on.tool("get", GIVEN["api_name"]).returncode, 1, "the API's delete left the value")
        self.assertFalse(os.path.exists(os.path.join(self.on.data_dir, "secrets", "key")),
                         "Mage's own Fernet key was made: its encryption path ran")

    def test_switch_on_over_an_existing_mage_install_keeps_its_uuid_and_leaves_its_rows(self):
        # The data dir and database of the switch-off session, copied, then the switch turned on.
        session = MageSession("mage-vault")
        try:
            shutil.rmtree(session.root)
            shutil.copytree(self.off.root, session.root)
            mage_uuid = _read(os.path.join(session.data_dir, "secrets", "uuid"))
            probe = (
                "import json, sys\n"
                "from mage_ai.orchestration.db import db_connection\n"
                "db_connection.start_session()\n"
                "from mage_ai.data_preparation.shared.secrets import create_secret, get_secret_value\n"
                "before = get_secret_value(sys.argv[1], suppress_warning=True)\n"
                "create_secret(sys.argv[2], sys.argv[3])\n"
                "print(json.dumps({'before_is_none': before is None, 'after': get_secret_value(sys.argv[2]) == sys.argv[3]}))\n"
            )
            result = subprocess.run([MAGE_PYTHON, "-c", probe, GIVEN["global_name"], "added_after_switch", GIVEN["api_value"]],
                                    capture_output=True, env=session.env, timeout=SESSION_TIMEOUT)
            self.assertEqual(result.returncode, 0, _hide(result.stderr.decode())[-3000:])
            # Mage's rows are not read in this mode (they are moved in first); new ones go to the vault.
            self.assertEqual(json.loads(result.stdout), {"before_is_none": True, "after": True})
            self.assertEqual(_read(os.path.join(session.data_dir, "secrets", "uuid")), mage_uuid,
                             "the vault did not adopt Mage's uuid")
            self.assertTrue(os.path.exists(os.path.join(session.data_dir, "secrets", "key")), "Mage's key file was touched")
            listed = session.tool("list", "--json")
            self.assertEqual([entry["name"] for entry in json.loads(listed.stdout)], ["added_after_switch"])
        finally:
            session.remove()

    # --- the switch off: Mage as before ----------------------------------------------------

    def test_switch_off_nothing_of_ours_is_loaded(self):
        report = self.off_report
        self.assertFalse(report["hook_loaded_before_mage"])
        self.assertFalse(report["mage_vault_imported"])
        self.assertEqual(set(report["answered_by"].values()), {"mage_ai.orchestration.db", "mage_ai.data_preparation.shared.secrets"},
                         report["answered_by"])

    def test_switch_off_mage_reads_the_same_values_from_its_database(self):
        on, off = self.on_report, self.off_report
        self.assertTrue(off["config"] == on["config"], "ConfigFileLoader renders differently without the vault")
        self.assertTrue(off["block"] == on["block"], "a block reads differently without the vault")
        self.assertEqual(sorted(off["api"]["presented"]), sorted(on["api"]["presented"]))
        for key in ("created_name", "value_after_create", "value_after_delete"):
            self.assertTrue(off["api"][key] == on["api"][key], f"the API's {key} differs without the vault")
        # Mage lists in row order, the vault by name: the same names.
        for key in ("listed", "listed_after_delete"):
            self.assertEqual(sorted(off["api"][key]), sorted(on["api"][key]))
        self.assertEqual(off["api"]["control_name"], "created", "Mage's own API takes a control character in a name")
        # Mage's own PUT writes the new value into the row unencrypted, which its reads then
        # cannot decrypt: None. (With the vault the update is sealed and read back.)
        self.assertIsNone(off["api"]["value_after_update"])

    def test_switch_off_values_are_in_mages_database_and_no_vault_is_made(self):
        self.assertEqual(self.off_report["db_rows"],
                         sorted([GIVEN["global_name"], GIVEN["seeded_name"], GIVEN["pipeline_name"]]))
        self.assertTrue(os.path.exists(os.path.join(self.off.data_dir, "secrets", "key")))
        self.assertFalse(os.path.exists(os.path.join(self.off.data_dir, "secrets", "vault.log")))


@unittest.skipUnless(MAGE_PYTHON and TOOL and LIBRARY, "run by `make mage-test`")
class LateInstallTests(unittest.TestCase):
    """`install()` in a process where Mage is already loaded (a notebook, a custom entry point)."""

    def test_install_after_mage_loaded_rebinds_names_copied_before(self):
        session = MageSession(None)
        try:
            seeded = session.tool("set", GIVEN["seeded_name"], stdin=GIVEN["seeded_value"].encode())
            self.assertEqual(seeded.returncode, 0, seeded.stderr.decode())
            report = session.run_mage(GIVEN, script="late_install.py")
        finally:
            session.remove()
        self.assertFalse(report["hook_loaded_before_install"])
        self.assertEqual(report["before"], "mage_ai.orchestration.db")
        self.assertEqual(set(report["after"].values()), {"mage_vault.mage"}, report["after"])
        self.assertTrue(report["reads_the_vault"], "a name bound before install() does not read the vault")
        self.assertEqual(report["watchers"], 1)


@unittest.skipUnless(MAGE_PYTHON and LIBRARY, "run by `make mage-test`")
class SwitchTests(unittest.TestCase):
    """The `.pth` line imports nothing unless the variable says `mage-vault`."""

    def started(self, value):
        env = {"PATH": "/usr/bin:/bin", "MAGE_VAULT_LIB": LIBRARY}
        if value is not None:
            env["MAGE_SECRETS_BACKEND"] = value
        probe = "import sys; print('mage_vault.mage' in sys.modules, any(type(f).__name__ == '_MageWatcher' for f in sys.meta_path))"
        result = subprocess.run([MAGE_PYTHON, "-c", probe], capture_output=True, env=env, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        self.assertEqual(result.stderr, b"", "the start-up hook wrote to stderr")
        return result.stdout.decode().split()

    def test_only_mage_vault_turns_the_hook_on(self):
        self.assertEqual(self.started("mage-vault"), ["True", "True"])
        self.assertEqual(self.started(" Mage-Vault "), ["True", "True"])
        for value in (None, "", "database", "mage_vault", "1"):
            self.assertEqual(self.started(value), ["False", "False"], f"MAGE_SECRETS_BACKEND={value!r}")


if __name__ == "__main__":
    unittest.main(verbosity=2)

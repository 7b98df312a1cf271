"""Real Mage (mage-ai 0.9.80) with the vault as its secrets backend, and without it.

`make mage-test` runs this with MAGE_PYTHON (a virtualenv derived from the Mage one, whose
site-packages holds mage_vault, `_mage_vault_hook` and the `mage_vault_mage.pth` line, as
the wheel installs them), MAGE_VAULT_BIN and MAGE_VAULT_LIB. Each Mage session is a fresh
interpreter (mage_session.py, calls.py, late_install.py) in its own data dir, repository
and SQLite database. The backend is the start-up hook's choice: MAGE_SECRETS_BACKEND when
it says `mage-vault` or `mage`, else the data dir (a `secrets/vault.log` or
`secrets/vault.key` is the vault). Every value is made up; assertion messages never show one.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MAGE_PYTHON = os.environ.get("MAGE_PYTHON", "")
TOOL = os.environ.get("MAGE_VAULT_BIN", "")
LIBRARY = os.environ.get("MAGE_VAULT_LIB", "")
SESSION_TIMEOUT = 240  # seconds; a session takes a few

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
# Positional-order calls: one name in two pipeline scopes that differ only by the order of
# project and pipeline, with two values.
SWAP_A, SWAP_B, PROJECT_VALUE = "made-up swap value A", "made-up swap value B", "made-up project value"
VALUES = [GIVEN[key] for key in ("global_value", "seeded_value", "pipeline_value", "api_value", "api_value_updated")] \
    + [SWAP_A, SWAP_B, PROJECT_VALUE]

MISSING = "no_such_secret"
GET_WARNING = f"WARNING: Could not find secret value for secret {MISSING}."  # Mage 0.9.80's own line
DELETE_WARNING = f"WARNING: Could not find secret {MISSING}"
NOT_EXACT = re.compile(r"^mage_vault: MAGE_SECRETS_BACKEND=.* is neither 'mage-vault' nor 'mage'", re.M)


def call(function, *args, **kwargs):
    """One call for calls.py; {"entity": "PIPELINE"} stands for Mage's Entity.PIPELINE."""
    return {"function": function, "args": list(args), "kwargs": kwargs}


def entity(name):
    return {"entity": name}


class Calls:
    """What calls.py reported, and what each call printed on standard output."""

    def __init__(self, report, stdout, stderr):
        self.report = report
        self.results = report["results"]
        self.stderr = stderr
        self.printed = re.split(r"^--- call \d+\n", stdout.split("--- end\n")[0], flags=re.M)[1:]

    def lines(self, number):
        return self.printed[number].splitlines()


class MageSession:
    """A data dir, a repository and a database of Mage's, in one temporary folder."""

    def __init__(self, backend, root=None):
        self.root = root or tempfile.mkdtemp(prefix="mage-backend-")
        self.data_dir = os.path.join(self.root, "data")
        self.repo = os.path.join(self.root, "repo")
        self.database = os.path.join(self.root, "mage-ai.db")
        os.makedirs(self.data_dir, exist_ok=True)
        os.makedirs(self.repo, exist_ok=True)
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

    @classmethod
    def copy_of(cls, other, backend):
        """A copy of `other`'s data dir, repository and database, with another backend."""
        root = tempfile.mkdtemp(prefix="mage-backend-")
        shutil.rmtree(root)
        shutil.copytree(other.root, root)
        return cls(backend, root)

    def tool(self, *arguments, stdin=None):
        env = {key: value for key, value in self.env.items() if key != "MAGE_SECRETS_BACKEND"}
        return subprocess.run([TOOL, *arguments, "--data-dir", self.data_dir], input=stdin,
                              capture_output=True, env=env, timeout=60)

    def seed(self, name, value, *arguments):
        result = self.tool("set", name, *arguments, stdin=value.encode())
        assert result.returncode == 0, result.stderr.decode()

    def _run(self, script, given):
        input_path = os.path.join(self.root, "input.json")
        report_path = os.path.join(self.root, "report.json")
        with open(input_path, "w", encoding="utf-8") as out:
            json.dump(given, out)
        if os.path.exists(report_path):
            os.remove(report_path)
        result = subprocess.run([MAGE_PYTHON, os.path.join(HERE, script), report_path, input_path],
                                capture_output=True, env=self.env, timeout=SESSION_TIMEOUT)
        stdout = result.stdout.decode("utf-8", "replace")
        stderr = result.stderr.decode("utf-8", "replace")
        if result.returncode != 0 or any(value in stderr or value in stdout for value in VALUES):
            raise AssertionError(f"the Mage session failed (exit {result.returncode}) or printed a value; its "
                                 "stderr, values hidden:\n" + _hide(stderr)[-4000:])
        with open(report_path, encoding="utf-8") as report:
            return json.load(report), stdout, stderr

    def run_mage(self, given, script="mage_session.py"):
        return self._run(script, given)[0]

    def calls(self, *calls, no_session=False):
        return Calls(*self._run("calls.py", {"calls": list(calls), "no_session": no_session}))

    def database_bytes(self):
        with open(self.database, "rb") as database:
            return database.read()

    def has(self, *parts):
        return os.path.exists(os.path.join(self.data_dir, "secrets", *parts))

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def _read(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def _hide(text):
    for value in VALUES:
        text = text.replace(value, "<made-up value>")
    return text


class SessionTestCase(unittest.TestCase):
    def assertSecret(self, actual, expected, what):
        self.assertTrue(actual == expected, f"{what}: not the value stored (values hidden)")

    def assertResult(self, run, number, expected, what):
        result = run.results[number]
        self.assertNotIn("error", result, f"{what}: raised {result.get('error')}: {_hide(result.get('message', ''))}")
        self.assertSecret(result["result"], expected, what)

    def assertRaisedNotMigrated(self, run, number, name, what):
        result = run.results[number]
        self.assertEqual(result.get("error"), "NotMigratedError", f"{what}: not an error naming migrate (values hidden)")
        self.assertEqual(result["code"], 1)
        self.assertIn("`mage-vault migrate`", result["message"])
        self.assertIn(repr(name), result["message"])
        self.assertEqual(run.lines(number), [], f"{what}: printed something besides raising")

    def session(self, backend, root=None):
        session = MageSession(backend, root)
        self.addCleanup(session.remove)
        return session

    def copy_of(self, other, backend):
        session = MageSession.copy_of(other, backend)
        self.addCleanup(session.remove)
        return session


@unittest.skipUnless(MAGE_PYTHON and TOOL and LIBRARY, "run by `make mage-test` (MAGE_PYTHON, MAGE_VAULT_BIN, MAGE_VAULT_LIB)")
class MageBackendTests(SessionTestCase):
    """Three sessions, checked side by side: the variable set to `mage-vault`; no variable on a
    data dir that has a vault (made by `mage-vault set`); no variable on a fresh data dir
    (Mage as before, writing its database)."""

    @classmethod
    def setUpClass(cls):
        cls.on = MageSession("mage-vault")
        cls.on.seed(GIVEN["seeded_name"], GIVEN["seeded_value"])
        cls.on_report = cls.on.run_mage(GIVEN)
        cls.auto = MageSession(None)
        cls.auto.seed(GIVEN["seeded_name"], GIVEN["seeded_value"])
        cls.auto_report = cls.auto.run_mage(GIVEN)
        cls.off = MageSession(None)
        cls.off_report = cls.off.run_mage({**GIVEN, "seed_through_mage": True})

    @classmethod
    def tearDownClass(cls):
        for session in (cls.on, cls.auto, cls.off):
            session.remove()

    # --- the vault: by the variable, and by the data dir without it ----------------------------

    def test_switch_on_every_importer_of_mages_functions_gets_the_vaults(self):
        for report in (self.on_report, self.auto_report):
            self.assertTrue(report["finder_at_start"], "the .pth hook did not install its finder at start-up")
            self.assertFalse(report["mage_vault_at_start"], "the .pth hook loaded mage_vault before Mage was imported")
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
        for session, report in ((self.on, self.on_report), (self.auto, self.auto_report)):
            self.assertEqual(report["db_rows"], [])
            database = session.database_bytes()
            for value in VALUES:
                self.assertNotIn(value.encode(), database, "a value is in Mage's database")
            for name in (GIVEN["global_name"], GIVEN["seeded_name"], GIVEN["api_name"]):
                self.assertNotIn(name.encode(), database, f"the name {name!r} is in Mage's database")
            listed = session.tool("list", "--json")
            self.assertEqual(listed.returncode, 0, listed.stderr.decode())
            self.assertEqual([entry["name"] for entry in json.loads(listed.stdout)], sorted([GIVEN["global_name"], GIVEN["seeded_name"]]))
            got = session.tool("get", GIVEN["global_name"])
            self.assertSecret(got.stdout.decode(), GIVEN["global_value"], "mage-vault get of Mage's create_secret")
            got = session.tool("get", GIVEN["pipeline_name"], "--project", GIVEN["project"], "--pipeline", GIVEN["pipeline"])
            self.assertSecret(got.stdout.decode(), GIVEN["pipeline_value"], "mage-vault get of Mage's pipeline secret")
            self.assertEqual(session.tool("get", GIVEN["api_name"]).returncode, 1, "the API's delete left the value")
            self.assertFalse(session.has("key"), "Mage's own Fernet key was made: its encryption path ran")

    def test_no_variable_on_a_vault_data_dir_is_the_vault_as_with_the_variable(self):
        on, auto = self.on_report, self.auto_report
        self.assertTrue(auto["config"] == on["config"], "ConfigFileLoader renders differently without the variable")
        self.assertTrue(auto["block"] == on["block"], "a block reads differently without the variable")
        self.assertTrue(auto["api"] == on["api"], "the API answers differently without the variable")

    # --- no variable, fresh data dir: Mage as before -------------------------------------------

    def test_switch_off_nothing_of_ours_is_loaded(self):
        report = self.off_report
        self.assertTrue(report["finder_at_start"], "the finder is in every process: the data dir decides")
        self.assertFalse(report["mage_vault_at_start"])
        self.assertFalse(report["mage_vault_imported"], "mage_vault was loaded for a data dir without a vault")
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
        self.assertTrue(self.off.has("key"))
        self.assertFalse(self.off.has("vault.log"))
        self.assertFalse(self.off.has("vault.key"))

    # --- never a silent None over Mage's database ------------------------------------------------

    def test_switch_on_over_a_mage_install_raises_naming_migrate_for_what_mages_database_holds(self):
        session = self.copy_of(self.off, "mage-vault")
        mage_uuid = _read(os.path.join(session.data_dir, "secrets", "uuid"))
        run = session.calls(
            call("get_secret_value", GIVEN["global_name"]),
            call("get_secret_value", GIVEN["pipeline_name"], entity("PIPELINE"), GIVEN["pipeline"], GIVEN["project"]),
            call("get_secret_value", GIVEN["global_name"], suppress_warning=True),
            call("get_secret_value", GIVEN["pipeline_name"]),  # Mage holds it in the pipeline scope only
            call("get_secret_value", MISSING),
            call("create_secret", "added_after_switch", GIVEN["api_value"]),
            call("get_secret_value", "added_after_switch"),
            call("delete_secret", GIVEN["seeded_name"]),  # only in Mage's database: deleted there
            call("get_secret_value", GIVEN["seeded_name"]),
        )
        self.assertEqual(run.report["answered_by"], "mage_vault.mage")
        self.assertRaisedNotMigrated(run, 0, GIVEN["global_name"], "a global secret only Mage's database holds")
        self.assertRaisedNotMigrated(run, 1, GIVEN["pipeline_name"], "a pipeline secret only Mage's database holds")
        self.assertRaisedNotMigrated(run, 2, GIVEN["global_name"], "suppress_warning does not silence it")
        self.assertResult(run, 3, None, "another scope's secret")
        self.assertEqual(run.lines(3), [f"WARNING: Could not find secret value for secret {GIVEN['pipeline_name']}."])
        self.assertResult(run, 4, None, "a missing secret")
        self.assertEqual(run.lines(4), [GET_WARNING])
        self.assertResult(run, 6, GIVEN["api_value"], "a secret created after the switch")
        self.assertEqual(run.lines(7), [], "the delete of a secret only Mage's database held warned")
        self.assertResult(run, 8, None, "a secret deleted through Mage")
        self.assertEqual(run.lines(8), [f"WARNING: Could not find secret value for secret {GIVEN['seeded_name']}."])
        self.assertEqual(sorted(name for name, _ in run.report["db_rows"]), sorted([GIVEN["global_name"], GIVEN["pipeline_name"]]),
                         "Mage's rows: all but the deleted one stay")
        self.assertEqual(_read(os.path.join(session.data_dir, "secrets", "uuid")), mage_uuid, "the vault did not adopt Mage's uuid")
        self.assertTrue(session.has("key"), "Mage's key file was removed")
        self.assertEqual(_read(os.path.join(session.data_dir, "secrets", "key")), _read(os.path.join(self.off.data_dir, "secrets", "key")),
                         "Mage's key file was changed")
        listed = session.tool("list", "--json")
        self.assertEqual([entry["name"] for entry in json.loads(listed.stdout)], ["added_after_switch"])

    def test_no_variable_over_a_mage_install_is_mage_until_its_data_dir_has_a_vault(self):
        session = self.copy_of(self.off, None)
        before = session.calls(call("get_secret_value", GIVEN["global_name"]))
        self.assertEqual(before.report["answered_by"], "mage_ai.orchestration.db")
        self.assertFalse(before.report["mage_vault_loaded_at_end"])
        self.assertResult(before, 0, GIVEN["global_value"], "Mage's database, no vault in the data dir")
        session.seed("set_with_the_tool", GIVEN["api_value"])  # the data dir now has secrets/vault.log
        after = session.calls(call("get_secret_value", GIVEN["global_name"]), call("get_secret_value", "set_with_the_tool"))
        self.assertEqual(after.report["answered_by"], "mage_vault.mage")
        self.assertRaisedNotMigrated(after, 0, GIVEN["global_name"], "Mage's secret, once the data dir has a vault")
        self.assertResult(after, 1, GIVEN["api_value"], "the vault's secret without the variable")

    def test_without_mages_database_session_a_miss_raises_where_mage_may_hold_it(self):
        over_mage = self.copy_of(self.off, "mage-vault")
        over_mage.seed("set_with_the_tool", GIVEN["api_value"])
        run = over_mage.calls(call("get_secret_value", "set_with_the_tool"), call("get_secret_value", MISSING), no_session=True)
        self.assertResult(run, 0, GIVEN["api_value"], "a vault secret, no database session")
        self.assertEqual((run.results[1].get("error"), run.results[1].get("code")), ("VaultError", 6),
                         "a miss Mage's database could not be asked about must raise, not read as None")
        self.assertIn("could not be checked", run.results[1]["message"])
        self.assertEqual(run.lines(1), [])
        # A data dir that never had Mage's own key: Mage would read nothing, no database needed.
        vault_only = self.session(None)
        vault_only.seed(GIVEN["seeded_name"], GIVEN["seeded_value"])
        run = vault_only.calls(call("get_secret_value", GIVEN["seeded_name"]), call("get_secret_value", MISSING), no_session=True)
        self.assertResult(run, 0, GIVEN["seeded_value"], "a vault secret, no database session")
        self.assertResult(run, 1, None, "a missing secret of a vault-only data dir, no database session")
        self.assertEqual(run.lines(1), [GET_WARNING])

    def test_a_wrong_key_raises_through_mages_get_secret_value(self):
        other = tempfile.mkdtemp(prefix="mage-backend-other-")
        self.addCleanup(shutil.rmtree, other, True)
        made = subprocess.run([TOOL, "init", "--data-dir", other], capture_output=True, timeout=60)
        self.assertEqual(made.returncode, 0, made.stderr.decode())
        for backend in ("mage-vault", None):
            with self.subTest(MAGE_SECRETS_BACKEND=backend):
                session = self.session(backend)
                session.seed(GIVEN["seeded_name"], GIVEN["seeded_value"])
                shutil.copyfile(os.path.join(other, "secrets", "vault.key"), os.path.join(session.data_dir, "secrets", "vault.key"))
                run = session.calls(call("get_secret_value", GIVEN["seeded_name"]),
                                    call("get_secret_value", GIVEN["seeded_name"], suppress_warning=True),
                                    call("get_secret_value", MISSING))
                self.assertEqual(run.report["answered_by"], "mage_vault.mage")
                for number in range(3):
                    result = run.results[number]
                    self.assertEqual((result.get("error"), result.get("code")), ("VaultError", 3),
                                     f"call {number}: a wrong key must raise, not read as None")
                    self.assertEqual(run.lines(number), [], f"call {number} printed a warning instead of raising")


@unittest.skipUnless(MAGE_PYTHON and TOOL and LIBRARY, "run by `make mage-test`")
class MagesOwnCallsTests(SessionTestCase):
    """Mage's positional order and its warning lines, through Mage's own module: the same calls
    in a Mage session (its database) and a vault session give the same results and output."""

    CALLS = (
        # create_secret(name, value, entity, project_uuid, pipeline_uuid)
        call("create_secret", "swap", SWAP_A, entity("PIPELINE"), "sales", "daily"),
        call("create_secret", "swap", SWAP_B, entity("PIPELINE"), "daily", "sales"),
        # get_secret_value(name, entity, pipeline_uuid, project_uuid)
        call("get_secret_value", "swap", entity("PIPELINE"), "daily", "sales"),
        call("get_secret_value", "swap", "pipeline", "sales", "daily"),
        # delete_secret(name, entity, pipeline_uuid, project_uuid)
        call("delete_secret", "swap", entity("PIPELINE"), "daily", "sales"),
        call("get_secret_value", "swap", entity("PIPELINE"), "daily", "sales", suppress_warning=True),
        call("get_secret_value", "swap", entity("PIPELINE"), "sales", "daily"),
        call("create_secret", "in_project", PROJECT_VALUE, entity("PROJECT"), "sales"),
        call("get_secret_value", "in_project", entity("PROJECT"), None, "sales"),
        # Mage's warning lines
        call("get_secret_value", MISSING),
        call("get_secret_value", MISSING, suppress_warning=True),
        call("get_secret_value", MISSING, entity("PIPELINE"), "daily", "sales"),
        call("delete_secret", MISSING, entity("PIPELINE"), "daily", "sales"),
        call("delete_secret", MISSING, entity("PIPELINE"), "daily", "sales", suppress_warning=True),
    )
    EXPECTED = [None, None, SWAP_A, SWAP_B, None, None, SWAP_B, None, PROJECT_VALUE, None, None, None, None, None]
    PRINTED = [[], [], [], [], [], [], [], [], [], [GET_WARNING], [], [GET_WARNING], [DELETE_WARNING], []]

    @classmethod
    def setUpClass(cls):
        cls.mage = MageSession(None)
        cls.mage_run = cls.mage.calls(*cls.CALLS)
        cls.vault = MageSession("mage-vault")
        cls.vault_run = cls.vault.calls(*cls.CALLS)

    @classmethod
    def tearDownClass(cls):
        cls.mage.remove()
        cls.vault.remove()

    def check(self, run):
        for number, expected in enumerate(self.EXPECTED):
            self.assertResult(run, number, expected, f"call {number} {self.CALLS[number]['function']}")
            self.assertEqual(run.lines(number), self.PRINTED[number], f"what call {number} printed")

    def test_mage_itself_gives_what_the_test_expects(self):
        self.assertEqual(self.mage_run.report["answered_by"], "mage_ai.orchestration.db")
        self.check(self.mage_run)

    def test_the_vault_honours_mages_positional_order_and_prints_its_warnings(self):
        self.assertEqual(self.vault_run.report["answered_by"], "mage_vault.mage")
        self.check(self.vault_run)
        self.assertEqual(self.vault_run.report["db_rows"], [])
        vault = self.vault
        self.assertEqual(vault.tool("get", "swap", "--project", "sales", "--pipeline", "daily").returncode, 1,
                         "delete_secret(name, entity, pipeline_uuid, project_uuid) deleted in another scope")
        got = vault.tool("get", "swap", "--project", "daily", "--pipeline", "sales")
        self.assertSecret(got.stdout.decode(), SWAP_B, "create_secret(name, value, entity, project_uuid, pipeline_uuid)")
        got = vault.tool("get", "in_project", "--project", "sales")
        self.assertSecret(got.stdout.decode(), PROJECT_VALUE, "a project secret")


@unittest.skipUnless(MAGE_PYTHON and TOOL and LIBRARY, "run by `make mage-test`")
class BackendChoiceTests(SessionTestCase):
    """MAGE_SECRETS_BACKEND (exactly `mage-vault` or `mage`) over the data dir's own mark."""

    def test_mage_forces_mages_database_on_a_vault_data_dir(self):
        session = self.session("mage")
        session.seed(GIVEN["seeded_name"], GIVEN["seeded_value"])
        run = session.calls(call("get_secret_value", GIVEN["seeded_name"]),
                            call("create_secret", "in_mages_database", GIVEN["api_value"]),
                            call("get_secret_value", "in_mages_database"))
        self.assertEqual(run.report["answered_by"], "mage_ai.orchestration.db")
        self.assertFalse(run.report["mage_vault_loaded_at_end"], "mage_vault was loaded with MAGE_SECRETS_BACKEND=mage")
        self.assertResult(run, 0, None, "a vault secret read from Mage's database")
        self.assertEqual(run.lines(0), [f"WARNING: Could not find secret value for secret {GIVEN['seeded_name']}."])
        self.assertResult(run, 2, GIVEN["api_value"], "Mage's own create and get")
        self.assertEqual([name for name, _ in run.report["db_rows"]], ["in_mages_database"])
        self.assertTrue(session.has("key"), "Mage's Fernet key was not made")
        self.assertEqual(session.tool("get", "in_mages_database").returncode, 1, "Mage's create went to the vault")
        self.assertEqual(run.stderr, "")

    def test_a_vault_key_marks_a_data_dir_whose_log_is_elsewhere(self):
        session = self.session(None)
        session.env["MAGE_VAULT_FILE"] = os.path.join(session.root, "shared", "vault.log")
        session.seed(GIVEN["seeded_name"], GIVEN["seeded_value"])
        self.assertFalse(session.has("vault.log"))
        self.assertTrue(session.has("vault.key"))
        run = session.calls(call("get_secret_value", GIVEN["seeded_name"]))
        self.assertEqual(run.report["answered_by"], "mage_vault.mage")
        self.assertResult(run, 0, GIVEN["seeded_value"], "the vault's secret through $MAGE_VAULT_FILE, no variable")

    def test_the_value_is_matched_exactly(self):
        for value in ("Mage-Vault", " mage-vault ", "vault"):
            with self.subTest(MAGE_SECRETS_BACKEND=value):
                fresh = self.session(value)
                run = fresh.calls(call("create_secret", "made_with_a_near_value", GIVEN["api_value"]))
                self.assertEqual(run.report["answered_by"], "mage_ai.orchestration.db", "a near value turned the vault on")
                self.assertEqual([name for name, _ in run.report["db_rows"]], ["made_with_a_near_value"])
                self.assertFalse(fresh.has("vault.log"))
                self.assertEqual(len(NOT_EXACT.findall(run.stderr)), 1, "no single line on stderr about the value")
        vault = self.session("Mage-Vault")
        vault.seed(GIVEN["seeded_name"], GIVEN["seeded_value"])
        run = vault.calls(call("get_secret_value", GIVEN["seeded_name"]))
        self.assertEqual(run.report["answered_by"], "mage_vault.mage", "a near value moved a vault data dir off the vault")
        self.assertResult(run, 0, GIVEN["seeded_value"], "a vault data dir with a near value")
        self.assertEqual(len(NOT_EXACT.findall(run.stderr)), 1)


@unittest.skipUnless(MAGE_PYTHON and TOOL and LIBRARY, "run by `make mage-test`")
class LateInstallTests(SessionTestCase):
    """`install()` in a process where Mage is already loaded (a notebook, a custom entry point)."""

    def test_install_after_mage_loaded_rebinds_names_copied_before(self):
        session = self.session("mage")  # the hook leaves Mage alone; install() is the override
        session.seed(GIVEN["seeded_name"], GIVEN["seeded_value"])
        report = session.run_mage(GIVEN, script="late_install.py")
        self.assertFalse(report["mage_vault_before_install"])
        self.assertEqual(report["before"], "mage_ai.orchestration.db")
        self.assertEqual(set(report["after"].values()), {"mage_vault.mage"}, report["after"])
        self.assertTrue(report["reads_the_vault"], "a name bound before install() does not read the vault")
        self.assertEqual(report["finders"], 1)


@unittest.skipUnless(MAGE_PYTHON and LIBRARY, "run by `make mage-test`")
class StartUpTests(unittest.TestCase):
    """The `.pth` line installs one finder and nothing else, whatever the variable says."""

    def start(self, value, *arguments):
        env = {"PATH": "/usr/bin:/bin", "MAGE_VAULT_LIB": LIBRARY, "HOME": "/nonexistent"}
        if value is not None:
            env["MAGE_SECRETS_BACKEND"] = value
        result = subprocess.run([MAGE_PYTHON, *arguments], capture_output=True, env=env, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        return result

    def test_only_a_finder_is_installed_at_start(self):
        probe = ("import sys; print(sum(type(f).__name__ == 'MageVaultFinder' for f in sys.meta_path), "
                 "type(sys.meta_path[0]).__name__, sorted(m for m in sys.modules if 'vault' in m))")
        for value in (None, "", "mage-vault", "mage", "Mage-Vault"):
            with self.subTest(MAGE_SECRETS_BACKEND=value):
                result = self.start(value, "-c", probe)
                self.assertEqual(result.stdout.decode().strip(), "1 MageVaultFinder ['_mage_vault_hook']")
                self.assertEqual(result.stderr, b"", "the start-up hook wrote to stderr")

    def test_the_hook_module_imports_nothing(self):
        for value in (None, "mage-vault"):
            with self.subTest(MAGE_SECRETS_BACKEND=value):
                lines = self.start(value, "-X", "importtime", "-c", "pass").stderr.decode().splitlines()
                hook = [number for number, line in enumerate(lines) if re.search(r"\|\s+_mage_vault_hook$", line)]
                self.assertEqual(len(hook), 1, "the hook module was not imported at start")
                # -X importtime lists a module's own imports just before it, indented deeper.
                own, total, name = (part for part in lines[hook[0]].split(":", 1)[1].split("|"))
                self.assertEqual(own.strip(), total.strip(), f"the hook imported other modules:\n{chr(10).join(lines[hook[0] - 5:hook[0] + 1])}")

    def test_other_imports_are_left_to_pythons_finders(self):
        probe = "import json, email.utils; print(type(json.__spec__.loader).__name__, type(email.utils.__spec__.loader).__name__)"
        self.assertEqual(self.start("mage-vault", "-c", probe).stdout.decode().split(), ["SourceFileLoader", "SourceFileLoader"])


if __name__ == "__main__":
    unittest.main(verbosity=2)

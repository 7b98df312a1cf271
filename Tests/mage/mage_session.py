"""One Mage session, run by test_mage_backend.py in the Mage virtualenv: real mage-ai
0.9.80 code reads and writes secrets the way a user's Mage does, and this script writes
what Mage saw to a JSON report (argv[1]) for the test to check. It never prints a value.

Its input (argv[2], JSON) holds the made-up names and values. The environment (data dir,
repo, SQLite database, and MAGE_SECRETS_BACKEND or not) is the test's; this script never
chooses the backend itself: the `.pth` hook's finder does, when Mage's secrets module is
imported (the variable, else the data dir).

    python mage_session.py REPORT.json INPUT.json
"""
import asyncio
import json
import os
import sys

report_path, input_path = sys.argv[1], sys.argv[2]
given = json.load(open(input_path, encoding="utf-8"))
repo = os.environ["MAGE_REPO_PATH"]
report = {
    # The start-up hook's finder is in place, and nothing of the vault is loaded before Mage is.
    "finder_at_start": any(type(finder).__name__ == "MageVaultFinder" for finder in sys.meta_path),
    "mage_vault_at_start": "mage_vault" in sys.modules,
}

# Mage's database, as `mage start` makes it (the Secret table is all these calls touch).
from mage_ai.orchestration.db import db_connection  # noqa: E402
from mage_ai.orchestration.db.models.base import Base  # noqa: E402
from mage_ai.orchestration.db.models.secrets import Secret  # noqa: E402

db_connection.start_session()
Base.metadata.create_all(db_connection.session.get_bind(), tables=[Secret.__table__])

from mage_ai.api.presenters.SecretPresenter import SecretPresenter  # noqa: E402
from mage_ai.api.resources.SecretResource import SecretResource  # noqa: E402
from mage_ai.data_preparation.shared import secrets as mage_secrets  # noqa: E402
from mage_ai.data_preparation.shared.secrets import create_secret, delete_secret, get_secret_value  # noqa: E402
from mage_ai.io.config import ConfigFileLoader  # noqa: E402
from mage_ai.orchestration.constants import Entity  # noqa: E402

# Who answers: the module each importer's bound name comes from.
import mage_ai.api.resources.SecretResource as resource_module  # noqa: E402
report["answered_by"] = {
    "secrets.get_secret_value": mage_secrets.get_secret_value.__module__,
    "SecretResource.create_secret": resource_module.create_secret.__module__,
    "SecretResource.get_valid_secrets_for_repo": resource_module.get_valid_secrets_for_repo.__module__,
}

# 1. Mage's own create_secret, global and pipeline scope (and the seeded secret, when the
# test did not put it in with the mage-vault command).
if given.get("seed_through_mage"):
    create_secret(given["seeded_name"], given["seeded_value"])
create_secret(given["global_name"], given["global_value"])
create_secret(given["pipeline_name"], given["pipeline_value"], entity=Entity.PIPELINE,
              project_uuid=given["project"], pipeline_uuid=given["pipeline"])

# 2. io_config.yaml through Mage's ConfigFileLoader (mage_secret_var is Mage's template function).
config_path = os.path.join(repo, "io_config.yaml")
with open(config_path, "w", encoding="utf-8") as out:
    out.write("version: 0.1.1\ndefault:\n"
              f"  POSTGRES_PASSWORD: \"{{{{ mage_secret_var('{given['global_name']}') }}}}\"\n"
              f"  POSTGRES_USER: \"{{{{ mage_secret_var('{given['seeded_name']}') }}}}\"\n"
              "  POSTGRES_HOST: \"{{ env_var('MADE_UP_HOST') }}\"\n")
os.environ["MADE_UP_HOST"] = "db.example.invalid"
loader = ConfigFileLoader(config_path, "default")
report["config"] = {key: loader.get(key) for key in ("POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_HOST")}

# 3. A block, as Mage's data-loader template writes one: it binds get_secret_value when its
# code runs, and Mage runs it with the decorator in its globals.
block_code = (
    "from mage_ai.data_preparation.shared.secrets import get_secret_value\n"
    "from mage_ai.orchestration.constants import Entity\n\n"
    "@data_loader\n"
    "def load_data(*args, **kwargs):\n"
    f"    return {{'global': get_secret_value('{given['global_name']}'),\n"
    f"            'seeded': get_secret_value('{given['seeded_name']}'),\n"
    f"            'pipeline': get_secret_value('{given['pipeline_name']}', Entity.PIPELINE,\n"
    f"                                         pipeline_uuid='{given['pipeline']}', project_uuid='{given['project']}'),\n"
    f"            'pipeline_from_global': get_secret_value('{given['pipeline_name']}', suppress_warning=True),\n"
    "            'missing': get_secret_value('no_such_secret', suppress_warning=True)}\n"
)
functions = []
block_globals = {"data_loader": lambda function: functions.append(function) or function}
exec(compile(block_code, os.path.join(repo, "data_loaders", "load_secrets.py"), "exec"), block_globals)
report["block"] = functions[0]()
report["block_bound"] = block_globals["get_secret_value"].__module__

# 4. The secrets API's handler (what /api/secrets runs, in this process): create, list,
# fetch one, update, delete, list again; a name Mage accepts that the vault refuses.
async def api():
    created = await SecretResource.process_create({"name": given["api_name"], "value": given["api_value"]}, None)
    presented = dict(await SecretPresenter.present_resource(created, None))  # the response's "secret"
    listed = [resource.model.name for resource in await SecretResource.process_collection({}, {}, None)]
    value_after_create = get_secret_value(given["api_name"], suppress_warning=True)
    member = await SecretResource.process_member(given["api_name"], None)
    await member.process_update({"value": given["api_value_updated"]})  # PUT /api/secrets/NAME
    db_connection.session.commit()
    value_after_update = get_secret_value(given["api_name"], suppress_warning=True)
    member = await SecretResource.process_member(given["api_name"], None)
    await member.process_delete()
    listed_after = [resource.model.name for resource in await SecretResource.process_collection({}, {}, None)]
    try:
        await SecretResource.process_create({"name": "tab\tname", "value": given["api_value"]}, None)
        control = "created"
    except Exception as error:  # the vault's refusal, as Mage's API error
        control = f"{type(error).__name__}: {getattr(error, 'code', '')}"
    return {
        "created_name": created.model.name,
        "presented": presented,
        "created_row_value": created.model.value,  # a row object that must not carry the value
        "listed": listed,
        "value_after_create": value_after_create,
        "value_after_update": value_after_update,
        "value_after_delete": get_secret_value(given["api_name"], suppress_warning=True),
        "listed_after_delete": listed_after,
        "control_name": control,
    }

report["api"] = asyncio.run(api())
if report["api"]["control_name"] == "created":
    # Mage's own API stored it; its delete_secret then finds the row by name and key uuid.
    try:
        delete_secret("tab\tname", suppress_warning=True)
    except TypeError:  # mage-ai 0.9.80's legacy-row fallback of delete_secret raises when no row matches
        pass

# 5. Mage's database: which secret rows exist, and whether a value is there in clear text.
db_connection.session.commit()
report["db_rows"] = sorted(row.name for row in Secret.query.all())
report["mage_vault_imported"] = "mage_vault" in sys.modules

with open(report_path, "w", encoding="utf-8") as out:
    json.dump(report, out)

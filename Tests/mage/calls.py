"""Mage's own secret functions, called in the order a test gives, in a fresh interpreter:
run by test_mage_backend.py in the Mage virtualenv. Whatever backend answers is the start-up
hook's choice (the variable, the data dir); this script never chooses.

argv[1] is the JSON report to write, argv[2] the JSON input:

    {"calls": [{"function": "get_secret_value", "args": [...], "kwargs": {...}}, ...],
     "no_session": false}

An argument written {"entity": "PIPELINE"} is Mage's `Entity.PIPELINE`. Each call prints
`--- call N` on standard output first, so the test can find what the call printed (Mage's
warning lines). The report holds, per call, its result or the error's type, `code` and
message, plus who answered and Mage's secret rows at the end. Never prints a value.
"""
import json
import sys

report_path, input_path = sys.argv[1], sys.argv[2]
given = json.load(open(input_path, encoding="utf-8"))
report = {
    "finder_at_start": any(type(finder).__name__ == "MageVaultFinder" for finder in sys.meta_path),
    "mage_vault_at_start": "mage_vault" in sys.modules,
}

from mage_ai.orchestration.db import db_connection  # noqa: E402
from mage_ai.orchestration.db.models.base import Base  # noqa: E402
from mage_ai.orchestration.db.models.secrets import Secret  # noqa: E402

if not given.get("no_session"):  # else Mage's database session is never started, as in a bare script
    db_connection.start_session()
    Base.metadata.create_all(db_connection.session.get_bind(), tables=[Secret.__table__])

from mage_ai.data_preparation.shared import secrets as mage_secrets  # noqa: E402
from mage_ai.orchestration.constants import Entity  # noqa: E402

report["answered_by"] = mage_secrets.get_secret_value.__module__
report["mage_vault_loaded"] = "mage_vault" in sys.modules


def argument(value):
    if isinstance(value, dict) and set(value) == {"entity"}:
        return Entity[value["entity"]]
    return value


results = []
for number, call in enumerate(given["calls"]):
    print(f"--- call {number}", flush=True)
    function = getattr(mage_secrets, call["function"])
    args = [argument(value) for value in call.get("args", [])]
    kwargs = {key: argument(value) for key, value in call.get("kwargs", {}).items()}
    try:
        result = function(*args, **kwargs)
        if call["function"] == "create_secret":
            result = None  # a Secret row object; the test reads the value back instead
        results.append({"result": result})
    except Exception as error:
        results.append({"error": type(error).__name__, "code": getattr(error, "code", None), "message": str(error)})
    sys.stdout.flush()
print("--- end", flush=True)
report["results"] = results
if not given.get("no_session"):
    db_connection.session.commit()
    report["db_rows"] = sorted([row.name, row.key_uuid] for row in Secret.query.all())
report["mage_vault_loaded_at_end"] = "mage_vault" in sys.modules

with open(report_path, "w", encoding="utf-8") as out:
    json.dump(report, out)

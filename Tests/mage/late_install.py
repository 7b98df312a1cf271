"""Mage already loaded, then `mage_vault.mage.install()`: the names other modules copied
before the patch are rebound too. Run by test_mage_backend.py with MAGE_SECRETS_BACKEND=mage
(so the start-up hook leaves Mage alone, though the data dir has a vault); writes
a JSON report (argv[1]) of who answers and whether the value read is the vault's (argv[2]:
the JSON input of mage_session.py). Never prints a value.
"""
import json
import sys

report_path, input_path = sys.argv[1], sys.argv[2]
given = json.load(open(input_path, encoding="utf-8"))

from mage_ai.orchestration.db import db_connection  # noqa: E402
from mage_ai.orchestration.db.models.base import Base  # noqa: E402
from mage_ai.orchestration.db.models.secrets import Secret  # noqa: E402

db_connection.start_session()
Base.metadata.create_all(db_connection.session.get_bind(), tables=[Secret.__table__])

import mage_ai.api.resources.SecretResource as resource_module  # noqa: E402
from mage_ai.data_preparation.shared.secrets import get_secret_value as bound_early  # noqa: E402

report = {"before": bound_early.__module__, "mage_vault_before_install": "mage_vault" in sys.modules}

import mage_vault.mage  # noqa: E402

mage_vault.mage.install()
mage_vault.mage.install()  # twice is once
this_module = sys.modules[__name__]
report["after"] = {
    "this_script": this_module.bound_early.__module__,
    "SecretResource.create_secret": resource_module.create_secret.__module__,
    "SecretResource.member": resource_module.SecretResource.member.__func__.__module__,
}
report["reads_the_vault"] = this_module.bound_early(given["seeded_name"]) == given["seeded_value"]
report["finders"] = sum(type(finder).__name__ == "MageVaultFinder" for finder in sys.meta_path)
with open(report_path, "w", encoding="utf-8") as out:
    json.dump(report, out)

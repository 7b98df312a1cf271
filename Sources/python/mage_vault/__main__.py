"""`python -m mage_vault ARGS` runs the `mage-vault` command the wheel installed (as ruff's
`__main__` finds its binary through sysconfig's scripts folder)."""

import os
import sys
import sysconfig


def _binary() -> str:
    for scheme in (None, "posix_user"):
        folder = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        candidate = os.path.join(folder, "mage-vault")
        if os.path.isfile(candidate):
            return candidate
    raise SystemExit("mage-vault: the command is not installed beside this package")


if __name__ == "__main__":
    binary = _binary()
    os.execv(binary, [binary, *sys.argv[1:]])

"""Builds the mage_vault wheel without a build backend (PEP 427): the package, the shared
library beside it, the Mage start-up hook (`mage_vault_mage.pth` and the `_mage_vault_hook`
module its line imports, at the root, so they land in site-packages), and the static
`mage-vault` binary in `<name>.data/scripts/`, which pip
installs as the `mage-vault` command. The tag is `py3-none-<platform>`: the library is
loaded with ctypes, so it fits every CPython 3 of the platform.

    python3 build_wheel.py --library libmagevault.so --binary mage-vault --output dist
"""

import argparse
import base64
import hashlib
import os
import platform
import re
import subprocess
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
NAME, DIST = "mage_vault", "mage_vault"
PTH = "mage_vault_mage.pth"
HOOK = "_mage_vault_hook.py"


def version() -> str:
    for line in open(os.path.join(HERE, "pyproject.toml"), encoding="utf-8"):
        if line.startswith("version"):
            return line.split('"')[1]
    raise SystemExit("no version in pyproject.toml")


def platform_tag(library: str) -> str:
    """`manylinux_X_Y_<machine>` for the newest glibc symbol version the library needs (the
    command is static and needs none): the glibc the wheel truly requires, as auditwheel
    computes it, not the build machine's own (Debian 12's 2.36 would shut out Ubuntu 22.04)."""
    machine = platform.machine()
    if platform.libc_ver()[0] != "glibc":
        return f"linux_{machine}"
    listing = subprocess.run(["readelf", "-V", "--wide", library], check=True, capture_output=True, text=True).stdout
    needed = {tuple(int(part) for part in found.split(".")) for found in re.findall(r"GLIBC_(\d+\.\d+)\b", listing)}
    major, minor = max(needed, default=(2, 17))
    return f"manylinux_{major}_{minor}_{machine}"


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--library", required=True)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args()
    ver = version()
    tag = f"py3-none-{platform_tag(arguments.library)}"
    os.makedirs(arguments.output, exist_ok=True)
    wheel_path = os.path.join(arguments.output, f"{DIST}-{ver}-{tag}.whl")
    dist_info = f"{DIST}-{ver}.dist-info"
    data_dir = f"{DIST}-{ver}.data"
    entries = []  # (archive path, bytes, mode)
    package = os.path.join(HERE, NAME)
    for file in sorted(os.listdir(package)):
        if file.endswith(".py"):
            entries.append((f"{NAME}/{file}", open(os.path.join(package, file), "rb").read(), 0o644))
    # The start-up hook for Mage: installed into site-packages itself, where Python's site
    # module runs its import line at every start. The line imports a top-level module, not
    # the package: importing the package would load ctypes in every Python process.
    entries.append((PTH, open(os.path.join(HERE, PTH), "rb").read(), 0o644))
    entries.append((HOOK, open(os.path.join(HERE, HOOK), "rb").read(), 0o644))
    entries.append((f"{NAME}/libmagevault.so", open(arguments.library, "rb").read(), 0o755))
    entries.append((f"{data_dir}/scripts/mage-vault", open(arguments.binary, "rb").read(), 0o755))
    readme = open(os.path.join(HERE, "README.md"), encoding="utf-8").read()
    metadata = (
        f"Metadata-Version: 2.1\nName: mage-vault\nVersion: {ver}\n"
        "Summary: Mage's get_secret_value, create_secret and delete_secret over a MageVault vault\n"
        "Requires-Python: >=3.8\nDescription-Content-Type: text/markdown\n\n" + readme
    )
    wheel = f"Wheel-Version: 1.0\nGenerator: mage-vault build_wheel.py\nRoot-Is-Purelib: false\nTag: {tag}\n"
    entries.append((f"{dist_info}/METADATA", metadata.encode(), 0o644))
    entries.append((f"{dist_info}/WHEEL", wheel.encode(), 0o644))
    record = [record_line(path, data) for path, data, _ in entries] + [f"{dist_info}/RECORD,,"]
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode(), 0o644))
    with zipfile.ZipFile(wheel_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data, mode in entries:
            info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    print(wheel_path)


if __name__ == "__main__":
    main()

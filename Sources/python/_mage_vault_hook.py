"""The start-up hook of the Mage backend: the one module `mage_vault_mage.pth` imports in
every Python process of an environment that has the wheel, so it must cost next to nothing.

At start it puts one finder first on `sys.meta_path` and does nothing else: it imports no
module (`sys` and `os` are loaded before any `.pth` line runs), reads no file and no
variable. The finder answers None at once for every module name but two:
`mage_ai.data_preparation.shared.secrets` and `mage_ai.api.resources.SecretResource`.
For those it finds the spec with the finders after it and wraps the loader; once the
normal loader has executed the module, the wrapper decides which backend this process
uses (once per process) and, for the vault, imports `mage_vault.mage` and patches the
module before the `import` statement that loaded it returns.

Which backend (decided when Mage's secrets module is first imported, then kept):

- `MAGE_SECRETS_BACKEND=mage-vault`: the vault.
- `MAGE_SECRETS_BACKEND=mage`: Mage's own database, as if the wheel were not installed.
- unset or empty: the data dir decides. A data dir whose secrets are in the vault has
  `vault.log` or `vault.key` in its `secrets/` folder (the one Mage's `get_secrets_dir`
  resolves, so Mage's `MAGE_DATA_DIR` rules apply): it uses the vault. Anything else is
  Mage's database. The log is made by the vault's first write (`mage-vault init`, `set`,
  `migrate`, or Mage's `create_secret` with the variable set), the global scope's key by
  `init` or its first write; the key alone marks a data dir whose log lives elsewhere
  (`$MAGE_VAULT_FILE`). So the
  server, the scheduler, a block's subprocess and a shell all agree without the variable.
  (A data dir with neither, its log elsewhere and its key only in `$MAGE_VAULT_KEY`, needs
  the variable.) Files, not a setting: `init`, `set` and `migrate` make them already, a
  copy or backup of the data dir carries them, and there is nothing else to keep in step.
- any other value: matched exactly, so `Mage-Vault` or ` mage-vault ` is not the switch.
  One line on stderr names the two accepted values, then the data dir decides.

A process that decided for Mage's database before the data dir got its vault keeps it
until it restarts (restart Mage after the first `mage-vault migrate`).
`mage_vault.mage.install()` is the explicit override in code: the vault, whatever the
variable says.
"""

import sys

SWITCH = "MAGE_SECRETS_BACKEND"
VAULT = "mage-vault"
MAGE = "mage"
SECRETS_MODULE = "mage_ai.data_preparation.shared.secrets"
RESOURCE_MODULE = "mage_ai.api.resources.SecretResource"
#: Files in `<data dir>/secrets/` that mark a data dir whose secrets are in the vault.
MARKERS = ("vault.log", "vault.key")

# VAULT or MAGE once decided for this process; None until Mage's secrets module is imported.
_choice = None
_warned = False


class MageVaultFinder:
    """First on `sys.meta_path`: None for every name but Mage's two secrets modules, whose
    spec it takes from the finders after it, with a loader that patches after executing."""

    __slots__ = ()

    def find_spec(self, fullname, path=None, target=None):
        if fullname != SECRETS_MODULE and fullname != RESOURCE_MODULE:
            return None
        if _choice == MAGE:
            return None
        for finder in sys.meta_path:
            if type(finder).__name__ == "MageVaultFinder":
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchingLoader(spec.loader)
        return spec


class _PatchingLoader:
    """Runs the real loader, then (for the vault) the patch, before the import returns."""

    __slots__ = ("_loader",)

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        if backend() != VAULT:
            return
        try:
            from mage_vault.mage import patch
            patch(module)
        except Exception as error:
            # Loud: on a vault data dir, Mage's database would read as "no such secret".
            raise ImportError(f"mage_vault: the vault is this data dir's secrets backend, but {module.__name__} "
                              f"could not be switched to it: {error}. Set MAGE_SECRETS_BACKEND=mage to use "
                              "Mage's database instead") from error

    def __getattr__(self, name):
        return getattr(self._loader, name)


def backend():
    """VAULT or MAGE for this process, decided on first use (see the module's docstring);
    the first use imports Mage's secrets module when it is not loaded yet."""
    global _choice
    if _choice is None:
        _choice = _decide()
    return _choice


def use_vault():
    """Makes this process use the vault whatever the variable or the data dir says
    (`mage_vault.mage.install()`)."""
    global _choice
    _choice = VAULT


def data_dir_uses_vault(secrets_dir):
    """Whether Mage's secrets folder `secrets_dir` holds the vault's log or global key."""
    from os.path import exists, join
    return any(exists(join(secrets_dir, marker)) for marker in MARKERS)


def _decide():
    global _warned
    from os import environ
    value = environ.get(SWITCH, "")
    if value == VAULT or value == MAGE:
        return value
    if value and not _warned:
        _warned = True
        print(f"mage_vault: {SWITCH}={value!r} is neither {VAULT!r} nor {MAGE!r} (the match is exact); "
              "the data dir decides", file=sys.stderr)
    secrets = sys.modules.get(SECRETS_MODULE)
    if secrets is None:
        try:
            __import__(SECRETS_MODULE)
        except ImportError:  # no Mage here: nothing to switch
            return MAGE
        secrets = sys.modules[SECRETS_MODULE]
    return VAULT if data_dir_uses_vault(secrets.get_secrets_dir(secrets.Entity.GLOBAL)) else MAGE


def install():
    """Puts the finder first on `sys.meta_path`, once (what the `.pth` line does)."""
    if not any(type(finder).__name__ == "MageVaultFinder" for finder in sys.meta_path):
        sys.meta_path.insert(0, MageVaultFinder())


install()

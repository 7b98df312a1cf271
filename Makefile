# MageVault — `make demo` runs the scenario, `make test` runs every test.
# Both install what they need (libsodium-dev, pkg-config; strace for the tests) with apt-get when it is missing.

SWIFT  ?= swift
PREFIX ?= /usr/local
# Lean links for what this Makefile builds (see Package.swift's linksLean); a package that
# depends on MageVault by version builds without them.
export MAGE_VAULT_LEAN := 1
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps test-deps static-libs build lib wheel wheel-test mage-venv mage-full-venv mage-test demo test browser-test crashtest bench bench-python install link-order uninstall clean from-swift-test startup-test

all: build

# System libraries through pkg-config: libsodium (the vault's cryptography), nothing else.
deps:
	@if ! pkg-config --exists libsodium 2>/dev/null; then \
		echo "Installing libsodium-dev and pkg-config with apt-get..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsodium-dev pkg-config; \
	fi

# strace: a test watches `set` write, then fdatasync, then exit (see UntrustedInputTests).
test-deps: deps
	@if ! command -v strace >/dev/null 2>&1; then \
		echo "Installing strace with apt-get..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace; \
	fi

# Shipped binaries link libsodium statically (Debian's libsodium-dev has libsodium.a): a
# pkg-config file of our own points the link at a folder holding the archive alone.
STATIC_LIBS := $(CURDIR)/.build/static-libs
STATIC      := PKG_CONFIG_PATH=$(STATIC_LIBS)
# The shipped programs are static position-independent executables: the Swift runtime,
# libstdc++ and glibc linked in, so a start maps one file and resolves no library (no
# search path, no symbol lookup), while the program still loads at a random address (ASLR,
# which -static-executable would give up). glibc's static-pie start refuses a RUNPATH,
# hence --disable-local-rpath; GNU gold cannot link static-pie, lld (in the toolchain) can.
# Its 19,000 relocations (the address of each pointer in the Swift metadata) are packed as
# RELR: 4 KB instead of 517 KB to read, and the program's own start (it carries its own
# glibc, so nothing on the machine needs to know RELR) applies them with 40% fewer
# instructions; `--version` runs 100,000 fewer instructions and faults in 7 fewer pages.
# Every function gets a section of its own (-function-sections), and lld lays out the ones
# everyday commands run side by side, in the order of Sources/mage-vault/link-order.txt
# (`make link-order` writes it): a command faults in each 64 KiB window of code it runs in,
# and `--version` ran in 51 of the 90. Ordered, it takes 122 page faults instead of 151,
# `get` 167 instead of 203 (see Tests/bench/link_order.py).
LINK_ORDER  := $(CURDIR)/Sources/mage-vault/link-order.txt
RELEASE     := $(STATIC) $(SWIFT) build -c release --static-swift-stdlib --disable-local-rpath \
	-Xswiftc -use-ld=lld -Xswiftc -Xclang-linker -Xswiftc -static-pie -Xlinker -z -Xlinker pack-relative-relocs \
	-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
	-Xlinker "--symbol-ordering-file=$(LINK_ORDER)" -Xlinker --no-warn-symbol-ordering
static-libs: deps
	@mkdir -p "$(STATIC_LIBS)"
	@ln -sf "$$(pkg-config --variable=libdir libsodium)/libsodium.a" "$(STATIC_LIBS)/libsodium.a"
	@printf 'Name: libsodium\nDescription: libsodium, linked statically\nVersion: %s\nLibs: -L%s -lsodium\nCflags: %s\n' \
		"$$(pkg-config --modversion libsodium)" "$(STATIC_LIBS)" "$$(pkg-config --cflags libsodium)" > "$(STATIC_LIBS)/libsodium.pc"

build: deps
	$(SWIFT) build --product mage-vault

# The C interface (Sources/MageVaultC/magevault.h) as libmagevault.so, with the Swift
# runtime and libsodium linked in: it needs nothing of the Swift toolchain at run time.
lib: static-libs
	$(STATIC) $(SWIFT) build -c release --product magevault -Xswiftc -static-stdlib
	@! readelf -d "$$($(SWIFT) build -c release --show-bin-path)/libmagevault.so" | grep -E 'NEEDED.*(libswift|libFoundation|libdispatch|libsodium)'

# The Python wheel: the mage_vault package, libmagevault.so and the static mage-vault
# command, in dist/.
wheel: lib
	$(RELEASE) --product mage-vault
	@! readelf -d "$$($(SWIFT) build -c release --show-bin-path)/mage-vault" | grep -q NEEDED
	@bin="$$($(SWIFT) build -c release --show-bin-path)"; stage=.build/wheel-stage; mkdir -p $$stage; \
		strip --strip-unneeded -o $$stage/libmagevault.so "$$bin/libmagevault.so"; \
		strip -o $$stage/mage-vault "$$bin/mage-vault"; \
		rm -f dist/mage_vault-*.whl; \
		python3 Sources/python/build_wheel.py --library $$stage/libmagevault.so --binary $$stage/mage-vault --output dist

# Mage itself (mage-ai 0.9.80 from PyPI), for the benchmark's Python rows, the fixtures and the
# tests that run real Mage: a virtualenv outside the repository, made once and kept. pip's
# resolver backtracks for a very long time over mage-ai's whole dependency set, so mage-ai goes
# in without it, with what its secrets, database and config-loading code imports.
MAGE_VENV ?= $(HOME)/.cache/magevault/mage-venv
MAGE_DEPS := 'sqlalchemy>2,<2.1' cryptography==42.0.4 alembic pyyaml Jinja2 python-dateutil==2.8.2 pytz simplejson \
	inflection==0.5.1 ruamel.yaml==0.17.17 aiofiles==22.1.0 numpy 'pandas<3' polars==1.30.0 scipy \
	psycopg2-binary==2.9.5 mysql-connector-python==9.0.0
mage-venv:
	@if ! "$(MAGE_VENV)/bin/python" -c 'import mage_ai.data_preparation.shared.secrets, psycopg2, mysql.connector' 2>/dev/null; then \
		echo "Installing mage-ai==0.9.80 into $(MAGE_VENV) (once)..."; \
		python3 -m venv "$(MAGE_VENV)" && \
		"$(MAGE_VENV)/bin/pip" install --quiet --disable-pip-version-check --no-deps mage-ai==0.9.80 && \
		"$(MAGE_VENV)/bin/pip" install --quiet --disable-pip-version-check $(MAGE_DEPS); \
	fi

# The full mage-ai 0.9.80, its server included, for the tests that run `mage start` (the
# API through a real server, logged in): a known-good set of versions, installed once.
MAGE_FULL_VENV ?= $(HOME)/.cache/magevault/mage-full-venv
mage-full-venv:
	@if ! "$(MAGE_FULL_VENV)/bin/python" -c 'import mage_ai, tornado, jupyter_client' 2>/dev/null; then \
		echo "Installing the full mage-ai==0.9.80 into $(MAGE_FULL_VENV) (once, about 5 minutes)..."; \
		python3 -m venv "$(MAGE_FULL_VENV)" && \
		"$(MAGE_FULL_VENV)/bin/pip" install --quiet --disable-pip-version-check mage-ai==0.9.80 \
			-c Tests/mage/mage-0.9.80-full-constraints.txt; \
	fi

# Real Mage with the vault as its secrets backend (a data dir holding a vault, or
# MAGE_SECRETS_BACKEND=mage-vault), and on its own database; and migrate. The debug library and Sources/python go into a virtualenv derived from the Mage one (made
# afresh each run in .build/, it sees Mage's site-packages through a .pth and holds mage_vault
# and its start-up hook as the wheel installs them): the Mage virtualenv itself is never changed.
MAGE_TEST_VENV := $(CURDIR)/.build/mage-test-venv
mage-test: deps mage-venv mage-full-venv
	@# Real database servers for migrate's tests, each started by the test in a temporary folder.
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v mariadb-install-db >/dev/null 2>&1; then \
		echo "Installing postgresql and mariadb-server with apt-get..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql mariadb-server; \
	fi
	$(SWIFT) build --product magevault
	$(SWIFT) build --product mage-vault
	@rm -rf "$(MAGE_TEST_VENV)" && "$(MAGE_VENV)/bin/python" -m venv --without-pip "$(MAGE_TEST_VENV)"
	@site="$$("$(MAGE_TEST_VENV)/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"; \
		mage_site="$$("$(MAGE_VENV)/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"; \
		echo "import site; site.addsitedir('$$mage_site')" > "$$site/00-mage-venv.pth"; \
		ln -s "$(CURDIR)/Sources/python/mage_vault" "$$site/mage_vault"; \
		ln -s "$(CURDIR)/Sources/python/_mage_vault_hook.py" "$$site/_mage_vault_hook.py"; \
		cp Sources/python/mage_vault_mage.pth "$$site/"
	bin="$$($(SWIFT) build --show-bin-path)"; \
		MAGE_PYTHON="$(MAGE_TEST_VENV)/bin/python" MAGE_VAULT_LIB="$$bin/libmagevault.so" MAGE_VAULT_BIN="$$bin/mage-vault" \
		MAGE_VAULT_PYTHON="$(MAGE_TEST_VENV)/bin/python" MAGE_FULL_PYTHON="$(MAGE_FULL_VENV)/bin/python" \
		timeout 900 python3 -m unittest discover -s Tests/mage -v

# A fresh virtualenv with only the wheel: the command and the package work, with the
# toolchain's libraries out of reach.
wheel-test: wheel
	@rm -rf .build/wheel-venv && python3 -m venv .build/wheel-venv
	.build/wheel-venv/bin/pip install --quiet --disable-pip-version-check dist/mage_vault-*.whl auditwheel
	@# The tag claims no newer glibc than the library needs, and no older: auditwheel agrees.
	@wheel="$$(ls dist/mage_vault-*.whl)"; tag="$${wheel##*-}"; tag="$${tag%.whl}"; \
		.build/wheel-venv/bin/auditwheel show "$$wheel" | tr -s '\n ' '  ' | grep -q "platform tag to \"$$tag\"" \
		|| { .build/wheel-venv/bin/auditwheel show "$$wheel"; echo "wheel-test: the tag $$tag is not the one auditwheel computes"; exit 1; }
	@data="$$(mktemp -d)"; set -e; \
		printf 'made-up-wheel' | env -i HOME="$$data" PATH=/usr/bin:/bin .build/wheel-venv/bin/mage-vault set from_cli --data-dir "$$data/d"; \
		test "$$(env -i HOME="$$data" PATH=/usr/bin:/bin .build/wheel-venv/bin/mage-vault get from_cli --data-dir "$$data/d")" = made-up-wheel; \
		test "$$(env -i HOME="$$data" MAGE_DATA_DIR="$$data/d" .build/wheel-venv/bin/python -c 'import mage_vault; print(mage_vault.get_secret_value("from_cli"))')" = made-up-wheel; \
		test "$$(env -i HOME="$$data" MAGE_SECRETS_BACKEND=mage-vault .build/wheel-venv/bin/python -c 'import sys; print(type(sys.meta_path[0]).__name__, "mage_vault" in sys.modules)' 2>&1)" = "MageVaultFinder False"; \
		test "$$(env -i HOME="$$data" .build/wheel-venv/bin/python -c 'import sys; print(type(sys.meta_path[0]).__name__, "mage_vault" in sys.modules)' 2>&1)" = "MageVaultFinder False"; \
		rm -rf "$$data"; echo "wheel: the command, the package and the Mage start-up hook work from a fresh virtualenv"

# The start-up rule (ARCHITECTURE.md) on the binary we ship: each start-path command runs
# once under gdb (installed when missing), stopping at every protocol-conformance lookup
# the Swift runtime makes; one that Tests/startup/conformance_lookups.py does not allow
# fails, named with the code that asked for it. The optimised build is the one that makes
# them, so this takes the release build (`make wheel` and `make install` make the same).
startup-test: static-libs
	@if ! command -v gdb >/dev/null 2>&1; then \
		echo "Installing gdb with apt-get..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdb; \
	fi
	$(RELEASE) --product mage-vault
	python3 Tests/startup/conformance_lookups.py --binary "$$($(SWIFT) build -c release --show-bin-path)/mage-vault"

# "From Swift" (docs/how-it-works.md): a package of someone else's that depends on MageVault
# by version, `.package(url:from: "0.1.0")`, against a tagged clone of this checkout's HEAD
# (SwiftPM refuses a versioned dependency with unsafe flags: this is what would catch one),
# built and run without MAGE_VAULT_LEAN, as that package's author would.
FROM_SWIFT := $(CURDIR)/.build/from-swift
from-swift-test: deps
	@rm -rf "$(FROM_SWIFT)" && mkdir -p "$(FROM_SWIFT)/consumer/Sources/consumer"
	@git clone -q "$(CURDIR)" "$(FROM_SWIFT)/MageVault" && git -C "$(FROM_SWIFT)/MageVault" tag -f 0.1.0 >/dev/null
	@printf '%s\n' '// swift-tools-version:6.1' 'import PackageDescription' 'let package = Package(' \
		'    name: "consumer",' \
		'    dependencies: [.package(url: "file://$(FROM_SWIFT)/MageVault", from: "0.1.0")],' \
		'    targets: [.executableTarget(name: "consumer", dependencies: [.product(name: "MageVault", package: "MageVault")])]' \
		')' > "$(FROM_SWIFT)/consumer/Package.swift"
	@printf '%s\n' 'import MageVault' 'let vault = try Vault(dataDirectory: CommandLine.arguments[1])' \
		'try vault.setSecret(named: "secret1", value: "made-up from Swift")' \
		'print(try vault.secretValue(named: "secret1") ?? "None")' > "$(FROM_SWIFT)/consumer/Sources/consumer/main.swift"
	cd "$(FROM_SWIFT)/consumer" && env -u MAGE_VAULT_LEAN $(SWIFT) build
	@data="$$(mktemp -d)"; out="$$(cd "$(FROM_SWIFT)/consumer" && env -u MAGE_VAULT_LEAN $(SWIFT) run -q consumer "$$data/data")"; rm -rf "$$data"; \
		test "$$out" = "made-up from Swift" || { echo "from-swift-test: printed '$$out'"; exit 1; }; \
		echo "from Swift: a package depending on MageVault from: 0.1.0 builds and reads what it wrote"

# ARCHITECTURE.md's scenario (Mage's documented example): development and production share
# one log; both tables read back through the tool.
demo: build
	@sh Tests/scenario.sh "$$($(SWIFT) build --show-bin-path)/mage-vault"

test: test-deps
	$(SWIFT) build --build-tests
	MAGE_VAULT_BIN="$$($(SWIFT) build --show-bin-path)/mage-vault" $(SWIFT) test --skip-build --disable-xctest
	$(SWIFT) build --product magevault
	bin="$$($(SWIFT) build --show-bin-path)"; \
		cc -Wall -Werror -o "$$bin/magevault-c-test" Tests/c/magevault_test.c -ISources/MageVaultC -L"$$bin" -lmagevault -Wl,-rpath,"$$bin" && \
		"$$bin/magevault-c-test" "$$(mktemp -d)" && \
		MAGE_VAULT_LIB="$$bin/libmagevault.so" MAGE_VAULT_BIN="$$bin/mage-vault" python3 -m unittest discover -s Tests/python -v

# The Secrets page in headless Chromium (Debian's chromium and chromium-driver, PyPI's
# selenium; installed when missing): type, Enter, see it listed, delete it. Screenshots in
# .build/browser-test/.
browser-test: build
	$(SWIFT) build --product mage-vault-serve
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
		echo "Installing chromium and chromium-driver with apt-get..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi
	@python3 -c 'import selenium' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check selenium
	python3 Tests/browser/secrets_page.py "$$($(SWIFT) build --show-bin-path)/mage-vault" .build/browser-test

# The kill loop at length: hundreds of SIGKILLs during sets, compactions and rekeys; prints kills,
# records acknowledged and records lost (which must be 0).
crashtest: test-deps
	$(SWIFT) build --build-tests
	@MAGE_VAULT_CRASH_KILLS=$${KILLS:-300} MAGE_VAULT_BIN="$$($(SWIFT) build --show-bin-path)/mage-vault" \
		$(SWIFT) test --skip-build --disable-xctest --filter 'CrashTests|rekeyCrashes|accessCrashes' > .build/crashtest.log 2>&1; \
		status=$$?; grep -E '^crash test|Test run|✘' .build/crashtest.log; exit $$status

# The benchmark: every workload against its floor, measured in the same run, for vaults of
# 1k to 1M records; writes BENCHMARKS.md from its own output. SIZES=1000,10000 for a quick run.
bench: static-libs
	@if ! command -v age >/dev/null 2>&1 || ! command -v age-keygen >/dev/null 2>&1; then \
		echo "Installing age with apt-get (the benchmark times it beside mage-vault)..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age; \
	fi
	$(RELEASE) --product mage-vault
	$(RELEASE) --product mage-vault-floor
	$(RELEASE) --product mage-vault-bench
	bin="$$($(SWIFT) build -c release --show-bin-path)"; \
		"$$bin/mage-vault-bench" --sizes $${SIZES:-1000,10000,100000,1000000} \
		--tool "$$bin/mage-vault" --floor "$$bin/mage-vault-floor" --output BENCHMARKS.md
	$(MAKE) bench-python

# The Python rows alone: Mage's own get_secret_value against mage_vault's, same run.
bench-python: lib mage-venv
	$(RELEASE) --product mage-vault
	bin="$$($(SWIFT) build -c release --show-bin-path)"; \
		python3 Tests/bench/python_rows.py --mage-python "$(MAGE_VENV)/bin/python" --library "$$bin/libmagevault.so" \
		--tool "$$bin/mage-vault" --secrets 10000 --output BENCHMARKS.md

# A release binary with everything linked in statically (see RELEASE) starts in about 0.8 ms
# (BENCHMARKS.md, the row `start: --version`).
# `mage-vault serve` runs mage-vault-serve, installed beside it (the web server's HTTP stack
# is kept out of mage-vault, which every pipeline step starts); `mage-vault migrate` runs
# mage_vault.migrate in Mage's own Python (the wheel installed there).
install: static-libs
	$(RELEASE) --product mage-vault
	$(RELEASE) --product mage-vault-serve
	@! readelf -d "$$($(SWIFT) build -c release --show-bin-path)/mage-vault" | grep -q NEEDED
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/mage-vault" "$(DESTDIR)$(PREFIX)/bin/mage-vault"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/mage-vault-serve" "$(DESTDIR)$(PREFIX)/bin/mage-vault-serve"
	@rm -f "$(DESTDIR)$(PREFIX)/bin/mage-vault-migrate"  # an earlier release's; migrate is Python now
	@echo "installed $(DESTDIR)$(PREFIX)/bin/mage-vault and mage-vault-serve"

# Sources/mage-vault/link-order.txt from this source: each everyday command runs once under
# valgrind (installed when missing) and the functions it enters are listed. Run it after
# changes that rename or add many of those functions; a stale list only costs page faults.
link-order: static-libs
	@if ! command -v valgrind >/dev/null 2>&1; then \
		echo "Installing valgrind with apt-get..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; \
	fi
	$(RELEASE) --product mage-vault -Xlinker "--Map=$(CURDIR)/.build/mage-vault.map" -Xlinker --no-demangle
	python3 Tests/bench/link_order.py --binary "$$($(SWIFT) build -c release --show-bin-path)/mage-vault" \
		--map .build/mage-vault.map --output "$(LINK_ORDER)"
	rm -f "$$($(SWIFT) build -c release --show-bin-path)/mage-vault"
	$(RELEASE) --product mage-vault

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/mage-vault" "$(DESTDIR)$(PREFIX)/bin/mage-vault-serve" "$(DESTDIR)$(PREFIX)/bin/mage-vault-migrate"

clean:
	rm -rf .build

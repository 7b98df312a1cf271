# MageVault — `make demo` runs the scenario, `make test` runs every test.
# Both install what they need (libsodium-dev, libsqlite3-dev, pkg-config; strace for the tests) with apt-get when it is missing.

SWIFT  ?= swift
PREFIX ?= /usr/local
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps test-deps build demo test browser-test crashtest bench install uninstall clean

all: build

# System libraries through pkg-config: libsodium (the vault's cryptography) and SQLite (only
# mage-vault-migrate links it, to read Mage's database).
deps:
	@if ! pkg-config --exists libsodium 2>/dev/null || ! pkg-config --exists sqlite3 2>/dev/null; then \
		echo "Installing libsodium-dev, libsqlite3-dev and pkg-config with apt-get..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsodium-dev libsqlite3-dev pkg-config; \
	fi

# strace: a test watches `set` write, then fdatasync, then exit (see UntrustedInputTests).
test-deps: deps
	@if ! command -v strace >/dev/null 2>&1; then \
		echo "Installing strace with apt-get..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace; \
	fi

build: deps
	$(SWIFT) build --product mage-vault

# DESIGN.md's scenario: development and production share one log; both tables read back
# through the tool.
demo: build
	@sh Tests/scenario.sh "$$($(SWIFT) build --show-bin-path)/mage-vault"

test: test-deps
	$(SWIFT) build --build-tests
	MAGE_VAULT_BIN="$$($(SWIFT) build --show-bin-path)/mage-vault" $(SWIFT) test --skip-build --disable-xctest

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
		$(SWIFT) test --skip-build --disable-xctest --filter 'CrashTests|rekeyCrashes' > .build/crashtest.log 2>&1; \
		status=$$?; grep -E '^crash test|Test run|✘' .build/crashtest.log; exit $$status

# The benchmark: every workload against its floor, measured in the same run, for vaults of
# 1k to 1M records; writes BENCHMARKS.md from its own output. SIZES=1000,10000 for a quick run.
bench: deps
	$(SWIFT) build -c release --static-swift-stdlib --product mage-vault
	$(SWIFT) build -c release --static-swift-stdlib --product mage-vault-floor
	$(SWIFT) build -c release --product mage-vault-bench
	bin="$$($(SWIFT) build -c release --show-bin-path)"; \
		"$$bin/mage-vault-bench" --sizes $${SIZES:-1000,10000,100000,1000000} \
		--tool "$$bin/mage-vault" --floor "$$bin/mage-vault-floor" --output BENCHMARKS.md

# A release binary with the Swift runtime linked in statically starts in a few milliseconds.
# `mage-vault serve` runs mage-vault-serve, installed beside it (the web server's HTTP stack
# is kept out of mage-vault, which every pipeline step starts); `mage-vault migrate` runs
# mage-vault-migrate the same way (SQLite and AES stay out of mage-vault too).
install: deps
	$(SWIFT) build -c release --static-swift-stdlib --product mage-vault
	$(SWIFT) build -c release --static-swift-stdlib --product mage-vault-serve
	$(SWIFT) build -c release --static-swift-stdlib --product mage-vault-migrate
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/mage-vault" "$(DESTDIR)$(PREFIX)/bin/mage-vault"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/mage-vault-serve" "$(DESTDIR)$(PREFIX)/bin/mage-vault-serve"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/mage-vault-migrate" "$(DESTDIR)$(PREFIX)/bin/mage-vault-migrate"
	@echo "installed $(DESTDIR)$(PREFIX)/bin/mage-vault, mage-vault-serve and mage-vault-migrate"

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/mage-vault" "$(DESTDIR)$(PREFIX)/bin/mage-vault-serve" "$(DESTDIR)$(PREFIX)/bin/mage-vault-migrate"

clean:
	rm -rf .build

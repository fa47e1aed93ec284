# ciba-approval: `make run` and `make test` install what is missing, then build and run / test.
# Every install step checks first, so a second run skips straight to the build.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(CURDIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)
export CHROMEDRIVER ?= /usr/bin/chromedriver

TRUNK_VERSION := 0.21.14
# The CLI must equal the wasm-bindgen crate version in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
IDP := target/debug/ciba-idp
LISTEN ?= 127.0.0.1:8080
# The demo portal's origin is in idp/ciba-idp.toml's embedding.allowed_origins.
PORTAL_LISTEN ?= 127.0.0.1:8081
SPA_SOURCES := $(shell find src style locales contract/src -type f) build.rs .cargo/config.toml index.html Trunk.toml Cargo.toml Cargo.lock

.PHONY: run test bench tools lint unit-tests api-tests fuzz e2e conformance component-tests openapi clean

## run: build everything and serve the approval page with demo data on http://$(LISTEN)
run: tools dist/index.html
	cargo build -p ciba-idp
	cargo build -p ciba-conformance
	@echo "==> Open http://$(LISTEN)/ciba/ and sign in as alice / alice (or bob / bob). Ctrl-C stops."
	@echo "==> Embedded: the demo vendor portal http://$(PORTAL_LISTEN)/ (iframe) and http://$(LISTEN)/demo/mount (mount entry point)."
	$(IDP) --config idp/ciba-idp.toml --db target/ciba-idp.db --listen $(LISTEN) --dist dist --demo \
	  --demo-portal $(PORTAL_LISTEN)

## test: every check CI runs
test: tools lint unit-tests api-tests fuzz e2e conformance component-tests
	@echo "==> All checks passed."

lint:
	cargo fmt --all --check
	cargo clippy -p ciba-contract -p ciba-idp -p ciba-e2e -p ciba-conformance -p ciba-test-support --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown -p ciba-approval -p ciba-contract --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown -p ciba-approval --features split -- -D warnings

unit-tests:
	cargo test -p ciba-contract -p ciba-idp -p ciba-test-support

## bench: sizes, browser timings with a trace of the cold load, Lighthouse mobile runs, polling cost and a
## load test; writes target/bench/report.md (~6 min)
bench: tools dist/index.html .tools/lighthouse
	cargo build --release -p ciba-idp
	cargo build -p ciba-e2e --bin bench
	CHROME_PATH="$$(command -v chromium)" CIBA_IDP_BIN=$(CURDIR)/target/release/ciba-idp target/debug/bench

# schemathesis against the contract's OpenAPI document: zero server errors, every answer as documented.
api-tests: .tools/schemathesis
	cargo build -p ciba-idp
	tests/api/schemathesis.sh $(IDP) .tools/venv/bin/st

# cargo fuzz on the /connect/ciba and /connect/token request parsers, FUZZ_SECONDS each. Seeds and the
# dictionary are committed; what the fuzzer learns stays in target/fuzz. Without a sanitizer (`-s none`):
# ASan needs a nightly compiler, which this machine kind cannot get; a panic or 5xx is the finding.
FUZZ_SECONDS ?= 60
FUZZ := CARGO_TARGET_DIR=$(CURDIR)/target/fuzz cargo fuzz
fuzz: .tools/cargo-fuzz
	$(FUZZ) build --fuzz-dir idp/fuzz -O -s none
	@for target in backchannel token; do \
	  echo "==> Fuzzing $$target for $(FUZZ_SECONDS) s"; mkdir -p target/fuzz/corpus/$$target; \
	  $(FUZZ) run --fuzz-dir idp/fuzz -O -s none $$target target/fuzz/corpus/$$target idp/fuzz/seeds/$$target -- \
	    -dict=idp/fuzz/oauth.dict -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=target/fuzz/ -print_final_stats=1 2>&1 \
	    | grep -v -e '^#[0-9]' -e '^"' -e 'dictionary. ######'; \
	done

e2e: dist/index.html
	cargo build -p ciba-idp
	cargo test -p ciba-e2e -- --test-threads=2

# The host conformance kit (target/debug/ciba-conformance) against ciba-idp: every promise kept, Duende's
# forgetting caught, and each promise broken on purpose by a fault-injecting proxy.
conformance: dist/index.html
	cargo build -p ciba-idp
	cargo test -p ciba-conformance

component-tests:
	cargo test --target wasm32-unknown-unknown -p ciba-approval

# The SPA, plus brotli and gzip copies of every text and wasm file for ciba-idp to serve precompressed.
# The service worker is written last, from the final files: its version is a hash of them.
dist/index.html: $(SPA_SOURCES) $(shell find static -type f) build/split-wasm.mjs build/minify-glue.mjs build/paint-first.mjs build/service-worker.mjs build/sw-source.js
	trunk build --release
	node build/split-wasm.mjs dist $${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/ciba-approval.wasm
	node build/minify-glue.mjs dist
	node build/paint-first.mjs dist
	node build/service-worker.mjs dist
	find dist -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.webmanifest' \) \
	  -exec gzip -9 -k -f {} \; -exec brotli -q 11 -k -f {} \;
	@touch $@

## openapi: regenerate the committed contract/openapi.json from the handlers
openapi:
	cargo run -q -p ciba-idp -- openapi > contract/openapi.json

## tools: install what is missing (each step is skipped when already there)
tools: .tools/rust-target .tools/trunk .tools/wasm-bindgen .tools/wasm-split .tools/wasm-opt .tools/chromium .tools/schemathesis .tools/cargo-fuzz

.tools/rust-target:
	@mkdir -p .tools
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || { echo "==> Adding the wasm32 target (one-time, ~1 min)"; rustup target add wasm32-unknown-unknown; }
	@touch $@

.tools/trunk:
	@mkdir -p .tools
	@trunk --version 2>/dev/null | grep -q "$(TRUNK_VERSION)" \
	  || { echo "==> Installing trunk $(TRUNK_VERSION) (one-time, ~7-12 min on 2 cores)"; \
	       cargo install trunk@$(TRUNK_VERSION) --locked; }
	@touch $@

.tools/wasm-bindgen: Cargo.lock
	@mkdir -p .tools
	@wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)$$" \
	  || { echo "==> Installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (one-time, ~4 min)"; \
	       cargo install wasm-bindgen-cli@$(WASM_BINDGEN_VERSION); }
	@touch $@

# Splits the consent page's code off the list's first load (build/split-wasm.mjs).
WASM_SPLIT_VERSION := 0.2.3
.tools/wasm-split:
	@mkdir -p .tools
	@cargo install --list | grep -q "^wasm_split_cli_support v$(WASM_SPLIT_VERSION):" \
	  || { echo "==> Installing wasm-split-cli $(WASM_SPLIT_VERSION) (one-time, ~3 min)"; \
	       cargo install wasm_split_cli_support@$(WASM_SPLIT_VERSION) --features build-binary --locked; }
	@touch $@

.tools/wasm-opt: package-lock.json
	@mkdir -p .tools
	@command -v npm >/dev/null \
	  || { echo "==> Installing Node.js and npm (one-time, ~1 min)"; apt-get update -qq; \
	       DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	@{ node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version 132" && test -x node_modules/.bin/terser; } \
	  || { echo "==> Installing binaryen (wasm-opt) and terser from npm (one-time, ~10 s)"; npm ci --no-audit --no-fund; }
	@touch $@

.tools/chromium:
	@mkdir -p .tools
	@{ command -v chromium && command -v chromedriver && command -v brotli && command -v curl; } >/dev/null \
	  || { echo "==> Installing Chromium, ChromeDriver, brotli and curl from Debian (one-time, ~2 min)"; apt-get update -qq; \
	       DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver brotli curl; }
	@touch $@

# Lighthouse for `make bench` only: its own package.json and lock file in build/lighthouse, so the
# `npm ci` of `make test` never installs it. Needs npm, which .tools/wasm-opt installs.
LIGHTHOUSE_VERSION := $(shell awk -F'"' '/"lighthouse":/ {print $$4}' build/lighthouse/package.json)
.tools/lighthouse: build/lighthouse/package-lock.json .tools/wasm-opt
	@mkdir -p .tools
	@build/lighthouse/node_modules/.bin/lighthouse --version 2>/dev/null | grep -qx "$(LIGHTHOUSE_VERSION)" \
	  || { echo "==> Installing Lighthouse $(LIGHTHOUSE_VERSION) from npm into build/lighthouse (one-time, ~30 s)"; \
	       npm ci --prefix build/lighthouse --no-audit --no-fund; }
	@touch $@

CARGO_FUZZ_VERSION := 0.13.2
.tools/cargo-fuzz:
	@mkdir -p .tools
	@cargo fuzz --version 2>/dev/null | grep -q "$(CARGO_FUZZ_VERSION)" \
	  || { echo "==> Installing cargo-fuzz $(CARGO_FUZZ_VERSION) (one-time, ~2 min)"; cargo install cargo-fuzz@$(CARGO_FUZZ_VERSION); }
	@touch $@

SCHEMATHESIS_VERSION := 4.32.5
.tools/schemathesis:
	@mkdir -p .tools
	@.tools/venv/bin/st --version 2>/dev/null | grep -q "$(SCHEMATHESIS_VERSION)" \
	  || { echo "==> Installing schemathesis $(SCHEMATHESIS_VERSION) from PyPI into .tools/venv (one-time, ~1 min)"; \
	       python3 -m venv .tools/venv 2>/dev/null || { apt-get update -qq; \
	         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; python3 -m venv .tools/venv; }; \
	       .tools/venv/bin/pip install -q "schemathesis==$(SCHEMATHESIS_VERSION)"; }
	@touch $@

clean:
	rm -rf dist .tools target/ciba-idp.db*

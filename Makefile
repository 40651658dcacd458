# Tabletalk: `make run` runs it on the embedded SQLite store; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# cargo-leptos sets this for its builds; setting it for every cargo call keeps
# `cargo test` and `cargo leptos build` sharing compiled artifacts.
export LEPTOS_OUTPUT_NAME := tabletalk
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
SITE_ROOT := $(CURDIR)/target/site

.PHONY: run test tools tools-test lint unit site e2e

## Build in release mode and start the dashboard server (SQLite under ./data by default), and
## the bot beside it when TELEGRAM_BOT_TOKEN is set (environment or .env); one Ctrl-C stops both.
## erase_components type-erases Leptos views: a fifth smaller WASM (see BENCHMARKS.md).
run: tools
	RUSTFLAGS="--cfg erase_components" cargo leptos build --release
	node scripts/precompress.mjs $(SITE_ROOT)
	RUSTFLAGS="--cfg erase_components" cargo build --release -p bot
	LEPTOS_SITE_ROOT=$(SITE_ROOT) scripts/run.sh $(TARGET_DIR)/release/server $(TARGET_DIR)/release/bot

## Formatting, lints, Rust tests (SQLite; PostgreSQL too when TABLETALK_TEST_POSTGRES_URL is set),
## the WASM build and the Playwright tests in Chromium.
test: tools-test lint unit site e2e

tools:
	scripts/install-tools.sh run

tools-test:
	scripts/install-tools.sh test

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
	cargo clippy -p frontend -p app --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test --workspace --exclude frontend

site:
	cargo leptos build
	node scripts/precompress.mjs $(SITE_ROOT)

e2e:
	rm -rf end2end/.run && mkdir -p end2end/.run/databases
	cd end2end && SERVER_BIN=$(TARGET_DIR)/debug/server LEPTOS_SITE_ROOT=$(SITE_ROOT) \
		PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npx playwright test

#!/usr/bin/env bash
# Two dashboard servers and one bot in webhook mode on one PostgreSQL, with the
# fake Telegram Bot API and the stub model (both from testkit, over HTTP):
# sessions, sign-in throttling and an /adddb dialogue across processes, then
# 1,000 questions through both servers' Ask endpoints and the bot, checked
# exactly (bot/tests/several_processes.rs; `make test` runs it in debug).
# This runs it in release, once with one server and once with two, and prints
# the numbers BENCHMARKS.md quotes.
#
#   TABLETALK_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test scripts/several-processes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TABLETALK_TEST_POSTGRES_URL:?set TABLETALK_TEST_POSTGRES_URL to a PostgreSQL server where databases may be created}"
export TABLETALK_TEST_POSTGRES_URL LEPTOS_OUTPUT_NAME=tabletalk
cargo build --release -p server -p bot
for servers in 1 2; do
  TABLETALK_SEVERAL_SERVERS=$servers cargo test --release -p bot --test several_processes -- --nocapture 2>&1 \
    | grep -E '^several processes:|test result|panicked'
done

#!/usr/bin/env bash
# `make run`: the dashboard server, and the Telegram bot beside it when
# TELEGRAM_BOT_TOKEN is set (in the environment or in ./.env). Each
# process's lines are prefixed with its name; one Ctrl-C (or SIGTERM) stops
# both, each finishing what it has in hand; if one stops by itself, the
# other is stopped too.
#
#   scripts/run.sh <server binary> [bot binary]
set -euo pipefail

server_bin=$1
bot_bin=${2:-}

token=${TELEGRAM_BOT_TOKEN:-}
if [[ -z $token && -f .env ]]; then
  token=$(sed -n 's/^[[:space:]]*TELEGRAM_BOT_TOKEN[[:space:]]*=[[:space:]]*//p' .env | tail -n 1)
  token=${token%\"}; token=${token#\"}; token=${token%\'}; token=${token#\'}
fi

pids=()
stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

"$server_bin" > >(sed -u 's/^/[server] /') 2>&1 &
pids+=("$!")

if [[ -n $token ]]; then
  if [[ -z $bot_bin || ! -x $bot_bin ]]; then
    echo "[run] TELEGRAM_BOT_TOKEN is set but the bot is not built ($bot_bin); run: cargo build --release -p bot" >&2
  else
    TELEGRAM_BOT_TOKEN=$token "$bot_bin" > >(sed -u 's/^/[bot]    /') 2>&1 &
    pids+=("$!")
  fi
else
  echo "[run] TELEGRAM_BOT_TOKEN is not set: starting the dashboard only. To run the bot too, get a token from @BotFather and set TELEGRAM_BOT_TOKEN (environment or .env)."
fi

# Whichever stops first (a crash, a bad configuration), the other follows.
status=0
wait -n "${pids[@]}" || status=$?
stop
exit "$status"

#!/usr/bin/env bash
# Starts the action server, Rasa (REST + socketio + HTTP API) and, when
# TELEGRAM_TOKEN is set, the Telegram polling runner. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
[ -f .env ] && set -a && . ./.env && set +a
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
# Rasa's HTTP API (/conversations/..., /model/parse, /status) reads, changes and deletes every
# conversation: it always needs a token (callers add ?token=...), whatever HOST is, because a reverse
# proxy in front of 127.0.0.1 would expose it too. RASA_API_TOKEN wins; else one is generated once into
# var/rasa_api_token (mode 0600) and reused (bot/api_token.py). Channel webhooks need no token.
TOKEN_AT=$([ -n "${RASA_API_TOKEN:-}" ] && echo '$RASA_API_TOKEN' || echo "${RASA_API_TOKEN_FILE:-var/rasa_api_token}")
RASA_API_TOKEN=$($BIN/python -m bot.api_token)
AUTH=(--auth-token "$RASA_API_TOKEN")
mkdir -p var
MODEL=$($BIN/python scripts/model.py)

pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

$BIN/rasa run actions --actions actions --port "$ACTIONS_PORT" &
pids+=($!)
$BIN/rasa run --enable-api "${AUTH[@]}" -i "$HOST" -p "$PORT" --model "$MODEL" \
  --credentials credentials.yml --endpoints endpoints.yml --cors "${CORS_ORIGINS:-http://localhost:$PORT}" &
pids+=($!)
if [ -n "${TELEGRAM_TOKEN:-}" ]; then
  if [ -n "${TELEGRAM_WEBHOOK_URL:-}" ]; then
    # Webhook mode: register the webhook and the command menu once; Telegram then calls Rasa directly.
    $BIN/python -m bot.telegram || echo "warning: Telegram webhook not registered" >&2
  else
    RASA_URL="http://127.0.0.1:$PORT" $BIN/python -m bot.telegram &
    pids+=($!)
  fi
fi

cat <<MSG

  model          $MODEL
  action server  http://localhost:$ACTIONS_PORT/webhook
  Rasa           http://$HOST:$PORT   (REST: /webhooks/rest/webhook, socket.io: /socket.io, API: /model/parse)
  API token      $TOKEN_AT   (admin API only: add ?token=...; channels need none)
  Web chat       http://$HOST:$PORT/webhooks/webchat/   (widget: /webhooks/webchat/widget.js, demo: /webhooks/webchat/embed-demo.html)
  Telegram       $([ -n "${TELEGRAM_TOKEN:-}" ] && { [ -n "${TELEGRAM_WEBHOOK_URL:-}" ] && echo "webhook $TELEGRAM_WEBHOOK_URL" || echo "polling runner (python -m bot.telegram)"; } || echo "off (set TELEGRAM_TOKEN)")
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"

#!/usr/bin/env bash
# Starts the action server, Rasa (REST + socketio + HTTP API) and, when
# TELEGRAM_TOKEN is set, the Telegram polling runner, each supervised by supervisord
# (deploy/supervisord.conf): one that dies is restarted, the others keep running.
# Ctrl-C stops them all.
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
# endpoints.yml names the action server on 5055; another ACTIONS_PORT needs a copy that says so.
ENDPOINTS=endpoints.yml
if [ "$ACTIONS_PORT" != 5055 ]; then
  sed "s#localhost:5055/webhook#localhost:$ACTIONS_PORT/webhook#" endpoints.yml > var/endpoints.yml
  ENDPOINTS=var/endpoints.yml
fi

# supervisord (deploy/supervisord.conf) keeps each process alive on its own: a crash restarts that
# process (with a growing wait if it keeps crashing) while the others keep serving, so a child still
# gets the 111 message from Rasa while the action server comes back.
# The folder run.sh was started in (not the real path of deploy/): relative paths and var/ are read there.
export SAFEKIDS_ROOT="$PWD"
export BIN="$PWD/$BIN" MODEL HOST PORT ACTIONS_PORT ENDPOINTS
export RASA_AUTH_ARGS="${AUTH[*]:-}"
export RASA_CORS="${CORS_ORIGINS:-http://localhost:$PORT}"

TELEGRAM_POLLING=false
if [ -n "${TELEGRAM_TOKEN:-}" ]; then
  if [ -n "${TELEGRAM_WEBHOOK_URL:-}" ]; then
    # Webhook mode: register the webhook and the command menu once; Telegram then calls Rasa directly.
    $BIN/python -m bot.telegram || echo "warning: Telegram webhook not registered" >&2
  else
    TELEGRAM_POLLING=true
  fi
fi
export TELEGRAM_POLLING
[ -x "$BIN/supervisord" ] || { echo "supervisord missing: run make venv (requirements.lock pins supervisor)" >&2; exit 1; }

cat <<MSG

  model          $MODEL
  action server  http://localhost:$ACTIONS_PORT/webhook
  Rasa           http://$HOST:$PORT   (REST: /webhooks/rest/webhook, socket.io: /socket.io, API: /model/parse)
  API token      $TOKEN_AT   (admin API only: add ?token=...; channels need none)
  Web chat       http://$HOST:$PORT/webhooks/webchat/   (widget: /webhooks/webchat/widget.js, demo: /webhooks/webchat/embed-demo.html)
  Telegram       $([ -n "${TELEGRAM_TOKEN:-}" ] && { [ -n "${TELEGRAM_WEBHOOK_URL:-}" ] && echo "webhook $TELEGRAM_WEBHOOK_URL" || echo "polling runner (python -m bot.telegram)"; } || echo "off (set TELEGRAM_TOKEN)")
  Zalo OA        $([ -n "${ZALO_APP_ID:-}" ] && echo "webhook http://$HOST:$PORT/webhooks/zalo/webhook" || echo "off (set ZALO_APP_ID)")
  Processes      SAFEKIDS_ROOT=$PWD $BIN/supervisorctl -c deploy/supervisord.conf status   (each one restarted if it dies)
  Ctrl-C stops everything.

MSG
exec "$BIN/supervisord" -c deploy/supervisord.conf

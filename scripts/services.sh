#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer where DATABASE_URL and REDIS_URL say (default
# 127.0.0.1:5432 and 127.0.0.1:6379). At those defaults it starts the machine's own servers when
# they are installed but down, otherwise the docker compose services. Elsewhere (another host or
# port) the servers are the user's: it only checks that they answer, and says so when they do not.
set -euo pipefail
cd "$(dirname "$0")/.."

# host port of a URL (its default port when it names none)
host_port() { node -e 'const u = new URL(process.argv[1]);
  console.log(u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1", u.port || process.argv[2])' "$1" "$2"; }
read -r PG_HOST PG_PORT < <(host_port "${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/codex_orchestrator}" 5432)
read -r REDIS_HOST REDIS_PORT < <(host_port "${REDIS_URL:-redis://127.0.0.1:6379}" 6379)

answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
pg_up() { answers "$PG_HOST" "$PG_PORT"; }
redis_up() { answers "$REDIS_HOST" "$REDIS_PORT"; }
is_default() { [ "$2" = "$3" ] && case "$1" in 127.0.0.1 | localhost | ::1) true ;; *) false ;; esac; }
wait_for() { # name check
  for _ in $(seq 1 60); do "$2" && return 0; sleep 0.5; done
  echo "services: $1 did not come up" >&2; return 1
}

if ! pg_up; then
  if ! is_default "$PG_HOST" "$PG_PORT" 5432; then
    echo "services: PostgreSQL does not answer at $PG_HOST:$PG_PORT (DATABASE_URL): start it there, or unset DATABASE_URL for the local default (127.0.0.1:5432)" >&2
    exit 1
  elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  elif docker compose version >/dev/null 2>&1; then
    docker compose up -d postgres
  else
    echo "services: PostgreSQL is not running on 127.0.0.1:5432 and neither a local server nor docker compose is available" >&2
    exit 1
  fi
  wait_for PostgreSQL pg_up
fi

if ! redis_up; then
  if ! is_default "$REDIS_HOST" "$REDIS_PORT" 6379; then
    echo "services: Redis does not answer at $REDIS_HOST:$REDIS_PORT (REDIS_URL): start it there, or unset REDIS_URL for the local default (127.0.0.1:6379)" >&2
    exit 1
  elif command -v redis-server >/dev/null 2>&1; then
    echo "services: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  elif docker compose version >/dev/null 2>&1; then
    docker compose up -d redis
  else
    echo "services: Redis is not running on 127.0.0.1:6379 and neither redis-server nor docker compose is available" >&2
    exit 1
  fi
  wait_for Redis redis_up
fi
echo "services: PostgreSQL and Redis are up ($PG_HOST:$PG_PORT, $REDIS_HOST:$REDIS_PORT)"

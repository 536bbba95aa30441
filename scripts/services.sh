#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 (5432, 6379): starts the machine's own
# servers when they are installed but down, otherwise the docker compose services.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
wait_for() { # name check
  for _ in $(seq 1 60); do "$2" && return 0; sleep 0.5; done
  echo "services: $1 did not come up" >&2; return 1
}

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
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
  if command -v redis-server >/dev/null 2>&1; then
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
echo "services: PostgreSQL and Redis are up"

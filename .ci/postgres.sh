#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on loopback for the store tests and benchmarks.
#
#   export EENGEZIN_TEST_PG=$(bash .ci/postgres.sh | tail -1)
#
# Installs Debian's postgresql package when no server binaries are present, initialises
# a fresh cluster in a temporary directory, starts it on 127.0.0.1:${EENGEZIN_PG_PORT:-54329}
# (as the unprivileged 'postgres' user when run as root: the server refuses to run as root),
# creates a database and prints its DSN as the last line of stdout. Everything else goes to
# stderr. When a server already answers on that port (a second run), it is reused.
set -euo pipefail

port=${EENGEZIN_PG_PORT:-54329}
db=${EENGEZIN_PG_DB:-eengezin_test}

find_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; fi
}

bin=$(find_bin)
if [ -z "$bin" ]; then
  echo "postgres.sh: installing Debian's postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
  bin=$(find_bin)
  if [ -z "$bin" ]; then
    echo "postgres.sh: postgresql installed but no initdb found" >&2
    exit 1
  fi
fi

if [ "$(id -u)" = 0 ]; then
  user=postgres
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home "$user"
  as_user() { runuser -u "$user" -- "$@"; }
else
  user=$(id -un)
  as_user() { "$@"; }
fi

if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  echo "postgres.sh: reusing the server on 127.0.0.1:$port" >&2
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/eengezin-pg.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown "$user" "$dir"
  as_user "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >&2
  as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >&2
  echo "postgres.sh: cluster in $dir (stop: runuser -u $user -- $bin/pg_ctl -D $dir/data stop)" >&2
fi

if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db" >&2
fi

echo "postgresql://postgres@127.0.0.1:$port/$db"

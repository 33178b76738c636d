#!/bin/sh
# A throwaway PostgreSQL cluster for examples/postgres.toml, in examples/.gonogo/postgres.
#   sh examples/postgres.sh init        # once: initdb (trust auth, user postgres) + table kv
#   sh examples/postgres.sh run PORT    # what the spec's [service] command runs
# Needs Debian's postgresql package (binaries under /usr/lib/postgresql/*/bin); the
# system service is not used. PostgreSQL refuses to run as root: as root, the
# cluster belongs to the package's `postgres` user and runs through setpriv.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root="$here/.gonogo/postgres"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/postgres" ] || { echo "postgresql is not installed (apt-get install postgresql)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then as_pg="setpriv --reuid=postgres --regid=postgres --init-groups --"; else as_pg=""; fi

case "${1:-}" in
  init)
    rm -rf "$root"
    mkdir -p "$root"
    [ -z "$as_pg" ] || chown postgres:postgres "$root"
    $as_pg "$bin/initdb" -A trust -U postgres -E UTF8 --no-instructions -D "$root/data" >/dev/null
    out=$(echo "CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL);" \
      | $as_pg "$bin/postgres" --single -D "$root/data" postgres 2>&1)
    case "$out" in *ERROR*) echo "$out" >&2; exit 1 ;; esac
    echo "initialised $root/data (table kv)"
    ;;
  run)
    [ -d "$root/data" ] || { echo "run 'sh examples/postgres.sh init' first" >&2; exit 1; }
    # exec: gonogo's signals reach postgres itself.
    exec $as_pg "$bin/postgres" -D "$root/data" -p "$2" -h 127.0.0.1 -k "$root"
    ;;
  *)
    echo "usage: $0 init | run PORT" >&2
    exit 2
    ;;
esac

# A throwaway PostgreSQL cluster for tests/run and bench/run (source this file): Debian's
# postgresql, installed when missing, in a directory of its own on a free loopback port, run
# as the unprivileged `postgres` user when we are root (initdb refuses root; CI runs as
# root), without fsync (nothing in it outlives the run).

# The newest installed server's bin directory, or nothing.
postgres_bin() {
    find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
}

# postgres_start DIR: starts a cluster in DIR (created, must not exist yet) and sets
# POSTGRES_URL to its `postgres` database.
postgres_start() {
    local dir=$1 bin port
    if [ -z "$(postgres_bin)" ]; then
        echo "installing postgresql" >&2
        if [ "$(id -u)" = 0 ]; then
            apt-get install -y -q postgresql >/dev/null 2>&1 \
                || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
        else
            sudo apt-get install -y -q postgresql >/dev/null
        fi
    fi
    bin=$(postgres_bin)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
        chown postgres "$dir"
    fi
    postgres_as "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    postgres_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
        start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
    POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# postgres_stop DIR: stops the cluster in DIR at once and removes DIR.
postgres_stop() {
    local dir=$1
    [ -d "$dir/data" ] && postgres_as "$(postgres_bin)/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$dir"
}

# Runs a command as the cluster's owner.
postgres_as() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

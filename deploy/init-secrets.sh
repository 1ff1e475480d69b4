#!/bin/sh
# Creates the secrets docker-compose.yml mounts, once: a 32-byte master key, a database password,
# and the DATABASE_URL that carries it. Existing files are kept (a new master key would make the
# stored signing keys unreadable). The directory is private to you; the files are world-readable
# so the containers' unprivileged users (node, postgres) can read their bind mounts.
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir"
chmod 0700 "$dir"
umask 0222
if [ ! -f "$dir/master_key" ]; then
  openssl rand -base64 32 > "$dir/master_key"
fi
if [ ! -f "$dir/postgres_password" ]; then
  # Hex: safe inside a URL without escaping.
  openssl rand -hex 24 > "$dir/postgres_password"
fi
if [ ! -f "$dir/database_url" ]; then
  printf 'postgres://portcullis:%s@postgres:5432/portcullis\n' "$(cat "$dir/postgres_password")" > "$dir/database_url"
fi
echo "secrets in $dir: master_key, postgres_password, database_url"

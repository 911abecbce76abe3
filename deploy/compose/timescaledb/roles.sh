#!/bin/bash
# Run once by the TimescaleDB image when its data folder is new: the least-privilege login roles of the
# services (the groups' grants come with citysense's migrations), passwords from the secret files.
set -euo pipefail
role() {  # login user, group, password file
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v user="$1" -v grp="$2" -v pw="$(cat "$3")" <<'SQL'
SELECT format('CREATE ROLE %I NOLOGIN', :'grp') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'grp')
\gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', :'user', :'pw', :'grp')
\gexec
SQL
}
role citysense_sink citysense_writer /run/secrets/db-sink-password
role citysense_ro citysense_reader /run/secrets/db-reader-password
role citysense_api citysense_actions /run/secrets/db-actions-password

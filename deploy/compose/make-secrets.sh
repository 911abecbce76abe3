#!/bin/bash
# The secret files compose.yaml mounts, made once on the host that runs it (openssl): a CA, certificates for
# the three brokers, the admin job, Mosquitto and TimescaleDB, random passwords and the database URLs
# (sslmode=verify-full), and KAFKA_CLUSTER_ID in .env. Files mode 0600 in ./secrets/ (git-ignored).
# A city with its own PKI puts its certificates in the same files instead.
set -euo pipefail
cd "$(dirname "$0")"
S=secrets
mkdir -p "$S" && chmod 700 "$S"
umask 077
pw() { [ -s "$S/$1" ] || openssl rand -base64 30 | tr -d '/+=\n' > "$S/$1"; }
cert() {  # name, hostnames (comma-separated)
  [ -s "$S/$1.crt" ] && return
  openssl req -new -newkey rsa:3072 -nodes -keyout "$S/$1.key" -subj "/CN=$1" -out "$S/$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$(echo "$2" | sed 's/\([^,]*\)/DNS:\1/g')" > "$S/$1.ext"
  openssl x509 -req -in "$S/$1.csr" -CA "$S/ca.crt" -CAkey "$S/ca.key" -CAcreateserial -days 825 -sha256 \
    -extfile "$S/$1.ext" -out "$S/$1.crt" 2>/dev/null
  cat "$S/$1.key" "$S/$1.crt" > "$S/$1.pem"
  rm -f "$S/$1.csr" "$S/$1.ext"
}
[ -s "$S/ca.crt" ] || openssl req -x509 -newkey rsa:3072 -nodes -keyout "$S/ca.key" -subj "/CN=citysense CA" \
  -days 3650 -sha256 -out "$S/ca.crt" 2>/dev/null
for n in 1 2 3; do cert "kafka-$n" "kafka-$n,localhost"; done
cert admin admin && cp "$S/admin.pem" "$S/kafka-admin.pem"
cert mosquitto mosquitto
cert timescaledb timescaledb
for p in kafka-gateway-password kafka-streams-password kafka-sink-password kafka-api-password mqtt-gateway-password \
         db-owner-password db-sink-password db-reader-password db-actions-password grafana-admin-password; do pw "$p"; done
cat > "$S/kafka-admin.properties" <<PROPS
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=/run/secrets/ca.crt
ssl.keystore.type=PEM
ssl.keystore.location=/run/secrets/kafka-admin.pem
PROPS
url() { printf 'postgresql://%s:%s@timescaledb:5432/citysense?sslmode=verify-full&sslrootcert=/run/secrets/ca.crt' "$1" "$(cat "$S/$2")"; }
url citysense db-owner-password > "$S/db-owner-url"
url citysense_sink db-sink-password > "$S/db-sink-url"
url citysense_ro db-reader-password > "$S/db-reader-url"
url citysense_api db-actions-password > "$S/db-actions-url"
grep -q KAFKA_CLUSTER_ID .env 2>/dev/null || echo "KAFKA_CLUSTER_ID=$(openssl rand -base64 16 | tr '/+' '_-' | cut -c1-22)" >> .env
echo "secrets in $(pwd)/$S (the database's login roles take their passwords from them: timescaledb/roles.sh)"

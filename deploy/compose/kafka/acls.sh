#!/bin/bash
# One SCRAM-SHA-512 user per service and the least each may do (run once by compose's kafka-users job,
# as the certificate-authenticated admin; idempotent). Topics are <prefix>.*; the prefix is "citysense".
set -euo pipefail
B=kafka-1:9092
C=/run/secrets/kafka-admin.properties
P=citysense
user() {  # name, password file
  /opt/kafka/bin/kafka-configs.sh --bootstrap-server "$B" --command-config "$C" --alter --entity-type users \
    --entity-name "$1" --add-config "SCRAM-SHA-512=[password=$(cat "$2")]"
}
acl() { /opt/kafka/bin/kafka-acls.sh --bootstrap-server "$B" --command-config "$C" --add "$@"; }
user citysense-gateway /run/secrets/kafka-gateway-password
user citysense-streams /run/secrets/kafka-streams-password
user citysense-sink /run/secrets/kafka-sink-password
user citysense-api /run/secrets/kafka-api-password
# the gateway may only write readings, dead letters, security events and device health (and create them)
for t in readings.v1 deadletter.v1 security-events.v1 device-health.v1; do
  acl --allow-principal User:citysense-gateway --operation Write --operation Describe --operation Create --topic "$P.$t"
done
acl --allow-principal User:citysense-gateway --operation IdempotentWrite --cluster
# the streams workers read readings and their partials, write their outputs and their state topics
acl --allow-principal User:citysense-streams --operation All --topic "$P." --resource-pattern-type prefixed
acl --allow-principal User:citysense-streams --operation All --topic citysense-streams --resource-pattern-type prefixed
acl --allow-principal User:citysense-streams --operation All --group citysense-streams --resource-pattern-type prefixed
# the sink only reads (and commits its group's offsets)
acl --allow-principal User:citysense-sink --operation Read --operation Describe --topic "$P." --resource-pattern-type prefixed
acl --allow-principal User:citysense-sink --operation Read --group citysense-sink
# the API writes operators' actions and reads the outputs for its live events
acl --allow-principal User:citysense-api --operation Write --operation Describe --operation Create --topic "$P.alert-actions.v1"
acl --allow-principal User:citysense-api --operation IdempotentWrite --cluster
for t in aggregates.v1 aqi.v1 alerts.v1; do
  acl --allow-principal User:citysense-api --operation Read --operation Describe --topic "$P.$t"
done
echo "kafka users and ACLs in place"

"""Runtime helpers shared by the services (not a service, not a contract): the metrics and health
HTTP endpoint, Kafka topic creation, and the root exception."""

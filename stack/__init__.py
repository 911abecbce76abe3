"""Local development stack: real Mosquitto, Apache Kafka (KRaft) and PostgreSQL + TimescaleDB on loopback.

`citysense stack up | status | down` starts, checks and stops them, with data and logs in the
git-ignored folder `.stack/` of the repository. Services are stopped by their pid files only.
"""

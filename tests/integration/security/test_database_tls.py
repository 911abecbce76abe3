"""PostgreSQL over TLS (the local stack's server has the local CA's certificate for 127.0.0.1 and
localhost): with sslmode=verify-full a client checks the chain and the name, so a wrong name or an
unknown issuer is refused — what the production rehearsal's services rely on."""

from __future__ import annotations

import psycopg
from psycopg.conninfo import make_conninfo
import pytest

from stack.tls import ensure_ca

pytestmark = pytest.mark.integration


@pytest.fixture
def ca(stack_settings) -> str:
    return str(ensure_ca(stack_settings) / "ca.crt")


@pytest.mark.parametrize("user", ["citysense_sink", "citysense_ro", "citysense_api"])
def test_least_privilege_roles_connect_with_verify_full(database_url, ca, user):
    with psycopg.connect(make_conninfo(database_url, user=user, password=user, sslmode="verify-full",
                                       sslrootcert=ca)) as conn:
        ssl, version = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert ssl and version in ("TLSv1.2", "TLSv1.3")


def test_a_wrong_server_name_is_refused(database_url, ca):
    with pytest.raises(psycopg.OperationalError, match="does not match"):
        psycopg.connect(make_conninfo(database_url, host="db.example.invalid", hostaddr="127.0.0.1",
                                      sslmode="verify-full", sslrootcert=ca), connect_timeout=5)


def test_a_server_certificate_of_another_issuer_is_refused(database_url, tmp_path):
    system = "/etc/ssl/certs/ca-certificates.crt"  # public CAs only: the local CA is not among them
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(make_conninfo(database_url, sslmode="verify-full", sslrootcert=system), connect_timeout=5)

from telemetry.secrets import redact_dsn


def test_url_password_is_redacted():
    assert redact_dsn("postgresql://u:s3cr3t@h:5432/db") == "postgresql://u:***@h:5432/db"


def test_keyvalue_password_is_redacted():
    out = redact_dsn("host=h port=1 user=u password=s3cr3t dbname=d")
    assert "s3cr3t" not in out and "password=***" in out


def test_dsn_without_password_is_unchanged():
    assert redact_dsn("postgresql://u@h/db") == "postgresql://u@h/db"

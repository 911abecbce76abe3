"""A local certificate authority for the stack's TLS listener (openssl): CA, broker certificate for
127.0.0.1/localhost, and client certificates on request. Files in `<stack>/tls/`, keys mode 0600.
Production uses the province's own PKI instead (docs/security.md).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from stack.exceptions import InstallError, StackError
from stack.settings import StackSettings

DAYS = 825


def tls_dir(settings: StackSettings) -> Path:
    return settings.root / "tls"


def _openssl(*args: str, cwd: Path) -> None:
    exe = shutil.which("openssl")
    if not exe:
        raise InstallError("openssl is not installed: run deploy/local/install.sh (apt-get install openssl)")
    done = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise StackError(f"openssl {args[0]} failed in {cwd}: {done.stderr.strip()[-400:]}")


def _key(folder: Path, name: str) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key", cwd=folder)
    (folder / f"{name}.key").chmod(0o600)


def _sign(folder: Path, name: str, subject: str, extensions: str) -> None:
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=folder)
    (folder / f"{name}.ext").write_text(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", str(DAYS), "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=folder)
    (folder / f"{name}.csr").unlink()
    (folder / f"{name}.ext").unlink()


def ensure_ca(settings: StackSettings) -> Path:
    """CA and broker certificate (created once); returns the folder."""
    folder = tls_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "ca.crt").exists():
        _key(folder, "ca")
        _openssl("req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", str(DAYS), "-subj",
                 "/O=citysense local stack/CN=citysense local CA", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.crt", cwd=folder)
    if not (folder / "server.crt").exists():
        _key(folder, "server")
        _sign(folder, "server", "/O=citysense local stack/CN=localhost",
              "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    return folder


def issue_client(settings: StackSettings, name: str) -> tuple[Path, Path]:
    """A client certificate (CN = name) signed by the local CA: (certificate, key)."""
    folder = ensure_ca(settings)
    if not (folder / f"client-{name}.crt").exists():
        _key(folder, f"client-{name}")
        _sign(folder, f"client-{name}", f"/O=citysense devices/CN={name}", "extendedKeyUsage=clientAuth\n")
    return folder / f"client-{name}.crt", folder / f"client-{name}.key"


def issue_peer(settings: StackSettings, name: str, addresses: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A certificate (CN = name) for a server that is also a client of its peers (a Kafka node of the
    production rehearsal, or its admin): serverAuth and clientAuth, for 127.0.0.1, localhost and
    `addresses` (issued once per name and set of addresses)."""
    folder = ensure_ca(settings)
    stem = "-".join(["peer", name, *addresses])
    if not (folder / f"{stem}.crt").exists():
        _key(folder, stem)
        names = ",".join(["IP:127.0.0.1", "DNS:localhost", *(f"IP:{a}" for a in addresses)])
        _sign(folder, stem, f"/O=citysense rehearsal/CN={name}",
              f"subjectAltName={names}\nextendedKeyUsage=serverAuth,clientAuth\n")
    return folder / f"{stem}.crt", folder / f"{stem}.key"

"""A real rsyslogd on 127.0.0.1 for tests: its own config, pid file and work folder.

It receives RFC 5424 messages over TCP (RFC 6587 framing) or TLS (RFC 5425, rsyslog's
``ossl`` driver) and writes each twice: the raw message (``raw.log``) and the fields its
own RFC 5424 parser found (``fields.log``, one JSON object a line).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
OSSL_DRIVER = Path("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so")
START_TIMEOUT = 10.0
CA_NAME = "BDC 测试 CA"

_CONFIG = """\
global(workDirectory="{work}" maxMessageSize="256k"{tls_global})
module(load="imtcp"{tls_module})
template(name="raw" type="string" string="%rawmsg%\\n")
template(name="fields" type="list" option.jsonf="on") {{
  property(outname="pri" name="pri" format="jsonf")
  property(outname="version" name="protocol-version" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}}
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="collect")
ruleset(name="collect") {{
  action(type="omfile" file="{raw}" template="raw")
  action(type="omfile" file="{fields}" template="fields")
}}
"""


@dataclass(frozen=True)
class TlsFiles:
    """A test CA and the collector's certificate and key it signed (PEM files)."""

    ca: Path
    cert: Path
    key: Path


def rsyslog_available() -> bool:
    """Whether Debian's rsyslog is installed here."""
    return Path(RSYSLOGD).is_file()


def tls_available() -> bool:
    """Whether rsyslog's OpenSSL driver (Debian's ``rsyslog-openssl``) is installed."""
    return OSSL_DRIVER.is_file()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port (read from /proc: no probe connection)."""
    wanted = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
            return True
    return False


class Syslogd:
    """One rsyslogd the test starts, stops by its PID and may start again on the same port."""

    def __init__(self, folder: Path, *, tls: TlsFiles | None = None) -> None:
        self.folder = folder
        self.tls = tls
        self.port = free_port()
        self.raw_log = folder / "raw.log"
        self.fields_log = folder / "fields.log"
        self.config = folder / "rsyslog.conf"
        self.pid_file = folder / "rsyslogd.pid"
        self.stderr = folder / "rsyslogd.stderr"
        (folder / "work").mkdir(parents=True, exist_ok=True)
        self.config.write_text(self._config(), encoding="utf-8")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def tcp_target(self) -> str:
        """The forwarder's target for this daemon."""
        return f"tcp://127.0.0.1:{self.port}"

    def _config(self) -> str:
        tls_global = tls_module = ""
        if self.tls is not None:
            tls_global = (
                f' defaultNetstreamDriverCAFile="{self.tls.ca}"'
                f' defaultNetstreamDriverCertFile="{self.tls.cert}"'
                f' defaultNetstreamDriverKeyFile="{self.tls.key}"'
            )
            tls_module = (
                ' streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon"'
            )
        return _CONFIG.format(
            work=self.folder / "work",
            tls_global=tls_global,
            tls_module=tls_module,
            port=self.port,
            raw=self.raw_log,
            fields=self.fields_log,
        )

    def start(self) -> None:
        """Start rsyslogd in the foreground and wait until it listens."""
        assert self._process is None, "already running"
        with self.stderr.open("ab") as errors:
            self._process = subprocess.Popen(
                [RSYSLOGD, "-n", "-C", "-f", str(self.config), "-i", str(self.pid_file)],
                stdin=subprocess.DEVNULL,
                stdout=errors,
                stderr=errors,
                cwd=self.folder,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"rsyslogd exited at start: {self.stderr.read_text()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"rsyslogd did not listen: {self.stderr.read_text()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the rsyslogd this object started (SIGTERM, then SIGKILL), by its PID."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(5)

    def raw_lines(self) -> list[str]:
        """The raw messages received so far."""
        return _complete_lines(self.raw_log)

    def fields(self) -> list[dict[str, str]]:
        """The RFC 5424 fields rsyslog parsed out of each message received so far."""
        return [json.loads(line) for line in _complete_lines(self.fields_log)]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        """Wait until at least ``count`` messages are in both files; the raw messages."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.raw_lines()
            written = min(len(lines), len(_complete_lines(self.fields_log)))
            if written >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


def _complete_lines(path: Path) -> list[str]:
    """The lines of a file rsyslog may be writing: a last line without its newline waits."""
    if not path.exists():
        return []
    data = path.read_bytes()
    return data[: data.rfind(b"\n") + 1].decode("utf-8").split("\n")[:-1]


def make_tls_files(folder: Path, host: str = "localhost") -> TlsFiles:
    """A self-signed CA and a collector certificate for ``host`` and 127.0.0.1 (one day)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def build(
        subject: str,
        public: ec.EllipticCurvePublicKey,
        signer: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)]))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            # Strict verifiers (Python 3.13's default) want both key identifiers.
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                critical=False,
            )
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )  # fmt: skip
        else:
            names = [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(
                x509.SubjectAlternativeName(names), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build(CA_NAME, ca_key.public_key(), ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = build(host, server_key.public_key(), ca_key, ca=False)
    files = TlsFiles(folder / "ca.pem", folder / "collector.pem", folder / "collector.key")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files

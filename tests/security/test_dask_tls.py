"""Issue 16, item 7: Dask with TLS security, and clear errors for bad scheduler addresses."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from distributed import LocalCluster
from distributed.security import Security

from evaltools.batch.dask_pool import DaskPool, SchedulerError, TLSFiles, scheduler_security


@pytest.mark.parametrize(
    "address", ["http://localhost:8786", "localhost", "tcp://host:port", "ws://h:1"]
)
def test_bad_address_is_named(address: str) -> None:
    with pytest.raises(SchedulerError, match="not a Dask scheduler address; use tls://"):
        scheduler_security(address)


def test_tls_without_certificates_is_a_clear_error() -> None:
    with pytest.raises(SchedulerError, match="needs a CA file and a client certificate"):
        DaskPool("tls://127.0.0.1:1")


def test_tls_files_for_tcp_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SchedulerError, match=r"plain tcp address; use tls://127\.0\.0\.1:1"):
        scheduler_security("tcp://127.0.0.1:1", TLSFiles(ca=tmp_path / "ca.pem"))


def test_missing_tls_file_is_named(tmp_path: Path) -> None:
    tls = TLSFiles(tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem")
    with pytest.raises(SchedulerError, match=r"ca\.pem \(tls_ca_file\) does not exist"):
        scheduler_security("tls://127.0.0.1:1", tls)


def _certificates(folder: Path) -> TLSFiles:
    """A CA and one certificate for 127.0.0.1 signed by it (scheduler, worker and client)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ca",
            "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "key.pem", "-out", "cert.csr")  # fmt: skip
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    openssl("x509", "-req", "-in", "cert.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "1", "-extfile", "san.cnf", "-out", "cert.pem")  # fmt: skip
    return TLSFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_tls_cluster_is_reached_and_plain_clients_are_not(tmp_path: Path) -> None:
    tls = _certificates(tmp_path)
    server = Security(
        require_encryption=True,
        tls_ca_file=str(tls.ca),
        tls_scheduler_cert=str(tls.cert),
        tls_scheduler_key=str(tls.key),
        tls_worker_cert=str(tls.cert),
        tls_worker_key=str(tls.key),
        tls_client_cert=str(tls.cert),
        tls_client_key=str(tls.key),
    )
    with LocalCluster(
        n_workers=0, processes=False, protocol="tls://", host="127.0.0.1", security=server,
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        with DaskPool(address, tls=tls) as pool:
            assert pool.client.scheduler_info()["address"] == address
        with pytest.raises(SchedulerError):  # a client without a certificate gets nowhere
            DaskPool(address.replace("tls://", "tcp://"))

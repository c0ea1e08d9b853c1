"""The authenticated protocol (kt_ext.run.secure): TLS and a token, real certificates, loopback."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import grpc
import pytest
from keras_tuner.src import protos
from keras_tuner.src.engine.trial import TrialStatus

from kt_ext.run import secure
from kt_ext.run.parallel import OracleServer, ParallelError
from kt_ext.run.secure import Credentials, ProtocolError, SecureOracleClient
from tests.run.test_parallel import finish, oracle_for

TOKEN = "a-shared-token-4f9c"


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (openssl), and its key."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    return {name: _certificate(directory, name) for name in ("chief", "stranger")}


@pytest.fixture
def chief(tmp_path, certificates):
    """A chief listening on every address with TLS and the token; its oracle and port."""
    cert, key = certificates["chief"]
    creds = Credentials(TOKEN, cert.read_bytes(), key.read_bytes())
    oracle = oracle_for(tmp_path / "chief", 2)
    server = OracleServer(oracle, tmp_path / "chief" / "kt", address="0.0.0.0", creds=creds)
    port = server.start()
    yield oracle, port
    server.stop()


def _worker(monkeypatch, port: int, cert: Path | None, token: str | None, tmp_path: Path):
    """A worker's client, with the environment a worker process would have."""
    for var, value in (
        ("KERASTUNER_ORACLE_IP", "127.0.0.1"),
        ("KERASTUNER_ORACLE_PORT", str(port)),
        ("KERASTUNER_TUNER_ID", "worker0"),
        (secure.TOKEN_ENV, token),
        (secure.CERT_ENV, None if cert is None else str(cert)),
    ):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    monkeypatch.setattr(SecureOracleClient, "connect_seconds", 1.5)
    return SecureOracleClient(oracle_for(tmp_path / "worker", 2))


def test_a_worker_with_the_token_and_certificate_runs_trials(
    chief, certificates, monkeypatch, tmp_path
):
    oracle, port = chief
    client = _worker(monkeypatch, port, certificates["chief"][0], TOKEN, tmp_path)
    trial = client.create_trial("worker0")
    assert trial.status == TrialStatus.RUNNING
    finish(client, trial, 0.5)
    assert oracle.trials[trial.trial_id].status == TrialStatus.COMPLETED


@pytest.mark.parametrize(
    ("cert", "token", "why"),
    [
        ("chief", "a-wrong-token", "refused this worker's token"),
        ("stranger", TOKEN, "certificate is not the one"),  # a chief it does not trust
        (None, None, "cannot reach the chief"),  # plain gRPC against TLS
    ],
)
def test_a_worker_without_them_is_refused_and_nothing_is_handed_out(
    chief, certificates, monkeypatch, tmp_path, cert, token, why
):
    oracle, port = chief
    cert_path = None if cert is None else certificates[cert][0]
    with pytest.raises(ProtocolError, match=why):
        _worker(monkeypatch, port, cert_path, token, tmp_path)
    assert oracle.trials == {} and oracle.ongoing_trials == {}


def test_a_request_without_the_token_learns_nothing(chief, certificates):
    oracle, port = chief
    tls = grpc.ssl_channel_credentials(root_certificates=certificates["chief"][0].read_bytes())
    with grpc.secure_channel(f"127.0.0.1:{port}", tls) as channel:  # TLS, but no token
        stub = protos.get_service_grpc().OracleStub(channel)
        with pytest.raises(grpc.RpcError) as error:
            stub.CreateTrial(protos.get_service().CreateTrialRequest(tuner_id="x"), timeout=10)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error.value.details() == "refused"
    assert oracle.trials == {}


def test_a_worker_that_loses_its_chief_waits_the_grace_period_then_stops(
    tmp_path, certificates, monkeypatch
):
    cert, key = certificates["chief"]
    oracle = oracle_for(tmp_path / "chief", 2)
    server = OracleServer(
        oracle,
        tmp_path / "chief" / "kt",
        creds=Credentials(TOKEN, cert.read_bytes(), key.read_bytes()),
    )
    port = server.start()
    worker = _worker(monkeypatch, port, cert, TOKEN, tmp_path)
    trial = worker.create_trial("worker0")
    server.stop()
    with pytest.raises(ProtocolError, match="lost the chief at 127.0.0.1:.*no answer for 1.5 s"):
        worker.update_trial(trial.trial_id, {"loss": 0.5})


def test_beyond_loopback_the_chief_needs_credentials_or_insecure(tmp_path, caplog):
    oracle = oracle_for(tmp_path, 1)
    with pytest.raises(ParallelError, match="without TLS and a token"):
        OracleServer(oracle, tmp_path / "kt", address="0.0.0.0").start()
    server = OracleServer(oracle, tmp_path / "kt", address="0.0.0.0", insecure=True)
    with caplog.at_level(logging.WARNING, logger="kt_ext.run.parallel"):
        server.start()
    server.stop()
    assert "without TLS or a token" in caplog.text and "0.0.0.0" in caplog.text


def test_partial_material_is_one_clear_error(monkeypatch, certificates):
    monkeypatch.setenv(secure.TOKEN_ENV, TOKEN)
    monkeypatch.delenv(secure.CERT_ENV, raising=False)
    with pytest.raises(ProtocolError, match="needs all of"):
        Credentials.from_env(chief=False)
    monkeypatch.setenv(secure.CERT_ENV, str(certificates["chief"][0]))
    assert Credentials.from_env(chief=False).secured
    monkeypatch.setenv(secure.CERT_ENV, "/nonexistent.pem")
    with pytest.raises(ProtocolError, match="nonexistent.pem"):
        Credentials.from_env(chief=False)

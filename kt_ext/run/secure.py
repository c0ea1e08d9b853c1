"""An authenticated chief/worker protocol: TLS with gRPC's own credentials and a shared token.

KerasTuner's chief and workers talk plain gRPC with no authentication:
anyone who reaches the chief's port can read the search and report results.
Across machines kt-ext therefore needs both

* **TLS** (``grpc.ssl_server_credentials`` on the chief,
  ``grpc.ssl_channel_credentials`` on the workers, which trust exactly the
  chief's certificate or the authority that signed it), so nobody can listen
  in or pose as the chief; and
* **a shared token** every worker presents with every request (gRPC's
  ``access_token_call_credentials``: an ``authorization: Bearer`` header,
  sent only over TLS), checked by :class:`TokenInterceptor` before the
  oracle sees the request, so a worker without it is refused and learns
  nothing about the search.

The material comes from the environment only (:data:`TOKEN_ENV`,
:data:`CERT_ENV`, :data:`KEY_ENV`), never from a config file, which may come
from someone else, and never from the command line, which Hydra records in
the run directory. The chief refuses to listen beyond loopback without all
three unless ``parallel.insecure=true`` is given on the command line;
workers it starts inherit them. :class:`SecureOracleClient` replaces
KerasTuner's worker-side client: it connects with the credentials (or plainly
on loopback) and gives up with one line if the chief cannot be reached or
refuses it, where KerasTuner's client would wait for an hour.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_client

from kt_ext.config import CERT_ENV, KEY_ENV, TOKEN_ENV

_HEADER = "authorization"


class ProtocolError(RuntimeError):
    """The protocol cannot be secured as asked, or the chief refused or cannot be reached."""


@dataclass(frozen=True)
class Credentials:
    """TLS material and token of one process; ``None`` where the environment has none."""

    token: str | None = None
    cert: bytes | None = None
    key: bytes | None = None

    @classmethod
    def from_env(cls, chief: bool) -> Credentials:
        """Read :data:`TOKEN_ENV`, :data:`CERT_ENV` and (chief) :data:`KEY_ENV`.

        Raises:
            ProtocolError: A file named there cannot be read, or only part of
                the material is given.
        """

        def read(var: str) -> bytes | None:
            path = os.environ.get(var)
            if not path:
                return None
            try:
                return Path(path).read_bytes()
            except OSError as e:
                raise ProtocolError(f"{var}={path}: {e.strerror or e}") from None

        token = os.environ.get(TOKEN_ENV) or None
        creds = cls(token, read(CERT_ENV), read(KEY_ENV) if chief else None)
        if not creds.partial(chief):
            return creds
        needed = [TOKEN_ENV, CERT_ENV] + ([KEY_ENV] if chief else [])
        raise ProtocolError(f"TLS needs all of {', '.join(needed)} in the environment")

    @property
    def secured(self) -> bool:
        """Whether there is a token and a certificate (and, on the chief, a key)."""
        return bool(self.token and self.cert)

    def partial(self, chief: bool) -> bool:
        """Whether some but not all of the material is there."""
        parts = [self.token, self.cert] + ([self.key] if chief else [])
        return any(parts) and not all(parts)

    def environment(self) -> dict[str, str]:
        """The variables a worker started by this chief needs (the files are shared)."""
        return {var: os.environ[var] for var in (TOKEN_ENV, CERT_ENV) if os.environ.get(var)}


class TokenInterceptor(grpc.ServerInterceptor):
    """Refuses every request that does not carry the token (UNAUTHENTICATED, nothing else said)."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

        def refuse(request: Any, context: grpc.ServicerContext) -> Any:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "refused")

        self._refuse = grpc.unary_unary_rpc_method_handler(refuse)

    def intercept_service(
        self, continuation: Callable[[Any], Any], handler_call_details: Any
    ) -> Any:
        """The oracle's handler if the token matches (constant-time), else a refusal."""
        given = dict(handler_call_details.invocation_metadata or ()).get(_HEADER, "")
        if hmac.compare_digest(str(given).encode(), self._expected):
            return continuation(handler_call_details)
        return self._refuse


def add_port(server: grpc.Server, target: str, creds: Credentials) -> int:
    """Bind ``target`` with TLS if ``creds`` are secured, else plainly; the port (0: failed)."""
    if creds.secured:
        assert creds.key is not None
        tls = grpc.ssl_server_credentials([(creds.key, creds.cert)])
        return server.add_secure_port(target, tls)
    return server.add_insecure_port(target)


def channel(target: str, creds: Credentials) -> grpc.Channel:
    """A channel to the chief: TLS plus the token if ``creds`` are secured, else plain."""
    if not creds.secured:
        return grpc.insecure_channel(target)
    assert creds.token is not None
    composite = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=creds.cert),
        grpc.access_token_call_credentials(creds.token),
    )
    return grpc.secure_channel(target, composite)


class SecureOracleClient(oracle_client.OracleClient):
    """KerasTuner's worker-side client over :func:`channel`; fails fast with one line.

    Attributes:
        connect_seconds: How long it waits for the chief to answer.
    """

    connect_seconds = 60.0

    def __init__(self, oracle: Any) -> None:  # noqa: D107 - KerasTuner's signature
        super().__init__(oracle)
        address = os.environ["KERASTUNER_ORACLE_IP"]
        host = f"[{address}]" if ":" in address else address
        target = f"{host}:{os.environ['KERASTUNER_ORACLE_PORT']}"
        creds = Credentials.from_env(chief=False)
        chan = channel(target, creds)
        try:
            grpc.channel_ready_future(chan).result(timeout=self.connect_seconds)
        except grpc.FutureTimeoutError:
            what = f" (or its certificate is not the one in {CERT_ENV})" if creds.secured else ""
            raise ProtocolError(
                f"cannot reach the chief at {target} within {self.connect_seconds:g} s{what}"
            ) from None
        self.stub = _Patient(
            protos.get_service_grpc().OracleStub(chan), self.connect_seconds, target
        )
        self.stub.GetSpace(protos.get_service().GetSpaceRequest())


class _Patient:
    """The oracle stub with every call waiting at most ``seconds`` for the chief, then one line.

    KerasTuner's client waits up to an hour for a chief that is gone. A
    worker that loses the chief keeps retrying for ``seconds``
    (``parallel.grace_seconds``): a chief restarted from its run directory
    on the same address and port within that time carries on with it (see
    ``kt_ext.run.parallel._restore_owners``); after it, the worker stops. A
    call cut off in flight is sent again: a repeated create returns the
    worker's trial, a repeated end is ignored as late, the rest only read or
    overwrite.
    """

    def __init__(self, stub: Any, seconds: float, target: str) -> None:
        self._stub, self._seconds, self._target = stub, seconds, target

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._stub, name)

        def call(request: Any, **kwargs: Any) -> Any:
            deadline = time.monotonic() + self._seconds
            while True:
                kwargs["wait_for_ready"] = True
                kwargs["timeout"] = max(0.1, deadline - time.monotonic())
                try:
                    return method(request, **kwargs)
                except grpc.RpcError as e:
                    code = e.code()
                    if code == grpc.StatusCode.UNAUTHENTICATED:
                        raise ProtocolError(
                            f"the chief at {self._target} refused this worker's token"
                        ) from None
                    # a call cut off mid-flight (the chief died) fails at once, not at the
                    # deadline: try again; every request of the protocol may be repeated
                    if code == grpc.StatusCode.UNAVAILABLE and time.monotonic() < deadline:
                        time.sleep(0.5)
                        continue
                    if code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE):
                        raise ProtocolError(
                            f"lost the chief at {self._target}: no answer for {self._seconds:g} s"
                        ) from None
                    raise

        return call


def use_secure_client(connect_seconds: float) -> None:
    """Make KerasTuner build :class:`SecureOracleClient` for the workers of this process.

    Args:
        connect_seconds: How long a worker waits for the chief to answer.
    """

    class Client(SecureOracleClient):
        pass

    Client.connect_seconds = connect_seconds
    oracle_client.OracleClient = Client  # type: ignore[misc]

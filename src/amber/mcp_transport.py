"""How `amber mcp` is reached: stdio (the host starts it), or streamable HTTP.

HTTP on loopback needs nothing more (DNS-rebinding checks of Host and Origin stay on). Any
other interface must be asked for with --allow-remote and is guarded by a bearer token, read
from AMBER_MCP_TOKEN or generated and printed once; Host and Origin are still checked against
the names this machine answers to (plus AMBER_MCP_ALLOWED_HOSTS).
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import secrets
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings

from amber.errors import InvalidInput

LOOPBACK_NAMES = ("localhost",)
MIN_TOKEN = 16
Scope = MutableMapping[str, Any]
ASGI = Callable[
    [Scope, Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]
]


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_stdio(server: Any) -> None:
    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def _names(host: str, extra: list[str]) -> list[str]:
    """Host header values this server answers to."""
    names = {"127.0.0.1", "localhost", "[::1]", *extra}
    if not host.startswith("0") and host not in ("::",):
        names.add(f"[{host}]" if ":" in host else host)
    names.add(socket.gethostname())
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            address = str(info[4][0])
            names.add(f"[{address}]" if ":" in address else address)
    except OSError as exc:
        sys.stderr.write(f"amber mcp: could not list this machine's addresses: {exc}\n")
    return sorted(names)


def security(host: str, extra_hosts: list[str]) -> TransportSecuritySettings:
    names = _names(host, extra_hosts)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:*" for name in names] + names,
        allowed_origins=[f"{scheme}://{name}:*" for name in names for scheme in ("http", "https")],
    )


class BearerGuard:
    """An ASGI wrapper: every HTTP request needs `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGI, token: str) -> None:
        self.app, self.token = app, token.encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            given = b""
            for name, value in scope.get("headers", []):
                if name.lower() == b"authorization" and value[:7].lower() == b"bearer ":
                    given = value[7:].strip()
            if not hmac.compare_digest(given, self.token):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b"Bearer"),
                        ],
                    }
                )
                body = b'{"error": "unauthorized", "message": "a bearer token is required"}'
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _family(host: str, port: int) -> socket.AddressFamily:
    try:
        return socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise InvalidInput(
            f"--host {host} does not resolve: {exc.strerror or exc}",
            hint="give an address of this machine (127.0.0.1, 0.0.0.0 for all) or a name "
            "that resolves to one",
        ) from exc


def _listen(host: str, port: int, family: socket.AddressFamily) -> socket.socket:
    """Bind before the address is printed, so a client that reads it can connect at once."""
    try:
        return socket.create_server((host.strip("[]"), port), family=family, backlog=128)
    except OSError as exc:
        hints = {
            errno.EADDRINUSE: "choose another port with --http PORT, or stop what holds it "
            f"(ss -ltnp | grep :{port})",
            errno.EADDRNOTAVAIL: f"{host} is not an address of this machine: see `ip -brief "
            "address`, or use 0.0.0.0 for all of them",
        }
        hint = hints.get(exc.errno or 0, "check --host and --http PORT (below 1024 needs root)")
        raise InvalidInput(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint=hint
        ) from exc


def serve_http(
    server: Any,
    host: str,
    port: int,
    allow_remote: bool,
    token: str | None,
    extra_hosts: list[str],
) -> None:
    import uvicorn

    family = _family(host, port)
    remote = not is_loopback(host)
    if remote and not allow_remote:
        raise InvalidInput(
            f"--host {host} is reachable from other machines",
            hint="add --allow-remote to serve it there (a bearer token is then required), or "
            "keep the default 127.0.0.1",
        )
    if remote and token is not None and len(token) < MIN_TOKEN:
        raise InvalidInput(
            f"AMBER_MCP_TOKEN is {len(token)} characters; a remote listener needs at least "
            f"{MIN_TOKEN}",
            hint="unset it to have one generated, or: export AMBER_MCP_TOKEN=$(openssl rand "
            "-hex 24)",
        )
    guard = security(host, extra_hosts)
    app: Any = server.streamable_http_app(host=host, transport_security=guard)
    listener = _listen(host, port, family)
    names = [h for h in guard.allowed_hosts if not h.endswith(":*")]
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "0") else host
    shown = f"[{shown}]" if ":" in shown else shown
    sys.stderr.write(f"amber MCP server: streamable HTTP at http://{shown}:{port}/mcp\n")
    if remote:
        sys.stderr.write(
            f"clients must name one of these hosts (others get 421): {', '.join(names)}; "
            "add more with AMBER_MCP_ALLOWED_HOSTS\n"
        )
    if remote or token:
        if not token:
            token = secrets.token_urlsafe(32)
            sys.stderr.write(
                f"bearer token (shown once; set AMBER_MCP_TOKEN to choose one): {token}\n"
            )
        app = BearerGuard(app, token)
    sys.stderr.flush()
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])

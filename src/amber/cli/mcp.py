"""CLI command `amber mcp`: serve amber's tools to MCP clients over stdio or streamable HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from amber.cli.options import Commands, cli_settings
from amber.errors import BackendUnavailable, InvalidInput

commands = Commands()


@commands("mcp")
def mcp_command(
    http: Annotated[
        int | None,
        typer.Option(
            "--http",
            metavar="PORT",
            min=1,
            max=65535,
            help="Serve streamable HTTP on this port (endpoint /mcp) instead of stdio.",
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Interface for --http (default 127.0.0.1: this machine only)."),
    ] = None,
) -> None:
    """MCP server for agents (Claude Code, Cursor, ...): memory, cache and skill tools.

    Register it with a client, e.g. `claude mcp add amber -- amber mcp`.
    """
    if host is not None and http is None:
        raise InvalidInput("--host only applies to HTTP", hint="add --http PORT")
    settings = cli_settings()
    try:
        from amber.mcp_server import DEFAULT_HOST, serve
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("mcp"):
            raise
        raise BackendUnavailable(
            "the MCP server needs the `mcp` package, which is not installed",
            hint='pip install "mcp>=2.3,<3"',
        ) from exc
    serve(settings, port=http, host=(host or DEFAULT_HOST).strip())

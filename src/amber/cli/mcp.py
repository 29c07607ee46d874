"""`amber mcp`: amber's operations as MCP tools, over stdio or streamable HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from amber.cli import invocation
from amber.cli.options import Commands
from amber.errors import InvalidInput

commands = Commands()


@commands("mcp", example="claude mcp add amber -- amber mcp")
def mcp_command(
    http: Annotated[
        int | None,
        typer.Option(
            "--http", metavar="PORT", help="Serve streamable HTTP on this port (at /mcp)."
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Interface for --http. Default: 127.0.0.1 (this machine)."),
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow a --host other machines reach; then a bearer token is required "
            "($AMBER_MCP_TOKEN, or one generated and printed once).",
        ),
    ] = False,
) -> None:
    """MCP server for agents (Claude Code, Codex, Cursor, Gemini CLI): memory, cache and skill
    tools. Its calls go through the store's daemon like the CLI's."""
    from amber.dispatch import Gateway
    from amber.mcp_server import Tools, build_server
    from amber.mcp_transport import serve_http, serve_stdio

    if (host is not None or allow_remote) and http is None:
        raise InvalidInput("--host and --allow-remote only apply to HTTP", hint="add --http PORT")
    if http is not None and not 1 <= http <= 65535:
        raise InvalidInput(f"--http {http} is not a port", hint="give a port from 1 to 65535")
    call_of = invocation.current()
    settings = call_of.settings()
    server = build_server(Tools(Gateway(call_of.env, call_of.cwd, settings), settings.home))
    if http is None:
        serve_stdio(server)
        return
    extra = [h.strip() for h in (settings.mcp_allowed_hosts or "").split(",") if h.strip()]
    token = settings.mcp_token or None
    serve_http(server, (host or "127.0.0.1").strip(), http, allow_remote, token, extra)

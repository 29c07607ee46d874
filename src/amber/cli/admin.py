"""Maintenance commands: health, optimize, serve (the warm daemon) and version."""

from __future__ import annotations

from typing import Annotated

import typer

from amber import __version__
from amber.cli import invocation
from amber.cli.options import Commands, JsonOpt, cli_settings, invoke
from amber.errors import InvalidInput

commands = Commands()


@commands("health", example="amber health")
def health(as_json: JsonOpt = False) -> None:
    """Store path and disk use, embedder, counts, Ollama reachability; exit 3 when not ready."""
    invoke("health", {}, as_json)


@commands("optimize", example="amber optimize")
def optimize(as_json: JsonOpt = False) -> None:
    """Maintenance: merge segments and build the HNSW index of the embedded store.

    Worth it for a daemon on a large store; fresh processes start slower (docs/scaling.md)."""
    invoke("optimize", {}, as_json)


@commands("serve", example="amber serve --idle-timeout 3600")
def serve(
    idle_timeout: Annotated[
        float | None,
        typer.Option("--idle-timeout", help="Stop after this many idle seconds. Default: 900."),
    ] = None,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the daemon of this store.")] = False,
    status: Annotated[
        bool, typer.Option("--status", help="Say whether a daemon serves this store.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The warm daemon: the one process that opens this store, keeping it and the model loaded.

    Every `amber …`, `execution/*.py` and `amber mcp` call for the same AMBER_HOME goes through
    it (same output, same exit code). With AMBER_DAEMON=auto (the default) the first call starts
    one; it stops after --idle-timeout. AMBER_DAEMON=off runs calls in their own process.
    """
    from amber.cli.serving import daemon_status, run_daemon, stop_daemon

    settings = cli_settings()
    if stop and status:
        raise InvalidInput("give --stop or --status, not both", hint="amber serve --status")
    if idle_timeout is not None and not (1 <= idle_timeout <= 7 * 86400):
        raise InvalidInput(
            f"--idle-timeout {idle_timeout} is not a number of seconds from 1 to 604800",
            hint="e.g. amber serve --idle-timeout 3600",
        )
    if stop or status:
        doc = stop_daemon(settings) if stop else daemon_status(settings)
        from amber.cli.render import emit

        emit(doc, as_json, "serve")
        return
    cli = invocation.current().cli
    if cli is None:
        raise RuntimeError("amber serve runs through amber.cli.run, which gives the CLI runner")
    raise typer.Exit(run_daemon(settings, idle_timeout or settings.daemon_idle, cli))


@commands("version", example="amber version")
def version() -> None:
    """Print amber's version."""
    typer.echo(__version__)

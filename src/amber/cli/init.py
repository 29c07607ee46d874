"""CLI command `amber init`: make an agent's own project use this amber installation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from amber import SCHEMA_VERSION
from amber.cli.options import Commands, JsonOpt, resolve
from amber.cli.render import emit, wants_json
from amber.errors import InvalidInput
from amber.hosts import HOSTS

commands = Commands()


def parse_hosts(value: str) -> list[str]:
    """`claude,codex` (or `all`) as host names in HOSTS order; unknown names are refused."""
    names = {part.strip().lower() for part in value.split(",") if part.strip()}
    if not names or "all" in names:
        return list(HOSTS)
    unknown = sorted(names - set(HOSTS))
    if unknown:
        raise InvalidInput(
            f"unknown --host {', '.join(unknown)}",
            hint=f"use a comma-separated list of {', '.join(HOSTS)}, or all",
        )
    return [host for host in HOSTS if host in names]


def view(doc: dict[str, Any]) -> str:
    """The terminal view: one line per file, what happens to it and why."""
    where = doc["project"]
    head = f"amber init: {doc['status']} {where}"
    if "hosts" in doc:
        head += f" (hosts: {', '.join(doc['hosts'])}; hooks: {'on' if doc['hooks'] else 'off'})"
    lines = [head]
    folders = [change for change in doc["changes"] if change["kind"] == "folder"]
    for change in doc["changes"]:
        if change["kind"] == "folder":
            continue
        detail = ", ".join(change.get("keys") or change.get("left") or [])
        detail = f"  [{detail}]" if detail else ""
        reason = f"  ({change['reason']})" if change.get("reason") else ""
        lines.append(
            f"  {change['action']:<10} {change['kind']:<8} {change['path']}{detail}{reason}"
        )
    if folders:
        lines.append(f"  {folders[0]['action']:<10} {len(folders)} folders (listed with --json)")
    lines += [f"note: {note}" for note in doc.get("notes", [])]
    if doc.get("dry_run"):
        lines.append("dry run: nothing was changed")
    return "\n".join(lines) + "\n"


@commands("init", example="amber init ~/code/shop --host claude,codex --dry-run")
def init(
    project_dir: Annotated[
        Path, typer.Argument(help="The agent's project folder.", show_default="this folder")
    ] = Path("."),
    host: Annotated[
        str,
        typer.Option("--host", help=f"Agent hosts, comma-separated: {','.join(HOSTS)} or all."),
    ] = "all",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be written; change nothing.")
    ] = False,
    no_hooks: Annotated[
        bool,
        typer.Option("--no-hooks", help="No recall and store-reminder hooks in host configs."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace files that hold other content (--remove puts them back)."
        ),
    ] = False,
    remove: Annotated[
        bool, typer.Option("--remove", help="Undo what amber init wrote into the project.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Make an agent's project use amber: the execution/ shims, amber's skills, the MCP server
    and the recall hooks, in each host's own files; merged into existing configs, never
    clobbering them, recorded in .amber/init.json (--remove undoes exactly that).
    """
    from amber.services import setup

    folder = resolve(project_dir)
    if remove:
        doc = setup.remove_project(folder, dry_run=dry_run)
    else:
        doc = setup.init_project(folder, parse_hosts(host), not no_hooks, dry_run, force)
    if wants_json(as_json):
        emit({"schema": SCHEMA_VERSION, **doc}, as_json, "init")
    else:
        sys.stdout.write(view(doc))

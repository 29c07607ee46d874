"""CLI command `amber hook EVENT`: the hooks `amber init` registers with agent hosts.

The host sends its event as JSON on stdin and reads JSON on stdout (docs/hosts.md):

- `prompt` (Claude Code and Codex `UserPromptSubmit`, Gemini CLI `BeforeAgent`): runs `auto`
  with the prompt and hands the memories back as `hookSpecificOutput.additionalContext`.
- `stop` (Claude Code and Codex `Stop`): asks the agent once per turn to `store` what it
  decided; when the host says the turn already continued for a stop hook, it lets it end.

A hook must never block what the user typed (exit 2 would): amber's own failures become a
`systemMessage` the user sees, with exit 0.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from amber.cli import invocation
from amber.cli.options import Commands, context, decode
from amber.errors import AmberError, InvalidInput

commands = Commands()

EVENTS = ("prompt", "stop")
MIN_PROMPT = 3  # shorter prompts ("ok", "y") carry nothing to search for
EVENT_LIMIT = 4 * 1024 * 1024  # bytes of event JSON read at most (a prompt with a pasted log)
STORE_REMINDER = (
    "amber: before you finish, if this turn settled something a later agent should know "
    "(a decision, a fix, the cause of an error), keep it once: python3 "
    'execution/memory_manager.py store --content "what was decided and why" --type decision '
    "--tags <area> <topic> (or the MCP tool memory_store). If nothing is worth keeping, just "
    "finish."
)


def read_event() -> dict[str, Any]:
    raw = decode(invocation.current().read_stdin(EVENT_LIMIT + 1), "stdin", EVENT_LIMIT).strip()
    if not raw:
        raise InvalidInput(
            "no hook event on stdin",
            hint="agent hosts send one JSON object; run it as the hook amber init registered",
        )
    try:
        event = json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"the hook event on stdin is not JSON ({exc})") from exc
    if not isinstance(event, dict):
        raise InvalidInput("the hook event on stdin must be a JSON object")
    return event


def recall(query: str, folder: object = None) -> dict[str, Any]:
    """The `auto` document for the prompt, scoped like `auto` run from the folder the host
    says the session works in (its event's `cwd`), else from this process's folder."""
    from dataclasses import replace
    from pathlib import Path

    from amber.usecases import call

    ctx = context()
    if isinstance(folder, str) and Path(folder).is_absolute() and Path(folder).is_dir():
        ctx = replace(ctx, cwd=Path(folder))
    return call(ctx, "auto", {"query": query})


def memories(doc: dict[str, Any]) -> str:
    """What the agent reads before the prompt: the cached answer or the memories, and the
    skill the task belongs to; "" when amber has nothing that bears on it."""
    parts: list[str] = []
    if doc.get("cache_hit"):
        parts.append(
            "amber: an earlier answer to a question with the same meaning "
            f"(cache score {doc.get('cache_score')}):\n{doc.get('cached_response')}"
        )
    elif doc.get("context_chunks"):
        parts.append(
            "amber: what earlier agents recorded that may bear on this prompt (best first; "
            "check that it still holds):"
        )
        for chunk in doc["context_chunks"]:
            day = str(chunk.get("created_at") or "")[:10]
            tags = ", ".join(chunk.get("tags") or [])
            labels = f"{day} tags: {tags}" if tags else day  # no empty "tags:" line
            parts.append(f"- [{chunk.get('type')}] {labels}\n{chunk.get('content')}")
    if parts and (doc.get("skill") or {}).get("name"):
        parts.append(f"amber routes this task to the skill {doc['skill']['name']}.")
    return "\n\n".join(parts)


def on_prompt(event: dict[str, Any]) -> dict[str, Any] | None:
    from amber.services.layout import MAX_QUERY_CHARS

    prompt = event.get("prompt")
    if not isinstance(prompt, str) or len(prompt.strip()) < MIN_PROMPT:
        return None
    text = memories(recall(prompt.strip()[:MAX_QUERY_CHARS], event.get("cwd")))
    if not text:
        return None
    name = event.get("hook_event_name")
    output = {"hookEventName": name if isinstance(name, str) else "UserPromptSubmit"}
    return {"hookSpecificOutput": {**output, "additionalContext": text}}


def on_stop(event: dict[str, Any]) -> dict[str, Any] | None:
    if event.get("stop_hook_active"):
        return None  # this turn already went on once for a stop hook: let it end
    return {"decision": "block", "reason": STORE_REMINDER}


@commands("hook", example="""echo '{"prompt": "add retries to the client"}' | amber hook prompt""")
def hook(
    event: Annotated[str, typer.Argument(help="prompt or stop.", metavar="EVENT")],
) -> None:
    """For agent hosts (registered by amber init): recall before a prompt, or a reminder to
    store after a turn. Reads the host's event JSON on stdin, writes the host's JSON reply.
    """
    if event not in EVENTS:
        raise InvalidInput(f"unknown hook event {event!r}", hint=f"one of: {', '.join(EVENTS)}")
    try:
        payload = read_event()
        answer = on_prompt(payload) if event == "prompt" else on_stop(payload)
    except AmberError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        answer = {"systemMessage": f"amber {event} hook: {exc.message}{hint}"}
    if answer is not None:
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")

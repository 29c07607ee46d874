"""`amber run`: route a task, then answer it with a local model through Ollama (or hand the
bundle to the calling agent when no model is given), cache the answer, store the decision."""

from __future__ import annotations

import re
import sys
import time
from typing import Annotated, Any

import typer

from amber import SCHEMA_VERSION
from amber import text as textops
from amber.cli import invocation
from amber.cli.options import Commands, JsonOpt, ProjectOpt, clean, cli_settings
from amber.cli.render import emit, emit_error, wants_json
from amber.dispatch import Gateway
from amber.errors import BackendUnavailable, InvalidInput
from amber.settings import Settings
from amber.usecases import exit_code

# Chat needs a longer wait than an embedding: loading the model and reading a long context can
# take a minute on a CPU before the first piece arrives. The timeout is per step (connect, each
# wait for more bytes), so the answer itself may take as long as it needs.
CHAT_MIN_TIMEOUT = 120.0
SUMMARY_CHARS = 1000


def gateway() -> Gateway:
    """`run` stays in this process (it streams an answer for minutes); its store work goes
    where every other call's goes: to the store's daemon, or in-process when it is off."""
    call_of = invocation.current()
    return Gateway(call_of.env, call_of.cwd, call_of.settings())


def messages_for(task: str, context: str) -> list[dict[str, str]]:
    """System = the assembled context (skill instructions + memories), user = the task."""
    messages = [{"role": "system", "content": context}] if context.strip() else []
    return [*messages, {"role": "user", "content": task}]


def decision_summary(task: str, answer: str, limit: int = SUMMARY_CHARS) -> str:
    """The task, then the answer's first paragraph (not a bare heading), cut to `limit` chars."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", answer) if p.strip()]
    prose = [p for p in paragraphs if not all(ln.lstrip().startswith("#") for ln in p.splitlines())]
    first = (prose or paragraphs or [""])[0]
    if len(first) > limit:
        cut = first[:limit]
        first = (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut).rstrip() + " …"
    return f"{task.strip()}\n{first}"


def _ask_model(
    settings: Settings, model: str, messages: list[dict[str, str]], live: bool
) -> tuple[str, dict[str, Any]]:
    """Stream the answer (to stdout as it arrives when a person watches); the whole answer."""
    from amber.chat import OllamaChat

    timeout = max(settings.ollama_timeout, CHAT_MIN_TIMEOUT)
    pieces: list[str] = []
    with OllamaChat(settings.ollama_host, timeout, settings.ollama_keep_alive) as chat:
        try:
            for piece in chat.stream(model, messages):
                pieces.append(piece)
                if live:
                    sys.stdout.write(piece)
                    sys.stdout.flush()
        finally:
            if live and pieces:
                sys.stdout.write("\n")
                sys.stdout.flush()
        return "".join(pieces), chat.stats


def _show(doc: dict[str, Any], as_json: bool, streamed: bool) -> None:
    """One JSON document for agents; for a person, the answer (unless it was streamed) and
    a short trailer."""
    if wants_json(as_json):
        emit({"schema": SCHEMA_VERSION, **doc}, True)
        return
    if doc["source"] == "cache":
        typer.echo(f"source: cache (score {doc.get('cache_score')}), model not called")
    if not streamed:
        typer.echo(doc["answer"])
    skill = doc["skill"]["name"] if doc["skill"] else "none"
    line = f"source: {doc['source']} · model: {doc['model']} · skill: {skill}"
    line += f" · cached: {'yes' if doc['cached'] else 'no'}"
    if doc["stored"]:
        line += f" · stored: {doc['stored']}"
    typer.echo(f"\n{line}")
    for item in doc["degraded"]:
        typer.echo(f"degraded {item['signal']}: {item['reason']}")


commands = Commands()


@commands("run")
def run_task(
    task: Annotated[str, typer.Option("--task", help="What to do.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="An Ollama chat model (e.g. llama3.2) to answer with; without it the bundle "
            "is printed for the calling agent.",
        ),
    ] = None,
    project: ProjectOpt = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="Memories at most.")] = 5,
    budget_tokens: Annotated[
        int, typer.Option("--budget-tokens", min=1, help="Tokens for the whole context.")
    ] = 8000,
    store: Annotated[
        bool,
        typer.Option("--store", help="Store the decision (task + first paragraph of the answer)."),
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not put the answer into the response cache.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a task: route it to a skill, then answer it with a local model through Ollama.

    Example: amber run --task "add retries to the payment client" -m llama3.2 --store
    Without -m it prints the bundle (skill section and memories) for the calling agent.
    """
    started = time.perf_counter()
    if store and model is None:
        raise InvalidInput(
            "--store keeps the answer of a model, and no model was given",
            hint="add -m MODEL (e.g. -m llama3.2), or store the decision yourself: "
            'amber store --content "..." --type decision',
        )
    settings = cli_settings()
    door = gateway()
    asked_for = {"task": task, "project": project, "top_k": top_k, "budget_tokens": budget_tokens}
    bundle_doc = door.call("route", clean(asked_for))
    if model is None:
        emit(bundle_doc, as_json, "route")
        code = exit_code("route", bundle_doc)
        if code:
            raise typer.Exit(code)
        return
    bundled = time.perf_counter()
    route, auto = bundle_doc["skill"], bundle_doc["auto"]
    skill = {"name": route["name"], "confidence": route["confidence"]} if route["name"] else None
    doc: dict[str, Any] = {
        "status": "answered",
        "task": task,
        "project": bundle_doc["auto"].get("project"),
        "skill": skill,
        "model": model,
    }
    streamed = False
    if auto["cache_hit"]:
        answer = auto["cached_response"]
        doc.update(source="cache", cache_score=auto["cache_score"])
        stats: dict[str, Any] = {}
    else:
        streamed = not wants_json(as_json)
        answer, stats = _ask_model(
            settings, model, messages_for(task, bundle_doc["context"]), streamed
        )
        doc.update(source="model", done_reason=stats.get("done_reason"))
    asked = time.perf_counter()
    doc.update(answer=answer, cached=False, stored=None, degraded=list(bundle_doc["degraded"]))
    doc["tokens"] = {
        "context": bundle_doc["context_tokens"],
        "prompt": stats.get("prompt_tokens"),
        "answer": stats.get("answer_tokens") or textops.estimate_tokens(answer),
    }
    cache = not no_cache and doc["source"] == "model"
    failure: BackendUnavailable | None = None
    if answer.strip() and (cache or store):
        try:
            kept = door.call(
                "run-keep",
                clean(
                    {
                        "task": task,
                        "answer": answer,
                        "summary": decision_summary(task, answer),
                        "project": project,
                        "skill": route["name"],
                        "cache": cache,
                        "store": store,
                    }
                ),
            )
        except BackendUnavailable as exc:  # keep the answer the model spent minutes on
            failure = exc
            doc["degraded"].append({"signal": "store", "reason": exc.message})
        else:
            doc.update(cached=kept["cached"], stored=kept["stored"])
            doc["redactions"] = kept["redactions"]
            doc["degraded"].extend(d for d in kept["degraded"] if d not in doc["degraded"])
    elif not answer.strip():
        doc["status"] = "empty_answer"
    done = time.perf_counter()
    doc["timing_ms"] = {
        "bundle": round((bundled - started) * 1000, 2),
        "answer": round((asked - bundled) * 1000, 2),
        "keep": round((done - asked) * 1000, 2),
        "total": round((done - started) * 1000, 2),
    }
    _show(doc, as_json, streamed)
    if failure is not None and store:
        emit_error(failure.to_dict())
        raise typer.Exit(failure.exit_code)
    if doc["status"] == "empty_answer":
        raise typer.Exit(1)

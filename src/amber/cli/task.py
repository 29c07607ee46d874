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
from amber.cli.options import Commands, JsonOpt, ProjectOpt, cli_settings, finish, project_scope
from amber.cli.render import emit, emit_error, wants_json
from amber.errors import BackendUnavailable
from amber.settings import Settings

# Chat needs a longer wait than an embedding: loading the model and reading a long context can
# take a minute on a CPU before the first piece arrives. The timeout is per step (connect, each
# wait for more bytes), so the answer itself may take as long as it needs.
CHAT_MIN_TIMEOUT = 120.0
RUN_TAG = "amber-run"
SUMMARY_CHARS = 1000


def _bundle(settings: Settings, task: str, scope: str, top_k: int, budget: int) -> dict[str, Any]:
    """The same document `route` prints: skill, auto result, assembled context."""
    from amber.compose import session

    with session(settings) as rt:
        doc = rt.route(task, scope, top_k, budget)
    return doc


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


def _keep(
    settings: Settings,
    task: str,
    answer: str,
    scope: str,
    skill: str | None,
    cache: bool,
    store: bool,
) -> dict[str, Any]:
    """Store the decision, then cache the answer, in a session opened only now (the model may
    have taken minutes; the embedded store admits one process at a time)."""
    from amber.compose import session
    from amber.models import MemoryType
    from amber.redact import redact

    kept: dict[str, Any] = {"cached": False, "stored": None, "redactions": 0, "degraded": []}
    with session(settings) as rt:
        memory = rt.memory()
        if store:
            tags = [skill, RUN_TAG] if skill else [RUN_TAG]
            result = memory.store_memory(
                decision_summary(task, answer),
                MemoryType.decision,
                tags,
                scope,
                agent=settings.agent or "",
            )
            kept["stored"] = result["id"]
        # After the store: storing a memory invalidates cached answers near it, this one too.
        if cache:
            cleaned = redact(answer)
            if len(cleaned.text.encode("utf-8")) > settings.max_content_bytes:
                kept["degraded"].append(
                    {
                        "signal": "cache",
                        "reason": f"the answer is over AMBER_MAX_CONTENT_BYTES "
                        f"({settings.max_content_bytes}); not cached",
                    }
                )
            else:
                memory.cache.put(task, cleaned.text, scope, memory.embed_query(task))
                kept.update(cached=True, redactions=cleaned.count)
        kept["degraded"].extend(memory.degraded)
    return kept


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
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100)] = 5,
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
    """Run a task: route it to a skill, then answer it with a local model through Ollama."""
    started = time.perf_counter()
    settings = cli_settings()
    scope = project_scope(project)
    bundle_doc = _bundle(settings, task, scope, top_k, budget_tokens)
    if model is None:
        found = (
            bundle_doc["skill"]["name"] is not None or bundle_doc["auto"]["status"] != "no_match"
        )
        finish(bundle_doc, as_json, found=found)
        return
    bundled = time.perf_counter()
    route, auto = bundle_doc["skill"], bundle_doc["auto"]
    skill = {"name": route["name"], "confidence": route["confidence"]} if route["name"] else None
    doc: dict[str, Any] = {
        "status": "answered",
        "task": task,
        "project": scope or None,
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
            kept = _keep(settings, task, answer, scope, route["name"], cache, store)
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

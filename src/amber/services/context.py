"""Route a task and assemble what an agent (or a local model) needs: skill, memories, context."""

from __future__ import annotations

from typing import Any

from amber import text as textops
from amber.layout import Filters
from amber.services.catalog import fill_pending
from amber.services.memory import MemoryService
from amber.services.recall import auto
from amber.services.router import FEEDBACK_TAG, RouteCounter, SkillRouter, learned_outcomes
from amber.services.skill_context import fit_instructions, skill_context
from amber.skills import Skill, SkillRegistry

__all__ = ["agent_auto", "bundle", "fit_instructions", "routed_skill"]


def routed_skill(
    router: SkillRouter, memory: MemoryService, task: str, counter: RouteCounter | None = None
) -> dict[str, Any]:
    """The route for a task as a JSON-ready dict, with what past outcomes taught the router.
    The task is embedded once, by the memory service; when that failed the router does not
    try again (dense evidence is skipped and `memory.degraded` already says why)."""
    outcomes = learned_outcomes(memory, task)
    vector = memory.embed_query(task)
    route = router.route(task, outcomes, vector, embed_task=False).as_dict()
    if counter is not None:
        counter.add(route["name"])
    return route


def routed_context(
    router: SkillRouter,
    memory: MemoryService,
    skill: Skill,
    task: str,
    budget: int,
    full: bool = False,
) -> dict[str, Any]:
    """`skill_context` for a routed skill, with the router's embedder and vector cache and the
    task vector the memory service already computed (none when its embedder failed)."""
    embedder = router.embedder if memory.embedder is not None else None
    vector = memory.embed_query(task) if embedder is not None else None
    return skill_context(
        skill, task, embedder, router.encoder, budget, vector, full, router.vectors
    )


def bundle(
    router: SkillRouter,
    registry: SkillRegistry,
    memory: MemoryService,
    task: str,
    filters: Filters,
    project: str,
    top_k: int,
    memory_budget: int,
    total_budget: int,
    full: bool = False,
    counter: RouteCounter | None = None,
) -> dict[str, Any]:
    """Skill + auto result + one assembled context string within `total_budget` tokens: the
    skill's front matter, opening guidance and the sections that bear on the task (the whole
    skill with `full`), then the memories. `skill_context` says which sections were included
    and which were left out."""
    filters.exclude_tags = [*filters.exclude_tags, FEEDBACK_TAG]
    route = routed_skill(router, memory, task, counter)
    result = auto(memory, task, filters, top_k, memory_budget, project)
    skill: Skill | None = registry.get(route["name"]) if route["name"] else None
    parts = []
    truncated = False
    if result["cache_hit"]:
        parts.append(f"## Cached answer for a task like this\n\n{result['cached_response']}")
    elif result["context_chunks"]:
        lines = [
            f"- ({c['type']}, {c['created_at'][:10]}) {c['content']}"
            for c in result["context_chunks"]
        ]
        parts.append("## What earlier agents decided\n\n" + "\n".join(lines))
    used = textops.estimate_tokens("\n\n".join(parts))
    shown: dict[str, Any] | None = None
    if skill is not None:
        shown = routed_context(router, memory, skill, task, max(total_budget - used, 0), full)
        parts.insert(0, shown.pop("text"))
        truncated = shown["truncated"]
    context = "\n\n".join(parts)
    return {
        "task": task,
        "skill": route,
        "skill_path": str(skill.path) if skill else None,
        "auto": result,
        "context": context,
        "context_tokens": textops.estimate_tokens(context),
        "instructions_truncated": truncated,
        "skill_context": shown,
    }


PENDING_PER_CALL = 16  # memories stored during an embedder outage, embedded by later calls


def agent_auto(
    router: SkillRouter,
    memory: MemoryService,
    query: str,
    filters: Filters,
    top_k: int,
    budget_tokens: int,
    project: str,
    counter: RouteCounter | None = None,
) -> dict[str, Any]:
    """What an agent gets before a task (CLI `auto` and MCP `memory_auto`): cache or memories,
    the routed skill, what was degraded; then some pending vectors are filled in."""
    filters.exclude_tags = [*filters.exclude_tags, FEEDBACK_TAG]
    doc = auto(memory, query, filters, top_k, budget_tokens, project)
    route = routed_skill(router, memory, query, counter)
    skill = {k: route[k] for k in ("name", "confidence")} if route["name"] else None
    doc.update(project=project or None, skill=skill, degraded=memory.degraded)
    fill_pending(memory, limit=PENDING_PER_CALL)
    return doc

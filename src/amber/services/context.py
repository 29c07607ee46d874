"""Route a task and assemble what an agent (or a local model) needs: skill, memories, context."""

from __future__ import annotations

from typing import Any

from amber import text as textops
from amber.redact import redact
from amber.services.memory import MemoryService
from amber.services.route_counts import RouteCounter
from amber.services.router import SkillRouter, learned_outcomes
from amber.services.skill_context import fit_instructions, skill_context
from amber.skills import Skill, SkillRegistry

__all__ = ["bundle", "fit_instructions", "routed_context", "routed_skill"]


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
    recalled: dict[str, Any],
    total_budget: int,
    full: bool = False,
    counter: RouteCounter | None = None,
) -> dict[str, Any]:
    """Skill + the recall for the task + one assembled context string within `total_budget`
    tokens: the skill's front matter, opening guidance and the sections that bear on the task
    (the whole skill with `full`), then the memories. `skill_context` says which sections were
    included and which were left out."""
    route = routed_skill(router, memory, task, counter)
    skill: Skill | None = registry.get(route["name"]) if route["name"] else None
    parts = []
    truncated = False
    if recalled["cache_hit"]:
        parts.append(f"## Cached answer for a task like this\n\n{recalled['cached_response']}")
    elif recalled["context_chunks"]:
        lines = [
            f"- ({c['type']}, {c['created_at'][:10]}) {c['content']}"
            for c in recalled["context_chunks"]
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
        "task": redact(task).text,  # echoed, so a pasted secret is not repeated
        "skill": route,
        "skill_path": str(skill.path) if skill else None,
        "auto": recalled,
        "context": context,
        "context_tokens": textops.estimate_tokens(context),
        "instructions_truncated": truncated,
        "skill_context": shown,
    }

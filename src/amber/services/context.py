"""Route a task and assemble what an agent (or a local model) needs: skill, memories, context."""

from __future__ import annotations

from typing import Any

from amber import text as textops
from amber.layout import Filters
from amber.services.catalog import fill_pending
from amber.services.memory import MemoryService
from amber.services.recall import auto
from amber.services.router import FEEDBACK_TAG, SkillRouter, learned_outcomes
from amber.skills import Skill, SkillRegistry


def routed_skill(router: SkillRouter, memory: MemoryService, task: str) -> dict[str, Any]:
    """The route for a task as a JSON-ready dict, with what past outcomes taught the router."""
    outcomes = learned_outcomes(memory, task)
    return router.route(task, outcomes, memory.embed_query(task)).as_dict()


def fit_instructions(body: str, budget: int) -> tuple[str, bool]:
    """The skill body, cut at the last section heading that fits the token budget."""
    if textops.estimate_tokens(body) <= budget:
        return body, False
    kept: list[str] = []
    section: list[str] = []
    for line in body.splitlines():
        if line.startswith("#") and section:
            if textops.estimate_tokens("\n".join(kept + section)) > budget:
                break
            kept.extend(section)
            section = []
        section.append(line)
    if not kept:
        return body[: budget * 4], True
    return "\n".join(kept), True


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
) -> dict[str, Any]:
    """Skill + auto result + one assembled context string within `total_budget` tokens."""
    filters.exclude_tags = [*filters.exclude_tags, FEEDBACK_TAG]
    route = routed_skill(router, memory, task)
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
    if skill is not None:
        body, truncated = fit_instructions(skill.body, max(total_budget - used, 0))
        parts.insert(0, f"# Skill: {skill.name}\n\n{body}")
    context = "\n\n".join(parts)
    return {
        "task": task,
        "skill": route,
        "skill_path": str(skill.path) if skill else None,
        "auto": result,
        "context": context,
        "context_tokens": textops.estimate_tokens(context),
        "instructions_truncated": truncated,
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
) -> dict[str, Any]:
    """What an agent gets before a task (CLI `auto` and MCP `memory_auto`): cache or memories,
    the routed skill, what was degraded; then some pending vectors are filled in."""
    filters.exclude_tags = [*filters.exclude_tags, FEEDBACK_TAG]
    doc = auto(memory, query, filters, top_k, budget_tokens, project)
    route = routed_skill(router, memory, query)
    skill = {k: route[k] for k in ("name", "confidence")} if route["name"] else None
    doc.update(project=project or None, skill=skill, degraded=memory.degraded)
    fill_pending(memory, limit=PENDING_PER_CALL)
    return doc

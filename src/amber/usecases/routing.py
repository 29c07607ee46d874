"""Skill operations: route a task (skill + memories as one context), the registry's skills,
feedback that teaches the router, and what `run` keeps after a local model answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationInfo, field_validator

from amber import checks
from amber.compose import Runtime
from amber.inputs import Empty, FeedbackIn, Input, Project, Query, RouteIn
from amber.models import MemoryType
from amber.redact import redact
from amber.services import context as skill_context
from amber.services.layout import Filters
from amber.services.memory import MemoryService
from amber.services.recall import recall
from amber.services.router import (
    FEEDBACK_TAG,
    SkillRouter,
    feedback_counts,
    record_outcome,
    skill_stats,
)
from amber.services.skill_context import section_document
from amber.skills import SkillRegistry, default_skill_dirs, validate_paths
from amber.usecases.registry import Context, Document, operation

RUN_TAG = "amber-run"


def registry(ctx: Context) -> SkillRegistry:
    """The skills this call sees: its project's host folders, the user's, amber's own."""
    dirs = default_skill_dirs(ctx.project_root(), ctx.settings.skills_path, Path.home())
    return SkillRegistry.load(dirs)


SECTION_BUDGET = 2000  # as route's default memory budget: auto names the sections route would hand
SECTIONS_NAMED = 3


def skill_summary(
    ctx: Context,
    rt: Runtime,
    skills: tuple[SkillRegistry, SkillRouter],
    memory: MemoryService,
    task: str,
) -> Document | None:
    """The skill a task belongs to (name, confidence, alternatives, the sections that bear on
    the task), or None when none fits. A failing embedder leaves routing to the terms."""
    found, router = skills
    route = skill_context.routed_skill(router, memory, task, rt.routes(ctx.settings))
    if not route["name"]:
        return None
    summary = {k: route[k] for k in ("name", "confidence", "alternatives")}
    skill = found.get(route["name"])
    shown = skill_context.routed_context(router, memory, skill, task, SECTION_BUDGET)
    ranked = [entry["path"] for entry in shown["included"] if not entry.get("opening")]
    summary["sections"] = ranked[:SECTIONS_NAMED]
    return summary


@operation("route", RouteIn)
def route(ctx: Context, inp: RouteIn) -> Document:
    """Pick the skill a task belongs to and assemble the context to work from: the parts of
    the skill that bear on the task (the whole skill with `full`) and what earlier agents
    decided, within a token budget; the sections left out are named."""
    scope = ctx.scope(inp.project)
    settings = ctx.settings
    skills, router = ctx.runtimes.skills(settings, ctx.project_root())
    with ctx.runtimes.use(settings) as rt:
        memory = rt.memory(settings)
        vector = memory.embed_query(inp.task)
        filters = Filters(project=scope, exclude_tags=[FEEDBACK_TAG])
        budget = min(settings.budget_tokens, inp.budget_tokens)
        found = recall(memory, inp.task, vector, filters, inp.top_k, budget, scope)
        found.update(project=scope or None)
        doc = skill_context.bundle(
            router,
            skills,
            memory,
            inp.task,
            found,
            inp.budget_tokens,
            full=inp.full,
            counter=rt.routes(settings),
        )
        doc["degraded"] = memory.degraded
    return doc


class SkillShowIn(Input):
    name: str
    section: str | None = None


class SkillValidateIn(Input):
    paths: list[str] = []


@operation("skills-list", Empty)
def skills_list(ctx: Context, _inp: Empty) -> Document:
    """Every loaded skill, where it came from and the copies it shadows, and the files that
    could not be loaded (with why)."""
    found = registry(ctx)
    return {"skills": found.listing(), "problems": [str(p) for p in found.problems]}


@operation("skills-show", SkillShowIn)
def skills_show(ctx: Context, inp: SkillShowIn) -> Document:
    """A skill's front matter and instructions, or one section of it (by heading)."""
    skill = registry(ctx).get(inp.name.strip())
    if inp.section:
        return section_document(skill, inp.section)
    return skill.document()


@operation("skills-validate", SkillValidateIn)
def skills_validate(ctx: Context, inp: SkillValidateIn) -> Document:
    """Check SKILL.md files or folders (default: every skill folder amber reads)."""
    targets = [ctx.cwd / p for p in inp.paths] or default_skill_dirs(
        ctx.project_root(), ctx.settings.skills_path, Path.home()
    )
    skills, problems = validate_paths(targets)
    return {
        "status": "invalid" if problems else "valid",
        "valid": [s.name for s in skills],
        "problems": [{"path": str(p.path), "line": p.line, "message": p.message} for p in problems],
    }


@operation("skills-stats", Empty)
def skills_stats(ctx: Context, _inp: Empty) -> Document:
    """Per skill: how often it was routed, the feedback it got, and whether it is valid,
    shadowed by another copy or invalid, so a person can see whether routing learns."""
    with ctx.runtimes.use(ctx.settings, need_embedder=False) as rt:
        feedback = feedback_counts(rt.memory(ctx.settings))
        counts = rt.routes(ctx.settings).counts()
    return skill_stats(registry(ctx), counts, feedback)


@operation("skills-feedback", FeedbackIn, writes=True)
def skills_feedback(ctx: Context, inp: FeedbackIn) -> Document:
    """Teach the router: later tasks like this one lean towards (or away from) the skill."""
    settings = ctx.settings
    registry(ctx).get(inp.skill)
    with ctx.runtimes.use(settings) as rt:
        return record_outcome(
            rt.memory(settings),
            inp.skill,
            inp.task,
            inp.outcome == "success",
            ctx.scope(inp.project),
            inp.agent or settings.agent or "",
        )


class KeepIn(Input):
    task: Query
    answer: str
    summary: str
    project: Project = None
    skill: str | None = None
    cache: bool = True
    store: bool = False

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: str, info: ValidationInfo) -> str:
        return checks.text(value, "the decision summary", int((info.context or {})["max_bytes"]))


@operation("run-keep", KeepIn, writes=True)
def keep(ctx: Context, inp: KeepIn) -> Document:
    """After `run`'s model answered: store the decision, then cache the answer (after the
    store: storing a memory invalidates cached answers near it, this one too)."""
    settings = ctx.settings
    scope = ctx.scope(inp.project)
    kept: dict[str, Any] = {"cached": False, "stored": None, "redactions": 0, "degraded": []}
    with ctx.runtimes.use(settings) as rt:
        memory = rt.memory(settings)
        if inp.store:
            tags = [inp.skill, RUN_TAG] if inp.skill else [RUN_TAG]
            result = memory.store_memory(
                inp.summary, MemoryType.decision, tags, scope, agent=settings.agent or ""
            )
            kept["stored"] = result["id"]
        if inp.cache:
            cleaned = redact(inp.answer)
            if len(cleaned.text.encode("utf-8")) > settings.max_content_bytes:
                kept["degraded"].append(
                    {
                        "signal": "cache",
                        "reason": "the answer is over AMBER_MAX_CONTENT_BYTES "
                        f"({settings.max_content_bytes}); not cached",
                    }
                )
            else:
                vector = memory.embed_query(inp.task)
                with memory.write_lock:
                    memory.cache.put(inp.task, cleaned.text, scope, vector)
                kept.update(cached=True, redactions=cleaned.count)
        kept["degraded"].extend(memory.degraded)
    return kept

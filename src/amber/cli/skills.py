"""Skill commands: skills list/show/validate/feedback, and route (skill + memories as one
context for a task)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from amber.cli.options import AgentOpt, Commands, JsonOpt, ProjectOpt, invoke, resolve

skills = Commands()  # the `amber skills …` group
commands = Commands()


@skills("list", example="amber skills list")
def skills_list(as_json: JsonOpt = False) -> None:
    """Every loaded skill and where it came from, and the files that could not be loaded."""
    invoke("skills-list", {}, as_json)


@skills("show", example='amber skills show python-patterns --section "6. FastAPI"')
def skills_show(
    name: Annotated[str, typer.Argument(help="The skill's name.")],
    section: Annotated[
        str | None, typer.Option("--section", help="Only this section (heading text).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """One skill's front matter and instructions, rendered on a terminal."""
    invoke("skills-show", {"name": name, "section": section}, as_json)


@skills("validate", example="amber skills validate skills/")
def skills_validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="SKILL.md files or folders.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check SKILL.md front matter (exit 2 if any skill is invalid)."""
    invoke("skills-validate", {"paths": [str(resolve(p)) for p in paths or []]}, as_json)


@skills("stats", example="amber skills stats")
def skills_stats(as_json: JsonOpt = False) -> None:
    """Per skill: how often it was routed, its feedback, and whether it is valid, shadowed by
    another copy or invalid."""
    invoke("skills-stats", {}, as_json)


@skills(
    "feedback",
    example='amber skills feedback --skill python-patterns --task "add jobs" --outcome success',
)
def skills_feedback(
    skill: Annotated[str, typer.Option("--skill", help="The skill that was used.")],
    task: Annotated[str, typer.Option("--task", help="The task it was used for.")],
    outcome: Annotated[str, typer.Option("--outcome", help="success or failure.")],
    project: ProjectOpt = None,
    agent: AgentOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Teach the router: later tasks like this one lean towards (or away from) the skill."""
    args = {"skill": skill, "task": task, "outcome": outcome, "project": project, "agent": agent}
    invoke("skills-feedback", args, as_json)


@commands("route", example='amber route --task "design a FastAPI service with background jobs"')
def route(
    task: Annotated[str, typer.Option("--task", help="What the agent is about to do.")],
    project: ProjectOpt = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="Memories at most.")] = 5,
    budget_tokens: Annotated[
        int, typer.Option("--budget-tokens", help="Tokens for the whole context.")
    ] = 8000,
    full: Annotated[
        bool, typer.Option("--full", help="The whole skill, not only the sections that bear.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Route a task to a skill and assemble its context: instructions plus memories."""
    args = {
        "task": task,
        "project": project,
        "top_k": top_k,
        "budget_tokens": budget_tokens,
        "full": full,
    }
    invoke("route", args, as_json)

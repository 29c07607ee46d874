"""CLI commands for skills and the orchestrator: skills list/show/validate/feedback, route, run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from amber.cli.options import (
    AgentOpt,
    Commands,
    JsonOpt,
    ProjectOpt,
    cli_settings,
    finish,
    project_scope,
)
from amber.errors import InvalidInput

skills_app = typer.Typer(help="SKILL.md skills: list, show, validate, and teach the router.")
commands = Commands()


@skills_app.command("list")
def skills_list(as_json: JsonOpt = False) -> None:
    """Every loaded skill, and the files that could not be loaded (with why)."""
    from amber.skills import SkillRegistry, default_skill_dirs

    registry = SkillRegistry.load(default_skill_dirs(None, cli_settings().skills_path))
    skills = [
        {
            "name": s.name,
            "description": s.description,
            "path": str(s.path),
            "allowed_tools": s.allowed_tools,
        }
        for s in registry.skills.values()
    ]
    problems = [str(p) for p in registry.problems]
    finish({"skills": skills, "problems": problems}, as_json, found=bool(skills))


@skills_app.command("show")
def skills_show(name: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """One skill's front matter and instructions."""
    from amber.skills import SkillRegistry, default_skill_dirs

    skill = SkillRegistry.load(default_skill_dirs(None, cli_settings().skills_path)).get(name)
    finish(skill.document(), as_json)


@skills_app.command("validate")
def skills_validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="SKILL.md files or folders.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check SKILL.md front matter (exit 2 if any skill is invalid)."""
    from amber.skills import default_skill_dirs, validate_paths

    targets = paths or default_skill_dirs(None, cli_settings().skills_path)
    skills, problems = validate_paths(targets)
    doc = {
        "status": "invalid" if problems else "valid",
        "valid": [s.name for s in skills],
        "problems": [{"path": str(p.path), "line": p.line, "message": p.message} for p in problems],
    }
    finish(doc, as_json)
    if problems:
        raise typer.Exit(2)


@skills_app.command("feedback")
def skills_feedback(
    skill: Annotated[str, typer.Option("--skill", help="The skill that was used.")],
    task: Annotated[str, typer.Option("--task", help="The task it was used for.")],
    outcome: Annotated[str, typer.Option("--outcome", help="success or failure.")],
    project: ProjectOpt = None,
    agent: AgentOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Teach the router: later tasks like this one lean towards (or away from) the skill."""
    from amber.compose import session
    from amber.services.router import record_outcome

    if outcome not in ("success", "failure"):
        raise InvalidInput(f"unknown --outcome {outcome!r}; allowed: success, failure")
    settings = cli_settings()
    with session(settings) as rt:
        rt.registry().get(skill)
        doc = record_outcome(
            rt.memory(),
            skill,
            task,
            outcome == "success",
            project_scope(project),
            agent or settings.agent or "",
        )
    finish(doc, as_json)


@commands()
def route(
    task: Annotated[str, typer.Option("--task", help="What the agent is about to do.")],
    project: ProjectOpt = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100)] = 5,
    budget_tokens: Annotated[
        int, typer.Option("--budget-tokens", min=1, help="Tokens for the whole context.")
    ] = 8000,
    as_json: JsonOpt = False,
) -> None:
    """Route a task to a skill and assemble its context: instructions plus memories."""
    from amber.compose import session

    settings = cli_settings()
    with session(settings) as rt:
        doc = rt.route(task, project_scope(project), top_k, budget_tokens)
    finish(
        doc, as_json, found=doc["skill"]["name"] is not None or doc["auto"]["status"] != "no_match"
    )

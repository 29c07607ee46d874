"""Terminal views of amber's documents, drawn with rich (which typer brings): memories as
panels, --explain as a table of each signal's rank and score, skills as rendered Markdown,
times as dates with their age, sizes in units people read."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

Doc = dict[str, Any]
SKIP = {"schema", "timing_ms"}


def when(value: Any) -> str:
    """An ISO time or epoch seconds as `2026-12-01 14:03 UTC (3 hours ago)`."""
    if value in (None, ""):
        return "never"
    try:
        moment = (
            datetime.fromtimestamp(float(value))
            if isinstance(value, (int, float))
            else datetime.fromisoformat(str(value))
        )
    except ValueError:
        return str(value)
    seconds = time.time() - moment.timestamp()
    ago = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if ago >= size:
            count = int(ago // size)
            age = f"{count} {unit}{'s' if count != 1 else ''}"
            break
    else:
        age = "seconds"
    stamp = moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"{stamp} ({age} {'ago' if seconds >= 0 else 'from now'})"


def size(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "unknown"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"


def _score(signal: Doc | None) -> str:
    if not signal or signal.get("rank") is None:
        return "–"
    return f"#{signal['rank']}  {signal['score']:.3f}"


def _memory_panel(item: Doc) -> Panel:
    tags = ", ".join(item.get("tags") or []) or "no tags"
    title = f"[b]{item.get('type')}[/b]  {item.get('id', '')[:8]}  score {item.get('score')}"
    tags = escape(tags)
    lines = str(item.get("content", "")).splitlines()
    body = "\n".join(lines[:12]) + ("\n…" if len(lines) > 12 else "")
    subtitle = f"{tags} · {when(item.get('created_at'))}"
    return Panel(Text(body), title=title, title_align="left", subtitle=subtitle)


def _explain(console: Console, chunks: list[Doc]) -> None:
    table = Table(title="why each memory ranked where it did", title_justify="left")
    for column in ("#", "id", "fused", "dense rank / cosine", "bm25 rank / score", "content"):
        table.add_column(column)
    for place, item in enumerate(chunks, 1):
        preview = str(item.get("content", "")).splitlines()[0][:50]
        table.add_row(
            str(place),
            item["id"][:8],
            f"{item['score']:.3f}",
            _score(item.get("dense")),
            _score(item.get("bm25")),
            preview,
        )
    console.print(table)


def _memories(console: Console, doc: Doc, key: str, explain: bool = False) -> None:
    chunks = doc.get(key) or []
    for item in chunks:
        console.print(_memory_panel(item))
    if explain and chunks:
        _explain(console, chunks)


def _auto(console: Console, doc: Doc) -> None:
    console.print(f"[b]{doc.get('status')}[/b]")
    if doc.get("cache_hit"):
        console.print(
            Panel(
                Text(str(doc.get("cached_response"))), title=f"cached answer ({doc['cache_score']})"
            )
        )
    _memories(console, doc, "context_chunks")
    skill = doc.get("skill")
    if skill:
        console.print(f"skill: [b]{escape(skill['name'])}[/b] (confidence {skill['confidence']})")


def _retrieve(console: Console, doc: Doc) -> None:
    console.print(f"[b]{doc.get('status')}[/b]: {doc.get('total', 0)} memories")
    _memories(console, doc, "results", explain="fusion" in doc)
    if "fusion" in doc:
        console.print(f"fusion: {json.dumps(doc['fusion'])}")


def _list(console: Console, doc: Doc) -> None:
    table = Table()
    for column in ("id", "type", "created", "tags", "content"):
        table.add_column(column)
    for item in doc.get("memories") or []:
        table.add_row(
            item["id"][:8],
            item["type"],
            when(item.get("created_at")),
            ", ".join(item.get("tags") or []),
            item.get("content_preview", ""),
        )
    console.print(table)
    if doc.get("has_more"):
        console.print(
            f"{doc.get('count')} of {doc.get('total')} matching memories shown: raise --limit"
        )


def _skill(console: Console, doc: Doc) -> None:
    console.print(Text.assemble((str(doc.get("name")), "bold"), " — ", str(doc.get("description"))))
    console.print(Text(str(doc.get("path")), style="dim"))
    console.print(Markdown(str(doc.get("body", ""))))


def _route(console: Console, doc: Doc) -> None:
    skill = doc.get("skill") or {}
    name = skill.get("name") or "no skill fits"
    console.print(f"skill: [b]{escape(name)}[/b] (confidence {skill.get('confidence')})")
    console.print(Markdown(str(doc.get("context", ""))))


def _health(console: Console, doc: Doc) -> None:
    table = Table(show_header=False)
    table.add_column("what")
    table.add_column("value")
    shown = dict(doc)
    shown["size_bytes"] = size(doc.get("size_bytes"))
    for key, value in shown.items():
        if key in SKIP:
            continue
        table.add_row(key, value if isinstance(value, str) else json.dumps(value, default=str))
    console.print(table)


def _generic(console: Console, doc: Doc) -> None:
    for key, value in doc.items():
        if key in SKIP or value in (None, [], {}):
            continue
        if key.endswith(("_at", "_date")):
            value = when(value)
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        console.print(Text.assemble((key, "bold"), ": ", shown), highlight=False)


VIEWS: dict[str, Callable[[Console, Doc], None]] = {
    "auto": _auto,
    "retrieve": _retrieve,
    "list": _list,
    "skills-show": _skill,
    "route": _route,
    "health": _health,
}


def show(doc: Doc, view: str) -> None:
    console = Console(soft_wrap=False)
    VIEWS.get(view, _generic)(console, doc)
    for item in doc.get("degraded") or []:
        console.print(Text.assemble((f"degraded {item['signal']}", "yellow"), ": ", item["reason"]))

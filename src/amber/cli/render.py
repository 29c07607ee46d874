"""Output for people and agents: one JSON document on stdout, or a readable view on a terminal."""

from __future__ import annotations

import json
import sys
from typing import Any


def wants_json(flag: bool) -> bool:
    return flag or not sys.stdout.isatty()


def emit(doc: dict[str, Any], as_json: bool) -> None:
    if wants_json(as_json):
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
        return
    sys.stdout.write(human(doc) + "\n")


def emit_error(payload: dict[str, Any]) -> None:
    sys.stderr.write(json.dumps(payload, ensure_ascii=False) + "\n")


def _chunk_lines(chunks: list[dict[str, Any]]) -> list[str]:
    lines = []
    for c in chunks:
        tags = ", ".join(c.get("tags") or [])
        lines.append(f"- [{c.get('type')}] {c.get('id')}  score {c.get('score')}  tags: {tags}")
        lines.extend(f"    {line}" for line in str(c.get("content", "")).splitlines()[:12])
    return lines


def human(doc: dict[str, Any]) -> str:
    """A plain-text view of any document amber prints."""
    lines: list[str] = []
    if "status" in doc:
        lines.append(f"status: {doc['status']}")
    if doc.get("cache_hit"):
        lines.append(f"cached answer (score {doc.get('cache_score')}):")
        lines.append(str(doc.get("cached_response")))
    if doc.get("context_chunks"):
        lines.extend(_chunk_lines(doc["context_chunks"]))
    if doc.get("results"):
        lines.extend(_chunk_lines(doc["results"]))
    if doc.get("memories"):
        for m in doc["memories"]:
            first = str(m.get("content", "")).splitlines()[0][:100] if m.get("content") else ""
            lines.append(f"{m['id']}  {m['type']:<12} {m['created_at'][:19]}  {first}")
    for key, value in doc.items():
        if key in {
            "status",
            "cache_hit",
            "cached_response",
            "context_chunks",
            "results",
            "memories",
            "schema",
        } or value in (None, [], {}):
            continue
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}")
    return "\n".join(lines)

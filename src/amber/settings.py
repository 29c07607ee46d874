"""Settings, read at the edge from the environment (AMBER_ and ecosystem names)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from amber.errors import InvalidInput


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("amber", appauthor=False))


def _default_cache() -> Path:
    return Path(platformdirs.user_cache_dir("amber", appauthor=False))


class Settings(BaseModel):
    """Every knob, from AMBER_<FIELD> (or the ecosystem name in a field's aliases)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    home: Path = Field(default_factory=_default_home)
    cache_dir: Path = Field(default_factory=_default_cache)  # derived files, safe to delete
    embedder: Literal["auto", "builtin", "ollama"] = "auto"
    agent: str | None = None
    skills_path: str | None = None  # extra skill folders, os.pathsep-separated

    ollama_host: str = Field(
        default="http://127.0.0.1:11434",
        validation_alias=AliasChoices("OLLAMA_HOST", "AMBER_OLLAMA_HOST"),
    )
    ollama_model: str = "nomic-embed-text"
    ollama_timeout: float = Field(default=10.0, gt=0)
    ollama_keep_alive: str = "30m"

    qdrant_url: str | None = Field(
        default=None, validation_alias=AliasChoices("QDRANT_URL", "AMBER_QDRANT_URL")
    )
    qdrant_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("QDRANT_API_KEY", "AMBER_QDRANT_API_KEY"),
        repr=False,
    )
    qdrant_timeout: float = Field(default=10.0, gt=0)
    shard_number: int = Field(default=1, ge=1)
    replication_factor: int = Field(default=1, ge=1)

    lock_timeout: float = Field(default=30.0, ge=0)
    budget_tokens: int = Field(default=2000, ge=1)
    top_k: int = Field(default=5, ge=1, le=100)
    max_content_bytes: int = Field(default=64_000, ge=1)

    bm25_avg_len: float = Field(default=60.0, gt=0)
    fusion: Literal["rrf", "dbsf", "zscore"] = "zscore"
    fusion_depth: int = Field(default=20, ge=3, le=100)
    rrf_k: int = Field(default=60, ge=1)
    dense_weight: float = Field(default=1.0, ge=0)
    bm25_weight: float = Field(default=1.0, ge=0)
    dense_floor: float = Field(default=0.40, ge=-1, le=1)  # benchmarks/calibrate.py
    bm25_floor: float = Field(default=0.5, ge=0, le=1)  # share of query terms in the memory

    cache_threshold: float = Field(default=0.92, ge=0, le=1)
    cache_ttl_days: float = Field(default=7.0, gt=0)
    invalidate_threshold: float = Field(default=0.55, ge=0, le=1)
    near_duplicate_threshold: float = Field(default=0.95, ge=0, le=1)


def variable_names(field: str) -> list[str]:
    """The environment variables a field is read from, first one set wins."""
    info = Settings.model_fields.get(field)
    if info is None:  # an override naming no field
        return [field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [f"AMBER_{field.upper()}"]


def _environment_values(environment: dict[str, str]) -> dict[str, str]:
    values = {}
    for field in Settings.model_fields:
        for name in variable_names(field):
            if name in environment:
                values[field] = environment[name]
                break
    return values


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a malformed value names its variable."""
    if not overrides:
        return _from_environment(tuple(sorted(os.environ.items())))
    return _build({**_environment_values(dict(os.environ)), **overrides})


@functools.lru_cache(maxsize=16)
def _from_environment(environment: tuple[tuple[str, str], ...]) -> Settings:
    """Settings (frozen) for one whole environment: the daemon reads them on every forwarded
    call; the key is the environment itself, so a changed variable of any name is read."""
    return _build(_environment_values(dict(environment)))


def _build(values: dict[str, object]) -> Settings:
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{variable_names(str(err['loc'][0]))[0]}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidInput(
            f"invalid setting in the environment: {problems}",
            hint="fix or unset the variable named above",
        ) from exc

"""Settings, read at the edge from the environment (AMBER_ and ecosystem names)."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from amber import checks, paths
from amber.errors import InvalidInput
from amber.urls import mask_url

DAEMON_MODES = ("auto", "off")
FOLDERS = {"home": "~/.local/share/amber", "cache_dir": "~/.cache/amber"}  # when unset


class Settings(BaseModel):
    """Every knob, from AMBER_<FIELD> (or the ecosystem name in a field's aliases)."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False
    )

    home: Path = Field(description="the data folder (store, logs)")
    cache_dir: Path = Field(description="derived files, safe to delete")
    embedder: Literal["auto", "builtin", "ollama"] = Field(
        "auto", description="embedder of a new store; auto: Ollama if it serves the model"
    )
    agent: str | None = Field(None, description="agent name recorded on writes")
    skills_path: str | None = Field(None, description="extra skill folders, ':'-separated")

    ollama_host: str = Field(
        default="http://127.0.0.1:11434",
        validation_alias=AliasChoices("OLLAMA_HOST", "AMBER_OLLAMA_HOST"),
        description="the Ollama server",
    )
    ollama_model: str = Field("nomic-embed-text", description="Ollama embedding model")
    ollama_timeout: float = Field(10.0, gt=0, le=600, description="seconds per Ollama request")
    ollama_keep_alive: str = Field("30m", description="how long Ollama keeps the model loaded")

    qdrant_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("QDRANT_URL", "AMBER_QDRANT_URL"),
        description="a Qdrant server or cluster instead of the embedded store",
    )
    qdrant_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("QDRANT_API_KEY", "AMBER_QDRANT_API_KEY"),
        repr=False,
        description="the Qdrant server's API key",
    )
    qdrant_timeout: float = Field(10.0, gt=0, le=600, description="seconds per Qdrant request")
    shard_number: int = Field(1, ge=1, le=1024, description="shards of a new server collection")
    replication_factor: int = Field(1, ge=1, le=64, description="replicas of a new collection")

    lock_timeout: float = Field(30.0, ge=0, le=3600, description="seconds to wait for the store")
    budget_tokens: int = Field(2000, ge=1, le=1_000_000, description="auto's token budget")
    max_content_bytes: int = Field(
        64_000, ge=1, le=16_000_000, description="largest memory, cached answer or import line"
    )

    daemon: Literal["auto", "off"] = Field(
        "auto", description="auto: calls go through the store's daemon; off: in-process"
    )
    daemon_idle: float = Field(
        900.0, ge=1, le=86400 * 7, description="idle seconds before the daemon stops"
    )
    index_threshold: int = Field(
        # The index pays off from 10k points in a warm process (benchmarks/index_payoff.py),
        # but the background rebuild does not yet count live points (docs/scaling.md).
        100_000,
        ge=100,
        le=10**9,
        description="stored points at which the daemon builds the HNSW index in the background",
    )
    mcp_token: str | None = Field(
        None, repr=False, description="bearer token of `amber mcp --http` (else one is generated)"
    )
    mcp_allowed_hosts: str | None = Field(
        None, description="extra Host names `amber mcp --http` answers to, comma-separated"
    )
    embed_backoff: float = Field(
        30.0, ge=0, le=3600, description="seconds a failed embedder rests before a retry"
    )

    bm25_avg_len: float = Field(60.0, gt=0, le=100_000, description="BM25 average length")
    fusion: Literal["adaptive", "rrf", "dbsf", "zscore"] = Field(
        "adaptive", description="fusion method (docs/quality.md)"
    )
    fusion_depth: int = Field(20, ge=3, le=100, description="candidates each list brings to fusion")
    rrf_k: int = Field(60, ge=1, le=10_000, description="the RRF constant")
    dense_weight: float = Field(1.0, ge=0, le=100, description="fusion weight of dense")
    bm25_weight: float = Field(1.0, ge=0, le=100, description="fusion weight of BM25")
    dense_floor: float = Field(0.40, ge=-1, le=1, description="cosine a match needs")
    bm25_floor: float = Field(0.5, ge=0, le=1, description="share of query terms a match needs")
    hubness: float = Field(
        0.5,
        ge=0,
        le=2,
        description="dense score less this times a memory's density (mean cosine to its 40 "
        "nearest memories); 0 turns the correction off",
    )
    feedback: float = Field(
        0.5,
        ge=0,
        le=5,
        description="the fused head rescored by similarity to the query and the first memory "
        "fusion found, with this weight; 0 turns the second stage off",
    )
    query_dates: bool = Field(
        True,
        description="a date a query names (yesterday, last week, in May 2023) prefers the "
        "memories stored then; never hides the others",
    )
    recency: float = Field(
        0.0,
        ge=0,
        le=10,
        description="weight of a recency prior on search (in units of the fused scores' "
        "spread); 0 turns it off",
    )
    recency_half_life_days: float = Field(
        30.0, gt=0, le=36_500, description="age in days at which the recency prior halves"
    )

    cache_threshold: float = Field(0.92, ge=0, le=1, description="cosine a cache hit needs")
    cache_ttl_days: float = Field(7.0, gt=0, le=36_500, description="days a cached answer lives")
    invalidate_threshold: float = Field(
        0.55, ge=0, le=1, description="cosine at which a new memory drops a cached answer"
    )
    near_duplicate_threshold: float = Field(
        0.95, ge=0, le=1, description="cosine reported as a near duplicate"
    )

    @field_validator("agent")
    @classmethod
    def _check_agent(cls, value: str | None) -> str | None:
        """The agent name is stored with every write: the same checks as --agent."""
        return None if value is None else checks.name(value, "the agent name")

    @field_validator("embedder", "daemon", "fusion", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        """Choices read like the options' (AMBER_EMBEDDER=Builtin is builtin)."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("home", "cache_dir", mode="before")
    @classmethod
    def _check_set(cls, value: object, info: ValidationInfo) -> object:
        """An empty value is a mistake (a variable cleared, a template not filled in), not a
        wish for the default folder: say so rather than read it as '.' or fall back."""
        if isinstance(value, str) and not value.strip():
            raise ValueError(
                f"is set but empty: unset it to use the default ({FOLDERS[info.field_name]}), "
                "or give an absolute path"
            )
        return value

    @field_validator("home", "cache_dir")
    @classmethod
    def _check_folder(cls, value: Path) -> Path:
        if not value.is_absolute():
            raise ValueError(
                f"{str(value)!r} is a relative path: the store would move with the working "
                "folder; give an absolute one (or ~/...)"
            )
        return value

    @field_validator("ollama_host")
    @classmethod
    def _check_ollama(cls, value: str) -> str:
        return _http_url(value, "an Ollama server", allow_bare_host=True)

    @field_validator("qdrant_url")
    @classmethod
    def _check_qdrant(cls, value: str | None) -> str | None:
        if value is None or value == ":memory:":
            return value
        if not value.strip():
            return None
        return _http_url(value, "a Qdrant server")


def _http_url(value: str, what: str, allow_bare_host: bool = False) -> str:
    """An http(s) URL with a host; Ollama's own `host:port` shorthand is accepted too."""
    text = value.strip()
    if allow_bare_host and "://" not in text:
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"{mask_url(value)!r} is not a URL of {what}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{mask_url(value)!r} is not an http:// or https:// URL of {what}")
    return text


def variable_names(field: str) -> list[str]:
    """The environment variables a field is read from, first one set wins."""
    info = Settings.model_fields.get(field)
    if info is None:  # an override naming no field
        return [field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [f"AMBER_{field.upper()}"]


def _environment_values(environment: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {
        "home": paths.data_home(environment),  # text: an empty value must not become "."
        "cache_dir": paths.cache_home(environment),
    }
    for field in Settings.model_fields:
        if field in values:  # the folders, resolved above like the daemon client does
            continue
        for name in variable_names(field):
            if name in environment:
                values[field] = environment[name]
                break
    return values


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from an environment (default: this process's); a malformed value names
    its variable. The daemon passes each request's own environment."""
    environment = os.environ if environ is None else environ
    if not overrides:
        return _from_environment(tuple(sorted(environment.items())))
    return _build({**_environment_values(environment), **overrides})


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
            f"{variable_names(str(err['loc'][0]))[0]}: {_message(err)}" for err in exc.errors()
        )
        raise InvalidInput(
            f"invalid setting in the environment: {problems}",
            hint="fix or unset the variable named above",
        ) from exc


def _message(error: dict) -> str:
    """pydantic's message, without the echoed value when that may hold a credential."""
    text = str(error["msg"])
    return text.removeprefix("Value error, ")


def _shown(default: object) -> str:
    """A default as a person would type it: `unset`, `true`, `0.5`."""
    if default is None:
        return "unset"
    return str(default).lower() if isinstance(default, bool) else str(default)


def documented() -> list[tuple[str, str, str]]:
    """(variable, default, what it does) for every setting: `amber --help` and README."""
    rows = []
    for field, info in Settings.model_fields.items():
        rows.append(
            (
                variable_names(field)[0],
                FOLDERS.get(field) or _shown(info.default),
                info.description or "",
            )
        )
    return rows

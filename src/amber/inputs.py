"""The typed input of every operation, validated once by the same checks for every front end.

The CLI builds these from its options, the MCP server from tool arguments, the Python API from
keyword arguments; unknown fields are refused and every problem is an InvalidInput (exit 2)
that names the field. The models' JSON schemas are what MCP clients are shown.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from amber import checks
from amber.errors import InvalidInput
from amber.models import MEMORY_TYPES

MemoryTypeName = Literal["decision", "code", "error", "conversation", "technical", "knowledge"]


def _choice(what: str, allowed: tuple[str, ...]) -> BeforeValidator:
    """One of `allowed`, in any case (`DENSE`, `Failure`), as its lower-case spelling, like
    --type; None is left to the field's type (refused unless the field is optional)."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        word = value.strip().lower() if isinstance(value, str) else value
        if word not in allowed:
            raise ValueError(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")
        return word

    return BeforeValidator(check)


Mode = Annotated[Literal["hybrid", "dense", "bm25"], _choice("mode", ("hybrid", "dense", "bm25"))]
Outcome = Annotated[Literal["success", "failure"], _choice("outcome", ("success", "failure"))]
EmbedderName = Annotated[
    Literal["builtin", "ollama"] | None, _choice("embedder", ("builtin", "ollama"))
]


def _types(value: Any) -> list[str]:
    if value is not None and not isinstance(value, (str, list, tuple)):
        raise ValueError(
            f"types must be a list of strings or one string, not {type(value).__name__}"
        )
    raw = [value] if isinstance(value, str) else list(value or [])
    out: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise ValueError("a type must be text")
        for part in item.split(","):
            part = part.strip().lower()
            if part and part not in MEMORY_TYPES:
                raise ValueError(f"unknown type {part!r}; allowed: {', '.join(MEMORY_TYPES)}")
            if part and part not in out:
                out.append(part)
    return out


def _one_type(value: Any) -> str:
    found = _types(value)
    if len(found) != 1:
        raise ValueError(f"store takes exactly one --type; allowed: {', '.join(MEMORY_TYPES)}")
    return found[0]


def _named(what: str, value: Any) -> Any:
    """A one-line name (None passes): the shared start of the name-like validators."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text")
    return checks.name(value, what)


def _name(what: str) -> BeforeValidator:
    return BeforeValidator(lambda value: _named(what, value))


def _memory_id(what: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        text = _named(what, value)
        if text is not None and not checks.is_memory_id(text):
            raise ValueError(
                f"{text!r} is not a memory id: ids are whole UUIDs, as `amber list` shows them"
            )
        return text

    return BeforeValidator(check)


def _moment(what: str) -> BeforeValidator:
    return BeforeValidator(lambda value: checks.moment(value, what, end=what == "until"))


def _days(what: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{what} must be a number of days")
        return checks.days(float(value), what)

    return BeforeValidator(check)


def _query(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be text")
    if len(value) > checks.MAX_QUERY_CHARS:
        raise ValueError(
            f"the query is {len(value)} characters, over the limit of {checks.MAX_QUERY_CHARS}: "
            f"{checks.SUMMARISE}"
        )
    return checks.text(
        value,
        "the query",
        checks.MAX_QUERY_CHARS * 4,
        checks.SUMMARISE,
    )


Tags = Annotated[
    list[str], BeforeValidator(checks.tags), Field(description='e.g. ["python-patterns", "db"]')
]
Types = Annotated[list[str], BeforeValidator(_types), Field(description="memory types")]
Project = Annotated[
    str | None,
    _name("the project"),
    Field(description='Project scope; omit for the enclosing git repository, "" for shared.'),
]
Agent = Annotated[str | None, _name("the agent"), Field(description="Agent name.")]
Key = Annotated[str | None, _name("the key"), Field(description="Supersedes the same key.")]
Query = Annotated[str, BeforeValidator(_query), Field(description="What to look for.")]
Since = Annotated[
    float | None,
    _moment("since"),
    Field(description=f"Only memories from then on: 2026-11-01, or an age: {checks.AGES}."),
]
Until = Annotated[
    float | None, _moment("until"), Field(description="Only memories until then (same forms).")
]


def _not_bool(value: Any) -> Any:
    """pydantic reads true as 1 for a number; a boolean there is a mistake (`top_k: true`).
    Numbers and digit strings pass on to the field's own checks."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


Number = BeforeValidator(_not_bool)  # after the Field: its bounds stay in the JSON schema
TopK = Annotated[int, Field(ge=1, le=100, description="How many memories at most."), Number]
Budget = Annotated[int | None, Field(ge=1, le=1_000_000, description="Token budget."), Number]
Weight = Annotated[float | None, Field(ge=0, le=100, allow_inf_nan=False), Number]
Floor = Annotated[float | None, Field(ge=-1, le=1, allow_inf_nan=False), Number]
Scope = Annotated[
    str | None, _name("the scope"), Field(description="A wing or room: becomes a tag.")
]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Filters(Input):
    """What every search and listing shares: scope, types, tags, agent, time."""

    project: Project = None
    types: Types = Field(default_factory=list)
    tags: Tags = Field(default_factory=list)
    agent: Agent = None
    wing: Scope = None
    room: Scope = None
    since: Since = None
    until: Until = None

    @field_validator("until")
    @classmethod
    def _after_since(cls, value: float | None, info: ValidationInfo) -> float | None:
        checks.time_range(info.data.get("since"), value)
        return value


def _some_weight(value: float | None, info: ValidationInfo) -> float | None:
    """Zero for both signals would rank every memory alike: refused, not answered."""
    if value == 0 and info.data.get("vector_weight") == 0:
        raise ValueError(
            "it and vector_weight are both 0, which ranks nothing: give one of them a weight "
            "above 0 (or use --mode dense / --mode bm25 for one signal)"
        )
    return value


class AutoIn(Filters):
    query: Query
    top_k: TopK = 5
    budget_tokens: Budget = None
    exclude_agent: Agent = None
    threshold: Annotated[float | None, Field(ge=0, le=1, allow_inf_nan=False), Number] = Field(
        None, description="Cache similarity needed for a hit (0.92)."
    )
    vector_weight: Weight = None
    text_weight: Weight = None
    _weights = field_validator("text_weight")(_some_weight)


class RetrieveIn(Filters):
    query: Query
    top_k: TopK = 5
    all_projects: bool = False
    mode: Mode = "hybrid"
    explain: bool = False
    threshold: Floor = Field(None, description="Dense similarity floor for a match.")
    vector_weight: Weight = None
    text_weight: Weight = None
    _weights = field_validator("text_weight")(_some_weight)
    why_not: Annotated[str | None, _memory_id("why_not")] = None
    budget_tokens: Budget = None


class StoreIn(Input):
    content: str
    type: Annotated[MemoryTypeName, BeforeValidator(_one_type)] = "decision"
    tags: Tags = Field(default_factory=list)
    project: Project = None
    agent: Agent = None
    key: Key = None
    expire_days: Annotated[float | None, _days("expire_days")] = None
    allow_secrets: bool = False
    wing: Scope = None
    room: Scope = None
    resolve_contradictions: bool = False
    compress_aaak: bool = False

    @field_validator("content")
    @classmethod
    def _content(cls, value: str, info: ValidationInfo) -> str:
        return checks.text(value, "content", _limit(info))


class CacheStoreIn(Input):
    query: Query
    response: str
    project: Project = None
    ttl_days: Annotated[float | None, _days("ttl_days")] = None
    model: Annotated[str | None, _name("the model")] = None

    @field_validator("response")
    @classmethod
    def _response(cls, value: str, info: ValidationInfo) -> str:
        return checks.text(value, "response", _limit(info))


class CacheClearIn(Input):
    project: Project = None
    older_than_days: Annotated[float | None, _days("older_than_days")] = None
    all_projects: bool = False


class ListIn(Filters):
    limit: Annotated[int, Field(ge=1, le=100_000), Number] = 20
    all_projects: bool = False
    history: bool = False


class GetIn(Input):
    id: Annotated[str, _name("the id")]


class ForgetIn(Input):
    ids: Annotated[list[Annotated[str, _name("an id")]], Field(max_length=10_000)] = Field(
        default_factory=list
    )
    types: Types = Field(default_factory=list)
    tags: Tags = Field(default_factory=list)
    project: Project = None
    agent: Agent = None
    all: bool = False
    dry_run: bool = False


class RouteIn(Input):
    task: Query
    project: Project = None
    top_k: TopK = 5
    budget_tokens: Annotated[int, Field(ge=1, le=1_000_000), Number] = 8000
    full: bool = False


class FeedbackIn(Input):
    skill: Annotated[str, _name("the skill")]
    task: Query
    outcome: Outcome
    project: Project = None
    agent: Agent = None


class Empty(Input):
    pass


def _limit(info: ValidationInfo) -> int:
    """The content size limit of this call's settings (AMBER_MAX_CONTENT_BYTES)."""
    return int((info.context or {}).get("max_bytes", 64_000))


def parse(model: type[Input], args: dict[str, Any], max_bytes: int = 64_000) -> Any:
    """Validate `args` as `model`; every problem becomes one InvalidInput naming the fields."""
    try:
        return model.model_validate(args, context={"max_bytes": max_bytes})
    except ValidationError as exc:
        raise InvalidInput(_describe(exc), hint=_hint(exc)) from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in error["loc"]) or "input"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown argument"
        spoken = field.replace("_", " ")
        said = spoken in message or field in message
        parts.append(message if said else f"{field}: {message}")
    return "invalid input: " + "; ".join(parts[:5])


def _hint(exc: ValidationError) -> str:
    if any(e["type"] == "extra_forbidden" for e in exc.errors()):
        return "remove the arguments this operation does not take; see its schema or --help"
    fields = dict.fromkeys(".".join(str(p) for p in e["loc"]) or "input" for e in exc.errors())
    named = ", ".join(list(fields)[:5])
    return f"fix {named}: the command's --help (or the MCP tool's schema) says what it takes"

"""The compact framing of a forwarded CLI call, standard library only and without json: an
agent's call through the shim pays for every module it imports, and `json` (with `re`) was
the largest part of the client's start.

A request is a header line `AMBER-ARGV <protocol> <version> <payload bytes>` followed by the
payload: length-prefixed fields (`<n>:<bytes>,`), strings as UTF-8 with surrogateescape, so
argv bytes that are not UTF-8 reach the daemon exactly as Python decoded them. The answer is
`AMBER-RESULT <code> <stdout bytes> <stderr bytes>` and the two outputs.
"""

from __future__ import annotations

MAGIC = b"AMBER-ARGV"
RESULT = b"AMBER-RESULT"
REFUSED = b"AMBER-REFUSED"  # the daemon runs other code and is stopping


def _field(value: str | bytes) -> bytes:
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")
    return str(len(raw)).encode() + b":" + raw + b","


def encode_argv(
    version: str,
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    tty: bool,
    columns: int,
    stdin: bytes | None,
) -> bytes:
    parts = [_field(cwd), _field("1" if tty else "0"), _field(str(columns))]
    parts.append(_field("-") if stdin is None else _field(b"+" + stdin))
    parts.append(_field(str(len(env))))
    for key, value in env.items():
        parts += [_field(key), _field(value)]
    parts.append(_field(str(len(argv))))
    parts += [_field(item) for item in argv]
    payload = b"".join(parts)
    return b"%s 2 %s %d\n" % (MAGIC, version.encode(), len(payload)) + payload


class FrameError(ValueError):
    """A compact request that does not parse: the message says where."""


def _fields(payload: bytes) -> list[bytes]:
    out, at = [], 0
    while at < len(payload):
        colon = payload.find(b":", at, at + 12)
        if colon < 0 or not payload[at:colon].isdigit():
            raise FrameError(f"a field length is missing at byte {at}")
        size = int(payload[at:colon])
        end = colon + 1 + size
        if end >= len(payload) + 1 or payload[end : end + 1] != b",":
            raise FrameError(f"a field at byte {at} runs past the request")
        out.append(payload[colon + 1 : end])
        at = end + 1
    return out


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _count(raw: bytes, what: str, most: int) -> int:
    if not raw.isdigit() or int(raw) > most:
        raise FrameError(f"the {what} count is not a number up to {most}")
    return int(raw)


def decode_argv(header: bytes, payload: bytes, most: int) -> dict[str, object]:
    """The request as the JSON protocol would carry it, for the one request check."""
    words = header.split()
    if len(words) != 4 or words[0] != MAGIC:
        raise FrameError("the request header is malformed")
    fields = _fields(payload)
    if len(fields) < 5:
        raise FrameError("the request has too few fields")
    cwd, tty, columns, stdin, env_count = fields[:5]
    pairs = _count(env_count, "environment", most)
    rest = fields[5:]
    if len(rest) < 2 * pairs + 1:
        raise FrameError("the environment runs past the request")
    env = {_text(rest[2 * i]): _text(rest[2 * i + 1]) for i in range(pairs)}
    rest = rest[2 * pairs :]
    args = _count(rest[0], "argument", most)
    if len(rest) != args + 1:
        raise FrameError("the argument count does not match the arguments sent")
    return {
        "kind": "argv",
        "version": _text(words[2]),
        "cwd": _text(cwd),
        "tty": tty == b"1",
        "columns": int(columns) if columns.isdigit() else 0,
        "stdin_bytes": None if stdin == b"-" else stdin[1:],
        "env": env,
        "argv": [_text(item) for item in rest[1:]],
    }


def encode_result(code: int, stdout: str, stderr: str) -> bytes:
    out = stdout.encode("utf-8", "surrogateescape")
    err = stderr.encode("utf-8", "surrogateescape")
    return b"%s %d %d %d\n" % (RESULT, code, len(out), len(err)) + out + err


def decode_result(data: bytes) -> tuple[int, bytes, bytes]:
    """(exit code, stdout bytes, stderr bytes); FrameError when the answer is cut off."""
    line, _, body = data.partition(b"\n")
    words = line.split()
    numbers = words[1:]
    if len(words) != 4 or words[0] != RESULT or not all(w.lstrip(b"-").isdigit() for w in numbers):
        raise FrameError("the answer header is malformed")
    code, n_out, n_err = (int(w) for w in words[1:])
    if len(body) != n_out + n_err:
        raise FrameError("the answer was cut off")
    return code, body[:n_out], body[n_out:]

"""Build small BEIR-format dev sets from real text unlike SciFact, to check fusion defaults.

    python benchmarks/devsets.py code OUT_DIR   # docstring summary -> function body (stdlib)

`code`: every function in a fixed list of standard-library modules whose docstring's first
sentence has at least five words becomes a query (that sentence) and a document (the function's
source with its docstring removed). Natural language against code favours the dense signal,
the opposite of SciFact, so a fusion default must hold on both.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import random
import re
import sys
from pathlib import Path

MODULES = [
    "argparse",
    "asyncio.base_events",
    "asyncio.streams",
    "base64",
    "calendar",
    "configparser",
    "csv",
    "difflib",
    "email.message",
    "email.utils",
    "ftplib",
    "gettext",
    "gzip",
    "http.client",
    "http.cookiejar",
    "imaplib",
    "inspect",
    "ipaddress",
    "logging",
    "logging.handlers",
    "mailbox",
    "os",
    "pathlib",
    "pickle",
    "pkgutil",
    "platform",
    "poplib",
    "pprint",
    "shutil",
    "smtplib",
    "socket",
    "ssl",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "tokenize",
    "traceback",
    "urllib.parse",
    "urllib.request",
    "uuid",
    "zipfile",
    "json.decoder",
    "json.encoder",
    "datetime",
    "fractions",
    "decimal",
    "heapq",
    "bisect",
    "functools",
    "collections",
    "enum",
    "dataclasses",
    "typing",
    "glob",
    "fnmatch",
]


def _summary(doc: str) -> str:
    first = re.split(r"(?<=[.!?])\s|\n\s*\n", doc.strip(), maxsplit=1)[0]
    return " ".join(first.split())


def _strip_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef, source: str) -> str:
    lines = source.splitlines()
    body = node.body[0]
    start, end = body.lineno - node.lineno, body.end_lineno - node.lineno  # type: ignore[operator]
    return "\n".join(lines[:start] + lines[end + 1 :])


def code_pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for name in MODULES:
        module = importlib.import_module(name)
        try:
            source = inspect.getsource(module)
        except (OSError, TypeError):
            continue
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            doc = ast.get_docstring(node)
            if not doc or node.name.startswith("__"):
                continue
            query = _summary(doc)
            text = _strip_docstring(node, ast.get_source_segment(source, node) or "")
            if len(query.split()) >= 5 and len(text.split()) >= 8:
                pairs.append((f"{name}.{node.name}:{node.lineno}", query, text))
    return pairs


def write_beir(out: Path, pairs: list[tuple[str, str, str]], queries: int, seed: int = 7) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "qrels").mkdir(exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for doc_id, _query, text in pairs:
            handle.write(json.dumps({"_id": doc_id, "title": "", "text": text}) + "\n")
    chosen = random.Random(seed).sample(pairs, min(queries, len(pairs)))
    with (
        (out / "queries.jsonl").open("w", encoding="utf-8") as q,
        (out / "qrels" / "test.tsv").open("w", encoding="utf-8") as r,
    ):
        r.write("query-id\tcorpus-id\tscore\n")
        for number, (doc_id, query, _text) in enumerate(chosen):
            q.write(json.dumps({"_id": f"q{number}", "text": query}) + "\n")
            r.write(f"q{number}\t{doc_id}\t1\n")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "code":
        sys.stderr.write(__doc__ or "")
        return 2
    pairs = code_pairs()
    write_beir(Path(argv[1]), pairs, queries=300)
    sys.stderr.write(f"wrote {len(pairs)} documents and {min(300, len(pairs))} queries\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Redaction measured on the labelled set in tests/secret_cases.py: recall and false positives.

    .venv/bin/python benchmarks/redaction.py            # tables by kind and by form, targets
    .venv/bin/python benchmarks/redaction.py --json     # the same figures as one JSON document
    .venv/bin/python benchmarks/redaction.py --seeds 20 # also: the same shapes, 20 other draws

A secret counts as caught when something was redacted and no recognisable piece of it is left
(zero-width and fullwidth tricks undone before looking); a look-alike counts as a false
positive when its text changes at all. Targets: recall >= 95 %, false positives <= 2 %.

When `detect_secrets` is importable (it is not a dependency; e.g. PYTHONPATH pointing at a
scratch venv that has `pip install detect-secrets`), its default plugins are measured on the
same cases, each case scanned as a file the way its CLI does: `values` replaces the secret
values it reports, `lines` drops every line it flags (the most it could hide).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from amber.redact import redact  # noqa: E402
from tests.secret_cases import LOOKALIKES, SECRETS, SEED, Case, build, caught, untouched  # noqa: E402

RECALL_TARGET, FALSE_POSITIVE_TARGET = 0.95, 0.02


@dataclass(frozen=True)
class Outcome:
    text: str
    count: int


Redactor = Callable[[str], Any]


def score(redactor: Redactor) -> dict[str, Any]:
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_form: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed, altered = [], []
    for case in SECRETS:
        hit = caught(case, redactor)
        for table, key in ((by_kind, case.kind), (by_form, case.form)):
            table[key][0] += 1
            table[key][1] += hit
        if not hit:
            missed.append(case)
    look_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in LOOKALIKES:
        changed = not untouched(case, redactor)
        look_kind[case.kind][0] += 1
        look_kind[case.kind][1] += changed
        if changed:
            altered.append(case)
    return {
        "secrets": len(SECRETS),
        "kinds": len(by_kind),
        "lookalikes": len(LOOKALIKES),
        "recall": 1 - len(missed) / len(SECRETS),
        "false_positive_rate": len(altered) / len(LOOKALIKES),
        "recall_by_kind": {k: {"n": n, "caught": c} for k, (n, c) in sorted(by_kind.items())},
        "recall_by_form": {k: {"n": n, "caught": c} for k, (n, c) in sorted(by_form.items())},
        "false_positives_by_kind": {
            k: {"n": n, "altered": a} for k, (n, a) in sorted(look_kind.items())
        },
        "missed": [_show(c) for c in missed],
        "altered": [_show(c) for c in altered],
    }


def _show(case: Case) -> dict[str, str]:
    return {"kind": case.kind, "form": case.form, "text": case.text[:120]}


def detect_secrets_redactors() -> dict[str, Redactor] | None:
    """detect-secrets' default plugins as two redactors, or None when it is not installed."""
    try:
        from detect_secrets import SecretsCollection
        from detect_secrets.settings import default_settings
    except ImportError:
        return None
    folder = Path(tempfile.mkdtemp(prefix="amber-redaction-"))

    def findings(text: str) -> list[tuple[int, str]]:
        path = folder / "memory.txt"
        path.write_text(text, encoding="utf-8")
        with default_settings():
            found = SecretsCollection()
            found.scan_file(str(path))
        return [(s.line_number, s.secret_value or "") for f in found.files for s in found[f]]

    def by_value(text: str) -> Outcome:
        hits = findings(text)
        for _, value in hits:
            if value:
                text = text.replace(value, "[REDACTED]")
        return Outcome(text, len(hits))

    def by_line(text: str) -> Outcome:
        hits = findings(text)
        flagged = {line for line, _ in hits}
        kept = [line for i, line in enumerate(text.split("\n"), 1) if i not in flagged]
        return Outcome("\n".join(kept), len(hits))

    return {"values": by_value, "lines": by_line}


def speed() -> dict[str, float]:
    """Median time per labelled case, and the slowest of some hostile 64 KB memories."""
    cases = [c.text for c in SECRETS + LOOKALIKES]
    per_case = []
    for text in cases * 3:
        start = time.perf_counter()
        redact(text)
        per_case.append(time.perf_counter() - start)
    size = 64_000
    hostile = [
        unit * (size // len(unit))
        for unit in ("token ", "key", "a-", "sk-", "password: x ", "--password ", "\t", "A")
    ]
    hostile.append("\n".join(case.text for case in SECRETS)[:size])
    worst = 0.0
    for text in hostile:
        start = time.perf_counter()
        redact(text)
        worst = max(worst, time.perf_counter() - start)
    return {"median_us_per_case": 1e6 * statistics.median(per_case), "worst_64kb_ms": 1e3 * worst}


def pct(x: float) -> str:
    return f"{100 * x:5.1f} %"


def table(result: dict[str, Any], others: dict[str, dict[str, Any]]) -> list[str]:
    names = ["amber", *(f"ds {k}" for k in others)]
    head = f"{'kind':24} {'n':>3}  " + "  ".join(f"{n:>9}" for n in names)
    lines = [head, "-" * len(head)]
    for kind, row in result["recall_by_kind"].items():
        cells = [f"{row['caught']:>4}/{row['n']:<4}"]
        cells += [
            f"{o['recall_by_kind'][kind]['caught']:>4}/{row['n']:<4}" for o in others.values()
        ]
        lines.append(f"{kind:24} {row['n']:>3}  " + "  ".join(f"{c:>9}" for c in cells))
    lines += ["", f"{'form':24} {'n':>3}  " + "  ".join(f"{n:>9}" for n in names)]
    for form, row in result["recall_by_form"].items():
        cells = [f"{row['caught']:>4}/{row['n']:<4}"]
        cells += [
            f"{o['recall_by_form'][form]['caught']:>4}/{row['n']:<4}" for o in others.values()
        ]
        lines.append(f"{form:24} {row['n']:>3}  " + "  ".join(f"{c:>9}" for c in cells))
    lines += ["", f"{'look-alike kind':24} {'n':>3}  " + "  ".join(f"{n:>9}" for n in names)]
    for kind, row in result["false_positives_by_kind"].items():
        cells = [f"{row['altered']:>4}/{row['n']:<4}"]
        cells += [
            f"{o['false_positives_by_kind'][kind]['altered']:>4}/{row['n']:<4}"
            for o in others.values()
        ]
        lines.append(f"{kind:24} {row['n']:>3}  " + "  ".join(f"{c:>9}" for c in cells))
    lines += [""]
    for name, r in [("amber", result), *((f"detect-secrets {k}", o) for k, o in others.items())]:
        lines.append(
            f"{name:24} recall {pct(r['recall'])}   false positives {pct(r['false_positive_rate'])}"
        )
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--seeds", type=int, default=0, help="also score N other draws")
    args = parser.parse_args(argv)
    draws = []
    for seed in range(1, args.seeds + 1):
        build(seed)  # refills SECRETS and LOOKALIKES in place
        r = score(redact)
        draws.append(
            {"seed": seed, "recall": r["recall"], "false_positive_rate": r["false_positive_rate"]}
        )
    build(SEED)
    result = score(redact)
    timing = speed()
    rivals = detect_secrets_redactors()
    others = {name: score(fn) for name, fn in (rivals or {}).items()}
    met = {
        "recall": result["recall"] >= RECALL_TARGET,
        "false_positives": result["false_positive_rate"] <= FALSE_POSITIVE_TARGET,
    }
    if args.json:
        doc = {"amber": result, "targets_met": met, "detect_secrets": others or None}
        doc["other_draws"] = draws
        doc["speed"] = timing
        print(json.dumps(doc, indent=1))
        return 0 if all(met.values()) else 1
    print(
        f"labelled set: {result['secrets']} secrets of {result['kinds']} kinds, "
        f"{result['lookalikes']} look-alikes (tests/secret_cases.py)\n"
    )
    print("\n".join(table(result, others)))
    print(
        f"speed: median {timing['median_us_per_case']:.0f} us per case; slowest hostile 64 KB "
        f"memory {timing['worst_64kb_ms']:.0f} ms"
    )
    if rivals is None:
        print("detect-secrets      not importable: no comparison (see this file's docstring)")
    if draws:
        recalls = [d["recall"] for d in draws]
        rates = [d["false_positive_rate"] for d in draws]
        print(
            f"{len(draws)} other draws (seeds 1-{len(draws)}): recall mean "
            f"{pct(sum(recalls) / len(draws))}, worst {pct(min(recalls))}; false positives mean "
            f"{pct(sum(rates) / len(draws))}, worst {pct(max(rates))}"
        )
    for case in result["missed"]:
        print(f"  missed  {case['kind']:20} {case['text']!r}")
    for case in result["altered"]:
        print(f"  altered {case['kind']:20} {case['text']!r}")
    print(
        f"\ntargets: recall >= {pct(RECALL_TARGET).strip()} "
        f"{'met' if met['recall'] else 'NOT met'}; false positives <= "
        f"{pct(FALSE_POSITIVE_TARGET).strip()} {'met' if met['false_positives'] else 'NOT met'}"
    )
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Requests to amber's shared memory itself, told apart from tasks that only use its words.

"Remember that staging deploys need approval" is a request to the memory whatever its topic
(whose words would route it to the topic's skill); "remember to close the file" and "record the
decision in the ADR" are not. English, with the commonest "remember that" of a few other
languages.
"""

from __future__ import annotations

import re

MEMORY_SKILL = "amber-memory"  # the shipped skill on using amber itself
REQUEST_CONFIDENCE = 0.8  # a memory request's confidence in the memory skill (a rule, not a fit)

# Remember or note something for other agents, or ask what was decided or seen before.
_DECIDED = r"(?:decide|decided|choose|chose|chosen|agree|agreed|settle|settled|pick|picked)"
_BEFORE = (
    r"(?:earlier|before|previous(?:ly)?|prior|already|in the past"
    r"|last (?:week|month|time|sprint|year))"
)
_MEMORY_REQUEST = re.compile(
    r"(?i)^\W*(?:(?:please|can you|could you)\s+)?(?:"
    r"(?:remember|memori[sz]e|make a note|note down|note for|jot down)\b(?!\s+to\b)"
    r"|(?:store|save|record|log|keep|write down)\s+(?:(?:this|that|the|our|a|my)\s+)?"
    r"(?:decision|choice|lesson|conclusion)s?\b"
    r"|recall\b(?=.*\b(?:we|decid\w*|decision|chose|choice|agreed|earlier|before|last)\b)"
    r"|(?:what|which|how|why|when)\s+(?:did|have|had)\s+(?:we|you|i|they|the team"
    rf"|(?:the\s+)?(?:earlier|previous|other)\s+agents)\s+(?:already\s+)?{_DECIDED}\b"
    rf"|(?:did|have)\s+we\s+(?:already\s+|ever\s+)?{_DECIDED}\b"
    r"|what\s+(?:was|were|is|are)\s+(?:our|the team's)\s+"
    r"(?:decision|choice|conclusion|agreement|convention|rule)s?\b"
    r"|keep in mind\b|what do (?:you|we) (?:know|remember) about\b"
    r"|have we (?:already\s+|ever\s+)?(?:seen|hit|had|met|fixed|solved|handled) (?:this|that|it)\b"
    r"|did (?:anyone|anybody|someone|we|an?(?:other| earlier| previous) agent)\s+(?:already\s+)?"
    r"(?:figure|find|found|fix|fixed|solve|solved|decide|decided|look into)\b"
    r"|ricorda(?:ti)? che|recuerda que|souviens-toi|rappelle-toi|merk dir|denk daran|запомни"
    r"|lembre-se"
    r"|(?:tell|remind|let|make sure|pass (?:this|it) on to|leave a note for)\b"
    r".*\b(?:future|next|later|other)\s+(?:agents?|sessions?)\b"
    r"|remind whoever\b|note that\b|save (?:this\s+)?for later\b"
    r"|kom ihåg att|onthoud dat|qué decidimos|wat hebben we\b.*\bbesloten"
    r"|was haben wir\b.*\bentschieden|qu'avons-nous décidé"
    r")|\bfor\s+(?:the\s+)?(?:other|future|next|later)\s+agents?\b"
    # a past decision asked about: decided / agreed ... earlier, already, previously, last week
    r"|\b(?:decided|agreed|concluded|settled|chose|chosen|rejected)\b.*\b" + _BEFORE + r"\b"
    r"|\b" + _BEFORE + r"\b.*\b(?:decided|agreed|concluded|settled|chose|chosen|rejected|decisions?"
    r"|conclusions?|conclude|settle)\b"
    r"|\b(?:shared|amber'?s?)\s+(?:memory|knowledge)\b|\bforget the memor(?:y|ies)\b"
    r"|\b(?:anything|something)\s+(?:stored|saved|recorded|remembered)\s+(?:about|on)\b"
    r"|\bfor\s+(?:future|later)\s+sessions?\b|\bfor\s+(?:the\s+)?next\s+time\b"
)
# A reminder to do something is not a request to the memory: "remember to close the file".
_REMINDER = re.compile(r"(?i)^\W*(?:please\s+)?(?:remember|don't forget|do not forget) to\b")


# ... unless it names another place to keep it: "record the decision in an ADR".
_ELSEWHERE = re.compile(
    r"(?i)\b(?:in|into|to)\s+(?:an?|the|our|my)\s+(?:adr|doc|docs|document|wiki|readme"
    r"|changelog|file|ticket|issue|page|spreadsheet|notebook|calendar|commit message)\b"
)


def asks_memory(task: str) -> bool:
    """Is the task a request to amber's shared memory (see `_MEMORY_REQUEST`)?"""
    return _MEMORY_REQUEST.search(task) is not None and _ELSEWHERE.search(task) is None


def reminds(task: str) -> bool:
    """Is the task a reminder to do something ("remember to …"), not a request to the memory?"""
    return _REMINDER.search(task) is not None

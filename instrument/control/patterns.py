"""OSC 1.0 address patterns: a message to /mix/* or /mix/{bible,austen} reaches every parameter
whose address matches, as the OSC 1.0 specification asks of a server.

    ?        one character other than /
    *        any run of characters other than /
    [abc]    one of the characters; [a-c] a range; [!abc] none of them
    {a,b}    one of the words

Patterns are compiled to regular expressions, with limits that keep a hostile pattern cheap: at
most MAX_LENGTH characters and MAX_STARS stars (each star is a loop the matcher may retry; a
dozen of them against a long address would take it minutes).
"""
from __future__ import annotations

import functools
import re

SPECIAL = set("*?[]{}")
MAX_LENGTH = 256
MAX_STARS = 8


class PatternError(ValueError):
    """An address pattern that is malformed or too costly; says which."""


def is_pattern(address: str) -> bool:
    return any(c in SPECIAL for c in address)


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern:
    """The regular expression of an OSC address pattern, or PatternError."""
    if len(pattern) > MAX_LENGTH:
        raise PatternError(f"an address pattern of {len(pattern)} characters (at most {MAX_LENGTH})")
    if pattern.count("*") > MAX_STARS:
        raise PatternError(f"an address pattern with {pattern.count('*')} stars (at most {MAX_STARS})")
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "?":
            out.append("[^/]")
        elif c == "*":
            out.append("[^/]*")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise PatternError(f"'[' without ']' in {pattern[:60]!r}")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            if not body:
                raise PatternError(f"an empty [] in {pattern[:60]!r}")
            chars = "".join(re.escape(ch) if ch != "-" else "-" for ch in body)
            out.append(f"[{'^' if negate else ''}{chars}]")
            i = end
        elif c == "{":
            end = pattern.find("}", i + 1)
            if end < 0:
                raise PatternError(f"'{{' without '}}' in {pattern[:60]!r}")
            words = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(re.escape(w) for w in words) + ")")
            i = end
        elif c in "]}":
            raise PatternError(f"a '{c}' without its opening in {pattern[:60]!r}")
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out))
    except re.error as e:  # a range such as [z-a]
        raise PatternError(f"{pattern[:60]!r}: {e}") from None


def matching(pattern: str, addresses) -> list[str]:
    """The addresses a pattern matches, in their order."""
    regex = compile_pattern(pattern)
    return [a for a in addresses if regex.fullmatch(a)]

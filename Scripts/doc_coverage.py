#!/usr/bin/env python3
"""Share of public declarations with a `///` (or `/** */`) doc comment, per Swift module.

Usage: python3 Scripts/doc_coverage.py [--list] [MODULE ...]   (default: every module under Sources/)

A declaration counts when a library user can see it: a `public`/`open` type, func, init,
subscript, var/let, typealias or case, a case of a public enum, a requirement of a public
protocol, and a member of a `public extension` without its own access modifier. Members of
non-public types and anything inside a function body are skipped. Attributes (`@inlinable`)
may sit between the comment and the declaration; a blank line may not.

The same rules are enforced by Tests/VisionAttentionTests/DocumentationCoverageTests.swift;
keep the two in step.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODIFIERS = (r"(?:public|open|internal|private|fileprivate|package|static|class|final|override|"
             r"mutating|nonmutating|convenience|required|lazy|weak|unowned|nonisolated|indirect|"
             r"dynamic|optional|prefix|postfix|infix|consuming|borrowing|distributed)"
             r"(?:\(\w+\))?")
KEYWORDS = ("struct|class|enum|protocol|actor|func|init|subscript|var|let|typealias|case|"
            "associatedtype|extension")
DECL = re.compile(r"^(?:@[\w.]+(?:\([^()]*\))?\s+)*((?:" + MODIFIERS + r"\s+)*)(" + KEYWORDS + r")\b")
TYPE_KINDS = {"struct", "class", "enum", "protocol", "actor", "extension"}


def code_lines(text):
    """Each line with comments removed and string literals emptied, so braces can be counted."""
    out, line = [], []
    i, n = 0, len(text)
    # Stack of lexer states: "code" (with paren depth for interpolation), "str", "mstr", "block".
    stack = [["code", 0]]
    while i < n:
        c = text[i]
        state = stack[-1]
        if c == "\n":
            out.append("".join(line))
            line = []
            i += 1
            continue
        kind = state[0]
        if kind == "block":
            if text.startswith("*/", i):
                stack.pop(); i += 2
            elif text.startswith("/*", i):
                stack.append(["block", 0]); i += 2
            else:
                i += 1
        elif kind in ("str", "mstr"):
            if c == "\\" and i + 1 < n and text[i + 1] == "(":
                stack.append(["code", 0]); i += 2
            elif c == "\\":
                # An escaped newline (a multi-line string's line continuation) still ends the line.
                i += 1 if text.startswith("\n", i + 1) else 2
            elif kind == "mstr" and text.startswith('"""', i):
                stack.pop(); line.append('"""'); i += 3
            elif kind == "str" and c == '"':
                stack.pop(); line.append('"'); i += 1
            else:
                i += 1
        else:  # code
            if text.startswith("//", i):
                while i < n and text[i] != "\n":
                    i += 1
            elif text.startswith("/*", i):
                stack.append(["block", 0]); i += 2
            elif text.startswith('"""', i):
                stack.append(["mstr", 0]); line.append('"""'); i += 3
            elif c == '"':
                stack.append(["str", 0]); line.append('"'); i += 1
            elif c == "(":
                state[1] += 1; line.append(c); i += 1
            elif c == ")":
                if state[1] == 0 and len(stack) > 1:
                    stack.pop()  # end of a string interpolation
                else:
                    state[1] -= 1
                line.append(c); i += 1
            else:
                line.append(c); i += 1
    out.append("".join(line))
    return out


def has_doc(raw, index):
    """Whether a doc comment ends right above line `index`, attributes allowed in between."""
    j = index - 1
    while j >= 0 and raw[j].strip().startswith("@"):
        j -= 1
    if j < 0:
        return False
    above = raw[j].strip()
    if above.startswith("///"):
        return True
    if above.endswith("*/"):
        while j >= 0 and "/*" not in raw[j]:
            j -= 1
        return j >= 0 and "/**" in raw[j]
    return False


def declarations(path):
    """(line number, text, documented) for every public declaration in one Swift file."""
    raw = open(path, encoding="utf-8").read().split("\n")
    code = code_lines("\n".join(raw))
    found = []
    # Each scope: (kind, public) where kind is a type keyword, "body" or "block".
    scopes = []
    pending = None  # scope the next "{" opens
    for number, text in enumerate(code):
        stripped = text.strip()
        match = DECL.match(stripped)
        if match:
            modifiers = match.group(1).split()
            keyword = match.group(2)
            access = next((m for m in modifiers if m in ("public", "open", "internal", "private",
                                                         "fileprivate", "package")), None)
            if keyword == "class" and re.match(r"class\s+(func|var|let|subscript)\b", stripped[match.start(2):]):
                keyword = re.match(r"class\s+(\w+)", stripped[match.start(2):]).group(1)
            visible = is_visible(scopes, keyword, access)
            if visible and keyword != "extension":
                found.append((number + 1, raw[number].strip(), has_doc(raw, number)))
            if keyword in TYPE_KINDS:
                public = (access in ("public", "open")) if keyword == "extension" else visible
                pending = (keyword, public)
            elif keyword != "case":
                pending = ("body", False)
        for c in text:
            if c == "{":
                scopes.append(pending or ("block", False))
                pending = None
            elif c == "}":
                if scopes:
                    scopes.pop()
    return found


def is_visible(scopes, keyword, access):
    """Whether a declaration in these scopes can be seen outside its module."""
    if access in ("internal", "private", "fileprivate", "package"):
        return False
    if not scopes:
        return access in ("public", "open")
    kind, public = scopes[-1]
    if kind in ("body", "block"):
        return False
    if not all(k not in ("body", "block") and p for k, p in scopes if k != "extension"):
        return False
    if kind == "protocol":
        return public
    if kind == "enum" and keyword == "case":
        return public
    if kind == "extension":
        return access in ("public", "open") or (public and keyword != "case")
    return public and access in ("public", "open")


def module_report(module):
    folder = os.path.join(ROOT, "Sources", module)
    rows = []
    for base, _, files in os.walk(folder):
        for name in sorted(files):
            if name.endswith(".swift"):
                path = os.path.join(base, name)
                rows += [(os.path.relpath(path, ROOT), *d) for d in declarations(path)]
    return rows


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = "--list" in sys.argv
    modules = args or sorted(m for m in os.listdir(os.path.join(ROOT, "Sources"))
                             if any(f.endswith(".swift") for _, _, fs in os.walk(os.path.join(ROOT, "Sources", m)) for f in fs))
    total = documented = 0
    print(f"{'module':<18} {'documented':>10} {'public':>7} {'share':>6}")
    for module in modules:
        rows = module_report(module)
        done = sum(1 for r in rows if r[3])
        total += len(rows); documented += done
        share = 100.0 * done / len(rows) if rows else 100.0
        print(f"{module:<18} {done:>10} {len(rows):>7} {share:>5.0f}%")
        if show:
            for path, line, text, ok in rows:
                if not ok:
                    print(f"  {path}:{line}: {text}")
    print(f"{'all':<18} {documented:>10} {total:>7} {100.0 * documented / max(total, 1):>5.0f}%")


if __name__ == "__main__":
    main()

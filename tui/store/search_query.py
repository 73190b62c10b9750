"""The search language users type, checked and translated to SQLite FTS5's.

Users write words, `"exact phrases"`, `prefix*`, `AND`/`OR`/`NOT` (in capitals)
and parentheses. FTS5's own syntax refuses much of what people type (`retry-storm`,
`C++`, a stray `:`), and its errors name internals, so the query is parsed here:
every word becomes a quoted FTS5 string (tokenised like the indexed text, so
`retry-storm` is the phrase "retry storm"), and any mistake is one line that
says what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATORS = ("AND", "OR", "NOT")
_TOKEN = re.compile(r'\s*(?:(")|(\()|(\))|([^\s"()]+))')


class SearchSyntaxError(ValueError):
    """A query that cannot be searched; the message is one line saying what is wrong."""


@dataclass(frozen=True)
class Term:
    """A word or a phrase to find; `prefix` also finds words that start with its last word."""

    text: str
    prefix: bool = False

    def fts(self) -> str:
        quoted = '"' + self.text.replace('"', '""') + '"'
        return quoted + ("*" if self.prefix else "")

    def highlight(self) -> str:
        return self.text + ("*" if self.prefix else "")


@dataclass(frozen=True)
class Operation:
    operator: str
    left: Node
    right: Node

    def fts(self) -> str:
        return f"({self.left.fts()} {self.operator} {self.right.fts()})"


Node = Term | Operation


def _lex(query: str) -> list[str | Term]:
    """Operators and parentheses as strings, everything else as `Term`s."""
    tokens: list[str | Term] = []
    at = 0
    while at < len(query):
        if not query[at:].strip():
            break
        match = _TOKEN.match(query, at)
        assert match is not None  # the pattern matches any non-blank text
        quote, opening, closing, word = match.groups()
        at = match.end()
        if quote:
            end = query.find('"', at)
            if end < 0:
                raise SearchSyntaxError('a " is not closed: end the phrase with another "')
            phrase, at = query[at:end], end + 1
            prefix = query.startswith("*", at)
            at += prefix
            tokens.append(Term(" ".join(phrase.split()), prefix))
        elif opening or closing:
            tokens.append(opening or closing)
        elif word in OPERATORS:
            tokens.append(word)
        else:
            stem = word.rstrip("*")
            if not stem:
                raise SearchSyntaxError("* must end a word, as in retr*")
            tokens.append(Term(stem, stem != word))
    return tokens


class _Parser:
    """Recursive descent over OR < AND (or two terms side by side) < NOT, like FTS5's own precedence."""

    def __init__(self, tokens: list[str | Term]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | Term | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str | Term | None:
        token = self.peek()
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self.either()
        if self.peek() == ")":
            raise SearchSyntaxError("a ) has no ( before it")
        return node

    def either(self) -> Node:
        node = self.both()
        while self.peek() == "OR":
            self.take()
            node = Operation("OR", node, self.operand("OR"))
        return node

    def both(self) -> Node:
        node = self.unless()
        while True:
            token = self.peek()
            if token == "AND":
                self.take()
                node = Operation("AND", node, self.operand("AND"))
            elif isinstance(token, Term) or token in ("(", "NOT"):
                node = Operation("AND", node, self.unless())
            else:
                return node

    def unless(self) -> Node:
        node = self.primary()
        while self.peek() == "NOT":
            self.take()
            node = Operation("NOT", node, self.operand("NOT"))
        return node

    def operand(self, operator: str) -> Node:
        if self.peek() in (None, ")", "AND", "OR"):
            raise SearchSyntaxError(f"{operator} needs a word or phrase after it")
        return self.unless()

    def primary(self) -> Node:
        token = self.take()
        if isinstance(token, Term):
            return token
        if token == "(":
            if self.peek() == ")":
                raise SearchSyntaxError("() holds nothing to search for")
            node = self.either()
            if self.take() != ")":
                raise SearchSyntaxError("a ( is not closed: add a )")
            return node
        if token == "NOT":
            raise SearchSyntaxError("NOT needs something before it, as in: storm NOT retry")
        if token in ("AND", "OR"):
            raise SearchSyntaxError(f"{token} needs a word or phrase before it")
        if token == ")":
            raise SearchSyntaxError("a ) has no ( before it")
        raise SearchSyntaxError("the query is empty")


def parse(query: str) -> Node:
    """The query as a tree; raises `SearchSyntaxError`."""
    return _Parser(_lex(query)).parse()


def to_fts(query: str) -> str:
    """The FTS5 MATCH expression for a user's query; raises `SearchSyntaxError`."""
    return parse(query).fts()


def _wanted(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node] if node.text else []
    if node.operator == "NOT":
        return _wanted(node.left)
    return _wanted(node.left) + _wanted(node.right)


def match_terms(query: str) -> list[str]:
    """What to highlight in a task's text: each word or phrase the query looks for (not those after NOT),
    in query order, without repeats; a prefix ends with `*`. Raises `SearchSyntaxError`."""
    seen: dict[str, None] = {}
    for term in _wanted(parse(query)):
        seen.setdefault(term.highlight(), None)
    return list(seen)

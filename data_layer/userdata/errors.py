"""Validation problems and the error that carries them: each problem is a message code, its parameters, a line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from data_layer.userdata.messages import MESSAGES


@dataclass(frozen=True)
class Problem:
    """One validation problem: a message code, its parameters and the line (row) it refers to."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None
    # The sentences the code is worded from: a module with sentences of its own subclasses Problem with its table
    # (messages.extended), so the user data's table is never added to.
    MESSAGES: ClassVar[Mapping[str, Mapping[str, str]]] = MESSAGES

    def text(self, lang: str = "en") -> str:
        """The sentence in the given language, prefixed with its line number when it has one."""
        table = self.MESSAGES.get(lang, self.MESSAGES["en"])
        body = table.get(self.code, self.code).format(**self.params)
        return table["row"].format(line=self.line, text=body) if self.line is not None else body


class UserDataError(ValueError):
    """User input is invalid; `problems` lists every issue, `text(lang)` says what is wrong and what to do."""

    def __init__(self, problems: Problem | Iterable[Problem]):
        items = [problems] if isinstance(problems, Problem) else list(problems)
        unique = {(p.line, p.text("en")): p for p in items}  # the same problem found twice is listed once
        self.problems = sorted(unique.values(), key=lambda p: (p.line is None, p.line or 0))
        super().__init__(self.text("en"))

    def lines(self, lang: str = "en") -> list[str]:
        """One sentence per problem."""
        return [p.text(lang) for p in self.problems]

    def text(self, lang: str = "en") -> str:
        """All problems as one message (a summary line first when there are several)."""
        if len(self.problems) == 1:
            return self.problems[0].text(lang)
        head = MESSAGES.get(lang, MESSAGES["en"])["many"].format(n=len(self.problems))
        return "\n".join([head, *self.lines(lang)])


def fail(code: str, line: int | None = None, **params: Any) -> UserDataError:
    """Build a one-problem error (raise the result)."""
    return UserDataError(Problem(code, params, line))


def collect(problems: list[Problem], fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call fn; on UserDataError add its problems to the list and return None."""
    try:
        return fn(*args, **kwargs)
    except UserDataError as exc:
        problems.extend(exc.problems)
        return None

"""The one error type a decider raises when it refuses a command."""

from __future__ import annotations


class CommandRejected(Exception):
    """A command refused by a business rule: a stable machine code and a sentence for people.

    `status` is the HTTP status the API answers with; deciders leave it at 422 unless the
    refusal is about something that does not exist (404) or a race (409).
    """

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

"""Refusals the domain explains with a code and parameters; the web layer words them."""

from __future__ import annotations


class Refused(ValueError):
    """Input that cannot be used. ``code`` is stable; ``params`` fill in the sentence."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

"""``Result``: what controller operations return instead of raising into the UI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    """Success with a value, or failure with a message."""

    ok: bool
    value: T | None = None
    error: str | None = None

    @classmethod
    def success(cls, value: T | None = None) -> Result[T]:
        """A successful result carrying ``value``."""
        return cls(True, value, None)

    @classmethod
    def failure(cls, error: str) -> Result[T]:
        """A failed result carrying a message for the user."""
        return cls(False, None, error)

    def unwrap(self) -> T:
        """The value; raises ``ValueError`` with the error message on a failure."""
        if not self.ok:
            raise ValueError(self.error)
        return self.value  # type: ignore[return-value]

    def __bool__(self) -> bool:
        return self.ok

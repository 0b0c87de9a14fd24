"""Record helpers: type checks, the id format's reader, weak callables."""

from __future__ import annotations

import gc

import pytest

from inspector.resources.records import check_type, default_id, resource_serial, weak_callable
from inspector.resources.types import ResourceType


class Target:
    """Something with a bound method."""

    def method(self) -> None:
        """A bound method to hold weakly."""


def test_check_type_takes_a_member_or_its_value() -> None:
    assert check_type(ResourceType.CACHE) is ResourceType.CACHE
    assert check_type("cache") is ResourceType.CACHE
    with pytest.raises(TypeError, match="must be a ResourceType"):
        check_type("nope")
    with pytest.raises(TypeError, match="must be a ResourceType"):
        check_type([])


def test_resource_serial_reads_the_number_of_an_id() -> None:
    assert resource_serial("thumbnail-42") == 42
    assert resource_serial("qobject-7") == 7
    assert resource_serial("custom") == -1
    assert resource_serial("cache-x") == -1


def test_default_id_names_the_class_and_address() -> None:
    target = Target()
    assert default_id(target) == f"Target@{id(target):x}"


def test_weak_callable_holds_bound_methods_weakly_and_functions_strongly() -> None:
    target = Target()
    method = weak_callable(target.method)
    assert method() == target.method
    del target
    gc.collect()
    assert method() is None

    def plain() -> None:
        pass

    assert weak_callable(plain)() is plain

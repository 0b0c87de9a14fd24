"""Holders in a frozen heap (``gc.freeze``), which ``gc.get_referrers`` cannot see."""

from __future__ import annotations

import gc
import sys
import time
import types

from inspector.metrics.why.frozen import FrozenHeap

from ..helpers import Thing


def test_a_frozen_container_is_found_from_the_module_dicts_and_scanned() -> None:
    target = Thing()
    module = types.ModuleType("why_frozen_probe")
    module.__dict__["HOLD"] = [target]
    sys.modules[module.__name__] = module
    gc.freeze()
    try:
        assert not any(r is module.__dict__["HOLD"] for r in gc.get_referrers(target))
        heap = FrozenHeap([module.__dict__], time.perf_counter() + 30)
        assert heap.complete
        assert id(module.__dict__["HOLD"]) in heap.ids
        holders = heap.holders({id(target)}, time.perf_counter() + 30)
        assert holders is not None
        assert any(h is module.__dict__["HOLD"] for h in holders)
        assert heap.holders({id(target)}, time.perf_counter() - 1) is None  # out of time
    finally:
        gc.unfreeze()
        del sys.modules[module.__name__]


def test_nothing_frozen_is_nothing_found() -> None:
    holder = [Thing()]
    heap = FrozenHeap([{"holder": holder}], time.perf_counter() + 30)
    assert holder not in heap.objects  # young: gc.get_referrers sees it, no walk needed

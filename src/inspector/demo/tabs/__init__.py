"""The demo's tabs: pure UI over a controller each (no resource bookkeeping here at all)."""

from __future__ import annotations

from .base import DemoTab
from .copy_verify import CopyVerifyTab
from .hashing import HashingTab
from .media import MediaAnalysisTab
from .workflow import WorkflowTab

__all__ = ["CopyVerifyTab", "DemoTab", "HashingTab", "MediaAnalysisTab", "WorkflowTab"]

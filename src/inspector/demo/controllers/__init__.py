"""The demo's controllers: business logic that owns its resources through a coordinator."""

from __future__ import annotations

from .base import DemoCoordinator, JobController, TrackedThumbnails
from .copy_verify import CopyVerifyController
from .hashing import HashController
from .media import MediaAnalysisController
from .workflow import ForensicWorkflowController, Step

__all__ = [
    "CopyVerifyController",
    "DemoCoordinator",
    "ForensicWorkflowController",
    "HashController",
    "JobController",
    "MediaAnalysisController",
    "Step",
    "TrackedThumbnails",
]

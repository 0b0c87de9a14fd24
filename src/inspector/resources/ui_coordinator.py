"""A coordinator for what a UI owner holds: widgets, timers, pixmaps, thumbnails, caches.

It never imports QtWidgets or QtGui (the inspector's model stays Qt-widget-free): widgets and
images are recognised by the methods they have.
"""

from __future__ import annotations

from typing import Any

from .coordinator import BaseResourceCoordinator, ResourceHandle
from .types import ResourceType


def _close_widget(widget: Any) -> None:
    import shiboken6

    if shiboken6.isValid(widget):
        widget.close()
        widget.deleteLater()


def _stop_timer(timer: Any) -> None:
    import shiboken6

    if shiboken6.isValid(timer):
        timer.stop()


def image_bytes(image: Any) -> int:
    """Bytes an image holds: ``sizeInBytes()`` (QImage) or width x height x depth (QPixmap)."""
    size_in_bytes = getattr(image, "sizeInBytes", None)
    if callable(size_in_bytes):
        return int(size_in_bytes())
    return int(image.width()) * int(image.height()) * int(image.depth()) // 8


class UIResourceCoordinator(BaseResourceCoordinator):
    """Tracks the resources of a widget-owning component, with their sizes."""

    def track_widget(self, widget: Any, name: str | None = None) -> ResourceHandle:
        """Track a widget; cleanup closes it and schedules its deletion."""
        return self.track(widget, ResourceType.WIDGET, name=name, cleanup=_close_widget)

    def track_timer(self, timer: Any, name: str | None = None) -> ResourceHandle:
        """Track a QTimer; cleanup stops it."""
        return self.track(timer, ResourceType.TIMER, name=name, cleanup=_stop_timer)

    def track_pixmap(self, pixmap: Any, name: str | None = None,
                     resource_type: ResourceType = ResourceType.MEMORY) -> ResourceHandle:
        """Track a QPixmap or QImage with its size in bytes."""
        return self.track(pixmap, resource_type, name=name, size_bytes=image_bytes(pixmap))

    def track_thumbnail(self, key: str, image: Any, size_bytes: int | None = None
                        ) -> ResourceHandle:
        """Track a thumbnail (counted in the cache figures) under its cache key."""
        size = image_bytes(image) if size_bytes is None else size_bytes
        return self.track(image, ResourceType.THUMBNAIL, name=key, size_bytes=size)

    def track_cache(self, cache: Any, name: str, size_bytes: int = 0) -> ResourceHandle:
        """Track a cache object; grow its size with ``service.update_resource_size``."""
        return self.track(cache, ResourceType.CACHE, name=name, size_bytes=size_bytes)

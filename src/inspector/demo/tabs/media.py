"""The Media Analysis tab: thumbnails of the evidence images, from a bounded cache."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QSpinBox, QWidget

from inspector.resources import Result

from ..controllers import MediaAnalysisController
from .base import DemoTab


class MediaAnalysisTab(DemoTab):
    """Shows the controller's thumbnail cache as it fills and evicts."""

    title = "Media Analysis"
    start_text = "Generate thumbnails"

    def __init__(self, controller: MediaAnalysisController, parent: QWidget | None = None
                 ) -> None:
        super().__init__(controller, parent)
        self.media = controller
        self.size_spin = QSpinBox(self)
        self.size_spin.setRange(48, 256)
        self.size_spin.setSingleStep(16)
        self.size_spin.setValue(128)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Thumbnail size: each size is a cache entry of its own")
        self.controls.insertWidget(0, self.size_spin)
        self.clear_button = self.add_button("Clear cache")
        self.clear_button.clicked.connect(controller.clear_cache)
        self.cache_label = QLabel(self._cache_text(0, 0), self)
        self.view = QListWidget(self)
        self.view.setViewMode(QListWidget.ViewMode.IconMode)
        self.view.setIconSize(QSize(128, 128))
        self.view.setGridSize(QSize(150, 170))  # room for the largest size and two lines
        self.view.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.view.setMovement(QListWidget.Movement.Static)
        self.view.setWordWrap(True)
        self.body.addWidget(self.cache_label)
        self.body.addWidget(self.view)
        self._items: dict[str, QListWidgetItem] = {}

        controller.thumbnail_added.connect(self._on_added)
        controller.thumbnail_evicted.connect(self._on_evicted)
        controller.cache_changed.connect(self._on_cache_changed)

    def _start(self) -> Result[str]:
        return self.media.start(self.size_spin.value())

    def _cache_text(self, entries: int, size: int) -> str:
        limit = self.media.thumbnails.cache
        return (f"Cache: {entries} of {limit.max_entries} thumbnails, "
                f"{size / 1024:.0f} of {limit.max_bytes / 1024:.0f} KiB (least recently "
                "used first out)")

    def _on_added(self, key: str, image: QImage) -> None:
        # The view gets a pixmap of its own: the cached image stays the controller's.
        icon = QIcon(QPixmap.fromImage(image))
        item = self._items.get(key)
        if item is None:
            path, _, size = key.rpartition("@")
            item = QListWidgetItem(icon, f"{Path(path).name}\n{size} px")
            self.view.addItem(item)
            self._items[key] = item
        else:
            item.setIcon(icon)

    def _on_evicted(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.view.takeItem(self.view.row(item))

    def _on_cache_changed(self, entries: int, size: int) -> None:
        self.cache_label.setText(self._cache_text(entries, size))

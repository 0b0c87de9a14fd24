"""The demo's evidence: a directory of files it generates, so every run works on real bytes.

Documents of several sizes (deterministic pseudo-random bytes, so hashes are reproducible
from a seed) and a few images drawn with ``QImage``. Everything lives in one temporary
directory that :meth:`Dataset.remove` (or the context manager) deletes.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter

#: (name, size in bytes) of the documents at scale 1: about 9.5 MiB in all.
DOCUMENTS: tuple[tuple[str, int], ...] = (
    ("notes.txt", 2 * 1024),
    ("contacts.vcf", 24 * 1024),
    ("browser-history.sqlite", 192 * 1024),
    ("chat-export.db", 768 * 1024),
    ("registry.hive", 2 * 1024 * 1024),
    ("disk-fragment.bin", 6 * 1024 * 1024),
)

#: (name, width, height) of the images at scale 1.
IMAGES: tuple[tuple[str, int, int], ...] = (
    ("IMG_0001.png", 640, 480),
    ("IMG_0002.png", 800, 600),
    ("IMG_0003.png", 480, 640),
    ("IMG_0004.png", 1024, 768),
    ("IMG_0005.png", 320, 240),
    ("IMG_0006.png", 600, 600),
    ("IMG_0007.png", 720, 405),
    ("IMG_0008.png", 512, 384),
)


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """One generated file: where it is, how big, and whether it is a document or an image."""

    path: Path
    size: int
    kind: str  # "document" or "image"


class Dataset:
    """A generated evidence directory; :meth:`create` makes one.

    ``root/evidence`` holds the source files; ``root/cases`` receives what the demo copies
    (one subdirectory per job, see :meth:`case_dir`).
    """

    def __init__(self, root: Path, files: tuple[EvidenceFile, ...], *, owned: bool) -> None:
        self.root = root
        self.files = files
        self._owned = owned

    @classmethod
    def create(cls, root: Path | None = None, *, scale: float = 1.0, seed: int = 1234
               ) -> Dataset:
        """Generate the data set under ``root`` (default: a new temporary directory).

        ``scale`` multiplies every size (tests use a small one); ``seed`` makes the bytes,
        and so the hashes, the same on every run. A QGuiApplication must exist (QPainter
        draws the images' text).
        """
        owned = root is None
        base = Path(tempfile.mkdtemp(prefix="resinspect-demo-")) if root is None else root
        evidence = base / "evidence"
        evidence.mkdir(parents=True, exist_ok=True)
        (base / "cases").mkdir(exist_ok=True)
        rng = random.Random(seed)
        files: list[EvidenceFile] = []
        for name, size in DOCUMENTS:
            n = max(256, int(size * scale))
            path = evidence / name
            path.write_bytes(rng.randbytes(n))
            files.append(EvidenceFile(path, n, "document"))
        shrink = min(1.0, scale * 2)  # images stay big enough to be worth a thumbnail
        for number, (name, width, height) in enumerate(IMAGES, start=1):
            w, h = max(64, int(width * shrink)), max(48, int(height * shrink))
            path = evidence / name
            if not draw_exhibit(w, h, number, rng).save(str(path)):
                raise OSError(f"could not write {path}")
            files.append(EvidenceFile(path, path.stat().st_size, "image"))
        return cls(base, tuple(files), owned=owned)

    @property
    def documents(self) -> list[Path]:
        """Paths of the documents."""
        return [f.path for f in self.files if f.kind == "document"]

    @property
    def images(self) -> list[Path]:
        """Paths of the images."""
        return [f.path for f in self.files if f.kind == "image"]

    @property
    def paths(self) -> list[Path]:
        """Paths of every evidence file, documents first."""
        return [f.path for f in self.files]

    @property
    def total_bytes(self) -> int:
        """Bytes in the evidence directory."""
        return sum(f.size for f in self.files)

    def case_dir(self, name: str) -> Path:
        """A fresh, empty directory under ``cases/`` for one job's copies."""
        path = self.root / "cases" / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def remove(self) -> None:
        """Delete the directory if this data set created it (a given ``root`` is left alone)."""
        if self._owned:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()


def draw_exhibit(width: int, height: int, number: int, rng: random.Random) -> QImage:
    """A recognisable picture: a gradient, a few shapes and an "EXHIBIT n" label."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    hue = (number * 47) % 360
    gradient = QLinearGradient(QPointF(0, 0), QPointF(width, height))
    gradient.setColorAt(0.0, QColor.fromHsv(hue, 120, 235))
    gradient.setColorAt(1.0, QColor.fromHsv((hue + 60) % 360, 200, 120))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(image.rect(), gradient)
        painter.setPen(Qt.PenStyle.NoPen)
        for _ in range(6):
            painter.setBrush(QColor.fromHsv(rng.randrange(360), 160, 230, 170))
            r = rng.uniform(0.08, 0.22) * min(width, height)
            painter.drawEllipse(QPointF(rng.uniform(0, width), rng.uniform(0, height)), r, r)
        painter.setPen(QColor("white"))
        font = QFont("DejaVu Sans")
        font.setPixelSize(max(10, height // 8))
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter,
                         f"EXHIBIT {number:02d}")
    finally:
        painter.end()
    return image

"""Reaching a PySide6 program that was never written for resinspect (``resinspect run``).

:mod:`.hooks` patches Qt's classes as the program imports them (standard library only until
then, so the CLI can install it before the program runs): it hears every QThread and QTimer
started from Python, every window shown, and the moment the ``QApplication`` exists.
:mod:`.tracker` turns what it hears into resources of the service, owned by windows
(``<Class>#<n>``) or by the class whose method started them (:mod:`.records` holds what it
keeps of each), and takes the QObject census (:mod:`.census`);
:mod:`.suspects` names the leaks only an unmodified program shows (``retained_after_close``,
``orphan_worker``, ``orphan_timer``, census ``growth``); :mod:`.runner` runs the program as
``python SCRIPT ARGS`` would. See docs/architecture.md.
"""

from __future__ import annotations

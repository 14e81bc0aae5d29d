"""Python's cyclic garbage collector, held off while the compare screen opens.

Opening imports Textual, numpy and ONNX Runtime and builds the screen: several hundred
thousand objects that live as long as the app. While the heap grows that fast, the
collector keeps scanning it (a launch to both panes ready spent 78-93 ms of CPU in it,
with the interpreter lock held, one full collection among them just before the first
frame), and it finds next to nothing to free. So collection waits until both panes are
ready; then the objects alive are moved out of its view (``gc.freeze``), so that a later
full collection, which could land on a keypress, scans only what the session makes after.

The price: a reference cycle that became garbage during opening, or that an object
alive at the freeze joins later (a replaced widget), stays in memory until the app ends
(measured at ready: ~3.3k garbage objects of ~138k, ~0.4 MB). Collection resumes in any
case after ``RESUME_AFTER_S``, so a first launch that builds its indexes for minutes runs
with it.
"""

from __future__ import annotations

import gc
import threading

RESUME_AFTER_S = 5.0

_lock = threading.Lock()
_paused = False
_froze = False


def pause() -> None:
    """Stop automatic collection, unless something else already has."""
    global _paused
    with _lock:
        if gc.isenabled():
            gc.disable()
            _paused = True


def resume(freeze: bool = False) -> None:
    """Restart collection paused by pause(); a no-op otherwise, so any caller may call it.

    freeze: the caller knows that what is alive now lives as long as the process (both
    panes are ready), so later collections need not scan it.
    """
    global _paused, _froze
    with _lock:
        if not _paused:
            return
        _paused = False
        if freeze:
            gc.freeze()
            _froze = True
        gc.enable()


def thaw() -> None:
    """Return what resume(freeze=True) froze to the collector's view (the app has ended)."""
    global _froze
    with _lock:
        if _froze:
            _froze = False
            gc.unfreeze()


def paused() -> bool:
    """Whether pause() has stopped collection and nothing has resumed it yet."""
    return _paused

"""Open a workbook in a forked child process with a memory and CPU limit, and report its sheets.

A native reader can abort the whole process on a hostile file (a Rust allocation failure is a
SIGABRT, not an exception): calamine pre-allocates from counts the file declares and builds a
dense grid over the sheet's whole range. ``probe`` lets a child take that risk: it opens the
workbook (shared strings, styles) and loads the sheets it is asked about, under
``RLIMIT_AS``/``RLIMIT_CPU``, and tells the parent each sheet's height and width. The parent
never sees the cells: only a few lines of JSON cross the pipe, so no row is read twice in
the parent and nothing large is copied between the processes.

Pure module: no ORM, no settings (the caller passes the limits).
"""

from __future__ import annotations

import faulthandler
import io
import json
import os
import resource
import select
import signal
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ProbeResult", "extent", "probe"]

#: The child's exit status when the reader raised (a bad file, not a crash).
_RAISED = 3


@dataclass
class ProbeResult:
    """What the child said before it ended, and how it ended."""

    sheets: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: The sheet being loaded when the child died, if it died loading one.
    loading: str | None = None
    #: The reader's exception class name when it raised.
    error: str = ""
    crashed: bool = False
    timed_out: bool = False


def extent(sheet: Any) -> tuple[int, int]:
    """Return the rows and columns of a calamine sheet's grid as to_python builds it, from A1.

    (``height``/``width`` start at the first cell; ``total_height``/``total_width`` are the
    last cell's 0-based indexes.)
    """
    end = sheet.end
    return (end[0] + 1, end[1] + 1) if end else (0, 0)


def _address_space() -> int:
    """Return this process's current virtual memory size in bytes."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _child(data: bytes, names: list[str] | None, out: int, memory: int, seconds: float) -> None:
    """Run in the child: set the limits, open the workbook, write one JSON line per step."""
    # An abort here is an answer, not news: keep the runtime's dumps off the worker's stderr.
    faulthandler.disable()
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    limit = _address_space() + memory  # the child starts as big as the parent: add to that
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    def say(message: dict) -> None:
        line = (json.dumps(message, ensure_ascii=False) + "\n").encode()
        while line:
            line = line[os.write(out, line) :]

    from python_calamine import CalamineWorkbook, SheetTypeEnum

    say({"step": "open"})
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        with book:
            wanted = names
            if wanted is None:
                wanted = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
            for name in wanted:
                say({"loading": name})
                sheet = book.get_sheet_by_name(name)
                height, width = extent(sheet)
                say({"sheet": name, "height": height, "width": width})
    except BaseException as error:  # a Rust panic is a BaseException
        say({"error": type(error).__name__})
        os._exit(_RAISED)
    os._exit(0)


def _read_lines(fd: int, pid: int, deadline: float) -> tuple[bytes, bool]:
    """Read the child's pipe until it closes or the deadline passes; say if it timed out."""
    received = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            return received, True
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return received, False
        received += chunk
        if len(received) > 1024 * 1024:  # a handful of lines is all a child has to say
            os.kill(pid, signal.SIGKILL)
            return received, False


def _parse(received: bytes, result: ProbeResult) -> None:
    """Fill RESULT from the child's JSON lines (a line cut short by a crash is ignored)."""
    for line in received.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if "loading" in message:
            result.loading = message["loading"]
        elif "sheet" in message:
            result.sheets[message["sheet"]] = (int(message["height"]), int(message["width"]))
            result.loading = None
        elif "error" in message:
            result.error = str(message["error"])


def probe(
    data: bytes, names: list[str] | None = None, *, memory: int, seconds: float
) -> ProbeResult:
    """Open DATA's workbook in a limited child; load the sheets NAMES (None: every worksheet).

    The child may use MEMORY bytes more than the parent and SECONDS of CPU and wall time.
    """
    import python_calamine  # noqa: F401 - imported once here, not in every child

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the parent's clean-up
        try:
            os.close(read_end)
            _child(data, names, write_end, memory, seconds)
        finally:
            os._exit(70)
    os.close(write_end)
    try:
        received, timed_out = _read_lines(read_end, pid, time.monotonic() + seconds)
    finally:
        os.close(read_end)
    _, status = os.waitpid(pid, 0)
    result = ProbeResult(timed_out=timed_out)
    _parse(received, result)
    result.crashed = os.WIFSIGNALED(status) or os.waitstatus_to_exitcode(status) not in (
        0,
        _RAISED,
    )
    return result

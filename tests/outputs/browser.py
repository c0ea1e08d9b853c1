"""Ask a real headless Chromium what a page shows, over the DevTools protocol on a pipe.

``chromium --remote-debugging-pipe`` reads protocol commands from file
descriptor 3 and writes replies to 4, each a JSON object ended by a NUL
byte: no WebSocket library needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import subprocess
import tempfile
import time
from typing import Any

#: The HParams dashboard's query pane (inside shadow roots): its columns and whether each is ticked.
TICKED_COLUMNS = """(() => {
  const panes = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.localName === 'tf-hparams-query-pane') panes.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const pane = panes.find((p) => p._hparams && p._hparams.length);
  return pane ? pane._hparams.map((h) => [h.info.name, h.displayed]) : null;
})()"""


class Browser:
    """A headless Chromium with one page, driven over its DevTools pipe.

    Args:
        chromium: Path of the Chromium binary.
        flags: Extra command-line flags.
    """

    def __init__(self, chromium: str, flags: list[str]) -> None:
        self._profile = tempfile.TemporaryDirectory()
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # above 4, so that moving them onto 3 and 4 in the child cannot overwrite one another
        # (bash, not sh: dash takes only one-digit descriptors in redirections)
        r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)
        command = [
            chromium,
            *flags,
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile.name}",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{r} 4>&{w} {r}<&- {w}>&-', "bash", *command],
            pass_fds=(r, w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helpers in one process group, stopped together
        )
        os.close(r)
        os.close(w)
        self._buffer = b""
        self._next = 0
        self.session: str | None = None

    def call(self, method: str, params: dict | None = None, timeout: float = 30.0) -> Any:
        """Send one command (to the page once :meth:`open` attached it); its result."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            ready, _, _ = select.select([self._from_browser], [], [], 1.0)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        raise RuntimeError(f"{method}: no reply within {timeout:.0f} s")

    def open(self, url: str) -> None:
        """Open ``url`` in a new page and attach to it."""
        target = self.call("Target.createTarget", {"url": url})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session = attached["sessionId"]

    def evaluate(self, expression: str) -> Any:
        """The JSON value of ``expression`` in the page."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0) -> Any:
        """Poll ``expression`` until it is not null; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value is not None:
                return value
            time.sleep(0.5)
        raise RuntimeError(f"the page did not show it within {timeout:.0f} s")

    def close(self) -> None:
        """Stop Chromium and every helper it started, then remove its profile.

        The helpers (renderer, crash handler) can still be writing into the
        profile when the main process has exited, so the whole process group
        is stopped, and removing the profile is retried for a few seconds.
        """
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        deadline = time.monotonic() + 5.0
        while True:
            try:
                self._profile.cleanup()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

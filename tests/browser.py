"""Headless Chromium, driven over the Chrome DevTools Protocol on a pipe: open a page, wait for
its load, evaluate JavaScript in it, take a screenshot, and collect what went wrong on the way
(console errors, uncaught exceptions, failed loads) and every URL the page requested.

The protocol runs over two file descriptors that Chromium opens as 3 (commands in) and 4
(replies and events out) with ``--remote-debugging-pipe``: JSON messages ended by a NUL byte.
So no port, no websocket client and no dependency beyond the standard library.
"""

import base64
import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The path of a Chromium binary on PATH, or None."""
    return next((shutil.which(n) for n in NAMES if shutil.which(n)), None)


class Page:
    """One browser with one tab. Use as a context manager; it closes the browser on exit."""

    def __init__(self, binary: str, profile: Path, width: int = 1280, height: int = 900):
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser = os.pipe()

        def wire():  # in the child, before exec: the pipe ends become fds 3 and 4
            read_end, write_end = os.dup(to_browser), os.dup(from_browser)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        args = [binary, "--headless", "--remote-debugging-pipe", "--no-sandbox"]
        args += ["--disable-gpu", "--no-first-run", "--no-default-browser-check"]
        args += [f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"]
        self._process = subprocess.Popen(
            args,
            pass_fds=(3, 4),
            preexec_fn=wire,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so that one kill ends its helpers
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._next_id, self._events = b"", 0, []
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", self._metrics(width, height))

    @staticmethod
    def _metrics(width: int, height: int) -> dict:
        return {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}

    def __enter__(self) -> "Page":
        return self

    def __exit__(self, *exc) -> None:
        """Close the browser; if it has not gone in 10 s, kill it and its helper processes."""
        try:
            self._send("Browser.close", {}, None)
            self._process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)

    def _send(self, method: str, params: dict, session: str | None) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the protocol pipe (did it crash?)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _call(self, method: str, params: dict | None = None, session=None, timeout=30.0):
        wanted, deadline = self._send(method, params or {}, session), time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def call(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        """One protocol command in the tab; returns its result."""
        return self._call(method, params, self._session, timeout)

    def open(self, url: str, timeout: float = 30.0) -> dict:
        """Load ``url`` and wait for its load event. Returns what went wrong while it loaded,
        {"problems": [...], "requests": [...]}: console errors, exceptions, failed loads, and
        every URL the page asked for."""
        self._events = []
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not any(e["method"] == "Page.loadEventFired" for e in self._events):
            message = self._receive(deadline)
            if "method" in message:
                self._events.append(message)
        self.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")
        return {"problems": self._problems(), "requests": self._requests()}

    def _problems(self) -> list[str]:
        found = []
        for event in self._events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a)) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append("exception: " + details.get("exception", {}).get("description", ""))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                found.append(f"log: {entry['text']} {entry.get('url', '')}".strip())
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                found.append(f"load failed: {params.get('errorText')}")
        return found

    def _requests(self) -> list[str]:
        sent = (e for e in self._events if e["method"] == "Network.requestWillBeSent")
        return [e["params"]["request"]["url"] for e in sent]

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (a Promise is awaited)."""
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        result = self.call("Runtime.evaluate", params)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, top: float = 0, height: float | None = None) -> None:
        """A PNG of the page from ``top`` down, ``height`` CSS pixels tall (default: to its end),
        the whole width, whatever the window shows."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        height = size["height"] - top if height is None else min(height, size["height"] - top)
        clip = {"x": 0, "y": top, "width": size["width"], "height": height, "scale": 1}
        params = {"format": "png", "clip": clip, "captureBeyondViewport": True}
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", params, 60)["data"]))

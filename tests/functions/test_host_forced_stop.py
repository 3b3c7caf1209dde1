"""Ctrl-C with a function that never returns: the first waits for it (bounded), the second exits at once."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.functions.host_process import WAIT_SECONDS, running_host

APP_DIR = Path(__file__).resolve().parent / "hanging_app"


def _wait_for(host_output: list[str], text: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not any(text in line for line in host_output):
        assert time.monotonic() < deadline, f"never printed {text!r}:\n{''.join(host_output)}"
        time.sleep(0.1)


def test_a_second_ctrl_c_stops_a_host_whose_function_hangs(connection_string: str) -> None:
    with running_host(connection_string, app_dir=APP_DIR) as host:
        _wait_for(host.output, "hangs: started")
        host.process.send_signal(signal.SIGINT)
        _wait_for(host.output, "host.stopping")
        try:
            host.process.wait(timeout=2)
            raise AssertionError(f"the first Ctrl-C did not wait for the running function:\n{host.text_output()}")
        except subprocess.TimeoutExpired:
            pass
        host.process.send_signal(signal.SIGINT)
        assert host.process.wait(timeout=WAIT_SECONDS) == 130
        _wait_for(host.output, "stopping now, without waiting for functions in progress")

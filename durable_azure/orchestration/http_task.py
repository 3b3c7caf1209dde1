"""`HttpTask`: `context.call_http`, the extension's CallHttpAsync loop as a task.

The extension's orchestration does the asynchronous HTTP pattern itself: it schedules the built-in
activity; while the response is 202 Accepted (and the pattern is enabled, the default) it waits on a
durable timer (Retry-After seconds when the response has that header, else the host's
`defaultAsyncRequestSleepTimeMilliseconds`) and schedules the activity again with a GET to the response's
Location. This task does the same with real child tasks, each with its own task id, so history holds
TaskScheduled/TaskCompleted and TimerCreated/TimerFired for every round, replay walks the same path and
never sends a request twice.

Where the extension would throw (a 202 without Location, a Retry-After that is not a whole number of
seconds) this task stops instead: a 202 without Location is the final response, and a Retry-After it
cannot read waits the default interval.

Pure: time is the orchestration's replay-safe clock. Imports only the standard library and siblings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from durable_azure.orchestration.http import DurableHttpRequest, DurableHttpResponse
from durable_azure.orchestration.tasks import CompletableTask, Task, TimerTask

_ACCEPTED = 202


MAX_POLL_DELAY = timedelta(days=7)
"""The longest `Retry-After` honoured; a server asking for more is polled again after a week."""


class HttpTask(CompletableTask[DurableHttpResponse]):
    """A durable HTTP call; its result is the final DurableHttpResponse, its failure the activity's."""

    def __init__(
        self,
        *,
        request: DurableHttpRequest,
        send: Callable[[DurableHttpRequest], CompletableTask[Any]],
        create_timer: Callable[[datetime], TimerTask],
        clock: Callable[[], datetime],
        default_poll_interval: timedelta,
    ) -> None:
        super().__init__()
        self.request = request
        self._send = send
        self._create_timer = create_timer
        self._clock = clock
        self._default_poll_interval = default_poll_interval
        self._next_request: DurableHttpRequest | None = None
        self._poll_count = 0
        self._start(request)

    @property
    def poll_count(self) -> int:
        """How many Location polls this call has sent so far."""
        return self._poll_count

    def _start(self, request: DurableHttpRequest) -> None:
        self._send(request)._listen(self)

    def on_child_completed(self, child: Task[Any]) -> None:
        if self.is_completed:
            return
        if isinstance(child, TimerTask):
            assert self._next_request is not None  # a timer is only started with the poll it precedes
            self._poll_count += 1
            self._start(self._next_request)
            return
        if child.is_faulted:
            self.fail(child.exception or RuntimeError("the HTTP request failed"))
            return
        try:
            response = DurableHttpResponse.from_result(child.result)
        except ValueError as error:
            self.fail(error)
            return
        location = response.header("Location") if response.status_code == _ACCEPTED else None
        if not location:
            self.complete(response)
            return
        self._next_request = self.request.location_poll(location)
        now = self._clock()
        self._create_timer(now + self._poll_delay(response))._listen(self)

    def _poll_delay(self, response: DurableHttpResponse) -> timedelta:
        """`Retry-After` in whole seconds (ASCII digits only), at most a week; else the host's interval.

        A server's value must never fail the episode: one beyond any date (or a digit `int()` refuses) would
        raise while scheduling the timer, and the step would be retried forever.
        """
        retry_after = (response.header("Retry-After") or "").strip()
        if retry_after.isascii() and retry_after.isdigit():
            return min(timedelta(seconds=int(retry_after)), MAX_POLL_DELAY)
        return self._default_poll_interval

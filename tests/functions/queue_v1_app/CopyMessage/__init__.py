"""A v1 queue-triggered function with a queue output; the app's host.json (one folder up) sets no encoding."""

import azure.functions as func


def main(msg: func.QueueMessage, copy: func.Out[str]) -> None:
    copy.set(f"copy of {msg.get_body().decode()} (dequeued {msg.dequeue_count} time)")

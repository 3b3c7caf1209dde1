"""`durable-azure start` with the blueprint app (a `func.FunctionApp` with a df.Blueprint and a func.Blueprint).

One subprocess: the banner lists the routes of both blueprints and of the app, and an orchestration started
through the df.Blueprint's HTTP starter completes on the host's worker.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.functions.host_process import HostProcess, Reply, delete_hub, eventually, running_host

APP_DIR = Path(__file__).resolve().parent / "blueprint_app"


def test_start_serves_a_blueprint_app_and_runs_its_orchestration(connection_string: str) -> None:
    with running_host(connection_string, app_dir=APP_DIR) as host:
        banner = host.text_output()
        base = f"{host.base_url}/api"
        assert f"start_order: [POST] {base}/orders/{{customer}}" in banner
        assert f"whoami: [GET] {base}/whoami" in banner
        assert f"ping: [GET] {base}/ping" in banner

        assert host.request("GET", "/api/ping").body == b"pong"
        whoami = host.request("GET", "/api/whoami").json()
        assert (whoami["function_name"], whoami["function_directory"]) == ("whoami", str(APP_DIR))

        items = [{"quantity": 4, "price": 3}]
        started = host.request("POST", "/api/orders/linus", body=json.dumps(items))
        assert started.status == 202, started.body
        status = _completed(host, started.json()["statusQueryGetUri"])
        assert status["output"] == {"total": 12, "greeting": "THANKS LINUS!"}
        assert host.stop() == 0
    asyncio.run(delete_hub(connection_string, host.hub_name))


def _completed(host: HostProcess, status_url: str) -> dict:
    def probe() -> Reply:
        return host.request("GET", status_url)

    reply = eventually(probe, lambda reply: reply.json().get("runtimeStatus") == "Completed", "the orchestration")
    return reply.json()

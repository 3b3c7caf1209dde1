"""`python -m durable_azure` runs the `durable-azure` command."""

from __future__ import annotations

from durable_azure.cli import main

raise SystemExit(main())

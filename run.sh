#!/usr/bin/env bash
# Set up (idempotent, quick when already done) and run the durable-azure command: `./run.sh [args]` (default: start).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/setup.sh
exec .venv/bin/durable-azure "${@:-start}"

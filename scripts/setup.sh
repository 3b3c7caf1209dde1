# Sourced by run.sh and test.sh from the repository root: makes .venv and node_modules match the lock files.
# Idempotent and quick when nothing changed (stamp files remember what was installed).

setup_fail() {
    echo "setup: $*" >&2
    exit 1
}

setup_python() {
    command -v python3 >/dev/null 2>&1 || setup_fail "python3 not found: install Python 3.11 or newer"
    python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
        || setup_fail "python3 is $(python3 -c 'import platform; print(platform.python_version())'); Python 3.11 or newer is required"
    if [ ! -x .venv/bin/python ]; then
        echo "setup: creating .venv" >&2
        python3 -m venv .venv || setup_fail "could not create .venv (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    local stamp=.venv/.durable-azure-installed
    local wanted
    wanted="$(cat pyproject.toml | cksum)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ] || [ ! -x .venv/bin/durable-azure ]; then
        echo "setup: installing the package and its dev dependencies into .venv" >&2
        .venv/bin/python -m pip install --quiet -e '.[dev]' || setup_fail "pip install -e '.[dev]' failed"
        echo "$wanted" >"$stamp"
    fi
}

setup_node() {
    command -v node >/dev/null 2>&1 || setup_fail "node not found: install Node.js 20 or newer (Azurite needs it)"
    command -v npm >/dev/null 2>&1 || setup_fail "npm not found: install npm (it comes with Node.js)"
    local stamp=node_modules/.durable-azure-installed
    local wanted
    wanted="$(cat package-lock.json | cksum)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ] || [ ! -x node_modules/.bin/azurite ]; then
        echo "setup: installing Azurite (npm ci)" >&2
        npm ci --no-audit --no-fund --loglevel=error >&2 || setup_fail "npm ci failed"
        echo "$wanted" >"$stamp"
    fi
}

setup_python
setup_node

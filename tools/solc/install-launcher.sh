#!/usr/bin/env bash
# Installs `solc-v<version>` into this checkout's py-solc-x folder (.solcx/, or $SOLCX_BINARY_PATH) as a small
# wrapper that runs this checkout's solc-js through tools/solc/solc-launcher.js. py-solc-x and
# ape-solidity then find it as an installed native compiler. Rewrites the wrapper only when it changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
module="$root/node_modules/solc"
version=$(node -p "require('$module/package.json').version")
dir=${SOLCX_BINARY_PATH:-$root/.solcx}
target="$dir/solc-v$version"
wanted=$(cat <<WRAPPER
#!/bin/sh
# Installed by $root/tools/solc/install-launcher.sh: solc-js $version behind a native solc's command line.
EBL_SOLC_MODULE='$module' exec node '$root/tools/solc/solc-launcher.js' "\$@"
WRAPPER
)
mkdir -p "$dir"
if [ ! -x "$target" ] || [ "$(cat "$target")" != "$wanted" ]; then
  tmp=$(mktemp "$dir/.solc-v$version.XXXXXX")
  printf '%s\n' "$wanted" > "$tmp"
  chmod 0755 "$tmp"
  mv -f "$tmp" "$target"
  echo "solc launcher: installed $target"
fi
"$target" --version | grep -q "Version: $version+" || { echo "solc launcher: $target does not answer --version" >&2; exit 1; }

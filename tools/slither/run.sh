#!/usr/bin/env bash
# Static analysis of contracts/ with slither through the project's own compiler (the solc-js launcher in
# .solcx/): one run per contracts/ subfolder (crytic-compile globs one level). Fails on any finding of
# medium or high impact that is not justified inline with a `// slither-disable-next-line <detector> (why)`
# comment; low and informational findings are printed, not fatal.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
slither=${SLITHER:-$root/.venv-slither/bin/slither}
solc=$(ls "$root"/.solcx/solc-v* | head -n 1)
status=0
for dir in contracts/*/; do
  dir=${dir%/}
  echo "slither: $dir" >&2
  if ! "$slither" "$dir" --solc-standard-json --solc "$solc" \
      --solc-remaps '@openzeppelin/=node_modules/@openzeppelin/' --filter-paths node_modules \
      --exclude-informational --exclude-low --exclude-optimization --fail-medium; then
    status=1
  fi
done
exit $status

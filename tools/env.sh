# Source this to use the checkout's tools by hand: `source tools/env.sh` (bash or zsh, from anywhere).
# Puts the test venv (.venv-test: the runtime set with pytest, ruff and mypy; .venv when only `make setup`
# ran), Anvil and cast on PATH and points py-solc-x / ape-solidity at this checkout's own solc
# launcher (.solcx/), so two checkouts on one machine never use each other's compiler. The Makefile sets
# the same three things for every target.
_ebl_root=$(cd "$(dirname "${BASH_SOURCE[0]:-${(%):-%x}}")/.." && pwd)
export SOLCX_BINARY_PATH="$_ebl_root/.solcx"
_ebl_venv="$_ebl_root/.venv-test"
[ -x "$_ebl_venv/bin/python" ] || _ebl_venv="$_ebl_root/.venv"
export PATH="$_ebl_venv/bin:$_ebl_root/node_modules/@foundry-rs/anvil-linux-amd64/bin:$_ebl_root/node_modules/@foundry-rs/cast-linux-amd64/bin:$PATH"
unset _ebl_root _ebl_venv

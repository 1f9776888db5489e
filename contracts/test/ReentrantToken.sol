// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Malicious settlement token that re-enters a target on every transfer
/// @notice For tests only. Once armed with a target and calldata (e.g. the financing escrow's `repay`,
/// `withdraw`, `claim` or `redeliver`), each `transfer`/`transferFrom` first calls the target with it (at most
/// `rounds` times, never recursively), records whether the call succeeded and its return or revert data,
/// and then moves the tokens normally, so the outer call can finish and the test can inspect what the
/// re-entry achieved. As the target sees the token as the caller, `approve` the target from this contract
/// with `approveFromToken` when the re-entered call has to pull tokens from it.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    uint256 public rounds;
    uint256 public attempts;
    uint256 public successes;
    bytes public lastResult;
    bool private _inside;

    constructor() ERC20("Reentrant Token", "RENT") {}

    /// @notice Anyone mints: it is a test token.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Re-enter `target_` with `payload_` on the next `rounds_` transfers (0 disarms).
    function arm(address target_, bytes calldata payload_, uint256 rounds_) external {
        target = target_;
        payload = payload_;
        rounds = rounds_;
    }

    /// @notice This contract approves `spender`, so a re-entered call can pull the token's own balance.
    function approveFromToken(address spender, uint256 amount) external {
        _approve(address(this), spender, amount);
    }

    /// @dev Every transfer and transferFrom (not mint or burn) goes through here.
    function _update(address from, address to, uint256 value) internal override {
        if (rounds != 0 && !_inside && from != address(0) && to != address(0)) {
            rounds -= 1;
            _inside = true;
            attempts += 1;
            // slither-disable-next-line reentrancy-no-eth (re-entering its target is this test token's purpose)
            (bool ok, bytes memory result) = target.call(payload);
            if (ok) successes += 1;
            lastResult = result;
            _inside = false;
        }
        super._update(from, to, value);
    }
}

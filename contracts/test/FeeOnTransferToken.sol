// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ERC-20 that burns a percentage (1% unless changed) of every transfer
/// @notice For tests only: the recipient gets less than the amount asked, which the financing escrow must
/// notice rather than credit in full. The fee can be switched off and on again (`setFeePercent`), so a test
/// can reach a step (e.g. `repay` after a `fund`) that a charging token would never reach.
contract FeeOnTransferToken is ERC20 {
    /// @notice The percentage of every transfer that is burned.
    uint256 public feePercent = 1;

    constructor() ERC20("Fee On Transfer Token", "FEE") {}

    /// @notice Anyone mints: it is a test token.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Anyone sets the fee (0 to 100): it is a test token.
    function setFeePercent(uint256 percent) external {
        require(percent <= 100, "fee above 100%");
        feePercent = percent;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value * feePercent / 100;
            if (fee != 0) super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

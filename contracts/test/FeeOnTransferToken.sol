// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ERC-20 that burns 1% of every transfer
/// @notice For tests only: the recipient gets less than the amount asked, which the financing escrow must
/// notice rather than credit in full.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Fee On Transfer Token", "FEE") {}

    /// @notice Anyone mints: it is a test token.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

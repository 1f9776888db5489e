// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title Test stablecoin: an ERC-20 with EIP-2612 permit and 6 decimals, like a real HKD or USD stablecoin
/// @notice For tests and the demo only. Only its issuer mints; anyone burns their own.
contract TestStablecoin is ERC20, ERC20Permit {
    /// @notice The only account that may mint.
    address public immutable issuer;

    /// @notice {caller} is not the issuer of this stablecoin.
    error NotIssuer(address caller);

    /// @param name_ token name, also the EIP-712 domain name of permits
    /// @param symbol_ token symbol, e.g. "tHKD"
    /// @param issuer_ the account that may mint
    constructor(string memory name_, string memory symbol_, address issuer_) ERC20(name_, symbol_) ERC20Permit(name_) {
        issuer = issuer_;
    }

    /// @notice Creates `amount` (in millionths) for `to`. Caller: the issuer.
    function mint(address to, uint256 amount) external {
        if (msg.sender != issuer) revert NotIssuer(msg.sender);
        _mint(to, amount);
    }

    /// @notice Destroys `amount` of the caller's tokens.
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }

    /// @notice 6, as for the stablecoins it stands in for.
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}

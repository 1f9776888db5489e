// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Participant role bits shared by every contract of the suite
/// @dev A participant's roles are a bitmask; `isActive(account, Roles.CARRIER)` checks one bit.
library Roles {
    uint16 internal constant CARRIER = 1 << 0;
    uint16 internal constant TRADER = 1 << 1;
    uint16 internal constant FINANCIER = 1 << 2;
    uint16 internal constant CREDIT_PROVIDER = 1 << 3;
    uint16 internal constant VERIFIER = 1 << 4;
    uint16 internal constant REGULATOR = 1 << 5;
    uint16 internal constant ESCROW = 1 << 6;
    /// @dev Every defined bit; anything outside is refused at onboarding.
    uint16 internal constant ALL = (1 << 7) - 1;
}

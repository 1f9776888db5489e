// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Participant registry: one onboarding for every application of the consortium
/// @notice Every on-chain account that acts (carrier, trader, bank, credit-reference agency, verifier
/// officer, regulator, escrow contract) is onboarded here by the consortium admin, with its roles, its
/// jurisdiction and a salted hash of its legal identifier (LEI or unified social credit code). Other
/// contracts ask `isActive(account, role)` before letting an account act or receive a bill of lading.
interface IParticipantRegistry {
    /// @notice Lifecycle of an onboarding. `None` means never onboarded.
    enum Status {
        None,
        Active,
        Suspended
    }

    /// @notice One participant, packed into two storage slots.
    /// @dev slot 0: roles (uint16) | jurisdiction (bytes2) | status (uint8) | onboardedAt (uint40) |
    /// institution (address) = 30 bytes; slot 1: identifierHash.
    struct Participant {
        uint16 roles;
        bytes2 jurisdiction;
        Status status;
        uint40 onboardedAt;
        address institution;
        bytes32 identifierHash;
    }

    /// @notice What the admin supplies to onboard one account.
    /// @param account the participant's signing account (or contract, for the escrow)
    /// @param roles bitmask of the role constants (CARRIER | TRADER | ...); ESCROW stands alone (a contract
    /// that holds pledged bills is nothing else)
    /// @param jurisdiction ISO 3166-1 alpha-2 code in capitals, e.g. "HK", "CN"
    /// @param identifierHash keccak256 of a 32-byte salt and the legal identifier; never the identifier
    /// @param institution for a verifier officer, the financier it works for; otherwise the zero address
    struct OnboardingRequest {
        address account;
        uint16 roles;
        bytes2 jurisdiction;
        bytes32 identifierHash;
        address institution;
    }

    event ParticipantOnboarded(
        address indexed account,
        uint16 roles,
        bytes2 jurisdiction,
        bytes32 identifierHash,
        address indexed institution
    );
    event ParticipantRolesUpdated(address indexed account, uint16 previousRoles, uint16 roles, address institution);
    event ParticipantSuspended(address indexed account, bytes32 reasonHash);
    event ParticipantReinstated(address indexed account);

    /// @notice The zero address is not a participant.
    error ZeroAddress();
    /// @notice Account {account} is already onboarded.
    error AlreadyOnboarded(address account);
    /// @notice Account {account} is not onboarded.
    error NotOnboarded(address account);
    /// @notice Role bits {roles} are empty, undefined, or combine the escrow role with another role.
    error InvalidRoles(uint16 roles);
    /// @notice Jurisdiction {jurisdiction} is not a two-letter ISO 3166-1 code.
    error InvalidJurisdiction(bytes2 jurisdiction);
    /// @notice Account {account} needs a salted identifier hash.
    error EmptyIdentifierHash(address account);
    /// @notice Verifier {account} must name the financier it works for.
    error InstitutionRequired(address account);
    /// @notice Account {account} is not a verifier and cannot name institution {institution}.
    error UnexpectedInstitution(address account, address institution);
    /// @notice Institution {institution} is not an active financier.
    error InvalidInstitution(address institution);
    /// @notice Account {account} is already suspended.
    error AlreadySuspended(address account);
    /// @notice Account {account} is not suspended.
    error NotSuspended(address account);

    /// @notice Onboards one account as an active participant. Admin only.
    function onboard(OnboardingRequest calldata request) external;

    /// @notice Replaces an onboarded account's roles (and, for a verifier, its institution). Admin only.
    function updateRoles(address account, uint16 roles, address institution) external;

    /// @notice Suspends an active participant. Admin only. Every contract then stops treating it as active:
    /// it cannot issue, anchor, consent, verify or receive a bill. A bill it already holds can still be
    /// handed on or surrendered (the title registry does not re-check acting holders), so a suspension
    /// never traps title to goods at sea; the title registry's `pause` stops everything.
    /// @param reasonHash hash of the off-chain reason (case file, decision), for the audit trail
    function suspend(address account, bytes32 reasonHash) external;

    /// @notice Reinstates a suspended participant. Admin only.
    function reinstate(address account) external;

    /// @notice True when `account` is active and holds every role bit in `role`. One storage read.
    function isActive(address account, uint16 role) external view returns (bool);

    /// @notice True when `account` is active and holds at least one of the role bits in `roleMask`.
    function isActiveAny(address account, uint16 roleMask) external view returns (bool);

    /// @notice True when `officer` is an active verifier working for `financier`, itself an active financier.
    function isVerifierOf(address officer, address financier) external view returns (bool);

    /// @notice The participant record of `account` (status `None` when never onboarded).
    function participant(address account) external view returns (Participant memory);

    /// @notice How many accounts were ever onboarded.
    function participantCount() external view returns (uint256);

    /// @notice The `index`-th onboarded account, in onboarding order (for listing with `participantCount`).
    function accountAt(uint256 index) external view returns (address);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IParticipantRegistry} from "./IParticipantRegistry.sol";
import {Roles} from "./Roles.sol";

/// @title Participant registry (see IParticipantRegistry)
/// @notice The consortium admin (`DEFAULT_ADMIN_ROLE`, a multisig in production) onboards, re-roles,
/// suspends and reinstates participants. Every change emits one event. No personal or commercial data is
/// stored: only role bits, a jurisdiction code and a salted identifier hash.
contract ParticipantRegistry is IParticipantRegistry, AccessControl {
    /// @dev Two slots per participant; see the layout note on `Participant`.
    mapping(address account => Participant) private _participants;

    /// @dev Onboarding order, for listing. Append-only; only the admin appends, one per onboarding.
    address[] private _accounts;

    /// @param admin the consortium operator account that may onboard and suspend
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IParticipantRegistry
    function onboard(OnboardingRequest calldata request) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address account = request.account;
        if (account == address(0)) revert ZeroAddress();
        if (_participants[account].status != Status.None) revert AlreadyOnboarded(account);
        _checkRoles(account, request.roles, request.institution);
        _checkJurisdiction(request.jurisdiction);
        if (request.identifierHash == bytes32(0)) revert EmptyIdentifierHash(account);

        _participants[account] = Participant({
            roles: request.roles,
            jurisdiction: request.jurisdiction,
            status: Status.Active,
            onboardedAt: uint40(block.timestamp),
            institution: request.institution,
            identifierHash: request.identifierHash
        });
        _accounts.push(account);
        emit ParticipantOnboarded(
            account, request.roles, request.jurisdiction, request.identifierHash, request.institution
        );
    }

    /// @inheritdoc IParticipantRegistry
    function updateRoles(address account, uint16 roles, address institution) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Participant storage p = _onboarded(account);
        _checkRoles(account, roles, institution);
        uint16 previous = p.roles;
        p.roles = roles;
        p.institution = institution;
        emit ParticipantRolesUpdated(account, previous, roles, institution);
    }

    /// @inheritdoc IParticipantRegistry
    function suspend(address account, bytes32 reasonHash) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Participant storage p = _onboarded(account);
        if (p.status == Status.Suspended) revert AlreadySuspended(account);
        p.status = Status.Suspended;
        emit ParticipantSuspended(account, reasonHash);
    }

    /// @inheritdoc IParticipantRegistry
    function reinstate(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Participant storage p = _onboarded(account);
        if (p.status != Status.Suspended) revert NotSuspended(account);
        p.status = Status.Active;
        emit ParticipantReinstated(account);
    }

    /// @inheritdoc IParticipantRegistry
    function isActive(address account, uint16 role) public view returns (bool) {
        Participant storage p = _participants[account];
        return p.status == Status.Active && role != 0 && p.roles & role == role;
    }

    /// @inheritdoc IParticipantRegistry
    function isActiveAny(address account, uint16 roleMask) external view returns (bool) {
        Participant storage p = _participants[account];
        return p.status == Status.Active && p.roles & roleMask != 0;
    }

    /// @inheritdoc IParticipantRegistry
    function isVerifierOf(address officer, address financier) external view returns (bool) {
        return isActive(officer, Roles.VERIFIER) && _participants[officer].institution == financier
            && isActive(financier, Roles.FINANCIER);
    }

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    /// @inheritdoc IParticipantRegistry
    function participantCount() external view returns (uint256) {
        return _accounts.length;
    }

    /// @inheritdoc IParticipantRegistry
    function accountAt(uint256 index) external view returns (address) {
        return _accounts[index];
    }

    function _onboarded(address account) private view returns (Participant storage p) {
        p = _participants[account];
        if (p.status == Status.None) revert NotOnboarded(account);
    }

    /// @dev Roles must be a non-empty subset of the defined bits; ESCROW stands alone (the title registry lets
    /// an escrow receive bills only by pledge, which a trader or financier role would bypass); a verifier
    /// names the active financier it works for, and nobody else names an institution.
    function _checkRoles(address account, uint16 roles, address institution) private view {
        if (roles == 0 || roles & ~Roles.ALL != 0 || (roles & Roles.ESCROW != 0 && roles != Roles.ESCROW)) {
            revert InvalidRoles(roles);
        }
        if (roles & Roles.VERIFIER != 0) {
            if (institution == address(0)) revert InstitutionRequired(account);
            if (institution == account || !isActive(institution, Roles.FINANCIER)) {
                revert InvalidInstitution(institution);
            }
        } else if (institution != address(0)) {
            revert UnexpectedInstitution(account, institution);
        }
    }

    /// @dev ISO 3166-1 alpha-2: exactly two capital letters A-Z.
    function _checkJurisdiction(bytes2 code) private pure {
        bytes1 a = code[0];
        bytes1 b = code[1];
        if (a < "A" || a > "Z" || b < "A" || b > "Z") revert InvalidJurisdiction(code);
    }
}

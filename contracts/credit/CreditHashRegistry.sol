// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IParticipantRegistry} from "../access/IParticipantRegistry.sol";
import {Roles} from "../access/Roles.sol";
import {ICreditHashRegistry} from "./ICreditHashRegistry.sol";

/// @title Credit-hash registry (see ICreditHashRegistry)
/// @notice Only hashes are stored: no report field, no salt, no name. Storage per fact:
/// record = 1 slot, consent = 1 slot, verification = 3 slots. The schema lives in the `Anchored` event only.
contract CreditHashRegistry is ICreditHashRegistry {
    /// @notice Largest `anchorBatch`; bounds the loop so a batch always fits a block.
    uint256 public constant MAX_BATCH = 256;

    IParticipantRegistry public immutable participants;

    /// @dev Only its slot number is used: records live at keccak256(subject, root, this slot); see `_record`.
    mapping(bytes32 subjectRoot => Record) private _records;
    mapping(bytes32 subjectRootFinancier => Consent) private _consents;
    mapping(address financier => mapping(address subject => Verification)) private _verifications;

    constructor(IParticipantRegistry participantRegistry) {
        participants = participantRegistry;
    }

    modifier onlyCreditProvider() {
        if (!participants.isActive(msg.sender, Roles.CREDIT_PROVIDER)) revert NotCreditProvider(msg.sender);
        _;
    }

    /// @inheritdoc ICreditHashRegistry
    function anchor(address subject, bytes32 root, bytes32 schema, uint40 expiresAt) external onlyCreditProvider {
        _anchor(subject, root, _packedRecord(expiresAt));
        emit Anchored(subject, root, msg.sender, schema, expiresAt);
    }

    /// @inheritdoc ICreditHashRegistry
    function anchorBatch(address[] calldata subjects, bytes32[] calldata roots, bytes32 schema, uint40 expiresAt)
        external
        onlyCreditProvider
    {
        uint256 n = subjects.length;
        if (n == 0 || n > MAX_BATCH || roots.length != n) revert BatchSizeInvalid(n, MAX_BATCH);
        uint256 packed = _packedRecord(expiresAt);
        for (uint256 i; i < n; ++i) {
            _anchor(subjects[i], roots[i], packed);
        }
        emit BatchAnchored(msg.sender, schema, expiresAt, subjects, roots);
    }

    /// @dev The whole Record slot for a new anchor by the caller: provider | anchoredAt << 160 |
    /// expiresAt << 208 (revoked = false). Built once per transaction, written with one SSTORE per root.
    function _packedRecord(uint40 expiresAt) private view returns (uint256) {
        if (expiresAt <= block.timestamp) revert InvalidExpiry(expiresAt);
        return uint256(uint160(msg.sender)) | (block.timestamp << 160) | (uint256(expiresAt) << 208);
    }

    /// @dev The existence check warms the slot, so it adds nothing to the store.
    function _anchor(address subject, bytes32 root, uint256 packed) private {
        if (subject == address(0)) revert InvalidSubject(subject);
        if (root == bytes32(0)) revert EmptyRoot();
        Record storage r = _record(subject, root);
        if (r.provider != address(0)) revert AlreadyAnchored(subject, root);
        assembly ("memory-safe") {
            sstore(r.slot, packed)
        }
    }

    /// @inheritdoc ICreditHashRegistry
    function revoke(address subject, bytes32 root, bytes32 reasonHash) external onlyCreditProvider {
        Record storage r = _existing(subject, root);
        if (r.provider != msg.sender) revert NotRecordProvider(msg.sender, r.provider);
        if (r.revoked) revert RecordRevoked(subject, root);
        r.revoked = true;
        emit Revoked(subject, root, msg.sender, reasonHash);
    }

    /// @inheritdoc ICreditHashRegistry
    function grantConsent(bytes32 root, address financier, uint40 expiresAt) external {
        if (!participants.isActive(msg.sender, Roles.TRADER)) revert SubjectNotActive(msg.sender);
        _requireValid(msg.sender, root);
        if (!participants.isActive(financier, Roles.FINANCIER)) revert NotFinancier(financier);
        if (expiresAt <= block.timestamp) revert InvalidExpiry(expiresAt);
        _consents[_consentKey(msg.sender, root, financier)] =
            Consent({grantedAt: uint40(block.timestamp), expiresAt: expiresAt, withdrawn: false});
        emit ConsentGranted(msg.sender, root, financier, expiresAt);
    }

    /// @inheritdoc ICreditHashRegistry
    function withdrawConsent(bytes32 root, address financier) external {
        Consent storage c = _consents[_consentKey(msg.sender, root, financier)];
        if (c.grantedAt == 0 || c.withdrawn) revert ConsentMissing(msg.sender, root, financier);
        c.withdrawn = true;
        emit ConsentWithdrawn(msg.sender, root, financier);
    }

    /// @inheritdoc ICreditHashRegistry
    function recordVerification(address financier, address subject, bytes32 root) external {
        _requireOfficer(financier);
        _requireValid(subject, root);
        if (!hasConsent(subject, root, financier)) revert ConsentMissing(subject, root, financier);
        Verification storage v = _verifications[financier][subject];
        v.root = root;
        v.maker = msg.sender;
        v.status = VerificationStatus.Recorded;
        v.recordedAt = uint40(block.timestamp);
        v.checker = address(0);
        v.approvedAt = 0;
        emit VerificationRecorded(financier, subject, root, msg.sender);
    }

    /// @inheritdoc ICreditHashRegistry
    function approveVerification(address financier, address subject) external {
        _requireOfficer(financier);
        Verification storage v = _verifications[financier][subject];
        if (v.status == VerificationStatus.None) revert VerificationNotRecorded(financier, subject);
        if (v.status == VerificationStatus.Approved) revert VerificationAlreadyApproved(financier, subject);
        if (v.maker == msg.sender) revert SameMakerAndChecker(msg.sender);
        bytes32 root = v.root;
        // The record or the consent may have lapsed between the two steps: check again.
        _requireValid(subject, root);
        if (!hasConsent(subject, root, financier)) revert ConsentMissing(subject, root, financier);
        v.status = VerificationStatus.Approved;
        v.checker = msg.sender;
        v.approvedAt = uint40(block.timestamp);
        emit VerificationApproved(financier, subject, root, msg.sender);
    }

    /// @inheritdoc ICreditHashRegistry
    function isValid(address subject, bytes32 root) public view returns (bool) {
        Record storage r = _record(subject, root);
        return r.provider != address(0) && !r.revoked && block.timestamp < r.expiresAt;
    }

    /// @inheritdoc ICreditHashRegistry
    function verifyField(address subject, bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return isValid(subject, root) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc ICreditHashRegistry
    function fieldLeaf(string calldata path, bytes calldata canonicalValue, bytes32 salt)
        external
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(path, canonicalValue, salt))));
    }

    /// @inheritdoc ICreditHashRegistry
    function hasConsent(address subject, bytes32 root, address financier) public view returns (bool) {
        Consent storage c = _consents[_consentKey(subject, root, financier)];
        return c.grantedAt != 0 && !c.withdrawn && block.timestamp < c.expiresAt;
    }

    /// @inheritdoc ICreditHashRegistry
    function hasApprovedVerification(address financier, address subject) external view returns (bool) {
        Verification storage v = _verifications[financier][subject];
        return v.status == VerificationStatus.Approved && isValid(subject, v.root)
            && hasConsent(subject, v.root, financier);
    }

    /// @inheritdoc ICreditHashRegistry
    function record(address subject, bytes32 root) external view returns (Record memory) {
        return _record(subject, root);
    }

    /// @inheritdoc ICreditHashRegistry
    function consent(address subject, bytes32 root, address financier) external view returns (Consent memory) {
        return _consents[_consentKey(subject, root, financier)];
    }

    /// @inheritdoc ICreditHashRegistry
    function verification(address financier, address subject) external view returns (Verification memory) {
        return _verifications[financier][subject];
    }

    function _existing(address subject, bytes32 root) private view returns (Record storage r) {
        r = _record(subject, root);
        if (r.provider == address(0)) revert RecordNotFound(subject, root);
    }

    function _requireValid(address subject, bytes32 root) private view {
        Record storage r = _existing(subject, root);
        if (r.revoked) revert RecordRevoked(subject, root);
        if (block.timestamp >= r.expiresAt) revert RecordExpired(subject, root, r.expiresAt);
    }

    function _requireOfficer(address financier) private view {
        if (!participants.isVerifierOf(msg.sender, financier)) revert NotVerifierOf(msg.sender, financier);
    }

    /// @dev The record of (subject, root) lives at keccak256(subject, root, slot of `_records`): one hash
    /// instead of the two a mapping keyed by keccak256(subject, root) would take. Every access goes here.
    function _record(address subject, bytes32 root) private pure returns (Record storage r) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, subject)
            mstore(add(ptr, 0x20), root)
            mstore(add(ptr, 0x40), _records.slot)
            r.slot := keccak256(ptr, 0x60)
        }
    }

    function _consentKey(address subject, bytes32 root, address financier) private pure returns (bytes32) {
        return keccak256(abi.encode(subject, root, financier));
    }
}

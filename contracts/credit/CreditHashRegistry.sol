// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IParticipantRegistry} from "../access/IParticipantRegistry.sol";
import {Roles} from "../access/Roles.sol";
import {ICreditHashRegistry} from "./ICreditHashRegistry.sol";

/// @title Credit-hash registry (see ICreditHashRegistry)
/// @notice Only hashes are stored: no report field, no salt, no name. Storage per fact:
/// record = 1 slot, consent = 1 slot, verification = 4 slots. The schema lives in the `Anchored` event only.
/// The admin (`DEFAULT_ADMIN_ROLE`, the consortium multisig in production) sets `maxValidity` and may revoke
/// any record; it cannot anchor, consent or verify.
contract CreditHashRegistry is ICreditHashRegistry, AccessControl {
    /// @notice Largest `anchorBatch`; bounds the loop so a batch always fits a block.
    uint256 public constant MAX_BATCH = 256;
    uint40 private constant _MIN_VALIDITY_CAP = 1 days;
    uint40 private constant _MAX_VALIDITY_CAP = 3650 days;

    IParticipantRegistry public immutable participants;

    /// @inheritdoc ICreditHashRegistry
    uint40 public maxValidity;

    /// @dev Only its slot number is used: records live at keccak256(provider, subject, root, this slot); see
    /// `_record`, which every access goes through (so slither sees no write to the mapping itself).
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 providerSubjectRoot => Record) private _records;
    mapping(bytes32 recordFinancier => Consent) private _consents;
    mapping(address financier => mapping(address subject => Verification)) private _verifications;

    /// @param registry the participant registry (providers, subjects, financiers, officers)
    /// @param admin the account that sets `maxValidity` and may revoke any record
    /// @param maxValidity_ the longest validity of an anchor, in seconds
    constructor(IParticipantRegistry registry, address admin, uint40 maxValidity_) {
        participants = registry;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMaxValidity(maxValidity_);
    }

    modifier onlyCreditProvider() {
        if (!participants.isActive(msg.sender, Roles.CREDIT_PROVIDER)) revert NotCreditProvider(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ provider

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
        uint256 latest = block.timestamp + maxValidity;
        if (expiresAt > latest) revert ExpiryTooFar(expiresAt, latest);
        return uint256(uint160(msg.sender)) | (block.timestamp << 160) | (uint256(expiresAt) << 208);
    }

    /// @dev The existence check warms the slot, so it adds nothing to the store.
    function _anchor(address subject, bytes32 root, uint256 packed) private {
        if (subject == address(0)) revert InvalidSubject(subject);
        if (root == bytes32(0)) revert EmptyRoot();
        Record storage r = _record(msg.sender, subject, root);
        if (r.provider != address(0)) revert AlreadyAnchored(msg.sender, subject, root);
        assembly ("memory-safe") {
            sstore(r.slot, packed)
        }
    }

    /// @inheritdoc ICreditHashRegistry
    function revoke(address subject, bytes32 root, bytes32 reasonHash) external onlyCreditProvider {
        _revoke(msg.sender, subject, root, reasonHash);
    }

    // ------------------------------------------------------------------ supervision

    /// @inheritdoc ICreditHashRegistry
    function revokeAsSupervisor(address provider, address subject, bytes32 root, bytes32 reasonHash) external {
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender) && !participants.isActive(msg.sender, Roles.REGULATOR)) {
            revert NotSupervisor(msg.sender);
        }
        _revoke(provider, subject, root, reasonHash);
    }

    /// @inheritdoc ICreditHashRegistry
    function setMaxValidity(uint40 maxValidity_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxValidity(maxValidity_);
    }

    function _setMaxValidity(uint40 maxValidity_) private {
        if (maxValidity_ < _MIN_VALIDITY_CAP || maxValidity_ > _MAX_VALIDITY_CAP) {
            revert InvalidMaxValidity(maxValidity_);
        }
        maxValidity = maxValidity_;
        emit MaxValidityChanged(maxValidity_);
    }

    function _revoke(address provider, address subject, bytes32 root, bytes32 reasonHash) private {
        Record storage r = _existing(provider, subject, root);
        if (r.revoked) revert RecordRevoked(provider, subject, root);
        r.revoked = true;
        emit Revoked(subject, root, provider, msg.sender, reasonHash);
    }

    // ------------------------------------------------------------------ subject

    /// @inheritdoc ICreditHashRegistry
    function grantConsent(address provider, bytes32 root, address financier, uint40 expiresAt) external {
        address subject = msg.sender;
        if (!participants.isActive(subject, Roles.TRADER)) revert SubjectNotActive(subject);
        _requireValid(provider, subject, root);
        if (!participants.isActive(financier, Roles.FINANCIER)) revert NotFinancier(financier);
        if (expiresAt <= block.timestamp) revert InvalidExpiry(expiresAt);
        _consents[_consentKey(provider, subject, root, financier)] =
            Consent({grantedAt: uint40(block.timestamp), expiresAt: expiresAt, withdrawn: false});
        emit ConsentGranted(subject, root, financier, provider, expiresAt);
    }

    /// @inheritdoc ICreditHashRegistry
    function withdrawConsent(address provider, bytes32 root, address financier) external {
        address subject = msg.sender;
        Consent storage c = _consents[_consentKey(provider, subject, root, financier)];
        if (c.grantedAt == 0 || c.withdrawn) revert ConsentMissing(subject, root, financier);
        c.withdrawn = true;
        emit ConsentWithdrawn(subject, root, financier, provider);
    }

    // ------------------------------------------------------------------ financier's officers

    /// @inheritdoc ICreditHashRegistry
    function recordVerification(address financier, address subject, address provider, bytes32 root) external {
        _requireOfficer(financier);
        _requireValid(provider, subject, root);
        if (!hasConsent(provider, subject, root, financier)) revert ConsentMissing(subject, root, financier);
        Verification storage v = _verifications[financier][subject];
        v.root = root;
        v.maker = msg.sender;
        v.status = VerificationStatus.Recorded;
        v.recordedAt = uint40(block.timestamp);
        v.checker = address(0);
        v.approvedAt = 0;
        v.provider = provider;
        emit VerificationRecorded(financier, subject, root, provider, msg.sender);
    }

    /// @inheritdoc ICreditHashRegistry
    function approveVerification(address financier, address subject) external {
        _requireOfficer(financier);
        Verification storage v = _verifications[financier][subject];
        if (v.status == VerificationStatus.None) revert VerificationNotRecorded(financier, subject);
        if (v.status == VerificationStatus.Approved) revert VerificationAlreadyApproved(financier, subject);
        if (v.maker == msg.sender) revert SameMakerAndChecker(msg.sender);
        bytes32 root = v.root;
        address provider = v.provider;
        // The record, its provider or the consent may have lapsed between the two steps: check again.
        _requireValid(provider, subject, root);
        if (!hasConsent(provider, subject, root, financier)) revert ConsentMissing(subject, root, financier);
        v.status = VerificationStatus.Approved;
        v.checker = msg.sender;
        v.approvedAt = uint40(block.timestamp);
        emit VerificationApproved(financier, subject, root, msg.sender);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICreditHashRegistry
    function isValid(address provider, address subject, bytes32 root) public view returns (bool) {
        Record storage r = _record(provider, subject, root);
        return r.provider != address(0) && !r.revoked && block.timestamp < r.expiresAt
            && participants.isActive(provider, Roles.CREDIT_PROVIDER);
    }

    /// @inheritdoc ICreditHashRegistry
    function verifyField(
        address provider,
        address subject,
        bytes32 root,
        string calldata path,
        bytes calldata canonicalValue,
        bytes32 salt,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return isValid(provider, subject, root)
            && MerkleProof.verifyCalldata(proof, root, fieldLeaf(path, canonicalValue, salt));
    }

    /// @inheritdoc ICreditHashRegistry
    function fieldLeaf(string calldata path, bytes calldata canonicalValue, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(path, canonicalValue, salt))));
    }

    /// @inheritdoc ICreditHashRegistry
    function hasConsent(address provider, address subject, bytes32 root, address financier)
        public
        view
        returns (bool)
    {
        Consent storage c = _consents[_consentKey(provider, subject, root, financier)];
        return c.grantedAt != 0 && !c.withdrawn && block.timestamp < c.expiresAt;
    }

    /// @inheritdoc ICreditHashRegistry
    function hasApprovedVerification(address financier, address subject) external view returns (bool) {
        Verification storage v = _verifications[financier][subject];
        if (v.status != VerificationStatus.Approved) return false;
        address provider = v.provider;
        bytes32 root = v.root;
        return isValid(provider, subject, root) && hasConsent(provider, subject, root, financier);
    }

    /// @inheritdoc ICreditHashRegistry
    function record(address provider, address subject, bytes32 root) external view returns (Record memory) {
        return _record(provider, subject, root);
    }

    /// @inheritdoc ICreditHashRegistry
    function consent(address provider, address subject, bytes32 root, address financier)
        external
        view
        returns (Consent memory)
    {
        return _consents[_consentKey(provider, subject, root, financier)];
    }

    /// @inheritdoc ICreditHashRegistry
    function verification(address financier, address subject) external view returns (Verification memory) {
        return _verifications[financier][subject];
    }

    /// @inheritdoc ICreditHashRegistry
    function participantRegistry() external view returns (address) {
        return address(participants);
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ICreditHashRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    function _existing(address provider, address subject, bytes32 root) private view returns (Record storage r) {
        r = _record(provider, subject, root);
        if (r.provider == address(0)) revert RecordNotFound(provider, subject, root);
    }

    function _requireValid(address provider, address subject, bytes32 root) private view {
        Record storage r = _existing(provider, subject, root);
        if (r.revoked) revert RecordRevoked(provider, subject, root);
        if (block.timestamp >= r.expiresAt) revert RecordExpired(provider, subject, root, r.expiresAt);
        if (!participants.isActive(provider, Roles.CREDIT_PROVIDER)) revert ProviderNotActive(provider);
    }

    function _requireOfficer(address financier) private view {
        if (!participants.isVerifierOf(msg.sender, financier)) revert NotVerifierOf(msg.sender, financier);
    }

    /// @dev The record of (provider, subject, root) lives at keccak256(provider, subject, root, slot of
    /// `_records`): one hash instead of the two a mapping keyed by keccak256(provider, subject, root) would
    /// take. Every access goes here.
    function _record(address provider, address subject, bytes32 root) private pure returns (Record storage r) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, provider)
            mstore(add(ptr, 0x20), subject)
            mstore(add(ptr, 0x40), root)
            mstore(add(ptr, 0x60), _records.slot)
            r.slot := keccak256(ptr, 0x80)
        }
    }

    function _consentKey(address provider, address subject, bytes32 root, address financier)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(provider, subject, root, financier));
    }
}

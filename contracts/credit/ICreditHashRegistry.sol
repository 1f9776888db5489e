// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Cross-border credit-hash registry
/// @notice A licensed credit-reference provider anchors the Merkle root of a salted credit report about a
/// subject (a trading company's account). The report never touches the chain: the subject hands it, with
/// its salts, to a counterparty across the border, whose client recomputes the root and checks it here.
/// Before a financier relies on it, the subject consents to that financier, one verifier officer of the
/// financier records the match (maker) and a different officer approves it (checker).
/// @dev Leaves are `keccak256(bytes.concat(keccak256(abi.encode(string path, bytes canonicalValue,
/// bytes32 salt))))`, pairs hashed in sorted order: OpenZeppelin `MerkleProof` verifies the proofs.
interface ICreditHashRegistry {
    /// @notice One anchored commitment, keyed by keccak256(subject, root); one storage slot.
    /// @dev provider (20 bytes) | anchoredAt (uint48) | expiresAt (uint40) | revoked (bool) = exactly 32 bytes,
    /// so an anchor writes the whole slot without reading it back first.
    struct Record {
        address provider;
        uint48 anchoredAt;
        uint40 expiresAt;
        bool revoked;
    }

    /// @notice A subject's consent to a financier for one record; keyed by keccak256(subject, root, financier).
    /// @dev grantedAt (uint40) | expiresAt (uint40) | withdrawn (bool) in one slot.
    struct Consent {
        uint40 grantedAt;
        uint40 expiresAt;
        bool withdrawn;
    }

    enum VerificationStatus {
        None,
        Recorded,
        Approved
    }

    /// @notice A financier's manual verification of a subject's record; keyed by (financier, subject).
    /// @dev slot 0: root; slot 1: maker (20) | status (1) | recordedAt (5); slot 2: checker (20) | approvedAt (5).
    struct Verification {
        bytes32 root;
        address maker;
        VerificationStatus status;
        uint40 recordedAt;
        address checker;
        uint40 approvedAt;
    }

    event Anchored(
        address indexed subject, bytes32 indexed root, address indexed provider, bytes32 schema, uint40 expiresAt
    );
    /// @notice One batch of anchors sharing provider, schema and expiry. One event for the whole batch: a
    /// per-root indexed event would cost about 1,500 gas a root, 6% of the batch's per-root budget.
    event BatchAnchored(
        address indexed provider, bytes32 schema, uint40 expiresAt, address[] subjects, bytes32[] roots
    );
    event Revoked(address indexed subject, bytes32 indexed root, address indexed provider, bytes32 reasonHash);
    event ConsentGranted(address indexed subject, bytes32 indexed root, address indexed financier, uint40 expiresAt);
    event ConsentWithdrawn(address indexed subject, bytes32 indexed root, address indexed financier);
    event VerificationRecorded(address indexed financier, address indexed subject, bytes32 indexed root, address maker);
    event VerificationApproved(
        address indexed financier, address indexed subject, bytes32 indexed root, address checker
    );

    error NotCreditProvider(address account);
    error InvalidSubject(address subject);
    error EmptyRoot();
    error InvalidExpiry(uint40 expiresAt);
    error BatchSizeInvalid(uint256 size, uint256 max);
    error AlreadyAnchored(address subject, bytes32 root);
    error RecordNotFound(address subject, bytes32 root);
    error NotRecordProvider(address caller, address provider);
    error RecordRevoked(address subject, bytes32 root);
    error RecordExpired(address subject, bytes32 root, uint40 expiresAt);
    error NotFinancier(address financier);
    error SubjectNotActive(address subject);
    error ConsentMissing(address subject, bytes32 root, address financier);
    error NotVerifierOf(address officer, address financier);
    error VerificationNotRecorded(address financier, address subject);
    error VerificationAlreadyApproved(address financier, address subject);
    error SameMakerAndChecker(address officer);

    /// @notice Anchor one commitment. Caller: an active credit provider.
    /// @param subject the account of the company the report is about
    /// @param root the Merkle root of the salted report
    /// @param schema identifier of the report schema (e.g. keccak256("gba-credit-report/v1")); event only
    /// @param expiresAt unix time after which the record is no longer valid; must be in the future
    function anchor(address subject, bytes32 root, bytes32 schema, uint40 expiresAt) external;

    /// @notice Anchor many commitments sharing a schema and expiry (at most `MAX_BATCH`). Caller: an active
    /// credit provider. All or nothing: one duplicate reverts the whole batch. Emits one `BatchAnchored`
    /// listing every (subject, root): find batch anchors of a subject by decoding it, or ask `record`.
    function anchorBatch(address[] calldata subjects, bytes32[] calldata roots, bytes32 schema, uint40 expiresAt)
        external;

    /// @notice Revoke a record. Caller: the provider that anchored it, while still an active provider.
    /// @param reasonHash hash of the off-chain reason
    function revoke(address subject, bytes32 root, bytes32 reasonHash) external;

    /// @notice The subject consents to `financier` relying on its record until `expiresAt`. Caller: the subject,
    /// an active trader. (Anchoring does not require the subject to be onboarded yet; relying on it does.)
    function grantConsent(bytes32 root, address financier, uint40 expiresAt) external;

    /// @notice The subject withdraws its consent. Caller: the subject, even while suspended.
    function withdrawConsent(bytes32 root, address financier) external;

    /// @notice Maker step: a verifier officer of `financier` records that the subject's report matched `root`.
    /// Needs a valid record and the subject's live consent. Replaces an earlier verification of the subject.
    function recordVerification(address financier, address subject, bytes32 root) external;

    /// @notice Checker step: a different verifier officer of the same financier approves the recorded match.
    function approveVerification(address financier, address subject) external;

    /// @notice True when the record exists, is not revoked and has not expired.
    function isValid(address subject, bytes32 root) external view returns (bool);

    /// @notice True when `leaf` is in the tree of a valid record (OpenZeppelin MerkleProof, sorted pairs).
    function verifyField(address subject, bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice The leaf of one field, as the Python client computes it.
    function fieldLeaf(string calldata path, bytes calldata canonicalValue, bytes32 salt)
        external
        pure
        returns (bytes32);

    /// @notice True when consent for (subject, root) to `financier` is granted, not withdrawn and not expired.
    function hasConsent(address subject, bytes32 root, address financier) external view returns (bool);

    /// @notice True when `financier` holds an approved verification of `subject` whose record is still valid
    /// and whose consent is still live. The financing escrow calls this before funding.
    function hasApprovedVerification(address financier, address subject) external view returns (bool);

    function record(address subject, bytes32 root) external view returns (Record memory);
    function consent(address subject, bytes32 root, address financier) external view returns (Consent memory);
    function verification(address financier, address subject) external view returns (Verification memory);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Cross-border credit-hash registry
/// @notice A licensed credit-reference provider anchors the Merkle root of a salted credit report about a
/// subject (a trading company's account). The report never touches the chain: the subject hands it, with
/// its salts, to a counterparty across the border, whose client recomputes the root and checks it here.
/// Before a financier relies on it, the subject consents to that financier, one verifier officer of the
/// financier records the match (maker) and a different officer approves it (checker).
///
/// A record is identified by (provider, subject, root): a provider owns only what it anchored, and nobody
/// can take a root over by anchoring it first. A record is valid while it is not revoked, not expired and
/// its provider is still an active credit provider: a suspended provider's records stop counting at once.
/// The registry's admin (the consortium) and any active regulator can revoke any record, with a reason.
/// Expiries are capped by `maxValidity`, a registry parameter the admin sets.
/// @dev Leaves are `keccak256(bytes.concat(keccak256(abi.encode(string path, bytes canonicalValue,
/// bytes32 salt))))`, pairs hashed in sorted order: OpenZeppelin `StandardMerkleTree` with leaf encoding
/// `["string", "bytes", "bytes32"]`, verified with OpenZeppelin `MerkleProof`. `verifyField` computes the
/// leaf itself, so neither an internal node nor the root can pass for a field.
interface ICreditHashRegistry {
    /// @notice One anchored commitment, keyed by (provider, subject, root); one storage slot.
    /// @dev provider (20 bytes) | anchoredAt (uint48) | expiresAt (uint40) | revoked (bool) = exactly 32 bytes,
    /// so an anchor writes the whole slot without reading it back first.
    struct Record {
        address provider;
        uint48 anchoredAt;
        uint40 expiresAt;
        bool revoked;
    }

    /// @notice A subject's consent to a financier for one record; keyed by (provider, subject, root, financier).
    /// @dev grantedAt (uint40) | expiresAt (uint40) | withdrawn (bool) in one slot.
    struct Consent {
        uint40 grantedAt;
        uint40 expiresAt;
        bool withdrawn;
    }

    /// @notice Maker-checker progress of a financier's verification of a subject.
    enum VerificationStatus {
        None,
        Recorded,
        Approved
    }

    /// @notice A financier's manual verification of a subject's record; keyed by (financier, subject).
    /// @dev slot 0: root; slot 1: maker (20) | status (1) | recordedAt (5); slot 2: checker (20) | approvedAt (5);
    /// slot 3: provider.
    struct Verification {
        bytes32 root;
        address maker;
        VerificationStatus status;
        uint40 recordedAt;
        address checker;
        uint40 approvedAt;
        address provider;
    }

    event Anchored(
        address indexed subject, bytes32 indexed root, address indexed provider, bytes32 schema, uint40 expiresAt
    );
    /// @notice One batch of anchors sharing provider, schema and expiry. One event for the whole batch: a
    /// per-root indexed event would cost about 1,500 gas a root, 6% of the batch's per-root budget.
    event BatchAnchored(
        address indexed provider, bytes32 schema, uint40 expiresAt, address[] subjects, bytes32[] roots
    );
    /// @param revokedBy the provider itself, the registry admin or a regulator
    event Revoked(
        address indexed subject, bytes32 indexed root, address indexed provider, address revokedBy, bytes32 reasonHash
    );
    event ConsentGranted(
        address indexed subject, bytes32 indexed root, address indexed financier, address provider, uint40 expiresAt
    );
    event ConsentWithdrawn(address indexed subject, bytes32 indexed root, address indexed financier, address provider);
    event VerificationRecorded(
        address indexed financier, address indexed subject, bytes32 indexed root, address provider, address maker
    );
    event VerificationApproved(
        address indexed financier, address indexed subject, bytes32 indexed root, address checker
    );
    /// @notice The admin changed the longest validity an anchor may have.
    event MaxValidityChanged(uint40 maxValidity);

    /// @notice Account {account} is not an active credit provider.
    error NotCreditProvider(address account);
    /// @notice Subject {subject} is not a valid account.
    error InvalidSubject(address subject);
    /// @notice The commitment root is empty.
    error EmptyRoot();
    /// @notice Expiry {expiresAt} is not in the future.
    error InvalidExpiry(uint40 expiresAt);
    /// @notice Expiry {expiresAt} is beyond the registry's longest validity (at most {latest}).
    error ExpiryTooFar(uint40 expiresAt, uint256 latest);
    /// @notice A longest validity of {maxValidity} seconds is not allowed (one day to ten years).
    error InvalidMaxValidity(uint40 maxValidity);
    /// @notice A batch of {size} is empty, uneven or larger than {max}.
    error BatchSizeInvalid(uint256 size, uint256 max);
    /// @notice Provider {provider} already anchored root {root} for subject {subject}.
    error AlreadyAnchored(address provider, address subject, bytes32 root);
    /// @notice Provider {provider} has no record of root {root} for subject {subject}.
    error RecordNotFound(address provider, address subject, bytes32 root);
    /// @notice Record {root} of subject {subject} by provider {provider} is revoked.
    error RecordRevoked(address provider, address subject, bytes32 root);
    /// @notice Record {root} of subject {subject} by provider {provider} expired at {expiresAt}.
    error RecordExpired(address provider, address subject, bytes32 root, uint40 expiresAt);
    /// @notice Provider {provider} is no longer an active credit provider: its records do not count.
    error ProviderNotActive(address provider);
    /// @notice {caller} may not revoke other providers' records (only the registry admin or a regulator).
    error NotSupervisor(address caller);
    /// @notice {financier} is not an active financier.
    error NotFinancier(address financier);
    /// @notice Subject {subject} is not an active trader.
    error SubjectNotActive(address subject);
    /// @notice Subject {subject} has no live consent for {financier} on record {root}.
    error ConsentMissing(address subject, bytes32 root, address financier);
    /// @notice {officer} is not an active verifier officer of {financier}.
    error NotVerifierOf(address officer, address financier);
    /// @notice {financier} has no recorded verification of {subject}.
    error VerificationNotRecorded(address financier, address subject);
    /// @notice {financier}'s verification of {subject} is already approved.
    error VerificationAlreadyApproved(address financier, address subject);
    /// @notice Officer {officer} recorded this verification and cannot also approve it.
    error SameMakerAndChecker(address officer);

    /// @notice Anchor one commitment. Caller: an active credit provider.
    /// @param subject the account of the company the report is about
    /// @param root the Merkle root of the salted report
    /// @param schema identifier of the report schema (e.g. keccak256("gba-credit-report/v1")); event only
    /// @param expiresAt unix time after which the record is no longer valid; in the future and at most
    /// `maxValidity` seconds away
    function anchor(address subject, bytes32 root, bytes32 schema, uint40 expiresAt) external;

    /// @notice Anchor many commitments sharing a schema and expiry (at most `MAX_BATCH`). Caller: an active
    /// credit provider. All or nothing: one duplicate reverts the whole batch. Emits one `BatchAnchored`
    /// listing every (subject, root): find batch anchors of a subject by decoding it, or ask `record`.
    function anchorBatch(address[] calldata subjects, bytes32[] calldata roots, bytes32 schema, uint40 expiresAt)
        external;

    /// @notice Revoke one of the caller's own records. Caller: the provider that anchored it, while still an
    /// active provider.
    /// @param reasonHash hash of the off-chain reason
    function revoke(address subject, bytes32 root, bytes32 reasonHash) external;

    /// @notice Revoke any provider's record, e.g. one a suspended or struck-off provider can no longer
    /// revoke, or a disputed one. Caller: the registry admin or an active regulator.
    /// @param reasonHash hash of the off-chain reason (the decision, the case file)
    function revokeAsSupervisor(address provider, address subject, bytes32 root, bytes32 reasonHash) external;

    /// @notice Sets the longest validity a new anchor may have (existing records keep theirs). Caller: the
    /// registry admin. Between one day and ten years.
    function setMaxValidity(uint40 maxValidity_) external;

    /// @notice The subject consents to `financier` relying on `provider`'s record of it until `expiresAt`.
    /// Caller: the subject, an active trader, while the record is valid. (Anchoring does not require the
    /// subject to be onboarded yet; relying on it does.)
    function grantConsent(address provider, bytes32 root, address financier, uint40 expiresAt) external;

    /// @notice The subject withdraws its consent. Caller: the subject, even while suspended.
    function withdrawConsent(address provider, bytes32 root, address financier) external;

    /// @notice Maker step: a verifier officer of `financier` records that the subject's report matched
    /// `provider`'s record `root`. Needs a valid record and the subject's live consent. Replaces an earlier
    /// verification of the subject by this financier.
    function recordVerification(address financier, address subject, address provider, bytes32 root) external;

    /// @notice Checker step: a different verifier officer of the same financier approves the recorded match.
    function approveVerification(address financier, address subject) external;

    /// @notice True when the record exists, is not revoked, has not expired and its provider is active.
    function isValid(address provider, address subject, bytes32 root) external view returns (bool);

    /// @notice True when the field (`path`, `canonicalValue`, `salt`) is in the tree of a valid record: the
    /// leaf is computed here (`fieldLeaf`), then proved against `root` with OpenZeppelin `MerkleProof`.
    /// @param canonicalValue the field's value as RFC 8785 canonical JSON bytes
    function verifyField(
        address provider,
        address subject,
        bytes32 root,
        string calldata path,
        bytes calldata canonicalValue,
        bytes32 salt,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The leaf of one field, as the Python client computes it.
    function fieldLeaf(string calldata path, bytes calldata canonicalValue, bytes32 salt)
        external
        pure
        returns (bytes32);

    /// @notice True when consent on (provider, subject, root) to `financier` is granted, not withdrawn and not
    /// expired.
    function hasConsent(address provider, address subject, bytes32 root, address financier)
        external
        view
        returns (bool);

    /// @notice True when `financier` holds an approved verification of `subject` whose record is still valid
    /// (provider active included) and whose consent is still live. The financing escrow calls this before
    /// funding.
    function hasApprovedVerification(address financier, address subject) external view returns (bool);

    /// @notice The record as stored (provider zero when none).
    function record(address provider, address subject, bytes32 root) external view returns (Record memory);

    /// @notice The subject's consent to `financier` on a record, as stored.
    function consent(address provider, address subject, bytes32 root, address financier)
        external
        view
        returns (Consent memory);

    /// @notice `financier`'s verification of `subject`, as stored.
    function verification(address financier, address subject) external view returns (Verification memory);

    /// @notice The longest validity, in seconds from the anchoring block, a new anchor may have.
    function maxValidity() external view returns (uint40);

    /// @notice The participant registry consulted for providers, subjects, financiers and officers.
    function participantRegistry() external view returns (address);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Financing escrow: bill-of-lading-backed trade financing settled in an ERC-20 stablecoin
/// @notice An exporter pledges a to-order bill of lading into the escrow and asks for financing against an
/// invoice; financiers offer, the exporter accepts one offer, the financier funds (principal straight to the
/// exporter) once it holds an approved credit verification of the exporter, and anyone (usually the
/// importer) repays principal plus fee. Full repayment releases the bill to the importer; a default after
/// maturity plus the grace period lets the financier claim it; before funding the exporter may cancel and
/// take it back. The financier withdraws repayments (pull payment).
///
/// Lifecycle of a financing (`State`):
/// `Requested` --accept--> `Accepted` --fund--> `Funded` --repay in full--> `Repaid` (bill to importer)
/// `Funded` --claim after maturity + grace--> `Defaulted` (bill to financier)
/// `Requested` | `Accepted` --cancel--> `Cancelled` (bill back to exporter)
///
/// Pledge: the escrow cannot pull a bill (bills have no approvals), so the exporter first moves it in with
/// `transferOwners(tokenId, escrow, escrow, remark)` on the title registry and then calls `request` as its
/// next action on the bill. A bill moved in but never requested is taken back with `reclaim`.
///
/// Custody: the escrow holds a bill for at most one financing, the bill's latest (`custodyOf`). It holds it
/// while the financing is open, and after it ends until the bill has been delivered to the party the final
/// state names (importer, financier or exporter). A recipient may `reject` the delivery as its next action,
/// which returns the bill to the escrow; the financing then has custody again and anyone may `redeliver`.
/// Such a bill cannot be requested or reclaimed.
///
/// Double financing: an invoice fingerprint (a keyed hash of the normalised invoice fields, computed off
/// chain under a consortium key) is reserved at `request`, released at `cancel` and marked financed for
/// ever at `fund`: it can be financed once, by one financier, across every bill.
///
/// Money: only allowlisted settlement tokens. The escrow only ever holds repayments not yet withdrawn; after
/// every call its balance of each settlement token equals `owed(token)` (unless someone sends it tokens
/// directly, which nothing credits). Tokens whose transfers deliver less than asked (fee on transfer) are
/// refused by `repay` (`TransferAmountMismatch`) and should not be allowlisted.
interface IFinancingEscrow {
    /// @notice Lifecycle of a financing. `None`: no such financing.
    enum State {
        None,
        Requested,
        Accepted,
        Funded,
        Repaid,
        Defaulted,
        Cancelled
    }

    /// @notice Double-financing status of an invoice fingerprint.
    enum FingerprintStatus {
        None,
        Reserved,
        Financed
    }

    /// @notice What the exporter supplies to request financing of a bill it has just moved into the escrow.
    /// @param tokenId the pledged bill
    /// @param importer the buyer, an active trader: receives the bill on full repayment
    /// @param token the settlement token (allowlisted)
    /// @param amount the principal asked for, in the token's smallest unit
    /// @param maturity the repayment date asked for (unix time, in the future)
    /// @param invoiceFingerprint keyed hash of the normalised invoice fields; never zero
    struct FinancingRequest {
        uint256 tokenId;
        address importer;
        address token;
        uint96 amount;
        uint40 maturity;
        bytes32 invoiceFingerprint;
    }

    /// @notice One financing, in six storage slots.
    /// @dev Until an offer is accepted, `principal` and `maturity` hold the amount and maturity the
    /// exporter asked for; `accept` overwrites them with the accepted offer's terms.
    /// slot 0 (every step reads it): exporter (20) | state (1) | maturity (5) | delivered (1)
    /// slot 1: importer (20) | principal (12)
    /// slot 2 (written once, at accept): financier (20) | fee (12)
    /// slot 3 (repay writes it): token (20) | repaid (12)
    /// slot 4: tokenId
    /// slot 5: invoiceFingerprint
    /// @param delivered true once the bill has left the escrow for the party the final state names (a later
    /// rejection by that party does not reset it: see `custodyOf`)
    struct Financing {
        address exporter;
        State state;
        uint40 maturity;
        bool delivered;
        address importer;
        uint96 principal;
        address financier;
        uint96 fee;
        address token;
        uint96 repaid;
        uint256 tokenId;
        bytes32 invoiceFingerprint;
    }

    /// @notice A financier's offer on a requested financing; one slot: principal (12) | fee (12) | maturity (5).
    struct Offer {
        uint96 principal;
        uint96 fee;
        uint40 maturity;
    }

    event TokenAllowed(address indexed token, bool allowed);
    event Requested(
        uint256 indexed financingId,
        uint256 indexed tokenId,
        address indexed exporter,
        address importer,
        address token,
        uint96 amount,
        uint40 maturity,
        bytes32 invoiceFingerprint
    );
    event Offered(uint256 indexed financingId, address indexed financier, uint96 principal, uint96 fee, uint40 maturity);
    event Accepted(uint256 indexed financingId, address indexed financier, uint96 principal, uint96 fee, uint40 maturity);
    event Funded(uint256 indexed financingId, address indexed financier, address indexed exporter, uint96 principal);
    /// @param amount what was taken from the payer (the request capped at the outstanding amount)
    /// @param outstanding principal plus fee not yet repaid, after this repayment
    event Repaid(uint256 indexed financingId, address indexed payer, uint96 amount, uint96 outstanding);
    /// @notice The financing is repaid in full and the bill released to the importer; `delivered` false when
    /// the bill could not be moved now (e.g. the importer is suspended) and waits in escrow for `redeliver`.
    event Released(uint256 indexed financingId, address indexed importer, bool delivered);
    /// @param repaid what was repaid before the default; it stays withdrawable by the financier
    event Claimed(uint256 indexed financingId, address indexed financier, uint96 repaid);
    event Cancelled(uint256 indexed financingId, address indexed exporter);
    event Redelivered(uint256 indexed financingId, address indexed to);
    event Reclaimed(uint256 indexed tokenId, address indexed party);
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    error ZeroAddress();
    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
    error NotAllowedToken(address token);
    error TraderNotActive(address account);
    error FinancierNotActive(address account);
    error InvalidImporter(address importer);
    error InvalidMaturity(uint40 maturity);
    error EmptyFingerprint();
    error DuplicateFinancing(bytes32 invoiceFingerprint);
    error NotPledged(uint256 tokenId, address caller);
    error BillAlreadyPledged(uint256 tokenId, uint256 financingId);
    error WrongState(uint256 financingId, State state);
    error NotExporter(uint256 financingId, address caller);
    error NotAcceptedFinancier(uint256 financingId, address caller);
    error OfferNotFound(uint256 financingId, address financier);
    error CreditNotVerified(address financier, address exporter);
    error MaturityPassed(uint256 financingId, uint40 maturity);
    error NotMatured(uint256 claimableAfter);
    error TransferAmountMismatch(address token, uint256 expected, uint256 received);
    error NothingToWithdraw(address account, address token);
    error NothingToReclaim(uint256 tokenId, address caller);
    error NothingToRedeliver(uint256 financingId);

    /// @notice Allows or disallows a settlement token for new requests. Caller: the admin. Disallowing does
    /// not affect financings already requested in that token. Allow only plain ERC-20 tokens that transfer
    /// exactly the amount asked (no fee on transfer, no rebasing).
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice Opens a financing of a bill the caller has just moved into the escrow: the caller's last
    /// action on the bill must be `transferOwners(tokenId, escrow, escrow, ...)`, and nothing may have
    /// happened to the bill since (`previousParty == caller`, `lastMove` Owners). The escrow must be holder
    /// and beneficiary of the live, to-order bill and hold it for no other financing. Reserves the invoice
    /// fingerprint. Caller: an active trader (the exporter). Emits `Requested`.
    /// @param terms see `FinancingRequest`
    /// @return financingId the new financing (ids start at 1)
    function request(FinancingRequest calldata terms) external returns (uint256 financingId);

    /// @notice Makes or replaces the caller's offer on a requested financing. Caller: an active financier.
    /// Emits `Offered`.
    /// @param principal paid to the exporter at funding; non-zero
    /// @param fee added to the principal to make the amount to repay; principal + fee must fit in 96 bits
    /// @param maturity repayment date (unix time, in the future); the default grace period runs from it
    function offer(uint256 financingId, uint96 principal, uint96 fee, uint40 maturity) external;

    /// @notice Accepts `financier`'s offer; its terms become the financing's. Caller: the exporter, while
    /// the financing is `Requested`. Emits `Accepted`.
    function accept(uint256 financingId, address financier) external;

    /// @notice Funds an accepted financing: the principal moves from the financier to the exporter (the
    /// financier approves the escrow for it first) and the invoice fingerprint is marked financed for ever.
    /// Caller: the accepted financier, still active, holding an approved credit verification of the exporter
    /// (`hasApprovedVerification`), before the maturity. Emits `Funded`.
    function fund(uint256 financingId) external;

    /// @notice `fund` with an EIP-2612 permit of the principal to the escrow signed by the financier. A
    /// permit that fails (e.g. already used by a front-runner) is ignored; the allowance then decides.
    function fundWithPermit(uint256 financingId, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Repays a funded financing, in part or in full; callable by anyone (usually the importer),
    /// also after maturity until the financier claims. Takes `min(amount, outstanding)` from the caller,
    /// which must approve the escrow first; nothing beyond the outstanding amount is ever taken. The
    /// repayment becomes withdrawable by the financier. On full repayment the bill is released to the
    /// importer as holder and beneficiary (if that move fails, e.g. the importer is suspended, the repayment
    /// still stands and the bill waits for `redeliver`). Emits `Repaid`, and `Released` on full repayment.
    /// @param amount the most the caller will pay; non-zero
    function repay(uint256 financingId, uint96 amount) external;

    /// @notice After maturity plus the grace period, the financier of an unpaid financing takes the bill as
    /// holder and beneficiary. Partial repayments stay withdrawable. Caller: the financier. Emits `Claimed`.
    function claim(uint256 financingId) external;

    /// @notice Before funding, the exporter ends the financing: the bill goes back to it and the invoice
    /// fingerprint is released. Caller: the exporter, while `Requested` or `Accepted`. Emits `Cancelled`.
    function cancel(uint256 financingId) external;

    /// @notice Delivers the bill again to the party the final state names (importer when repaid, financier
    /// when defaulted, exporter when cancelled) after that party rejected the delivery or a release could
    /// not be made. Caller: anyone. Emits `Redelivered`.
    function redeliver(uint256 financingId) external;

    /// @notice Takes back a bill the caller moved into the escrow but never requested financing for: the
    /// escrow rejects the move, restoring the caller. Caller: the party that made the bill's last move to
    /// the escrow, while no financing has custody of the bill. Emits `Reclaimed`.
    function reclaim(uint256 tokenId) external;

    /// @notice Pays the caller everything the escrow owes it in `token`. Emits `Withdrawn`.
    function withdraw(address token) external;

    /// @notice One financing (state `None` for an unknown id).
    function financing(uint256 financingId) external view returns (Financing memory);

    /// @notice `financier`'s standing offer on a financing (principal zero when none).
    function offerOf(uint256 financingId, address financier) external view returns (Offer memory);

    /// @notice Principal plus fee not yet repaid (zero before acceptance).
    function outstanding(uint256 financingId) external view returns (uint256);

    /// @notice The financing for which the escrow holds (or must get back) the bill, or 0 when none.
    function custodyOf(uint256 tokenId) external view returns (uint256 financingId);

    /// @notice The bill's most recent financing, or 0 when never financed here.
    function latestFinancingOf(uint256 tokenId) external view returns (uint256 financingId);

    /// @notice Whether an invoice fingerprint is free, reserved by an open request or financed.
    function fingerprintStatus(bytes32 invoiceFingerprint) external view returns (FingerprintStatus);

    /// @notice What `account` may withdraw in `token`.
    function withdrawable(address account, address token) external view returns (uint256);

    /// @notice Everything the escrow owes in `token`: the sum of `withdrawable` over every account.
    function owed(address token) external view returns (uint256);

    /// @notice Whether `token` may settle new financings.
    function isAllowedToken(address token) external view returns (bool);

    /// @notice How many financings were ever requested (the last id).
    function financingCount() external view returns (uint256);

    /// @notice Seconds after maturity before a financier may claim the bill.
    function gracePeriod() external view returns (uint40);
}

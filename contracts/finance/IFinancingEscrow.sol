// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IBillPledgeReceiver} from "../ebl/IBillPledgeReceiver.sol";

/// @title Financing escrow: bill-of-lading-backed trade financing settled in an ERC-20 stablecoin
/// @notice An exporter pledges a to-order bill of lading into the escrow and asks for financing against an
/// invoice, in one transaction; financiers offer, the exporter accepts one offer naming the terms it saw,
/// the financier funds (principal straight to the exporter) once it holds an approved credit verification
/// of the exporter, and anyone (usually the importer) repays principal plus fee. Full repayment releases
/// the bill to the importer; a default after maturity plus the grace period lets the financier claim it;
/// before funding the exporter may cancel and take it back. The financier withdraws repayments (pull
/// payment).
///
/// Lifecycle of a financing (`State`):
/// pledge --> `Requested` --accept--> `Accepted` --fund--> `Funded` --repay in full--> `Repaid` (bill to importer)
/// `Funded` --claim after maturity + grace--> `Defaulted` (bill to financier)
/// `Requested` | `Accepted` --cancel--> `Cancelled` (bill back to exporter)
///
/// Pledge: the exporter calls the title registry's `pledge(tokenId, escrow, abi.encode(request), remark)`;
/// the registry makes the escrow holder and beneficiary and calls `onBillPledged`, which opens the
/// financing or reverts, undoing the pledge. Nothing else can move a bill into the escrow, so a bill is
/// never in the escrow without a financing.
///
/// Offers: an offer's maturity is at least `minTenor` away when made, a financier may withdraw or revise
/// its offer while the financing is `Requested`, and `accept` names the terms the exporter saw: an offer
/// revised or withdrawn in between (a front-run included) makes the accept revert (`OfferChanged`).
///
/// Custody: the escrow holds a bill for at most one financing, the bill's latest (`custodyOf`). It holds it
/// while the financing is open, and after it ends until the bill has been delivered to the party the final
/// state names (importer, financier or exporter). A delivery the title registry refuses (the recipient is
/// suspended, say) does not undo the step: the financing still ends, and anyone may `redeliver` once the
/// recipient can receive. A recipient may `reject` a delivery as its next action, which returns the bill
/// to the escrow; the financing then has custody again and anyone may `redeliver`. The title registry lets
/// no one but the holder surrender a bill, and a carrier may void a bill only after a surrender for
/// amendment, so a pledged bill cannot end while the escrow holds it; should it end anyway, the financing
/// still runs its course (repayment stays owed and withdrawable) and only the delivery is skipped.
///
/// Double financing: an invoice fingerprint (a keyed hash of the normalised invoice fields, computed off
/// chain under a consortium key) is reserved at the pledge, released at `cancel` and marked financed for
/// ever at `fund`: it can be financed once, by one financier, across every bill. A reservation is
/// attributable (`reservation`: the financing and so its exporter) and bounded per party: an exporter's
/// reservations of one fingerprint, however many requests and cancellations it makes, all end
/// `reservationPeriod` after its first (`reservationDeadline`), and it cannot reserve that fingerprint
/// again for one more period, a window in which any other exporter may. So no party blocks another's
/// invoice for longer than one period at a time: once a reservation lapses, another exporter's request
/// takes the fingerprint over and the lapsed financing can no longer be funded. The admin may release a
/// disputed reservation early with a reason, which starts its exporter's waiting period at once. The fingerprint is public in the pledge's calldata whatever the
/// events say, so it is emitted openly; its protection is the consortium key (without it a fingerprint
/// reveals nothing and cannot be guessed), and the rules above bound what a party that copies one can do;
/// every party is an onboarded legal entity, so repeated squatting from several accounts is for the
/// consortium to sanction (suspension).
///
/// Pause: the admin's own pause, and the title registry's pause, stop every state change here; maturities
/// keep running (the grace period is there for that).
///
/// Money: only allowlisted settlement tokens. The escrow only ever holds repayments not yet withdrawn; after
/// every call its balance of each settlement token equals `owed(token)` (unless someone sends it tokens
/// directly, which nothing credits). Transfers are checked by balance: a token that delivers less than
/// asked (fee on transfer) is refused at `fund` and `repay` (`TransferAmountMismatch`).
interface IFinancingEscrow is IBillPledgeReceiver {
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

    /// @notice What the exporter passes, ABI-encoded, as the `data` of its pledge.
    /// @param importer the buyer, an active trader: receives the bill on full repayment
    /// @param token the settlement token (allowlisted)
    /// @param amount the principal asked for, in the token's smallest unit
    /// @param maturity the repayment date asked for (unix time, at least `minTenor` away)
    /// @param invoiceFingerprint keyed hash of the normalised invoice fields; never zero
    struct FinancingRequest {
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

    /// @notice Who holds an invoice fingerprint; one slot: status (1) | reservedUntil (5) | financingId (8).
    /// @param reservedUntil while `Reserved`: when the reservation lapses
    /// @param financingId the financing that reserved (or financed) the fingerprint
    struct Reservation {
        FingerprintStatus status;
        uint40 reservedUntil;
        uint64 financingId;
    }

    event TokenAllowed(address indexed token, bool allowed);
    event MinTenorChanged(uint40 minTenor);
    event ReservationPeriodChanged(uint40 reservationPeriod);
    /// @param reservedUntil when the invoice fingerprint's reservation lapses unless funded
    event Requested(
        uint256 indexed financingId,
        uint256 indexed tokenId,
        address indexed exporter,
        address importer,
        address token,
        uint96 amount,
        uint40 maturity,
        bytes32 invoiceFingerprint,
        uint40 reservedUntil
    );
    event Offered(uint256 indexed financingId, address indexed financier, uint96 principal, uint96 fee, uint40 maturity);
    event OfferWithdrawn(uint256 indexed financingId, address indexed financier);
    event Accepted(uint256 indexed financingId, address indexed financier, uint96 principal, uint96 fee, uint40 maturity);
    event Funded(uint256 indexed financingId, address indexed financier, address indexed exporter, uint96 principal);
    /// @param amount what was taken from the payer (the request capped at the outstanding amount)
    /// @param outstanding principal plus fee not yet repaid, after this repayment
    event Repaid(uint256 indexed financingId, address indexed payer, uint96 amount, uint96 outstanding);
    /// @notice The financing is repaid in full and the bill released to the importer; `delivered` false when
    /// the bill could not be moved now (e.g. the importer is suspended) and waits in escrow for `redeliver`.
    event Released(uint256 indexed financingId, address indexed importer, bool delivered);
    /// @param repaid what was repaid before the default; it stays withdrawable by the financier
    /// @param delivered false when the bill could not be moved now and waits for `redeliver`
    event Claimed(uint256 indexed financingId, address indexed financier, uint96 repaid, bool delivered);
    /// @param delivered false when the bill could not be moved now and waits for `redeliver`
    event Cancelled(uint256 indexed financingId, address indexed exporter, bool delivered);
    event Redelivered(uint256 indexed financingId, address indexed to);
    /// @notice The admin released a reserved invoice fingerprint; `financingId` can no longer be funded.
    event ReservationReleased(bytes32 indexed invoiceFingerprint, uint256 indexed financingId, bytes32 reasonHash);
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice The zero address is not allowed here.
    error ZeroAddress();
    /// @notice The amount is zero.
    error ZeroAmount();
    /// @notice Amount {amount} does not fit 96 bits.
    error AmountTooLarge(uint256 amount);
    /// @notice {token} is not an allowlisted settlement token.
    error NotAllowedToken(address token);
    /// @notice {account} is not an active trader.
    error TraderNotActive(address account);
    /// @notice {account} is not an active financier.
    error FinancierNotActive(address account);
    /// @notice {importer} cannot be the importer.
    error InvalidImporter(address importer);
    /// @notice Maturity {maturity} is not in the future.
    error InvalidMaturity(uint40 maturity);
    /// @notice Maturity {maturity} is sooner than the minimum tenor allows (at the earliest {earliest}).
    error TenorTooShort(uint40 maturity, uint256 earliest);
    /// @notice The invoice fingerprint is empty.
    error EmptyFingerprint();
    /// @notice Invoice {invoiceFingerprint} is already financed (double financing refused).
    error DuplicateFinancing(bytes32 invoiceFingerprint);
    /// @notice Invoice {invoiceFingerprint} is reserved by financing {financingId} until {reservedUntil}.
    error InvoiceReserved(bytes32 invoiceFingerprint, uint256 financingId, uint40 reservedUntil);
    /// @notice Financing {financingId} no longer holds the reservation of its invoice (it lapsed or was
    /// released): cancel it (the bill comes back).
    error ReservationLost(uint256 financingId);
    /// @notice {exporter} may not reserve invoice {invoiceFingerprint} again before {availableAt}: its
    /// reservations of it ended (a reservation period after its first, or released by the admin), and other
    /// parties have one period to request it first.
    error ReservationExhausted(bytes32 invoiceFingerprint, address exporter, uint256 availableAt);
    /// @notice Invoice {invoiceFingerprint} has no reservation to release.
    error NotReserved(bytes32 invoiceFingerprint);
    /// @notice Only the title registry may call this (caller {caller}).
    error NotTitleRegistry(address caller);
    /// @notice Bill {tokenId} is already in financing {financingId}.
    error BillAlreadyPledged(uint256 tokenId, uint256 financingId);
    /// @notice Financing {financingId} is {state}: this step is not allowed now.
    error WrongState(uint256 financingId, State state);
    /// @notice {caller} is not the exporter of financing {financingId}.
    error NotExporter(uint256 financingId, address caller);
    /// @notice {caller} is not the accepted financier of financing {financingId}.
    error NotAcceptedFinancier(uint256 financingId, address caller);
    /// @notice The exporter of financing {financingId} cannot finance it itself.
    error SelfFinancing(uint256 financingId);
    /// @notice {financier} has no offer on financing {financingId}.
    error OfferNotFound(uint256 financingId, address financier);
    /// @notice {financier}'s offer on financing {financingId} is not the one accepted: it now stands at
    /// principal {principal}, fee {fee}, maturity {maturity}.
    error OfferChanged(uint256 financingId, address financier, uint96 principal, uint96 fee, uint40 maturity);
    /// @notice {financier} holds no approved credit verification of exporter {exporter}.
    error CreditNotVerified(address financier, address exporter);
    /// @notice Financing {financingId} matured at {maturity}.
    error MaturityPassed(uint256 financingId, uint40 maturity);
    /// @notice The bill can be claimed only after {claimableAfter} (maturity + grace).
    error NotMatured(uint256 claimableAfter);
    /// @notice Token {token} delivered {received} instead of {expected}.
    error TransferAmountMismatch(address token, uint256 expected, uint256 received);
    /// @notice {account} has nothing to withdraw in {token}.
    error NothingToWithdraw(address account, address token);
    /// @notice Financing {financingId} has no bill to redeliver.
    error NothingToRedeliver(uint256 financingId);
    /// @notice The title registry is paused, and the escrow with it.
    error TitleRegistryPaused();
    /// @notice Setting {value} is out of range.
    error InvalidSetting(uint256 value);

    // ------------------------------------------------------------------ admin

    /// @notice Allows or disallows a settlement token for new requests. Caller: the admin. Disallowing does
    /// not affect financings already requested in that token. Allow only plain ERC-20 tokens that transfer
    /// exactly the amount asked (no fee on transfer, no rebasing).
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice Sets the shortest tenor (seconds from now to maturity) a request or offer may have, at most
    /// 365 days. Caller: the admin.
    function setMinTenor(uint40 minTenor_) external;

    /// @notice Sets how long an exporter may hold reservations of an invoice fingerprint (one to 365 days),
    /// for exporters that have not reserved it yet. Caller: the admin.
    function setReservationPeriod(uint40 reservationPeriod_) external;

    /// @notice Releases a reserved (not financed) invoice fingerprint, e.g. one a party reserved for
    /// someone else's invoice; the financing that held it can no longer be funded and its exporter may not
    /// reserve the fingerprint again for one reservation period. Caller: the admin.
    /// @param reasonHash hash of the off-chain reason (the dispute's decision)
    function releaseReservation(bytes32 invoiceFingerprint, bytes32 reasonHash) external;

    /// @notice Stops every state change of the escrow until `unpause`. Caller: the admin.
    function pause() external;

    /// @notice Resumes after `pause`. Caller: the admin.
    function unpause() external;

    // ------------------------------------------------------------------ before funding

    /// @notice Opens a financing of the bill the title registry has just made the escrow hold, for
    /// `pledgor` (the exporter, an active trader) with the `FinancingRequest` ABI-encoded in `data`;
    /// reserves the invoice fingerprint. Caller: the title registry only, from its `pledge`. Emits
    /// `Requested`.
    /// @return the selector of this function (the pledge is accepted)
    function onBillPledged(address pledgor, uint256 tokenId, bytes calldata data) external returns (bytes4);

    /// @notice Makes or replaces the caller's offer on a requested financing. Caller: an active financier
    /// other than the exporter. Emits `Offered`.
    /// @param principal paid to the exporter at funding; non-zero
    /// @param fee added to the principal to make the amount to repay; principal + fee must fit in 96 bits
    /// @param maturity repayment date (unix time, at least `minTenor` away); the grace period runs from it
    function offer(uint256 financingId, uint96 principal, uint96 fee, uint40 maturity) external;

    /// @notice Withdraws the caller's offer on a requested financing. Caller: the financier that made it.
    /// Emits `OfferWithdrawn`.
    function withdrawOffer(uint256 financingId) external;

    /// @notice Accepts `financier`'s offer, which must still be exactly `terms` (what the exporter saw);
    /// those terms become the financing's. Caller: the exporter, while the financing is `Requested` and the
    /// offer's maturity has not passed. Emits `Accepted`.
    function accept(uint256 financingId, address financier, Offer calldata terms) external;

    /// @notice Before funding, the exporter ends the financing: the bill goes back to it and the invoice
    /// fingerprint is released. Caller: the exporter, while `Requested` or `Accepted`. Emits `Cancelled`.
    function cancel(uint256 financingId) external;

    // ------------------------------------------------------------------ funding and repayment

    /// @notice Funds an accepted financing: the principal moves from the financier to the exporter (the
    /// financier approves the escrow for it first) and the invoice fingerprint is marked financed for ever.
    /// Caller: the accepted financier, still active, holding an approved credit verification of the exporter
    /// (`hasApprovedVerification`), before the maturity, while the financing still holds its invoice's
    /// reservation and exporter and importer are active traders. Emits `Funded`.
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

    /// @notice Delivers the bill again to the party the final state names (importer when repaid, financier
    /// when defaulted, exporter when cancelled) after that party rejected the delivery or a delivery could
    /// not be made. Caller: anyone. Emits `Redelivered`.
    function redeliver(uint256 financingId) external;

    /// @notice Pays the caller everything the escrow owes it in `token`. Emits `Withdrawn`.
    function withdraw(address token) external;

    // ------------------------------------------------------------------ views

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

    /// @notice Whether an invoice fingerprint is free, reserved by a live reservation or financed. A
    /// lapsed reservation reads `None`: the fingerprint may be requested again.
    function fingerprintStatus(bytes32 invoiceFingerprint) external view returns (FingerprintStatus);

    /// @notice The stored reservation of an invoice fingerprint (who holds it, until when).
    function reservation(bytes32 invoiceFingerprint) external view returns (Reservation memory);

    /// @notice When `exporter`'s current run of reservations of an invoice fingerprint ends (0: it never
    /// reserved it); it may start a new run one reservation period after that.
    function reservationDeadline(bytes32 invoiceFingerprint, address exporter) external view returns (uint40);

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

    /// @notice The shortest tenor a request or offer may have, in seconds.
    function minTenor() external view returns (uint40);

    /// @notice How long a request reserves its invoice fingerprint, in seconds.
    function reservationPeriod() external view returns (uint40);

    /// @notice The participant registry this escrow consults.
    function participantRegistry() external view returns (address);

    /// @notice The title registry whose bills this escrow holds.
    function titleRegistry() external view returns (address);

    /// @notice The credit-hash registry consulted before funding.
    function creditRegistry() external view returns (address);
}

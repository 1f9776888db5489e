// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IParticipantRegistry} from "../access/IParticipantRegistry.sol";
import {Roles} from "../access/Roles.sol";
import {IBillOfLadingRegistry} from "../ebl/IBillOfLadingRegistry.sol";
import {IBillPledgeReceiver} from "../ebl/IBillPledgeReceiver.sol";
import {ICreditHashRegistry} from "../credit/ICreditHashRegistry.sol";
import {IFinancingEscrow} from "./IFinancingEscrow.sol";

/// @title Financing escrow (see IFinancingEscrow)
/// @notice The admin (`DEFAULT_ADMIN_ROLE`, the consortium multisig in production) maintains the
/// settlement-token allowlist, the minimum tenor and the reservation period, releases disputed invoice
/// reservations and pauses; it cannot move a bill or money. The escrow contract must be onboarded in the
/// participant registry with the ESCROW role (and nothing else) to take pledges.
/// @dev Every state-changing function is `nonReentrant` and changes its records before any external call
/// that can move value or a bill; `fund` and `repay` check balances after the transfer, so the escrow never
/// credits more than arrived. Money is pushed only at `fund` (financier to exporter, both named by the
/// financing) and `withdraw` (to the caller); everything owed to a financier waits in `_withdrawable`
/// (pull payment). No loops.
contract FinancingEscrow is IFinancingEscrow, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev Upper bound of `minTenor` and `reservationPeriod`.
    uint40 private constant _MAX_SETTING = 365 days;

    IParticipantRegistry private immutable _participants;
    IBillOfLadingRegistry private immutable _bills;
    ICreditHashRegistry private immutable _credit;
    uint40 private immutable _gracePeriod;

    /// @dev Storage: the two settings share a slot; one `Financing` per id (six slots, see the struct), one
    /// `Offer` slot per (financing, financier), one slot per bill for its latest financing, one `Reservation`
    /// slot per fingerprint and one deadline slot per (fingerprint, exporter) that reserved it, one per
    /// (account, token) owed and one per token for the total owed.
    /// `_financingCount` is the last id.
    uint40 private _minTenor;
    uint40 private _reservationPeriod;
    uint256 private _financingCount;
    mapping(uint256 financingId => Financing) private _financings;
    mapping(uint256 financingId => mapping(address financier => Offer)) private _offers;
    mapping(uint256 tokenId => uint256 financingId) private _latest;
    mapping(bytes32 invoiceFingerprint => Reservation) private _fingerprints;
    mapping(bytes32 invoiceFingerprint => mapping(address exporter => uint40 deadline)) private _deadlines;
    mapping(address account => mapping(address token => uint256)) private _withdrawable;
    mapping(address token => uint256) private _owed;
    mapping(address token => bool) private _allowedTokens;

    /// @param participants the participant registry (traders, financiers)
    /// @param bills the bill-of-lading title registry
    /// @param credit the credit-hash registry consulted before funding
    /// @param admin the account that maintains the settings and may pause
    /// @param gracePeriod_ seconds after maturity before a financier may claim the bill
    /// @param minTenor_ the shortest tenor of a request or offer, in seconds (at most 365 days)
    /// @param reservationPeriod_ how long a request reserves its invoice fingerprint (one to 365 days)
    constructor(
        IParticipantRegistry participants,
        IBillOfLadingRegistry bills,
        ICreditHashRegistry credit,
        address admin,
        uint40 gracePeriod_,
        uint40 minTenor_,
        uint40 reservationPeriod_
    ) {
        if (
            address(participants) == address(0) || address(bills) == address(0) || address(credit) == address(0)
                || admin == address(0)
        ) revert ZeroAddress();
        _participants = participants;
        _bills = bills;
        _credit = credit;
        _gracePeriod = gracePeriod_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMinTenor(minTenor_);
        _setReservationPeriod(reservationPeriod_);
    }

    /// @dev Every state change stops while the escrow or the title registry is paused.
    modifier whenActive() {
        _requireNotPaused();
        if (_bills.paused()) revert TitleRegistryPaused();
        _;
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IFinancingEscrow
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert ZeroAddress();
        _allowedTokens[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    /// @inheritdoc IFinancingEscrow
    function setMinTenor(uint40 minTenor_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinTenor(minTenor_);
    }

    /// @inheritdoc IFinancingEscrow
    function setReservationPeriod(uint40 reservationPeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setReservationPeriod(reservationPeriod_);
    }

    /// @inheritdoc IFinancingEscrow
    function releaseReservation(bytes32 invoiceFingerprint, bytes32 reasonHash) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Reservation storage r = _fingerprints[invoiceFingerprint];
        FingerprintStatus status = r.status;
        if (status == FingerprintStatus.Financed) revert DuplicateFinancing(invoiceFingerprint);
        if (status != FingerprintStatus.Reserved) revert NotReserved(invoiceFingerprint);
        uint256 financingId = r.financingId;
        delete _fingerprints[invoiceFingerprint];
        // the released party may not simply reserve it again
        _deadlines[invoiceFingerprint][_financings[financingId].exporter] = uint40(block.timestamp);
        emit ReservationReleased(invoiceFingerprint, financingId, reasonHash);
    }

    /// @inheritdoc IFinancingEscrow
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @inheritdoc IFinancingEscrow
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ before funding

    /// @inheritdoc IFinancingEscrow
    function onBillPledged(address pledgor, uint256 tokenId, bytes calldata data)
        external
        nonReentrant
        whenActive
        returns (bytes4)
    {
        // Only the title registry pledges, and only after making this escrow holder and beneficiary of a
        // live to-order bill its holder had title to; a bill the escrow already held cannot be pledged (the
        // escrow never pledges), so no other financing has custody of it.
        if (msg.sender != address(_bills)) revert NotTitleRegistry(msg.sender);
        FinancingRequest memory terms = abi.decode(data, (FinancingRequest));
        _checkRequest(pledgor, terms);

        uint256 financingId = ++_financingCount;
        Financing storage f = _financings[financingId];
        f.exporter = pledgor;
        f.state = State.Requested;
        f.maturity = terms.maturity;
        f.importer = terms.importer;
        f.principal = terms.amount;
        f.token = terms.token;
        f.tokenId = tokenId;
        f.invoiceFingerprint = terms.invoiceFingerprint;
        _latest[tokenId] = financingId;
        uint40 reservedUntil = _reserve(terms.invoiceFingerprint, financingId, pledgor);
        emit Requested(
            financingId,
            tokenId,
            pledgor,
            terms.importer,
            terms.token,
            terms.amount,
            terms.maturity,
            terms.invoiceFingerprint,
            reservedUntil
        );
        return IBillPledgeReceiver.onBillPledged.selector;
    }

    /// @inheritdoc IFinancingEscrow
    function offer(uint256 financingId, uint96 principal, uint96 fee, uint40 maturity)
        external
        nonReentrant
        whenActive
    {
        Financing storage f = _existing(financingId);
        address financier = msg.sender;
        if (!_participants.isActive(financier, Roles.FINANCIER)) revert FinancierNotActive(financier);
        _requireState(f, financingId, State.Requested);
        if (financier == f.exporter) revert SelfFinancing(financingId);
        if (principal == 0) revert ZeroAmount();
        if (uint256(principal) + fee > type(uint96).max) revert AmountTooLarge(uint256(principal) + fee);
        _requireTenor(maturity);
        _offers[financingId][financier] = Offer(principal, fee, maturity);
        emit Offered(financingId, financier, principal, fee, maturity);
    }

    /// @inheritdoc IFinancingEscrow
    function withdrawOffer(uint256 financingId) external nonReentrant whenActive {
        Financing storage f = _existing(financingId);
        _requireState(f, financingId, State.Requested);
        address financier = msg.sender;
        if (_offers[financingId][financier].principal == 0) revert OfferNotFound(financingId, financier);
        delete _offers[financingId][financier];
        emit OfferWithdrawn(financingId, financier);
    }

    /// @inheritdoc IFinancingEscrow
    function accept(uint256 financingId, address financier, Offer calldata terms) external nonReentrant whenActive {
        Financing storage f = _existing(financingId);
        _requireExporter(f, financingId);
        _requireState(f, financingId, State.Requested);
        Offer memory o = _offers[financingId][financier];
        if (o.principal == 0) revert OfferNotFound(financingId, financier);
        if (o.principal != terms.principal || o.fee != terms.fee || o.maturity != terms.maturity) {
            revert OfferChanged(financingId, financier, o.principal, o.fee, o.maturity);
        }
        if (o.maturity <= block.timestamp) revert MaturityPassed(financingId, o.maturity);
        f.state = State.Accepted;
        f.maturity = o.maturity;
        f.principal = o.principal;
        f.financier = financier;
        f.fee = o.fee;
        emit Accepted(financingId, financier, o.principal, o.fee, o.maturity);
    }

    /// @inheritdoc IFinancingEscrow
    function cancel(uint256 financingId) external nonReentrant whenActive {
        Financing storage f = _existing(financingId);
        _requireExporter(f, financingId);
        State state = f.state;
        if (state != State.Requested && state != State.Accepted) revert WrongState(financingId, state);
        f.state = State.Cancelled;
        bytes32 fingerprint = f.invoiceFingerprint;
        if (_holdsReservation(fingerprint, financingId)) delete _fingerprints[fingerprint];
        address exporter = f.exporter;
        bool delivered = _tryDeliver(f, financingId, exporter);
        // slither-disable-next-line reentrancy-events (nonReentrant; the event reports the delivery's outcome)
        emit Cancelled(financingId, exporter, delivered);
    }

    // ------------------------------------------------------------------ funding and repayment

    /// @inheritdoc IFinancingEscrow
    function fund(uint256 financingId) external nonReentrant whenActive {
        Financing storage f = _fundable(financingId);
        _markFunded(financingId, f);
        _payPrincipal(f);
    }

    /// @inheritdoc IFinancingEscrow
    function fundWithPermit(uint256 financingId, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        whenActive
    {
        Financing storage f = _fundable(financingId);
        _markFunded(financingId, f);
        // a front-runner may have used the permit already: the allowance is what counts
        try IERC20Permit(f.token).permit(msg.sender, address(this), f.principal, deadline, v, r, s) {} catch {}
        _payPrincipal(f);
    }

    /// @inheritdoc IFinancingEscrow
    function repay(uint256 financingId, uint96 amount) external nonReentrant whenActive {
        if (amount == 0) revert ZeroAmount();
        Financing storage f = _existing(financingId);
        _requireState(f, financingId, State.Funded);
        uint96 repaid = f.repaid;
        uint96 open = f.principal + f.fee - repaid; // fits: `offer` bounds principal + fee
        uint96 paid = amount < open ? amount : open;
        address token = f.token;
        bool full = paid == open;

        f.repaid = repaid + paid;
        if (full) f.state = State.Repaid;
        _withdrawable[f.financier][token] += paid;
        _owed[token] += paid;

        _pullExactly(token, paid);
        emit Repaid(financingId, msg.sender, paid, open - paid);
        if (full) {
            address importer = f.importer;
            bool delivered = _tryDeliver(f, financingId, importer);
            emit Released(financingId, importer, delivered);
        }
    }

    /// @inheritdoc IFinancingEscrow
    function withdraw(address token) external nonReentrant whenActive {
        address account = msg.sender;
        uint256 amount = _withdrawable[account][token];
        if (amount == 0) revert NothingToWithdraw(account, token);
        _withdrawable[account][token] = 0;
        _owed[token] -= amount;
        emit Withdrawn(account, token, amount);
        IERC20(token).safeTransfer(account, amount);
    }

    // ------------------------------------------------------------------ default and bill custody

    /// @inheritdoc IFinancingEscrow
    function claim(uint256 financingId) external nonReentrant whenActive {
        Financing storage f = _existing(financingId);
        address financier = f.financier;
        if (msg.sender != financier) revert NotAcceptedFinancier(financingId, msg.sender);
        _requireState(f, financingId, State.Funded);
        uint256 claimableAfter = uint256(f.maturity) + _gracePeriod;
        if (block.timestamp <= claimableAfter) revert NotMatured(claimableAfter);
        f.state = State.Defaulted;
        bool delivered = _tryDeliver(f, financingId, financier);
        // slither-disable-next-line reentrancy-events (nonReentrant; the event reports the delivery's outcome)
        emit Claimed(financingId, financier, f.repaid, delivered);
    }

    /// @inheritdoc IFinancingEscrow
    function redeliver(uint256 financingId) external nonReentrant whenActive {
        Financing storage f = _existing(financingId);
        State state = f.state;
        if (state != State.Repaid && state != State.Defaulted && state != State.Cancelled) {
            revert WrongState(financingId, state);
        }
        address to = state == State.Repaid ? f.importer : state == State.Defaulted ? f.financier : f.exporter;
        if (_custody(f.tokenId) != financingId) revert NothingToRedeliver(financingId);
        f.delivered = true;
        emit Redelivered(financingId, to);
        // unlike the first delivery, a refusal here reverts: the caller asked for exactly this move
        _bills.transferOwners(f.tokenId, to, to, bytes32(financingId));
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IFinancingEscrow
    function financing(uint256 financingId) external view returns (Financing memory) {
        return _financings[financingId];
    }

    /// @inheritdoc IFinancingEscrow
    function offerOf(uint256 financingId, address financier) external view returns (Offer memory) {
        return _offers[financingId][financier];
    }

    /// @inheritdoc IFinancingEscrow
    function outstanding(uint256 financingId) external view returns (uint256) {
        Financing storage f = _financings[financingId];
        State state = f.state;
        if (state != State.Accepted && state != State.Funded) return 0;
        return uint256(f.principal) + f.fee - f.repaid;
    }

    /// @inheritdoc IFinancingEscrow
    function custodyOf(uint256 tokenId) external view returns (uint256) {
        return _custody(tokenId);
    }

    /// @inheritdoc IFinancingEscrow
    function latestFinancingOf(uint256 tokenId) external view returns (uint256) {
        return _latest[tokenId];
    }

    /// @inheritdoc IFinancingEscrow
    function fingerprintStatus(bytes32 invoiceFingerprint) external view returns (FingerprintStatus) {
        Reservation storage r = _fingerprints[invoiceFingerprint];
        FingerprintStatus status = r.status;
        if (status == FingerprintStatus.Reserved && block.timestamp >= r.reservedUntil) return FingerprintStatus.None;
        return status;
    }

    /// @inheritdoc IFinancingEscrow
    function reservation(bytes32 invoiceFingerprint) external view returns (Reservation memory) {
        return _fingerprints[invoiceFingerprint];
    }

    /// @inheritdoc IFinancingEscrow
    function reservationDeadline(bytes32 invoiceFingerprint, address exporter) external view returns (uint40) {
        return _deadlines[invoiceFingerprint][exporter];
    }

    /// @inheritdoc IFinancingEscrow
    function withdrawable(address account, address token) external view returns (uint256) {
        return _withdrawable[account][token];
    }

    /// @inheritdoc IFinancingEscrow
    function owed(address token) external view returns (uint256) {
        return _owed[token];
    }

    /// @inheritdoc IFinancingEscrow
    function isAllowedToken(address token) external view returns (bool) {
        return _allowedTokens[token];
    }

    /// @inheritdoc IFinancingEscrow
    function financingCount() external view returns (uint256) {
        return _financingCount;
    }

    /// @inheritdoc IFinancingEscrow
    function gracePeriod() external view returns (uint40) {
        return _gracePeriod;
    }

    /// @inheritdoc IFinancingEscrow
    function minTenor() external view returns (uint40) {
        return _minTenor;
    }

    /// @inheritdoc IFinancingEscrow
    function reservationPeriod() external view returns (uint40) {
        return _reservationPeriod;
    }

    /// @inheritdoc IFinancingEscrow
    function participantRegistry() external view returns (address) {
        return address(_participants);
    }

    /// @inheritdoc IFinancingEscrow
    function titleRegistry() external view returns (address) {
        return address(_bills);
    }

    /// @inheritdoc IFinancingEscrow
    function creditRegistry() external view returns (address) {
        return address(_credit);
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IFinancingEscrow).interfaceId
            || interfaceId == type(IBillPledgeReceiver).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    /// @dev The financing for which the escrow holds, or must get back, `tokenId`: its latest financing while
    /// open; once final, until the bill has been delivered; after delivery, again if the bill is back in the
    /// escrow through a rejection (the recipient's `reject` leaves `lastMove` None; a later pledge makes a
    /// newer financing the latest before anyone can ask). Only the final-and-delivered case reads the title
    /// registry.
    function _custody(uint256 tokenId) private view returns (uint256 financingId) {
        financingId = _latest[tokenId];
        if (financingId == 0) return 0;
        Financing storage f = _financings[financingId];
        if (f.state <= State.Funded || !f.delivered) return financingId;
        IBillOfLadingRegistry.Bill memory b = _bills.bill(tokenId);
        if (
            b.status != IBillOfLadingRegistry.Status.Issued || b.holder != address(this)
                || b.lastMove != IBillOfLadingRegistry.Move.None
        ) return 0;
    }

    /// @dev The parties and terms of a request: exporter and importer active traders, distinct; allowlisted
    /// token; non-zero amount; maturity at least the minimum tenor away; a non-zero fingerprint.
    function _checkRequest(address exporter, FinancingRequest memory terms) private view {
        address importer = terms.importer;
        if (!_participants.isActive(exporter, Roles.TRADER)) revert TraderNotActive(exporter);
        if (importer == exporter) revert InvalidImporter(importer);
        if (!_participants.isActive(importer, Roles.TRADER)) revert TraderNotActive(importer);
        if (!_allowedTokens[terms.token]) revert NotAllowedToken(terms.token);
        if (terms.amount == 0) revert ZeroAmount();
        _requireTenor(terms.maturity);
        if (terms.invoiceFingerprint == bytes32(0)) revert EmptyFingerprint();
    }

    function _requireTenor(uint40 maturity) private view {
        if (maturity <= block.timestamp) revert InvalidMaturity(maturity);
        uint256 earliest = block.timestamp + _minTenor;
        if (maturity < earliest) revert TenorTooShort(maturity, earliest);
    }

    /// @dev Reserves `fingerprint` for `financingId` of `exporter` until the end of the exporter's current run
    /// of reservations of it (a run starts at its first reservation and lasts one reservation period; the
    /// next may start one period after it ended): refused when the fingerprint is financed, reserved by a
    /// reservation that has not lapsed (which names its financing and end), or in the exporter's wait.
    function _reserve(bytes32 fingerprint, uint256 financingId, address exporter)
        private
        returns (uint40 reservedUntil)
    {
        Reservation storage r = _fingerprints[fingerprint];
        FingerprintStatus status = r.status;
        if (status == FingerprintStatus.Financed) revert DuplicateFinancing(fingerprint);
        if (status == FingerprintStatus.Reserved && block.timestamp < r.reservedUntil) {
            revert InvoiceReserved(fingerprint, r.financingId, r.reservedUntil);
        }
        reservedUntil = _deadlines[fingerprint][exporter];
        if (block.timestamp >= reservedUntil) {
            // no run under way: a new one, unless the last ended less than a period ago
            uint256 availableAt = reservedUntil == 0 ? 0 : uint256(reservedUntil) + _reservationPeriod;
            if (block.timestamp < availableAt) revert ReservationExhausted(fingerprint, exporter, availableAt);
            reservedUntil = uint40(block.timestamp) + _reservationPeriod;
            _deadlines[fingerprint][exporter] = reservedUntil;
        }
        // ids count up from one per request: 2**64 requests are out of reach
        _fingerprints[fingerprint] = Reservation(FingerprintStatus.Reserved, reservedUntil, uint64(financingId));
    }

    /// @dev Whether `financingId` still holds a live reservation of `fingerprint`.
    function _holdsReservation(bytes32 fingerprint, uint256 financingId) private view returns (bool) {
        Reservation storage r = _fingerprints[fingerprint];
        return r.status == FingerprintStatus.Reserved && r.financingId == financingId
            && block.timestamp < r.reservedUntil;
    }

    /// @dev Checks for `fund` and `fundWithPermit`, in order: caller, state, caller still a financier, both
    /// traders still active, the financier's credit verification of the exporter, maturity, reservation.
    function _fundable(uint256 financingId) private view returns (Financing storage f) {
        f = _existing(financingId);
        address financier = f.financier;
        if (msg.sender != financier) revert NotAcceptedFinancier(financingId, msg.sender);
        _requireState(f, financingId, State.Accepted);
        if (!_participants.isActive(financier, Roles.FINANCIER)) revert FinancierNotActive(financier);
        address exporter = f.exporter;
        if (!_participants.isActive(exporter, Roles.TRADER)) revert TraderNotActive(exporter);
        if (!_participants.isActive(f.importer, Roles.TRADER)) revert TraderNotActive(f.importer);
        if (!_credit.hasApprovedVerification(financier, exporter)) revert CreditNotVerified(financier, exporter);
        if (block.timestamp >= f.maturity) revert MaturityPassed(financingId, f.maturity);
        if (!_holdsReservation(f.invoiceFingerprint, financingId)) revert ReservationLost(financingId);
    }

    /// @dev The effects of funding: the fingerprint is financed for ever from here, whatever happens to the
    /// financing.
    function _markFunded(uint256 financingId, Financing storage f) private {
        f.state = State.Funded;
        _fingerprints[f.invoiceFingerprint] = Reservation(FingerprintStatus.Financed, 0, uint64(financingId));
        emit Funded(financingId, f.financier, f.exporter, f.principal);
    }

    /// @dev The principal goes from the caller (`_fundable` checked it is the accepted financier) to the
    /// exporter directly (the escrow never holds it), checked by the exporter's balance so a token that
    /// delivers less than asked is refused.
    function _payPrincipal(Financing storage f) private {
        address exporter = f.exporter;
        uint96 principal = f.principal;
        IERC20 token = IERC20(f.token);
        uint256 before = token.balanceOf(exporter);
        token.safeTransferFrom(msg.sender, exporter, principal);
        uint256 received = token.balanceOf(exporter) - before;
        if (received != principal) revert TransferAmountMismatch(address(token), principal, received);
    }

    /// @dev Takes `amount` of `token` from the caller and reverts unless exactly that much arrived.
    function _pullExactly(address token, uint256 amount) private {
        IERC20 erc20 = IERC20(token);
        uint256 before = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = erc20.balanceOf(address(this)) - before;
        if (received != amount) revert TransferAmountMismatch(token, amount, received);
    }

    /// @dev Moves the bill to `to` as holder and beneficiary at the end of a financing. The step that ends
    /// the financing must stand even when the bill cannot move now (recipient suspended, bill no longer
    /// live), so a refusal is caught and reported; `redeliver` retries. The remark hash is the financing
    /// id, linking the title history to the financing.
    function _tryDeliver(Financing storage f, uint256 financingId, address to) private returns (bool delivered) {
        f.delivered = true;
        try _bills.transferOwners(f.tokenId, to, to, bytes32(financingId)) {
            delivered = true;
        } catch {
            // slither-disable-next-line reentrancy-no-eth (nonReentrant; undoes the optimistic flag above)
            f.delivered = false;
        }
    }

    function _setMinTenor(uint40 minTenor_) private {
        if (minTenor_ > _MAX_SETTING) revert InvalidSetting(minTenor_);
        _minTenor = minTenor_;
        emit MinTenorChanged(minTenor_);
    }

    function _setReservationPeriod(uint40 reservationPeriod_) private {
        if (reservationPeriod_ < 1 days || reservationPeriod_ > _MAX_SETTING) revert InvalidSetting(reservationPeriod_);
        _reservationPeriod = reservationPeriod_;
        emit ReservationPeriodChanged(reservationPeriod_);
    }

    function _existing(uint256 financingId) private view returns (Financing storage f) {
        f = _financings[financingId];
        if (f.state == State.None) revert WrongState(financingId, State.None);
    }

    function _requireExporter(Financing storage f, uint256 financingId) private view {
        if (msg.sender != f.exporter) revert NotExporter(financingId, msg.sender);
    }

    function _requireState(Financing storage f, uint256 financingId, State state) private view {
        State current = f.state;
        if (current != state) revert WrongState(financingId, current);
    }
}

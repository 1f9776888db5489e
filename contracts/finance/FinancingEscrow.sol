// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IParticipantRegistry} from "../access/IParticipantRegistry.sol";
import {Roles} from "../access/Roles.sol";
import {IBillOfLadingRegistry} from "../ebl/IBillOfLadingRegistry.sol";
import {ICreditHashRegistry} from "../credit/ICreditHashRegistry.sol";
import {IFinancingEscrow} from "./IFinancingEscrow.sol";

/// @title Financing escrow (see IFinancingEscrow)
/// @notice The admin (`DEFAULT_ADMIN_ROLE`, the consortium multisig in production) only maintains the
/// settlement-token allowlist; it cannot move a bill or money. The escrow contract must be onboarded in the
/// participant registry with the ESCROW role to receive bills.
/// @dev Every state-changing function is `nonReentrant` and changes its records before any external call
/// that can move value; `repay` checks after the pull that the escrow received exactly what it credited.
/// Money is pushed only at `fund` (financier to exporter, both named by the financing) and `withdraw`
/// (to the caller); everything owed to a financier waits in `_withdrawable` (pull payment). No loops.
contract FinancingEscrow is IFinancingEscrow, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    IParticipantRegistry private immutable _participants;
    IBillOfLadingRegistry private immutable _bills;
    ICreditHashRegistry private immutable _credit;
    uint40 private immutable _gracePeriod;

    /// @dev Storage: one `Financing` per id (six slots, see the struct), one `Offer` slot per
    /// (financing, financier), one slot per bill for its latest financing, one per fingerprint, one per
    /// (account, token) owed and one per token for the total owed. `_financingCount` is the last id.
    uint256 private _financingCount;
    mapping(uint256 financingId => Financing) private _financings;
    mapping(uint256 financingId => mapping(address financier => Offer)) private _offers;
    mapping(uint256 tokenId => uint256 financingId) private _latest;
    mapping(bytes32 invoiceFingerprint => FingerprintStatus) private _fingerprints;
    mapping(address account => mapping(address token => uint256)) private _withdrawable;
    mapping(address token => uint256) private _owed;
    mapping(address token => bool) private _allowedTokens;

    /// @param participants the participant registry (traders, financiers)
    /// @param bills the bill-of-lading title registry
    /// @param credit the credit-hash registry consulted before funding
    /// @param gracePeriod_ seconds after maturity before a financier may claim the bill
    /// @param admin the account that maintains the settlement-token allowlist
    constructor(
        IParticipantRegistry participants,
        IBillOfLadingRegistry bills,
        ICreditHashRegistry credit,
        uint40 gracePeriod_,
        address admin
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
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IFinancingEscrow
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert ZeroAddress();
        _allowedTokens[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    // ------------------------------------------------------------------ before funding

    /// @inheritdoc IFinancingEscrow
    function request(FinancingRequest calldata terms) external nonReentrant returns (uint256 financingId) {
        _checkRequest(terms);
        uint256 tokenId = terms.tokenId;
        _checkPledge(tokenId);

        financingId = ++_financingCount;
        Financing storage f = _financings[financingId];
        f.exporter = msg.sender;
        f.state = State.Requested;
        f.maturity = terms.maturity;
        f.importer = terms.importer;
        f.principal = terms.amount;
        f.token = terms.token;
        f.tokenId = tokenId;
        f.invoiceFingerprint = terms.invoiceFingerprint;
        _latest[tokenId] = financingId;
        _fingerprints[terms.invoiceFingerprint] = FingerprintStatus.Reserved;
        emit Requested(
            financingId,
            tokenId,
            msg.sender,
            terms.importer,
            terms.token,
            terms.amount,
            terms.maturity,
            terms.invoiceFingerprint
        );
    }

    /// @inheritdoc IFinancingEscrow
    function offer(uint256 financingId, uint96 principal, uint96 fee, uint40 maturity) external nonReentrant {
        Financing storage f = _existing(financingId);
        address financier = msg.sender;
        if (!_participants.isActive(financier, Roles.FINANCIER)) revert FinancierNotActive(financier);
        _requireState(f, financingId, State.Requested);
        if (principal == 0) revert ZeroAmount();
        if (uint256(principal) + fee > type(uint96).max) revert AmountTooLarge(uint256(principal) + fee);
        if (maturity <= block.timestamp) revert InvalidMaturity(maturity);
        _offers[financingId][financier] = Offer(principal, fee, maturity);
        emit Offered(financingId, financier, principal, fee, maturity);
    }

    /// @inheritdoc IFinancingEscrow
    function accept(uint256 financingId, address financier) external nonReentrant {
        Financing storage f = _existing(financingId);
        _requireExporter(f, financingId);
        _requireState(f, financingId, State.Requested);
        Offer memory o = _offers[financingId][financier];
        if (o.principal == 0) revert OfferNotFound(financingId, financier);
        if (o.maturity <= block.timestamp) revert MaturityPassed(financingId, o.maturity);
        f.state = State.Accepted;
        f.maturity = o.maturity;
        f.principal = o.principal;
        f.financier = financier;
        f.fee = o.fee;
        emit Accepted(financingId, financier, o.principal, o.fee, o.maturity);
    }

    /// @inheritdoc IFinancingEscrow
    function cancel(uint256 financingId) external nonReentrant {
        Financing storage f = _existing(financingId);
        _requireExporter(f, financingId);
        State state = f.state;
        if (state != State.Requested && state != State.Accepted) revert WrongState(financingId, state);
        f.state = State.Cancelled;
        delete _fingerprints[f.invoiceFingerprint];
        emit Cancelled(financingId, f.exporter);
        _deliver(f, financingId, f.exporter);
    }

    // ------------------------------------------------------------------ funding and repayment

    /// @inheritdoc IFinancingEscrow
    function fund(uint256 financingId) external nonReentrant {
        _fund(financingId, _fundable(financingId));
    }

    /// @inheritdoc IFinancingEscrow
    function fundWithPermit(uint256 financingId, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        Financing storage f = _fundable(financingId);
        // a front-runner may have used the permit already: the allowance is what counts
        try IERC20Permit(f.token).permit(msg.sender, address(this), f.principal, deadline, v, r, s) {} catch {}
        _fund(financingId, f);
    }

    /// @inheritdoc IFinancingEscrow
    function repay(uint256 financingId, uint96 amount) external nonReentrant {
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
        if (full) _release(f, financingId);
    }

    /// @inheritdoc IFinancingEscrow
    function withdraw(address token) external nonReentrant {
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
    function claim(uint256 financingId) external nonReentrant {
        Financing storage f = _existing(financingId);
        address financier = f.financier;
        if (msg.sender != financier) revert NotAcceptedFinancier(financingId, msg.sender);
        _requireState(f, financingId, State.Funded);
        uint256 claimableAfter = uint256(f.maturity) + _gracePeriod;
        if (block.timestamp <= claimableAfter) revert NotMatured(claimableAfter);
        f.state = State.Defaulted;
        emit Claimed(financingId, financier, f.repaid);
        _deliver(f, financingId, financier);
    }

    /// @inheritdoc IFinancingEscrow
    function redeliver(uint256 financingId) external nonReentrant {
        Financing storage f = _existing(financingId);
        State state = f.state;
        address to;
        if (state == State.Repaid) to = f.importer;
        else if (state == State.Defaulted) to = f.financier;
        else if (state == State.Cancelled) to = f.exporter;
        else revert WrongState(financingId, state);
        if (_custody(f.tokenId) != financingId) revert NothingToRedeliver(financingId);
        emit Redelivered(financingId, to);
        _deliver(f, financingId, to);
    }

    /// @inheritdoc IFinancingEscrow
    function reclaim(uint256 tokenId) external nonReentrant {
        uint256 held = _custody(tokenId);
        if (held != 0) revert BillAlreadyPledged(tokenId, held);
        IBillOfLadingRegistry.Bill memory b = _bills.bill(tokenId);
        IBillOfLadingRegistry.Move move = b.lastMove;
        address recipient = move == IBillOfLadingRegistry.Move.Beneficiary ? b.beneficiary : b.holder;
        if (
            b.status != IBillOfLadingRegistry.Status.Issued || move == IBillOfLadingRegistry.Move.None
                || recipient != address(this) || b.previousParty != msg.sender
        ) revert NothingToReclaim(tokenId, msg.sender);
        emit Reclaimed(tokenId, msg.sender);
        _bills.reject(tokenId, bytes32(0));
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
        return _fingerprints[invoiceFingerprint];
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

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IFinancingEscrow).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    /// @dev The financing for which the escrow holds, or must get back, `tokenId`: its latest financing while
    /// open; once final, until the bill has been delivered; after delivery, again if the bill is back in the
    /// escrow through a rejection (the recipient's `reject` leaves `lastMove` None; a fresh move into the
    /// escrow leaves it non-None and is not the old financing's). Only the final-and-delivered case reads
    /// the title registry.
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

    /// @dev The parties and terms of a request: caller and importer active traders, distinct; allowlisted
    /// token; non-zero amount; future maturity; a fingerprint neither reserved nor financed.
    function _checkRequest(FinancingRequest calldata terms) private view {
        address exporter = msg.sender;
        address importer = terms.importer;
        if (!_participants.isActive(exporter, Roles.TRADER)) revert TraderNotActive(exporter);
        if (importer == exporter) revert InvalidImporter(importer);
        if (!_participants.isActive(importer, Roles.TRADER)) revert TraderNotActive(importer);
        if (!_allowedTokens[terms.token]) revert NotAllowedToken(terms.token);
        if (terms.amount == 0) revert ZeroAmount();
        if (terms.maturity <= block.timestamp) revert InvalidMaturity(terms.maturity);
        bytes32 fingerprint = terms.invoiceFingerprint;
        if (fingerprint == bytes32(0)) revert EmptyFingerprint();
        if (_fingerprints[fingerprint] != FingerprintStatus.None) revert DuplicateFinancing(fingerprint);
    }

    /// @dev The pledge: no financing has custody of the bill, and the caller's move into the escrow
    /// (`transferOwners` to the escrow as holder and beneficiary of a live to-order bill) is the bill's last
    /// action. A straight bill cannot arrive that way; `straight` is checked anyway.
    function _checkPledge(uint256 tokenId) private view {
        uint256 held = _custody(tokenId);
        if (held != 0) revert BillAlreadyPledged(tokenId, held);
        IBillOfLadingRegistry.Bill memory b = _bills.bill(tokenId);
        IBillOfLadingRegistry.Move move = b.lastMove;
        if (
            b.status != IBillOfLadingRegistry.Status.Issued || b.straight || b.holder != address(this)
                || b.beneficiary != address(this) || b.previousParty != msg.sender
                || (move != IBillOfLadingRegistry.Move.Owners && move != IBillOfLadingRegistry.Move.OwnersFromBearer)
        ) revert NotPledged(tokenId, msg.sender);
    }

    /// @dev Checks for `fund` and `fundWithPermit`, in order: caller, state, caller still a financier, its
    /// credit verification of the exporter, maturity.
    function _fundable(uint256 financingId) private view returns (Financing storage f) {
        f = _existing(financingId);
        address financier = f.financier;
        if (msg.sender != financier) revert NotAcceptedFinancier(financingId, msg.sender);
        _requireState(f, financingId, State.Accepted);
        if (!_participants.isActive(financier, Roles.FINANCIER)) revert FinancierNotActive(financier);
        if (!_credit.hasApprovedVerification(financier, f.exporter)) revert CreditNotVerified(financier, f.exporter);
        if (block.timestamp >= f.maturity) revert MaturityPassed(financingId, f.maturity);
    }

    /// @dev The fingerprint is financed for ever from here, whatever happens to the financing. The principal
    /// goes from the financier to the exporter directly: the escrow never holds it.
    function _fund(uint256 financingId, Financing storage f) private {
        f.state = State.Funded;
        _fingerprints[f.invoiceFingerprint] = FingerprintStatus.Financed;
        address financier = f.financier;
        address exporter = f.exporter;
        uint96 principal = f.principal;
        emit Funded(financingId, financier, exporter, principal);
        IERC20(f.token).safeTransferFrom(financier, exporter, principal);
    }

    /// @dev Takes `amount` of `token` from the caller and reverts unless exactly that much arrived.
    function _pullExactly(address token, uint256 amount) private {
        IERC20 erc20 = IERC20(token);
        uint256 before = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = erc20.balanceOf(address(this)) - before;
        if (received != amount) revert TransferAmountMismatch(token, amount, received);
    }

    /// @dev On full repayment: the bill to the importer. The repayment must stand even when the bill cannot
    /// move now (importer suspended, registry paused, bill voided), so a refusal is caught; `redeliver`
    /// retries.
    function _release(Financing storage f, uint256 financingId) private {
        address importer = f.importer;
        bool delivered;
        try _bills.transferOwners(f.tokenId, importer, importer, bytes32(financingId)) {
            f.delivered = delivered = true;
        } catch {}
        emit Released(financingId, importer, delivered);
    }

    /// @dev Moves the bill to `to` as holder and beneficiary; reverts if the title registry refuses. The
    /// remark hash is the financing id, linking the title history to the financing.
    function _deliver(Financing storage f, uint256 financingId, address to) private {
        f.delivered = true;
        _bills.transferOwners(f.tokenId, to, to, bytes32(financingId));
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

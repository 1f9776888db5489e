// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IParticipantRegistry} from "../access/IParticipantRegistry.sol";
import {Roles} from "../access/Roles.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IBillOfLadingRegistry} from "./IBillOfLadingRegistry.sol";
import {IBillPledgeReceiver} from "./IBillPledgeReceiver.sol";

/// @title Bill-of-lading title registry (see IBillOfLadingRegistry)
/// @notice The admin (`DEFAULT_ADMIN_ROLE` of this contract, the consortium multisig in production) only
/// pauses and unpauses; it cannot move a bill. Carriers and traders must be active in the participant
/// registry, checked whenever a party gains something: issuing, amending and switching to paper need an
/// active CARRIER; a bill may be received (as holder, beneficiary or nominee) only by an active TRADER or
/// FINANCIER (a pledgee bank); an ESCROW (the financing escrow) receives a bill only by `pledge`, which it
/// accepts in the same transaction, or when a party it delivered the bill to rejects it; the carrier
/// receives it implicitly on a surrender. A party already in control is not re-checked when it acts: a
/// suspended participant can receive nothing new but can still hand on, surrender or, as carrier, accept
/// or reject a surrender, so a suspension never traps title to goods at sea (the admin's `pause` stops
/// everything). Voiding a bill (amend, switch to paper) needs an active carrier and a holder's surrender.
/// @dev Lifecycle rules live in three places only: `_authorize` (pause, status, who may act, to-order only)
/// checks every action on an existing bill before it changes anything; `_requireRecipient` decides who may
/// receive, for every move, endorsement and restoration; and `_update` (OpenZeppelin's ERC-721 choke point)
/// is the only code that changes a holder, keeping ERC-721 balances and emitting `Transfer`. The public
/// ERC-721 transfer and approval functions revert.
///
/// ERC-721 read side: `balanceOf`, `ownerOf` (the holder of a live bill, the carrier while surrendered) and
/// `Transfer` are the standard's; `IERC721Metadata` is not claimed (the document stays off chain, so there
/// is no token URI to give; `name` and `symbol` answer).
contract BillOfLadingRegistry is IBillOfLadingRegistry, ERC721, AccessControl, Pausable {
    /// @dev One bill in five slots, keyed by token id; an action writes at most three of a bill's slots.
    /// slot 0 (every action reads it; holder moves and status changes write it):
    ///   holder (20) | status (1) | straight (1) | amendment (1) | generation (4)
    /// slot 1 (title; endorsements write it):
    ///   beneficiary (20) | titleEpoch (8)
    /// slot 2 (undo and provenance; every move writes it; non-zero from issue, so a move pays 2,900 for it,
    /// not 20,000): previous (20) | lastMove (1) | issuedBlock (5) | latestGeneration (4, generation 0 only)
    /// slot 3: documentHash
    /// slot 4 (only `nominate` writes it): nominee (20) | nomineeEpoch (8)
    /// Neither the carrier nor the reference needs a slot: the token id is derived from them (`_tokenIdOf`),
    /// so the record's own slot 0 is the singularity check and there is no separate index. A nomination is
    /// valid while `nomineeEpoch == titleEpoch`; every change of beneficiary bumps `titleEpoch`, so no
    /// action has to clear a stale nominee.
    struct Record {
        address holder;
        Status status;
        bool straight;
        bool amendment;
        uint32 generation;
        address beneficiary;
        uint64 titleEpoch;
        address previous;
        Move lastMove;
        uint40 issuedBlock;
        uint32 latestGeneration;
        bytes32 documentHash;
        address nominee;
        uint64 nomineeEpoch;
    }

    /// @dev Who may receive a new position on a bill (holder, beneficiary, nominee): an active trader or a
    /// financier (a pledgee bank, e.g. after a default). Never an escrow: a bill moved into the escrow
    /// without a financing would be stuck there.
    uint16 private constant _RECIPIENTS = Roles.TRADER | Roles.FINANCIER;
    /// @dev A restoration (reject, rejectSurrender, an amendment's successor) returns a bill to a party that
    /// held it, which may be an escrow that delivered it.
    uint16 private constant _RESTORABLE = _RECIPIENTS | Roles.ESCROW;

    IParticipantRegistry private immutable _participants;

    mapping(uint256 tokenId => Record) private _records;

    /// @dev ERC-721 balances: live bills per holder (surrendered bills count for the carrier holding them).
    mapping(address holder => uint256) private _balances;

    /// @param participants the participant registry (carriers, traders, escrow)
    /// @param admin the account that may pause and unpause
    constructor(IParticipantRegistry participants, address admin) ERC721("Electronic Bill of Lading", "eBL") {
        if (address(participants) == address(0) || admin == address(0)) revert ZeroAddress();
        _participants = participants;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ issue

    /// @inheritdoc IBillOfLadingRegistry
    function issue(IssueRequest calldata request, bytes32 remarkHash) external returns (uint256 tokenId) {
        _requireNotPaused();
        address carrier = msg.sender;
        _requireActiveCarrier(carrier);
        bytes32 ref = request.transportDocumentReference;
        if (ref == bytes32(0)) revert EmptyReference();
        if (request.documentHash == bytes32(0)) revert EmptyDocumentHash();
        uint256 first = _tokenIdOf(carrier, ref, 0);
        Record storage r0 = _records[first];
        uint32 generation = 0;
        if (r0.status != Status.None) {
            // the reference was used before: only once its latest bill is accomplished
            uint32 latest = r0.latestGeneration;
            if (_records[_offset(first, latest)].status != Status.Accomplished) {
                revert BillAlreadyIssued(carrier, ref);
            }
            generation = latest + 1;
            r0.latestGeneration = generation;
        }
        tokenId = _offset(first, generation);
        _mintBill(tokenId, generation, 0, request);
        emit TitleAction(tokenId, Action.Issue, carrier, request.holder, request.beneficiary, remarkHash);
    }

    // ------------------------------------------------------------------ holder actions

    /// @inheritdoc IBillOfLadingRegistry
    function transferHolder(uint256 tokenId, address to, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.Transfer);
        address from = r.holder;
        address beneficiary = r.beneficiary;
        if (to == from) revert SameParty(tokenId, to);
        if (r.straight && to != beneficiary) revert NotConsignee(tokenId, to);
        _requireRecipient(to, _RECIPIENTS);
        r.previous = from;
        r.lastMove = Move.Holder;
        _update(to, tokenId, address(0));
        emit TitleAction(tokenId, Action.Transfer, from, to, beneficiary, remarkHash);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function endorse(uint256 tokenId, address to, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.Endorse);
        address holder = r.holder;
        address beneficiary = r.beneficiary;
        if (beneficiary != holder && beneficiary != address(0) && to != _nomineeOf(r)) {
            revert NotNominee(tokenId, to);
        }
        _requireRecipient(to, _RECIPIENTS);
        if (to == beneficiary) revert SameParty(tokenId, to);
        _setBeneficiary(r, to);
        r.previous = beneficiary;
        r.lastMove = Move.Beneficiary;
        emit TitleAction(tokenId, Action.Endorse, holder, holder, to, remarkHash);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function transferOwners(uint256 tokenId, address newHolder, address newBeneficiary, bytes32 remarkHash)
        external
    {
        Record storage r = _authorize(tokenId, Action.TransferOwners);
        address holder = r.holder;
        address beneficiary = _requireTitle(r, tokenId, holder);
        if (newHolder == holder) revert SameParty(tokenId, newHolder);
        _requireRecipient(newHolder, _RECIPIENTS);
        if (newBeneficiary != newHolder) _requireRecipient(newBeneficiary, _RECIPIENTS);
        _setBeneficiary(r, newBeneficiary);
        r.previous = holder;
        r.lastMove = beneficiary == address(0) ? Move.OwnersFromBearer : Move.Owners;
        _update(newHolder, tokenId, address(0));
        emit TitleAction(tokenId, Action.TransferOwners, holder, newHolder, newBeneficiary, remarkHash);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function blankEndorse(uint256 tokenId, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.BlankEndorse);
        address holder = r.holder;
        if (_requireTitle(r, tokenId, holder) == address(0)) revert AlreadyBlankEndorsed(tokenId);
        _setBeneficiary(r, address(0));
        r.lastMove = Move.None;
        emit TitleAction(tokenId, Action.BlankEndorse, holder, holder, address(0), remarkHash);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function pledge(uint256 tokenId, address escrow, bytes calldata data, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.Pledge);
        address pledgor = r.holder;
        _requireTitle(r, tokenId, pledgor);
        if (!_participants.isActive(escrow, Roles.ESCROW)) revert NotEscrow(escrow);
        _setBeneficiary(r, escrow);
        r.previous = pledgor;
        r.lastMove = Move.None; // the escrow accepts below; there is nothing for it to reject
        _update(escrow, tokenId, address(0));
        emit TitleAction(tokenId, Action.Pledge, pledgor, escrow, escrow, remarkHash);
        // Interaction last: the escrow opens the financing or reverts, undoing the pledge.
        bytes4 accepted = IBillPledgeReceiver(escrow).onBillPledged(pledgor, tokenId, data);
        if (accepted != IBillPledgeReceiver.onBillPledged.selector) revert PledgeRefused(escrow, tokenId);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function surrenderForDelivery(uint256 tokenId, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.SurrenderForDelivery);
        _requireTitle(r, tokenId, r.holder);
        _surrender(r, tokenId, Status.SurrenderedForDelivery, Action.SurrenderForDelivery, remarkHash);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function surrenderForAmendment(uint256 tokenId, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.SurrenderForAmendment);
        _surrender(r, tokenId, Status.SurrenderedForAmendment, Action.SurrenderForAmendment, remarkHash);
    }

    // ------------------------------------------------------------------ beneficiary and recipient actions

    /// @inheritdoc IBillOfLadingRegistry
    function nominate(uint256 tokenId, address nominee, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.Nominate);
        if (nominee != address(0)) {
            if (nominee == msg.sender) revert SameParty(tokenId, nominee);
            _requireRecipient(nominee, _RECIPIENTS);
        }
        r.nominee = nominee;
        r.nomineeEpoch = r.titleEpoch;
        // lastMove stays: a recipient may still reject the move it received (see `Move`)
        emit TitleAction(tokenId, Action.Nominate, msg.sender, r.holder, nominee, remarkHash);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function reject(uint256 tokenId, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.Reject);
        Move move = r.lastMove;
        address previous = r.previous;
        r.lastMove = Move.None;
        if (move != Move.Holder) {
            address restored = move == Move.OwnersFromBearer ? address(0) : previous;
            if (restored != address(0) && move == Move.Beneficiary) _requireRecipient(restored, _RESTORABLE);
            _setBeneficiary(r, restored);
        }
        if (move != Move.Beneficiary) {
            _requireRecipient(previous, _RESTORABLE);
            _update(previous, tokenId, address(0));
        }
        emit TitleAction(tokenId, Action.Reject, msg.sender, r.holder, r.beneficiary, remarkHash);
    }

    // ------------------------------------------------------------------ carrier actions

    /// @inheritdoc IBillOfLadingRegistry
    function acceptSurrender(uint256 tokenId, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.SurrenderAccepted);
        r.status = Status.Accomplished;
        _update(address(0), tokenId, address(0));
        emit TitleAction(tokenId, Action.SurrenderAccepted, msg.sender, msg.sender, r.beneficiary, remarkHash);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function rejectSurrender(uint256 tokenId, bytes32 remarkHash) external {
        Record storage r = _authorize(tokenId, Action.SurrenderRejected);
        address previous = r.previous;
        _requireRecipient(previous, _RESTORABLE);
        r.status = Status.Issued;
        _update(previous, tokenId, address(0));
        emit TitleAction(tokenId, Action.SurrenderRejected, msg.sender, previous, r.beneficiary, remarkHash);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function amend(uint256 tokenId, bytes32 transportDocumentReference, bytes32 documentHash, bytes32 remarkHash)
        external
        returns (uint256 successor)
    {
        Record storage r = _authorize(tokenId, Action.Amend);
        address carrier = msg.sender;
        if (documentHash == bytes32(0)) revert EmptyDocumentHash();
        uint32 generation = r.generation;
        if (_tokenIdOf(carrier, transportDocumentReference, generation) != tokenId) {
            revert ReferenceMismatch(tokenId, transportDocumentReference);
        }
        address beneficiary = r.beneficiary;
        r.status = Status.Voided;
        _update(address(0), tokenId, address(0));
        emit TitleAction(tokenId, Action.Amend, carrier, carrier, beneficiary, remarkHash);

        // the successor is the next generation of the same reference; a live bill is always the latest one
        uint256 first;
        unchecked {
            first = _offset(tokenId, 0 - uint96(generation));
        }
        _records[first].latestGeneration = generation + 1;
        successor = _offset(tokenId, 1);
        address holder = r.previous; // the surrendering holder
        _mintBill(
            successor,
            generation + 1,
            tokenId,
            IssueRequest(transportDocumentReference, documentHash, holder, beneficiary, r.straight)
        );
        emit TitleAction(successor, Action.Issue, carrier, holder, beneficiary, remarkHash);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function switchToPaper(uint256 tokenId, bytes32 reasonHash) external {
        Record storage r = _authorize(tokenId, Action.SwitchToPaper);
        r.status = Status.Voided;
        _update(address(0), tokenId, address(0));
        emit TitleAction(tokenId, Action.SwitchToPaper, msg.sender, r.holder, r.beneficiary, reasonHash);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IBillOfLadingRegistry
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @inheritdoc IBillOfLadingRegistry
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IBillOfLadingRegistry
    function bill(uint256 tokenId) external view returns (Bill memory b) {
        Record storage r = _records[tokenId];
        if (r.status == Status.None) revert ERC721NonexistentToken(tokenId);
        address carrier = _carrierOf(tokenId);
        b.carrier = carrier;
        b.holder = r.holder;
        b.beneficiary = r.beneficiary;
        b.nominee = _nomineeOf(r);
        b.status = r.status;
        b.straight = r.straight;
        b.blankEndorsed = !r.straight && r.beneficiary == address(0);
        b.issuedBlock = r.issuedBlock;
        b.documentHash = r.documentHash;
        b.generation = r.generation;
        if (r.amendment) b.predecessor = _offset(tokenId, type(uint96).max);
        uint256 next = _offset(tokenId, 1);
        Record storage n = _records[next];
        if (n.amendment && n.generation == r.generation + 1) b.successor = next;
        b.previousParty = r.previous;
        b.lastMove = r.lastMove;
    }

    /// @inheritdoc IBillOfLadingRegistry
    function tokenOf(address carrier, bytes32 transportDocumentReference) external view returns (uint256 tokenId) {
        uint256 first = _tokenIdOf(carrier, transportDocumentReference, 0);
        Record storage r0 = _records[first];
        if (r0.status == Status.None) return 0;
        tokenId = _offset(first, r0.latestGeneration);
        if (!_isLive(_records[tokenId].status)) tokenId = 0;
    }

    /// @inheritdoc IBillOfLadingRegistry
    function participantRegistry() external view returns (address) {
        return address(_participants);
    }

    // ------------------------------------------------------------------ ERC-721: movement only through the lifecycle

    /// @notice The number of live bills `holder` controls (ERC-721); reverts `ERC721InvalidOwner` for zero.
    function balanceOf(address holder) public view override returns (uint256) {
        if (holder == address(0)) revert ERC721InvalidOwner(address(0));
        return _balances[holder];
    }

    /// @notice Not supported: always reverts `ApprovalDisabled`; nobody but the holder acts on a bill.
    function approve(address, uint256) public pure override {
        revert ApprovalDisabled();
    }

    /// @notice Not supported: always reverts `ApprovalDisabled`; nobody but the holder acts on a bill.
    function setApprovalForAll(address, bool) public pure override {
        revert ApprovalDisabled();
    }

    /// @notice ERC-165: ERC-721, AccessControl and this registry's interface; not `IERC721Metadata` (no URI).
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        if (interfaceId == type(IERC721Metadata).interfaceId) return false;
        return interfaceId == type(IBillOfLadingRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @inheritdoc IBillOfLadingRegistry
    function paused() public view override(IBillOfLadingRegistry, Pausable) returns (bool) {
        return super.paused();
    }

    /// @dev The holder of a live bill; zero for an unknown or ended (burned) one, so `ownerOf` reverts.
    function _ownerOf(uint256 tokenId) internal view override returns (address) {
        Record storage r = _records[tokenId];
        return _isLive(r.status) ? r.holder : address(0);
    }

    /// @dev The only code that changes a holder, and so the only one keeping balances and emitting `Transfer`.
    /// Callers checked the action (`_authorize`) and the recipient (`_requireRecipient`) and set the status
    /// the bill will have first. Live (issue, moves, restorations, a surrender to the carrier): the recipient
    /// becomes holder. Final (accept, amend, switch to paper): `to == 0`, the token is burned and the record
    /// keeps its last holder. The public `transferFrom`/`safeTransferFrom` arrive with a non-zero `auth` and
    /// are refused; lifecycle actions pass zero. There is no `onERC721Received` call: every recipient is an
    /// onboarded participant, and an escrow is called by `pledge`.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        if (auth != address(0)) revert TransferDisabled();
        Record storage r = _records[tokenId];
        from = r.holder;
        if (_isLive(r.status)) r.holder = to;
        unchecked {
            // from holds this token, so its count is at least one; no count reaches 2**256
            if (from != address(0)) _balances[from] -= 1;
            if (to != address(0)) _balances[to] += 1;
        }
        emit Transfer(from, to, tokenId);
    }

    // ------------------------------------------------------------------ lifecycle rules

    /// @dev Statuses (bit i = `Status(i)`) in which each action (byte i = `Action(i)`) is allowed:
    /// Transfer .. Reject (1-8) and Pledge (13): Issued; SurrenderAccepted (9): SurrenderedForDelivery;
    /// SurrenderRejected (10): either surrendered status; Amend (11) and SwitchToPaper (12):
    /// SurrenderedForAmendment. Issue (0) has no bill yet and is not checked here. A test reads every cell
    /// of this table back through the public functions (tests/contracts/test_bills.py, status matrix).
    uint256 private constant _ALLOWED_STATUSES = 0x02_08_08_0C_04_02_02_02_02_02_02_02_02_00;

    /// @dev Actions refused on a straight bill (bit i = `Action(i)`): Endorse, TransferOwners, BlankEndorse,
    /// Nominate, Pledge.
    uint256 private constant _ENDORSEMENTS = 1 << 2 | 1 << 3 | 1 << 4 | 1 << 7 | 1 << 13;

    /// @dev The issuing carrier's actions: SurrenderAccepted, SurrenderRejected, Amend, SwitchToPaper.
    uint256 private constant _CARRIER_ACTIONS = 1 << 9 | 1 << 10 | 1 << 11 | 1 << 12;

    /// @dev Carrier actions that void the bill and so need a carrier still active: Amend, SwitchToPaper.
    uint256 private constant _VOIDING_ACTIONS = 1 << 11 | 1 << 12;

    /// @dev Every rule for acting on an existing bill, checked once per action before any effect: nothing
    /// happens while paused; the status must allow the action (`_ALLOWED_STATUSES`); the actor must be the
    /// bill's carrier (`_CARRIER_ACTIONS`; an active carrier for the voiding ones), the beneficiary
    /// (Nominate), the recipient of the last move (Reject) or else the holder; a straight bill is never
    /// endorsed or pledged (`_ENDORSEMENTS`). Whether a holder or beneficiary is still active is not asked
    /// (see the contract note); recipients are checked by `_requireRecipient`.
    function _authorize(uint256 tokenId, Action action) private view returns (Record storage r) {
        _requireNotPaused();
        r = _records[tokenId];
        Status status = r.status;
        if (status == Status.None) revert ERC721NonexistentToken(tokenId);
        if ((_ALLOWED_STATUSES >> (uint256(action) * 8)) & (1 << uint256(status)) == 0) {
            revert InvalidStatus(tokenId, status);
        }
        address actor = msg.sender;
        uint256 bit = 1 << uint256(action);
        if (_CARRIER_ACTIONS & bit != 0) {
            if (actor != _carrierOf(tokenId)) revert NotCarrier(tokenId, actor);
            if (_VOIDING_ACTIONS & bit != 0) _requireActiveCarrier(actor);
            return r;
        }
        if (action == Action.Nominate) {
            if (actor != r.beneficiary) revert NotBeneficiary(tokenId, actor);
        } else if (action == Action.Reject) {
            Move move = r.lastMove;
            if (move == Move.None) revert NothingToReject(tokenId);
            address recipient = move == Move.Beneficiary ? r.beneficiary : r.holder;
            if (actor != recipient) revert NotLastRecipient(tokenId, actor);
        } else if (actor != r.holder) {
            revert NotHolder(tokenId, actor);
        }
        if (r.straight && _ENDORSEMENTS & bit != 0) revert StraightBillNotEndorsable(tokenId);
    }

    /// @dev The holder holds title when it is the beneficiary or the bill is blank-endorsed (returns the
    /// beneficiary, zero for blank).
    function _requireTitle(Record storage r, uint256 tokenId, address holder) private view returns (address b) {
        b = r.beneficiary;
        if (b != holder && b != address(0)) revert HolderWithoutTitle(tokenId, holder);
        // a straight bill's beneficiary is its consignee and is never zero
    }

    /// @dev Who may receive: an active participant holding one of `roles` (`_RECIPIENTS` for a new position,
    /// `_RESTORABLE` for a restoration). One registry call; the zero address is never active.
    function _requireRecipient(address recipient, uint16 roles) private view {
        if (!_participants.isActiveAny(recipient, roles)) revert RecipientNotActive(recipient);
    }

    function _requireActiveCarrier(address account) private view {
        if (!_participants.isActive(account, Roles.CARRIER)) revert CarrierNotActive(account);
    }

    // ------------------------------------------------------------------ effects

    /// @dev Writes a new record, mints and emits `BillIssued`. The id's record is empty: `issue` checked
    /// generation 0, and a later generation is free unless the 96-bit hashes of two of the carrier's
    /// references nearly collide, in which case this reverts rather than overwrite. A fresh issue needs
    /// recipients for a new position; an amendment (`predecessor` non-zero) restores its predecessor's
    /// parties, the beneficiary being zero for a bill endorsed in blank.
    function _mintBill(uint256 tokenId, uint32 generation, uint256 predecessor, IssueRequest memory request)
        private
    {
        address holder = request.holder;
        address beneficiary = request.beneficiary;
        uint16 roles = predecessor == 0 ? _RECIPIENTS : _RESTORABLE;
        _requireRecipient(holder, roles);
        if (beneficiary != holder && !(predecessor != 0 && beneficiary == address(0))) {
            _requireRecipient(beneficiary, roles);
        }
        Record storage r = _records[tokenId];
        Status status = r.status;
        if (status != Status.None) revert InvalidStatus(tokenId, status);
        r.status = Status.Issued;
        if (request.straight) r.straight = true;
        if (predecessor != 0) r.amendment = true;
        if (generation != 0) r.generation = generation;
        r.beneficiary = beneficiary;
        r.issuedBlock = uint40(block.number);
        r.documentHash = request.documentHash;
        _update(holder, tokenId, address(0));
        emit BillIssued(tokenId, request.transportDocumentReference, request.documentHash, request.straight);
    }

    /// @dev Moves the bill to its carrier; remembers the surrendering holder for `rejectSurrender`/`amend`.
    function _surrender(Record storage r, uint256 tokenId, Status status, Action action, bytes32 remarkHash) private {
        address holder = r.holder;
        address carrier = _carrierOf(tokenId);
        r.previous = holder;
        r.lastMove = Move.None;
        r.status = status;
        _update(carrier, tokenId, address(0));
        emit TitleAction(tokenId, action, holder, carrier, r.beneficiary, remarkHash);
    }

    /// @dev Every change of beneficiary lapses the standing nomination.
    function _setBeneficiary(Record storage r, address beneficiary) private {
        r.beneficiary = beneficiary;
        unchecked {
            r.titleEpoch += 1;
        }
    }

    // ------------------------------------------------------------------ helpers

    function _nomineeOf(Record storage r) private view returns (address) {
        return r.nomineeEpoch == r.titleEpoch ? r.nominee : address(0);
    }

    function _isLive(Status status) private pure returns (bool) {
        return status == Status.Issued || status == Status.SurrenderedForDelivery
            || status == Status.SurrenderedForAmendment;
    }

    function _carrierOf(uint256 tokenId) private pure returns (address) {
        return address(uint160(tokenId));
    }

    /// @dev Token id of a carrier's reference: `((h + generation) mod 2**96) << 160 | carrier`, `h` the low 96
    /// bits of `keccak256(abi.encode(reference))`. Generation 0 is the first bill; each amendment or re-use
    /// after accomplishment adds one.
    function _tokenIdOf(address carrier, bytes32 transportDocumentReference, uint32 generation)
        private
        pure
        returns (uint256)
    {
        uint256 base = uint256(keccak256(abi.encode(transportDocumentReference))) << 160 | uint160(carrier);
        return _offset(base, generation);
    }

    /// @dev The id `delta` generations on (modulo 2**96; `type(uint96).max` is one back), same carrier.
    function _offset(uint256 tokenId, uint96 delta) private pure returns (uint256) {
        unchecked {
            return uint256(uint96(tokenId >> 160) + delta) << 160 | uint160(tokenId);
        }
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Bill-of-lading title registry: one ERC-721 token per live electronic bill of lading
/// @notice Follows the DCSA eBL 3.0 action codes and the UNCITRAL MLETR notions of singularity (at most one
/// live token per carrier and transport document reference) and exclusive control (the `holder`, who is the
/// ERC-721 owner, is the only party that acts on a bill). The transport document stays off chain; the token
/// stores its SHA-256 (DCSA `documentChecksum`). Every lifecycle action emits exactly one `TitleAction` per
/// token it touches, so a client rebuilds the chain of title with one log query from `issuedBlock`.
///
/// Parties: the issuing carrier; the `holder` (party in control, possession); the `beneficiary` (title
/// owner, endorsee); a `nominee` (the beneficiary's choice of next beneficiary, TradeTrust style). A
/// straight bill names its consignee as the beneficiary for the bill's whole life; a to-order bill whose
/// beneficiary is zero is blank-endorsed (a bearer bill: possession is title).
///
/// Read side: a compliant ERC-721 (`balanceOf`, `ownerOf`, `Transfer`), so explorers, wallets and custody
/// tools read bills with standard calls; movement happens only through the lifecycle functions below.
interface IBillOfLadingRegistry {
    /// @notice Status of a bill. `None`: never issued. `Issued`: live and movable. The two surrendered
    /// states are live but frozen until the carrier answers. `Accomplished` (goods delivered) and `Voided`
    /// (amended or switched to paper) are final: the token is burned and `ownerOf` reverts.
    enum Status {
        None,
        Issued,
        SurrenderedForDelivery,
        SurrenderedForAmendment,
        Accomplished,
        Voided
    }

    /// @notice Action codes of the `TitleAction` event (DCSA eBL 3.0 names; numbering is this contract's).
    /// @dev Issue: ISSUE. Transfer: TRANSFER (possession). Endorse: ENDORSE. TransferOwners: ENDORSE and
    /// TRANSFER in one step. BlankEndorse: BLANK_ENDORSE. SurrenderForDelivery / SurrenderForAmendment: the
    /// DCSA codes of the same name. Nominate: TradeTrust nomination (no DCSA code). Reject: the recipient
    /// refuses the last move. SurrenderAccepted / SurrenderRejected: DCSA SACC / SREJ. Amend: the carrier
    /// voids the bill and re-issues it with the amended document.
    enum Action {
        Issue,
        Transfer,
        Endorse,
        TransferOwners,
        BlankEndorse,
        SurrenderForDelivery,
        SurrenderForAmendment,
        Nominate,
        Reject,
        SurrenderAccepted,
        SurrenderRejected,
        Amend,
        SwitchToPaper,
        Pledge
    }

    /// @notice What the most recent move changed, while its recipient may still reject it. The next action
    /// on the bill closes the window (`None`), except a nomination: the beneficiary's nomination changes
    /// nothing the recipient received, so it cannot take the recipient's right to reject. `OwnersFromBearer`: holder and beneficiary moved from a
    /// blank-endorsed bill, so a rejection restores the blank endorsement.
    enum Move {
        None,
        Holder,
        Beneficiary,
        Owners,
        OwnersFromBearer
    }

    /// @notice What the carrier supplies to issue a bill.
    /// @param transportDocumentReference the carrier's reference (DCSA `transportDocumentReference`, at most
    /// 20 characters, right-padded with zeros); unique per carrier while a bill for it is live
    /// @param documentHash SHA-256 of the RFC 8785 canonical JSON of the transport document
    /// @param holder the first holder, normally the shipper
    /// @param beneficiary to order: the first beneficiary (normally the shipper, then equal to `holder`);
    /// straight: the named consignee, fixed for the bill's life
    /// @param straight true for a straight (non-negotiable) bill: it is never endorsed and moves only to its
    /// consignee
    struct IssueRequest {
        bytes32 transportDocumentReference;
        bytes32 documentHash;
        address holder;
        address beneficiary;
        bool straight;
    }

    /// @notice Everything a client needs about one bill.
    /// @param carrier the issuing carrier (also encoded in the token id, see `issue`)
    /// @param holder the party in control; once the bill has ended, the last party in control
    /// @param beneficiary the title owner (straight bill: the consignee); zero when blank-endorsed
    /// @param nominee the beneficiary's standing nomination, zero when none
    /// @param status lifecycle status
    /// @param straight straight (true) or to order (false)
    /// @param blankEndorsed a to-order bill endorsed in blank: whoever holds it holds title
    /// @param issuedBlock the block the token was issued in, the lower bound of a history log query
    /// @param documentHash SHA-256 of the canonical transport document
    /// @param generation 0 for the reference's first bill, plus one per amendment or re-use (see `issue`)
    /// @param predecessor the bill this one amends (0 unless it is an amendment)
    /// @param successor the bill that amends this one (0 unless voided by an amendment)
    /// @param previousParty the party a `reject` (or a carrier's `rejectSurrender`) restores
    /// @param lastMove what a `reject` would undo now (`None`: nothing to reject)
    struct Bill {
        address carrier;
        address holder;
        address beneficiary;
        address nominee;
        Status status;
        bool straight;
        bool blankEndorsed;
        uint40 issuedBlock;
        bytes32 documentHash;
        uint32 generation;
        uint256 predecessor;
        uint256 successor;
        address previousParty;
        Move lastMove;
    }

    /// @notice One lifecycle action on one token: the audit trail.
    /// @param tokenId the bill acted on
    /// @param action the action code
    /// @param actor the account that acted (holder, beneficiary, recipient or carrier)
    /// @param holder the holder after the action (after a final action: the last holder)
    /// @param beneficiary the beneficiary after the action (zero when blank-endorsed); for `Nominate`, where
    /// the beneficiary is the actor and does not change, the nominee (zero: nomination withdrawn)
    /// @param remarkHash hash of an off-chain remark (for `SwitchToPaper`, of the reason); zero allowed
    event TitleAction(
        uint256 indexed tokenId,
        Action indexed action,
        address indexed actor,
        address holder,
        address beneficiary,
        bytes32 remarkHash
    );

    /// @notice The document a bill carries: emitted when a bill is issued and when an amendment re-issues
    /// it, so the chain of title, the reference and the document binding are all readable from events
    /// (a bill issued through a multisig included).
    /// @param tokenId the new bill
    /// @param transportDocumentReference the carrier's reference, right-padded with zeros
    /// @param documentHash SHA-256 of the canonical transport document
    /// @param straight true for a straight (non-negotiable) bill
    /// @dev An amendment's successor is issued in the transaction whose `TitleAction(Amend)` voids its
    /// predecessor, the previous generation of the same reference.
    event BillIssued(
        uint256 indexed tokenId, bytes32 indexed transportDocumentReference, bytes32 documentHash, bool straight
    );

    /// @notice The zero address is not a participant.
    error ZeroAddress();
    /// @notice Plain ERC-721 transfers are disabled: use the lifecycle actions (ebl bill transfer/endorse/...).
    error TransferDisabled();
    /// @notice Approvals are disabled: only the holder acts on a bill.
    error ApprovalDisabled();
    /// @notice The transport document reference is empty.
    error EmptyReference();
    /// @notice The document hash is empty.
    error EmptyDocumentHash();
    /// @notice {account} is not an active carrier.
    error CarrierNotActive(address account);
    /// @notice {recipient} cannot receive a bill: it must be an active trader or financier (an escrow
    /// receives bills only by pledge).
    error RecipientNotActive(address recipient);
    /// @notice Carrier {carrier} already has a live bill for reference {transportDocumentReference}.
    error BillAlreadyIssued(address carrier, bytes32 transportDocumentReference);
    /// @notice Bill {tokenId} is {status}: this action is not allowed now.
    error InvalidStatus(uint256 tokenId, Status status);
    /// @notice {caller} is not the holder of bill {tokenId}.
    error NotHolder(uint256 tokenId, address caller);
    /// @notice {caller} is not the beneficiary of bill {tokenId}.
    error NotBeneficiary(uint256 tokenId, address caller);
    /// @notice {caller} is not the issuing carrier of bill {tokenId}.
    error NotCarrier(uint256 tokenId, address caller);
    /// @notice Bill {tokenId} has no move to reject (only the very next action may reject).
    error NothingToReject(uint256 tokenId);
    /// @notice {caller} did not receive the last move of bill {tokenId}.
    error NotLastRecipient(uint256 tokenId, address caller);
    /// @notice Bill {tokenId} is a straight bill and cannot be endorsed or pledged.
    error StraightBillNotEndorsable(uint256 tokenId);
    /// @notice Straight bill {tokenId} moves only to its consignee, not {recipient}.
    error NotConsignee(uint256 tokenId, address recipient);
    /// @notice {endorsee} is not the beneficiary's nominee for bill {tokenId}.
    error NotNominee(uint256 tokenId, address endorsee);
    /// @notice Holder {holder} of bill {tokenId} does not hold title (it is not the beneficiary).
    error HolderWithoutTitle(uint256 tokenId, address holder);
    /// @notice Bill {tokenId} is already endorsed in blank.
    error AlreadyBlankEndorsed(uint256 tokenId);
    /// @notice {party} already holds that position on bill {tokenId}.
    error SameParty(uint256 tokenId, address party);
    /// @notice Reference {transportDocumentReference} is not the reference of bill {tokenId}.
    error ReferenceMismatch(uint256 tokenId, bytes32 transportDocumentReference);
    /// @notice {escrow} is not an active escrow and cannot take a pledge.
    error NotEscrow(address escrow);
    /// @notice Escrow {escrow} did not accept the pledge of bill {tokenId}.
    error PledgeRefused(address escrow, uint256 tokenId);

    /// @notice Issues a bill to its first holder and beneficiary. Caller: an active carrier.
    /// @dev Token id = `((h + generation) mod 2**96) << 160 | carrier`, `h` the low 96 bits of
    /// `keccak256(abi.encode(transportDocumentReference))`: the low 160 bits name the carrier, and anyone can
    /// compute the id from the carrier and the reference. Generation 0
    /// is the first bill for the reference; an amendment's successor and a re-use take the next generation.
    /// A reference may be re-used once its latest bill is accomplished; after a switch to paper it may not
    /// (the paper original now carries title), and after an amendment the successor is live.
    /// Emits `Transfer(0, holder, tokenId)`, `TitleAction(Issue)` and `BillIssued`.
    /// @param request the bill (see `IssueRequest`); holder and beneficiary must be active participants
    /// @param remarkHash hash of an off-chain remark; zero allowed
    /// @return tokenId the new token
    function issue(IssueRequest calldata request, bytes32 remarkHash) external returns (uint256 tokenId);

    /// @notice Moves possession to `to`, an active participant; title stays with the beneficiary (on a
    /// blank-endorsed bill, title follows possession). A straight bill moves only to its consignee.
    /// Caller: the holder. `to` may `reject` as its next action.
    function transferHolder(uint256 tokenId, address to, bytes32 remarkHash) external;

    /// @notice The beneficiary nominates the next beneficiary, whom the holder may then endorse the bill to;
    /// `nominee` zero withdraws the nomination. Caller: the beneficiary of a to-order bill. A nomination
    /// lapses when the beneficiary changes.
    function nominate(uint256 tokenId, address nominee, bytes32 remarkHash) external;

    /// @notice Endorses the bill to `to` (transfer of title, possession stays). When the holder holds title
    /// (holder is beneficiary, or the bill is blank-endorsed) `to` is any active participant; otherwise `to`
    /// must be the beneficiary's nominee. Caller: the holder of a to-order bill. `to` may `reject` next.
    function endorse(uint256 tokenId, address to, bytes32 remarkHash) external;

    /// @notice Endorses and transfers in one step: `newHolder` gets possession, `newBeneficiary` title.
    /// Caller: the holder of a to-order bill who holds title. `newHolder` may `reject` both next.
    function transferOwners(uint256 tokenId, address newHolder, address newBeneficiary, bytes32 remarkHash)
        external;

    /// @notice Endorses in blank: the beneficiary becomes zero and whoever holds the bill holds title,
    /// until a later `endorse` or `transferOwners` names a beneficiary again. Caller: the holder of a
    /// to-order bill who is also its beneficiary.
    function blankEndorse(uint256 tokenId, bytes32 remarkHash) external;

    /// @notice The recipient of the last move refuses it: the previous holder and/or beneficiary is
    /// restored, and must still be active (a restoration is a receipt). Caller: the new holder if the last
    /// move changed the holder, else the new beneficiary; only as the very next action on the bill (any
    /// other action but a nomination closes the window). A nomination made before the move does not revive.
    function reject(uint256 tokenId, bytes32 remarkHash) external;

    /// @notice Pledges the bill into a financing escrow in one transaction: the escrow becomes holder and
    /// beneficiary, then its `onBillPledged(pledgor, tokenId, data)` hook is called and must accept (return
    /// its selector); any refusal reverts the whole pledge, so a bill is never left in an escrow without a
    /// financing. Caller: the holder of a live to-order bill who holds title. `escrow` must be an active
    /// ESCROW participant: an escrow receives bills only this way (and by restoration, when a party it
    /// delivered a bill to rejects it). The pledge cannot be rejected (the escrow accepted it). Emits
    /// `Transfer`, `TitleAction(Pledge)`.
    /// @param escrow the financing escrow
    /// @param data passed to the escrow's hook unchanged (for the financing escrow: the financing request)
    function pledge(uint256 tokenId, address escrow, bytes calldata data, bytes32 remarkHash) external;

    /// @notice Surrenders the bill to its carrier for delivery of the goods; the carrier becomes holder and
    /// nothing moves until it accepts or rejects. Caller: the holder, who must hold title.
    function surrenderForDelivery(uint256 tokenId, bytes32 remarkHash) external;

    /// @notice Surrenders the bill to its carrier for an amendment (or a switch to paper). Caller: the
    /// holder; title need not be with the holder, as the amended bill keeps the same parties.
    function surrenderForAmendment(uint256 tokenId, bytes32 remarkHash) external;

    /// @notice Accepts a surrender for delivery: the bill is accomplished and its token burned.
    /// Caller: the issuing carrier.
    function acceptSurrender(uint256 tokenId, bytes32 remarkHash) external;

    /// @notice Rejects a surrender (for delivery or amendment): the surrendering holder, who must still be
    /// active, is restored and the bill is live again. Caller: the issuing carrier.
    function rejectSurrender(uint256 tokenId, bytes32 remarkHash) external;

    /// @notice Accepts a surrender for amendment by re-issuing: the bill is voided and a successor with the
    /// amended document goes to the surrendering holder and the same beneficiary, as the next generation
    /// of the same reference; the two are linked (`predecessor`/`successor`) and `tokenOf` resolves to the
    /// successor. Caller: the issuing carrier, while active. Emits `TitleAction(Amend)` for the bill and
    /// `TitleAction(Issue)` and `BillIssued` for the successor.
    /// @param transportDocumentReference the bill's reference (an amendment keeps it); checked against the
    /// token id, and carried by the successor's `BillIssued` event
    /// @param documentHash SHA-256 of the amended canonical transport document
    /// @return successor the token id of the amended bill
    function amend(uint256 tokenId, bytes32 transportDocumentReference, bytes32 documentHash, bytes32 remarkHash)
        external
        returns (uint256 successor);

    /// @notice Voids the bill because the carrier issues a paper original instead; its reference cannot be
    /// issued electronically again. Only after the holder surrendered the bill for amendment (DCSA models a
    /// switch to paper as an amendment with reason SWTP): a carrier can never void a bill its holder still
    /// controls, e.g. one pledged in a financing. Caller: the issuing carrier, while an active carrier.
    /// @param reasonHash hash of the off-chain reason (the holder's request, the paper bill's number)
    function switchToPaper(uint256 tokenId, bytes32 reasonHash) external;

    /// @notice Stops every action (issue included) until `unpause`. Caller: the admin.
    function pause() external;

    /// @notice Resumes after `pause`. Caller: the admin.
    function unpause() external;

    /// @notice True while the admin has paused the registry (the financing escrow stops with it).
    function paused() external view returns (bool);

    /// @notice Everything about one bill; reverts `ERC721NonexistentToken` for an unknown id.
    function bill(uint256 tokenId) external view returns (Bill memory);

    /// @notice The live bill for a carrier's transport document reference, or 0 when none is live.
    function tokenOf(address carrier, bytes32 transportDocumentReference) external view returns (uint256);

    /// @notice The participant registry consulted for carriers, holders and endorsees.
    function participantRegistry() external view returns (address);
}

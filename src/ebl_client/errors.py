"""One exception hierarchy for the client: connection, input, signing and deployment problems, and
every contract custom error as a named exception carrying the error's decoded arguments.

A revert is never surfaced as hex: `decode_revert` maps the 4-byte selector to the class of the same
name as the Solidity error (`AlreadyOnboarded`, `AccessControlUnauthorizedAccount`, ...).
"""

from __future__ import annotations

from typing import Any, ClassVar


class EblError(Exception):
    """Base of every error the client raises on purpose. The message is one line for the CLI."""


class ConnectionFailed(EblError):
    """The node could not be reached or did not answer JSON-RPC."""


class WrongChain(EblError):
    """The node's chain id is not the one the caller expected."""


class InvalidInput(EblError, ValueError):
    """A value given by the caller is malformed (address, jurisdiction, role, file...)."""


class InvalidDocument(InvalidInput):
    """A transport document that may not become title. `path` is the RFC 6901 JSON Pointer of the wrong
    value ("" for the whole document); `reason` says why in one line."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        where = f" at {path}" if path else ""
        super().__init__(f"invalid transport document{where}: {reason}")


class SignerError(EblError):
    """No key, an unreadable keystore or a wrong password."""


class DeploymentError(EblError):
    """The deployment manifest is missing, unreadable or does not match the chain."""


class NodeError(EblError):
    """The embedded Anvil could not be started or stopped."""


class TransactionTimeout(EblError):
    """A sent transaction was not mined within the network profile's receipt timeout."""


class TransactionFailed(EblError):
    """A transaction or call failed without a custom error (panic, out of gas, plain revert)."""


class ContractRevert(EblError):
    """A contract refused the action with a custom error. Subclasses are named after the error.

    `values` holds the error's arguments by name (addresses checksummed, bytes as 0x-hex), also
    reachable as attributes: `err.account`.
    """

    message: ClassVar[str] = "the contract refused the action"
    registry: ClassVar[dict[str, type[ContractRevert]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "message" in cls.__dict__:  # concrete error classes; grouping classes define no message
            ContractRevert.registry[cls.__name__] = cls

    def __init__(self, **values: Any) -> None:
        self.values = values
        try:
            text = self.message.format(**self.describe(values))
        except (KeyError, IndexError):
            text = self.message
        super().__init__(f"{type(self).__name__}: {text}")

    @classmethod
    def describe(cls, values: dict[str, Any]) -> dict[str, Any]:
        """The values as the message shows them (token ids in hex, enum numbers as names)."""
        shown = dict(values)
        if isinstance(shown.get("tokenId"), int):
            shown["tokenId"] = hex(shown["tokenId"])
        return shown

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)


class UnknownContractError(ContractRevert):
    """A custom error whose selector is in no artifact ABI the client knows."""

    def __init__(self, selector: str, data: str) -> None:
        self.values = {"selector": selector, "data": data}
        EblError.__init__(self, f"unknown contract error {selector} (data {data})")


# --- OpenZeppelin errors that the suite's contracts can raise ---------------------------------------


class AccessControlError(ContractRevert):
    """Raised by OpenZeppelin AccessControl."""


class AccessControlUnauthorizedAccount(AccessControlError):
    message = "account {account} does not hold the {role_name} role this action needs"

    @classmethod
    def describe(cls, values: dict[str, Any]) -> dict[str, Any]:
        shown = super().describe(values)
        role = values.get("neededRole")
        shown["role_name"] = "consortium admin" if role == "0x" + "00" * 32 else str(role)
        return shown


class AccessControlBadConfirmation(AccessControlError):
    message = "a role can only be renounced by the account itself"


# --- ParticipantRegistry ----------------------------------------------------------------------------


class ParticipantError(ContractRevert):
    """Raised by the participant registry."""


class ZeroAddress(ParticipantError):
    message = "the zero address is not a participant"


class AlreadyOnboarded(ParticipantError):
    message = "account {account} is already onboarded"


class NotOnboarded(ParticipantError):
    message = "account {account} is not onboarded"


class InvalidRoles(ParticipantError):
    message = "role bits {roles} are empty or undefined"


class InvalidJurisdiction(ParticipantError):
    message = "jurisdiction {jurisdiction} is not a two-letter ISO 3166-1 code"


class EmptyIdentifierHash(ParticipantError):
    message = "account {account} needs a salted identifier hash"


class InstitutionRequired(ParticipantError):
    message = "verifier {account} must name the financier it works for"


class UnexpectedInstitution(ParticipantError):
    message = "account {account} is not a verifier and cannot name institution {institution}"


class InvalidInstitution(ParticipantError):
    message = "institution {institution} is not an active financier"


class AlreadySuspended(ParticipantError):
    message = "account {account} is already suspended"


class NotSuspended(ParticipantError):
    message = "account {account} is not suspended"


# --- CreditHashRegistry -----------------------------------------------------------------------------


class CreditError(ContractRevert):
    """Raised by the credit-hash registry."""


class NotCreditProvider(CreditError):
    message = "account {account} is not an active credit provider"


class InvalidSubject(CreditError):
    message = "subject {subject} is not a valid account"


class EmptyRoot(CreditError):
    message = "the commitment root is empty"


class InvalidExpiry(CreditError):
    message = "expiry {expiresAt} is not in the future"


class BatchSizeInvalid(CreditError):
    message = "batch of {size} is empty, uneven or larger than {max}"


class AlreadyAnchored(CreditError):
    message = "root {root} is already anchored for subject {subject}"


class RecordNotFound(CreditError):
    message = "no record of root {root} for subject {subject}"


class NotRecordProvider(CreditError):
    message = "{caller} did not anchor this record (provider {provider})"


class RecordRevoked(CreditError):
    message = "record {root} of subject {subject} is revoked"


class RecordExpired(CreditError):
    message = "record {root} of subject {subject} expired at {expiresAt}"


class NotFinancier(CreditError):
    message = "{financier} is not an active financier"


class SubjectNotActive(CreditError):
    message = "subject {subject} is not an active trader"


class ConsentMissing(CreditError):
    message = "subject {subject} has no live consent for {financier} on record {root}"


class NotVerifierOf(CreditError):
    message = "{officer} is not an active verifier officer of {financier}"


class VerificationNotRecorded(CreditError):
    message = "{financier} has no recorded verification of {subject}"


class VerificationAlreadyApproved(CreditError):
    message = "{financier}'s verification of {subject} is already approved"


class SameMakerAndChecker(CreditError):
    message = "officer {officer} recorded this verification and cannot also approve it"


# --- OpenZeppelin ERC-721 and Pausable (inherited by BillOfLadingRegistry) ---------------------------------


class PausableError(ContractRevert):
    """Raised by OpenZeppelin Pausable."""


class EnforcedPause(PausableError):
    message = "the registry is paused by the consortium admin"


class ExpectedPause(PausableError):
    message = "the registry is not paused"


class ERC721Error(ContractRevert):
    """Raised by OpenZeppelin ERC-721 (most transfers are disabled before they get there)."""


class ERC721NonexistentToken(ERC721Error):
    message = "no bill with token id {tokenId}"


class ERC721InvalidOwner(ERC721Error):
    message = "{owner} cannot own a bill"


class ERC721IncorrectOwner(ERC721Error):
    message = "{sender} is not the owner ({owner}) of bill {tokenId}"


class ERC721InsufficientApproval(ERC721Error):
    message = "{operator} is not approved for bill {tokenId}"


class ERC721InvalidApprover(ERC721Error):
    message = "{approver} cannot approve"


class ERC721InvalidOperator(ERC721Error):
    message = "{operator} cannot be an operator"


class ERC721InvalidReceiver(ERC721Error):
    message = "{receiver} cannot receive a bill"


class ERC721InvalidSender(ERC721Error):
    message = "{sender} cannot send a bill"


# --- BillOfLadingRegistry -----------------------------------------------------------------------------------

BILL_STATUS_NAMES = ("none", "issued", "surrendered for delivery", "surrendered for amendment", "accomplished",
                     "voided")


class BillError(ContractRevert):
    """Raised by the bill-of-lading title registry."""


class TransferDisabled(BillError):
    message = "plain ERC-721 transfers are disabled: use the lifecycle actions (ebl bill transfer/endorse/...)"


class ApprovalDisabled(BillError):
    message = "approvals are disabled: only the holder acts on a bill"


class BalanceNotTracked(BillError):
    message = "balanceOf is not tracked by the registry: look bills up by token id or history"


class EmptyReference(BillError):
    message = "the transport document reference is empty"


class EmptyDocumentHash(BillError):
    message = "the document hash is empty"


class CarrierNotActive(BillError):
    message = "{account} is not an active carrier"


class RecipientNotActive(BillError):
    message = "{recipient} is not an active trader, financier or escrow and cannot receive a bill"


class BillAlreadyIssued(BillError):
    message = "carrier {carrier} already has a live bill for reference {reference}"

    @classmethod
    def describe(cls, values: dict[str, Any]) -> dict[str, Any]:
        shown = super().describe(values)
        raw = bytes.fromhex(str(values.get("transportDocumentReference", "0x"))[2:])
        shown["reference"] = raw.rstrip(b"\0").decode("ascii", errors="replace")
        return shown


class InvalidStatus(BillError):
    message = "bill {tokenId} is {status_name}: this action is not allowed now"

    @classmethod
    def describe(cls, values: dict[str, Any]) -> dict[str, Any]:
        shown = super().describe(values)
        status = values.get("status")
        shown["status_name"] = BILL_STATUS_NAMES[status] if isinstance(status, int) and status < 6 else status
        return shown


class NotHolder(BillError):
    message = "{caller} is not the holder of bill {tokenId}"


class NotBeneficiary(BillError):
    message = "{caller} is not the beneficiary of bill {tokenId}"


class NotCarrier(BillError):
    message = "{caller} is not the issuing carrier of bill {tokenId}"


class NothingToReject(BillError):
    message = "bill {tokenId} has no move to reject (only the very next action may reject)"


class NotLastRecipient(BillError):
    message = "{caller} did not receive the last move of bill {tokenId}"


class StraightBillNotEndorsable(BillError):
    message = "bill {tokenId} is a straight bill and cannot be endorsed"


class NotConsignee(BillError):
    message = "straight bill {tokenId} moves only to its consignee, not {recipient}"


class NotNominee(BillError):
    message = "{endorsee} is not the beneficiary's nominee for bill {tokenId}"


class HolderWithoutTitle(BillError):
    message = "holder {holder} of bill {tokenId} does not hold title (it is not the beneficiary)"


class AlreadyBlankEndorsed(BillError):
    message = "bill {tokenId} is already endorsed in blank"


class SameParty(BillError):
    message = "{party} already holds that position on bill {tokenId}"


# --- OpenZeppelin ERC-20, permit, signatures, reentrancy (escrow and settlement tokens) ------------------


class TokenError(ContractRevert):
    """Raised by a settlement token or by SafeERC20 / ReentrancyGuard around it."""


class ERC20InsufficientBalance(TokenError):
    message = "{sender} holds {balance} but {needed} is needed"


class ERC20InsufficientAllowance(TokenError):
    message = "{spender} may spend {allowance} but {needed} is needed: approve the escrow first"


class ERC20InvalidApprover(TokenError):
    message = "{approver} cannot approve"


class ERC20InvalidReceiver(TokenError):
    message = "{receiver} cannot receive tokens"


class ERC20InvalidSender(TokenError):
    message = "{sender} cannot send tokens"


class ERC20InvalidSpender(TokenError):
    message = "{spender} cannot be a spender"


class ERC2612ExpiredSignature(TokenError):
    message = "the permit expired at {deadline}"


class ERC2612InvalidSigner(TokenError):
    message = "the permit was signed by {signer}, not by {owner}"


class InvalidAccountNonce(TokenError):
    message = "nonce {currentNonce} of {account} was expected"


class ECDSAInvalidSignature(TokenError):
    message = "the signature is invalid"


class ECDSAInvalidSignatureLength(TokenError):
    message = "the signature has length {length}"


class ECDSAInvalidSignatureS(TokenError):
    message = "the signature's s value is malleable"


class InvalidShortString(TokenError):
    message = "invalid short string"


class StringTooLong(TokenError):
    message = "string {str} is too long"


class SafeERC20FailedOperation(TokenError):
    message = "token {token} refused the transfer"


class ReentrancyGuardReentrantCall(TokenError):
    message = "re-entrant call refused"


class NotIssuer(TokenError):
    message = "{caller} is not the issuer of this stablecoin"


# --- FinancingEscrow ------------------------------------------------------------------------------------

FINANCING_STATE_NAMES = ("none", "requested", "accepted", "funded", "repaid", "defaulted", "cancelled")


class FinancingError(ContractRevert):
    """Raised by the financing escrow."""


class ZeroAmount(FinancingError):
    message = "the amount is zero"


class AmountTooLarge(FinancingError):
    message = "amount {amount} does not fit 96 bits"


class NotAllowedToken(FinancingError):
    message = "{token} is not an allowlisted settlement token"


class TraderNotActive(FinancingError):
    message = "{account} is not an active trader"


class FinancierNotActive(FinancingError):
    message = "{account} is not an active financier"


class InvalidImporter(FinancingError):
    message = "{importer} cannot be the importer"


class InvalidMaturity(FinancingError):
    message = "maturity {maturity} is not in the future"


class EmptyFingerprint(FinancingError):
    message = "the invoice fingerprint is empty"


class DuplicateFinancing(FinancingError):
    message = "invoice {invoiceFingerprint} is already financed or requested (double financing refused)"


class NotPledged(FinancingError):
    message = "bill {tokenId} was not just pledged to the escrow by {caller}: transfer it to the escrow first"


class BillAlreadyPledged(FinancingError):
    message = "bill {tokenId} is already in financing {financingId}"


class WrongState(FinancingError):
    message = "financing {financingId} is {state_name}: this step is not allowed now"

    @classmethod
    def describe(cls, values: dict[str, Any]) -> dict[str, Any]:
        shown = super().describe(values)
        state = values.get("state")
        shown["state_name"] = FINANCING_STATE_NAMES[state] if isinstance(state, int) and state < 7 else state
        return shown


class NotExporter(FinancingError):
    message = "{caller} is not the exporter of financing {financingId}"


class NotAcceptedFinancier(FinancingError):
    message = "{caller} is not the accepted financier of financing {financingId}"


class OfferNotFound(FinancingError):
    message = "{financier} made no offer on financing {financingId}"


class CreditNotVerified(FinancingError):
    message = "{financier} holds no approved credit verification of exporter {exporter}"


class MaturityPassed(FinancingError):
    message = "financing {financingId} matured at {maturity}"


class NotMatured(FinancingError):
    message = "the bill can be claimed only after {claimableAfter} (maturity + grace)"


class TransferAmountMismatch(FinancingError):
    message = "token {token} delivered {received} instead of {expected}"


class NothingToWithdraw(FinancingError):
    message = "{account} has nothing to withdraw in {token}"


class NothingToReclaim(FinancingError):
    message = "{caller} has no unrequested pledge of bill {tokenId} to reclaim"


class NothingToRedeliver(FinancingError):
    message = "financing {financingId} has no bill to redeliver"

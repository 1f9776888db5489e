"""One exception hierarchy for the client: connection, input, signing and deployment problems, and
every contract custom error as a named exception carrying the error's decoded arguments.

A revert is never surfaced as hex: `decode_revert` maps the 4-byte selector to the class of the same
name as the Solidity error (`AlreadyOnboarded`, `AccessControlUnauthorizedAccount`, ...).

Every error falls in one category (`ExitCode`, the `ebl` command's exit code): `exit_code(exc)` is the one
table from exception to category, `details(exc)` what a machine reads about it (the contract error's
decoded values, the JSON Pointer of a wrong value, the file path).
"""

from __future__ import annotations

import enum
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


class NotFound(EblError, LookupError):
    """What the caller asked for does not exist on the chain: every facade's `get` raises a subclass."""


class BillNotFound(NotFound):
    """No bill with that token id (or no live bill for that carrier and reference)."""


class FinancingNotFound(NotFound):
    """No financing with that id."""


class ParticipantNotFound(NotFound):
    """The account was never onboarded."""


class CreditRecordNotFound(NotFound):
    """That provider anchored no such root for that subject."""


class SignerError(EblError):
    """No key, an unreadable keystore or a wrong password."""


class DeploymentError(EblError):
    """The deployment manifest is missing, unreadable or does not match the chain."""


class NodeError(EblError):
    """The embedded Anvil could not be started or stopped."""


class LocalStateError(EblError):
    """What the client keeps on this machine cannot be used: the outbox's journals and locks (OutboxError)."""


class LocalFileError(EblError):
    """A local file or folder cannot be used as asked: missing, unreadable, unwritable, a folder where a file
    is expected (or the reverse), or one that exists where it must not be overwritten. The message names
    the path and the operating system's reason: `cannot write /x/y: No such file or directory`."""

    def __init__(self, path: object, reason: str, action: str = "read", what: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        self.action = action
        super().__init__(f"cannot {action} {what + ' ' if what else ''}{path}: {reason}")

    @classmethod
    def of(cls, exc: OSError, path: object = None, action: str = "read", what: str = "") -> LocalFileError:
        """From an OSError: its path (or `path`) and the system's words for its errno."""
        return cls(path if path is not None else exc.filename, exc.strerror or type(exc).__name__, action, what)


class VerificationFailed(EblError):
    """The answer to a check is no: a document that is not the bill's (or a bill that no longer carries title),
    a report that does not reproduce its committed root, a disclosed field that does not verify, a credit
    record that is not valid, an index whose chain of title differs from the chain's. Not a failure of the
    tool: what was checked is false. `facts` says what was compared (JSON)."""

    def __init__(self, message: str, **facts: Any) -> None:
        self.facts = facts
        super().__init__(message)


class TransactionTimeout(EblError):
    """A sent transaction was not mined within the network profile's receipt timeout."""


class TransactionFailed(EblError):
    """A transaction or call failed without a custom error (panic, out of gas, plain revert)."""


class ContractRevert(EblError):
    """A contract refused the action with a custom error. Subclasses are named after the error.

    `values` holds the error's arguments by name (addresses checksummed, bytes as 0x-hex), also
    reachable as attributes: `err.account`. The message is the error's NatSpec notice (generated into
    `contract_errors`) or, for OpenZeppelin's errors, the one written below, with the arguments filled in.
    """

    message: ClassVar[str] = "the contract refused the action"
    #: the Solidity signature, e.g. "NotHolder(uint256,address)" (generated classes)
    signature: ClassVar[str] = ""
    #: arguments that are Solidity enums: argument name -> name of the client enum in models.py
    enums: ClassVar[dict[str, str]] = {}
    registry: ClassVar[dict[str, type[ContractRevert]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "message" in cls.__dict__:  # concrete error classes; grouping classes define no message
            ContractRevert.registry[cls.__name__] = cls

    def __init__(self, **values: Any) -> None:
        self.values = values
        try:
            text = self.message.format(**self.describe(values))
        except (KeyError, IndexError, ValueError):
            text = self.message
        super().__init__(f"{type(self).__name__}: {_sentence(text)}")

    @classmethod
    def describe(cls, values: dict[str, Any]) -> dict[str, Any]:
        """The values as the message shows them: token ids in hex, enum values by name, unix times as UTC,
        transport document references as text, role hashes by name."""
        from . import models

        shown = dict(values)
        for name, value in values.items():
            if name in cls.enums and isinstance(value, int):
                enum_type = getattr(models, cls.enums[name])
                shown[name] = enum_type(value).name.lower().replace("_", " ") if value < len(enum_type) else value
            elif name in _TOKEN_ID_ARGS and isinstance(value, int):
                shown[name] = hex(value)
            elif name in _TIME_ARGS and isinstance(value, int):
                shown[name] = models.utc_time(value)
            elif name == "transportDocumentReference" and isinstance(value, str):
                shown[name] = repr(bytes.fromhex(value[2:]).rstrip(b"\0").decode("ascii", errors="replace"))
            elif name == "neededRole":
                shown[name] = "consortium admin" if value == "0x" + "00" * 32 else value
        return shown

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)


#: error arguments shown as 0x-hex token ids, and as UTC times
_TOKEN_ID_ARGS = {"tokenId"}
_TIME_ARGS = {"expiresAt", "maturity", "reservedUntil", "earliest", "latest", "claimableAfter", "deadline"}


def _sentence(text: str) -> str:
    """A NatSpec sentence as the tail of a one-line message: no final period, lower-case first word
    unless it is a name or an acronym ("Bill 0x12 is voided." -> "bill 0x12 is voided")."""
    text = text.strip().removesuffix(".")
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:2].islower():
        text = text[:1].lower() + text[1:]
    return text


class UnknownContractError(ContractRevert):
    """A custom error whose selector is in no artifact ABI the client knows."""

    def __init__(self, selector: str, data: str) -> None:
        self.values = {"selector": selector, "data": data}
        EblError.__init__(self, f"unknown contract error {selector} (data {data})")


# --- the groups the generated classes derive from (one per contract of the suite) -------------------------


class ParticipantError(ContractRevert):
    """Raised by the participant registry."""


class BillError(ContractRevert):
    """Raised by the bill-of-lading title registry."""


class CreditError(ContractRevert):
    """Raised by the credit-hash registry."""


class FinancingError(ContractRevert):
    """Raised by the financing escrow."""


class TokenError(ContractRevert):
    """Raised by a settlement token or by SafeERC20 / ReentrancyGuard around it."""


# --- OpenZeppelin's errors (documented with @dev, not @notice, so their messages are written here) ----------


class AccessControlError(ContractRevert):
    """Raised by OpenZeppelin AccessControl."""


class AccessControlUnauthorizedAccount(AccessControlError):
    message = "account {account} does not hold the {neededRole} role this action needs"


class AccessControlBadConfirmation(AccessControlError):
    message = "a role can only be renounced by the account itself"


class PausableError(ContractRevert):
    """Raised by OpenZeppelin Pausable."""


class EnforcedPause(PausableError):
    message = "the contract is paused by the consortium admin"


class ExpectedPause(PausableError):
    message = "the contract is not paused"


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


# --- categories: the `ebl` command's exit codes -------------------------------------------------------------


class ExitCode(enum.IntEnum):
    """What kind of failure an error is; the `ebl` command exits with its number (README, "Exit codes").
    Scripts tell "the document is false" (NO) from "the node is down" (NODE) by it."""

    OK = 0
    #: the answer is no: a check was made and what was checked is false (VerificationFailed)
    NO = 1
    #: a usage mistake: unknown command or option, a missing argument, an option value of the wrong form
    USAGE = 2
    #: refused by the client before anything was sent: invalid input found only when used (an amount for
    #: the token's decimals, a document's content), nothing by that name (NotFound), no usable deployment
    #: (DeploymentError), and every other error the client raises on purpose
    INVALID = 3
    #: refused by the chain: a named contract error (ContractRevert) or a failed transaction or call
    REFUSED = 4
    #: the node or the network: unreachable, no answer, not mined in time, another chain than expected, the
    #: embedded Anvil failing to start
    NODE = 5
    #: a local file or key: missing, unreadable or unwritable files and folders, a keystore (or its password),
    #: no signing key
    LOCAL = 6
    #: a bug: an exception the client did not raise on purpose (please report it)
    INTERNAL = 70
    #: stopped by Ctrl-C (or end of input at a prompt)
    INTERRUPTED = 130
    #: standard output was closed before everything was printed (`ebl ... | head`), as after SIGPIPE
    PIPE = 141

    @property
    def label(self) -> str:
        """The name JSON errors give the code: "no", "usage", "invalid", "refused", "node", "local", ..."""
        return self.name.lower()


class BatchIncomplete(EblError):
    """Some items of a pipelined batch (`ebl bill issue-many`, `ebl credit anchor-many`) did not succeed. Its
    category is that of the first of them (`code`): a refusal by the chain exits 4, a node that went away 5;
    every item's own outcome and reason are in the command's table or JSON."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


#: exception class -> category, most specific first (a subclass before its base): the one table
EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (VerificationFailed, ExitCode.NO),
    (ContractRevert, ExitCode.REFUSED),
    (TransactionFailed, ExitCode.REFUSED),
    (ConnectionFailed, ExitCode.NODE),
    (TransactionTimeout, ExitCode.NODE),
    (WrongChain, ExitCode.NODE),
    (NodeError, ExitCode.NODE),
    (LocalFileError, ExitCode.LOCAL),
    (LocalStateError, ExitCode.LOCAL),
    (SignerError, ExitCode.LOCAL),
    (InvalidInput, ExitCode.INVALID),
    (NotFound, ExitCode.INVALID),
    (DeploymentError, ExitCode.INVALID),
    (EblError, ExitCode.INVALID),
)


def exit_code(exc: BaseException) -> ExitCode:
    """The category of `exc` (see `ExitCode`): by `EXIT_CODES`; of the OSErrors that escaped the client's own
    checks, one about a path is LOCAL and a network error (a refused or reset connection, a timeout, requests'
    and urllib3's errors) is NODE; anything else is INTERNAL, a bug."""
    if isinstance(exc, BatchIncomplete):
        return exc.code
    for kind, code in EXIT_CODES:
        if isinstance(exc, kind):
            return code
    if isinstance(exc, OSError):
        if exc.filename is not None:
            return ExitCode.LOCAL
        if is_network_error(exc):
            return ExitCode.NODE
    return ExitCode.INTERNAL


def is_network_error(exc: BaseException) -> bool:
    """A connection that could not be made or broke, or an answer that did not come in time."""
    return isinstance(exc, ConnectionError | TimeoutError) or \
        type(exc).__module__.split(".")[0] in ("requests", "urllib3")


def details(exc: BaseException) -> dict[str, Any]:
    """What a machine reads about `exc` besides its message: a contract error's name, contract group and
    decoded values; an invalid document's JSON Pointer and reason; a file's path and reason; the facts a
    failed check compared. Values are JSON-ready."""
    from .models import jsonable

    if isinstance(exc, ContractRevert):
        group = next((c.__name__ for c in type(exc).__mro__[1:]
                      if c is not ContractRevert and issubclass(c, ContractRevert) and "message" not in c.__dict__),
                     None)
        values = {k: hex(v) if k in _TOKEN_ID_ARGS and isinstance(v, int) else v for k, v in exc.values.items()}
        found: dict[str, Any] = {"error": type(exc).__name__, "values": jsonable(values)}
        if type(exc).signature:
            found["signature"] = type(exc).signature
        if group and group != type(exc).__name__:
            found["group"] = group
        return found
    if isinstance(exc, InvalidDocument):
        return {"path": exc.path, "reason": exc.reason}
    if isinstance(exc, LocalFileError):
        return {"path": exc.path, "reason": exc.reason, "action": exc.action}
    if isinstance(exc, VerificationFailed):
        return dict(jsonable(exc.facts))
    if isinstance(exc, OSError) and exc.filename is not None:
        return {"path": str(exc.filename), "reason": exc.strerror or type(exc).__name__}
    return {}


# The suite's own errors, generated from the contracts (imported last: they derive from the groups above).
from .contract_errors import *  # noqa: E402, F403

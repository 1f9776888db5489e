"""Python client for the eBL title registry, credit-hash registry and financing escrow.

One import for an embedding program: `from ebl_client import Client, keys, Role`; errors are in
`ebl_client.errors` (also re-exported here by their base classes).
"""

from importlib import metadata as _metadata

from . import errors, keys
from .client import Client
from .errors import ContractRevert, EblError, InvalidInput, NotFound
from .hashing import identifier_hash, new_salt
from .models import Result, Role, Transaction

try:
    __version__ = _metadata.version("ebl-client")
except _metadata.PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0+unknown"

__all__ = ["Client", "ContractRevert", "EblError", "InvalidInput", "NotFound", "Result", "Role", "Transaction",
           "__version__", "errors", "identifier_hash", "keys", "new_salt"]

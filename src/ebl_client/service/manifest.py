"""The issuance manifest: the checksums a carrier signs (JWS, compact serialisation) so that anyone can tell
the document, the issueTo party and the carrier's rendering are the ones it issued.

Checksums as DCSA defines them: SHA-256, lower-case hex, of the RFC 8785 canonical JSON of `document` and of
`issueTo`, and of the decoded bytes of `eBLVisualisationByCarrier.content`. The carrier's public key is the
`carrier.signingKey` of its entry in the participant directory: a JWK (as a JSON object or its text) or a
PEM public key. Signing helpers are here too, for a carrier's system, the demo and the tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey

from ..errors import InvalidInput
from ..hashing import canonical_json, parse_json

#: asymmetric algorithms only: a shared secret could be used by the platform to sign for the carrier
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
PublicKey = RSAKey | ECKey | OKPKey


class ManifestError(Exception):
    """The manifest cannot be trusted: its signature, its key or its payload. `str()` says why in one line."""


def checksum(value: Any) -> str:
    """SHA-256 hex of the RFC 8785 canonical JSON of `value` (documentChecksum, issueToChecksum)."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def content_checksum(content_base64: str) -> str:
    """SHA-256 hex of a SupportingDocument's decoded content (eBLVisualisationByCarrierChecksum)."""
    return hashlib.sha256(base64.b64decode(content_base64, validate=True)).hexdigest()


def manifest_of(document: Mapping[str, Any], issue_to: Mapping[str, Any],
                visualisation: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The IssuanceManifest for these parts of an issuance request."""
    manifest = {"documentChecksum": checksum(document), "issueToChecksum": checksum(issue_to)}
    if visualisation is not None:
        manifest["eBLVisualisationByCarrierChecksum"] = content_checksum(str(visualisation["content"]))
    return manifest


def public_key(registered: Any) -> PublicKey:
    """The carrier's registered key: a JWK (dict or JSON text) or a PEM; ManifestError for anything else (or
    a private or symmetric key)."""
    try:
        if isinstance(registered, Mapping):
            key = JWKRegistry.import_key(dict(registered))
        elif isinstance(registered, str) and registered.lstrip().startswith("{"):
            key = JWKRegistry.import_key(json.loads(registered))
        elif isinstance(registered, str) and "-----BEGIN" in registered:
            key = _pem(registered)
        else:
            raise ManifestError("the registered signing key is neither a JWK nor a PEM public key")
    except (JoseError, ValueError, TypeError) as exc:
        raise ManifestError(f"the registered signing key cannot be read ({type(exc).__name__})") from None
    if not isinstance(key, (RSAKey, ECKey, OKPKey)):
        raise ManifestError("the registered signing key is not an RSA, EC or OKP public key")
    if key.is_private:
        raise ManifestError("the directory holds a private key for this carrier: it must publish the public key only")
    return key


def _pem(text: str) -> PublicKey:
    for kind in (RSAKey, ECKey, OKPKey):
        try:
            return kind.import_key(text)
        except (JoseError, ValueError, TypeError):
            continue
    raise ValueError("not an RSA, EC or OKP key")


def verify(signed: str, key: PublicKey) -> dict[str, Any]:
    """The manifest payload of a compact JWS signed by `key`, or ManifestError."""
    try:
        token = jws.deserialize_compact(signed, key, algorithms=list(ALGORITHMS))
    except JoseError as exc:
        raise ManifestError(f"the issuance manifest's signature does not verify with the carrier's registered key "
                            f"({exc.error})") from None
    except (ValueError, TypeError) as exc:
        raise ManifestError(f"the issuance manifest is not a compact JWS ({type(exc).__name__})") from None
    try:
        payload = parse_json(token.payload, what="the issuance manifest's payload")
    except InvalidInput as exc:
        raise ManifestError(str(exc)) from None
    if not isinstance(payload, dict):
        raise ManifestError("the issuance manifest's payload is not a JSON object")
    return payload


# --- the carrier's side ---------------------------------------------------------------------------------------


def new_signing_key(kind: str = "EC") -> RSAKey | ECKey:
    """A new key pair for a carrier's manifests: EC P-256 (ES256) or RSA 2048 (RS256)."""
    return ECKey.generate_key("P-256", auto_kid=True) if kind == "EC" else RSAKey.generate_key(2048, auto_kid=True)


def public_jwk(key: RSAKey | ECKey | OKPKey) -> dict[str, Any]:
    """What the carrier publishes in the directory (`carrier.signingKey`)."""
    return dict(key.as_dict(private=False))


def sign(manifest: Mapping[str, Any], key: RSAKey | ECKey | OKPKey) -> str:
    """The compact JWS of `manifest` signed with the carrier's private `key`."""
    algorithm = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}[key.key_type]
    header: dict[str, Any] = {"alg": algorithm}
    if key.kid:
        header["kid"] = key.kid
    return jws.serialize_compact(header, json.dumps(dict(manifest), separators=(",", ":")), key,
                                 algorithms=[algorithm])

"""The web application `ebl serve` runs: DCSA's eBL APIs for carriers' systems and the back-office API for
participants, every request authenticated, every error a DCSA `ErrorResponse`.

DCSA (the platform's role, v3.0.4):

    PUT  /v3/ebl-issuance-requests                         a carrier asks for an eBL to be issued (204)
    POST /v3/ebl-surrender-responses                       a carrier accepts or rejects a surrender (204)
    GET  /endorsement-chains/{transportDocumentReference}  the endorsement chain of each bill with that reference

Back office (the platform's own, for participants' systems):

    GET  /v1/me                      who the key belongs to
    GET  /v1/bills[/{token}[/history]]   bills the caller may see (the regulator: all), from the index
    POST /v1/bills/{token}/surrender     surrender a bill with the holder's key on this host
    GET  /v1/inbox, /v1/book         what waits for the caller; its financing book
    GET  /v1/issuance-requests, /v1/surrender-requests, /v1/audit   the service's own records
    GET  /openapi.json               this API, with the project's own models of DCSA's messages

The same rules as the CLI decide who sees what (`index.queries` with the caller as the viewer); a bill the
caller may not see is answered 404, as if it did not exist.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic.json_schema import models_json_schema
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..errors import (
    BillNotFound,
    ConnectionFailed,
    ContractRevert,
    EblError,
    InvalidInput,
    NotFound,
    SignerError,
    TransactionTimeout,
)
from ..hashing import parse_json
from ..index import AccessDenied, IndexUnavailable, Viewer
from ..index import schema as s
from ..index.schema import token_key
from ..models import Role
from . import audit, auth, endorsement, issuance, parties, views
from . import tables as t
from .dcsa import (
    EndorsementChain,
    ErrorResponse,
    IssuanceManifest,
    IssuanceRequest,
    IssuanceResponse,
    SurrenderRequestAnswer,
    SurrenderRequestDetails,
)
from .errors import (
    BAD_PARAMETER,
    CHAIN_REFUSED,
    INTERNAL,
    MALFORMED_JSON,
    MEDIA_TYPE,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    SCHEMA,
    TOO_LARGE,
    ApiError,
    Detail,
    bad_parameter,
    error_response,
    forbidden,
    not_found,
    parsed,
    unauthenticated,
    unavailable,
)
from .runtime import Platform
from .surrender import find
from .workers import Workers

log = logging.getLogger(__name__)

DCSA_VERSION = "3.0.4"
DCSA_HEADERS = {"API-Version": DCSA_VERSION}
CORRELATION_HEADER = "X-Correlation-ID"
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text} for code, text in (
        (400, "Malformed JSON, a message or parameter that does not fit, an invalid transport document"),
        (401, "No API key, or an unknown or revoked one"),
        (403, "The caller may not do this"),
        (404, "Nothing the caller may see"),
        (409, "A replayed request, a reference in use, an answer given already, a refusal of the chain"),
        (413, "The body is too large"), (415, "The body is not application/json"),
        (422, "The issuance manifest's signature or checksums do not verify"),
        (503, "The node or the index cannot be reached"))}


def _correlation(request: Request) -> str:
    value = getattr(request.state, "correlation", None)
    if value is None:
        value = request.state.correlation = str(uuid.uuid4())
    return str(value)


def _json(status: int, content: Any, *, dcsa: bool = False, correlation: str | None = None) -> JSONResponse:
    headers = dict(DCSA_HEADERS) if dcsa else {}
    if correlation:
        headers[CORRELATION_HEADER] = correlation
    return JSONResponse(status_code=status, content=content, headers=headers)


def _error(request: Request, error: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    correlation = _correlation(request)
    body = error.response(request.method, request.url.path, correlation).dump()
    response = _json(error.status, body, dcsa=True, correlation=correlation)
    response.headers.update(headers or {})
    return response


def api_error_of(exc: EblError) -> ApiError:
    """A client error as the answer it deserves."""
    if isinstance(exc, (BillNotFound, NotFound)):
        return not_found(str(exc))
    if isinstance(exc, AccessDenied):
        return forbidden(str(exc))
    if isinstance(exc, SignerError):
        return forbidden(str(exc))
    if isinstance(exc, InvalidInput):
        return ApiError(400, SCHEMA, str(exc), [Detail("Invalid input", str(exc))])
    if isinstance(exc, ContractRevert):
        return ApiError(409, CHAIN_REFUSED, f"the chain refused the action: {exc}")
    if isinstance(exc, (ConnectionFailed, TransactionTimeout, IndexUnavailable)):
        return unavailable(f"the platform cannot reach the chain or its index now ({exc}): try again")
    return ApiError(500, INTERNAL, "the service failed: the details are in its log under the correlation reference")


class BodyLimit:
    """Refuses a body announced larger than `limit` before reading it (413); a body that grows past it while
    read is refused by `read_json`."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.limit):
                status, code = (413, TOO_LARGE) if length.isdigit() else (400, BAD_PARAMETER)
                message = (f"the body is larger than the {self.limit} bytes this service accepts" if status == 413
                           else "the Content-Length header is not a number")
                body = error_response(status, code, message, scope["method"], scope["path"],
                                      str(uuid.uuid4())).dump()
                response = JSONResponse(status_code=status, content=body, headers=DCSA_HEADERS)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def read_json(request: Request, limit: int) -> Any:
    """The request's JSON body: application/json (415), at most `limit` bytes (413), strictly parsed (400)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, MEDIA_TYPE, f"the body must be application/json, not {media or 'unlabelled'}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, TOO_LARGE, f"the body is larger than the {limit} bytes this service accepts")
    try:  # off the event loop: a large body takes a while to check and parse, and other requests go on meanwhile
        return await run_in_threadpool(parse_json, bytes(body), what="the body")
    except InvalidInput as exc:
        raise ApiError(400, MALFORMED_JSON, str(exc), [Detail("Malformed JSON", str(exc), "$")]) from None


def caller(request: Request, authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
           x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None) -> auth.Caller:
    """The participant the request's API key belongs to (401 otherwise)."""
    try:
        presented = auth.presented_key(authorization, x_api_key)
    except InvalidInput as exc:
        raise unauthenticated(str(exc)) from None
    if presented is None:
        raise unauthenticated()
    platform: Platform = request.app.state.platform
    found = auth.authenticate(platform.db, presented)
    if found is None:
        raise unauthenticated("the API key is not valid (unknown, revoked or mistyped)")
    return found


def dcsa_version(api_version: Annotated[str | None, Header(alias="API-Version")] = None) -> None:
    """DCSA's optional API-Version request header carries the major version: 3 here (400 otherwise)."""
    if api_version is not None and api_version.strip().split(".")[0] != "3":
        raise bad_parameter(f"API-Version {api_version!r}: this service speaks DCSA eBL 3 (API-Version: 3)")


Caller = Annotated[auth.Caller, Depends(caller)]


def create_app(platform: Platform, *, run_workers: bool = True) -> FastAPI:
    """The application over `platform`; its workers start and stop with it (uvicorn's lifespan)."""
    workers = Workers(platform)
    desk = workers.desk

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_workers:
            workers.start()
        try:
            yield
        finally:
            if run_workers:
                await run_in_threadpool(workers.stop)
            platform.close()

    app = FastAPI(title="eBL platform (DCSA eBL 3.0 and back office)", version=__version__, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None,
                  description=__doc__.split("\n\n", 1)[1] if __doc__ else "")
    app.state.platform = platform
    app.state.workers = workers
    app.add_middleware(BodyLimit, limit=platform.config.max_body_bytes)
    limit = platform.config.max_body_bytes

    # --- errors ----------------------------------------------------------------------------------------------

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(request, exc)

    @app.exception_handler(EblError)
    async def _client_error(request: Request, exc: EblError) -> JSONResponse:
        error = api_error_of(exc)
        if error.status >= 500:
            log.error("%s %s failed (correlation %s): %s", request.method, request.url.path, _correlation(request),
                      exc)
        return _error(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for item in exc.errors():
            where = ".".join(str(p) for p in item.get("loc", ()))
            details.append(Detail("Invalid parameter", f"{where}: {item.get('msg', 'invalid')}"))
        return _error(request, ApiError(400, BAD_PARAMETER, "a parameter is not valid", details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}.get(exc.status_code, BAD_PARAMETER)
        message = {404: f"there is no {request.url.path} here",
                   405: f"{request.url.path} does not take {request.method}"}.get(exc.status_code, str(exc.detail))
        return _error(request, ApiError(exc.status_code, code, message), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        correlation = _correlation(request)
        log.error("%s %s failed (correlation %s)", request.method, request.url.path, correlation, exc_info=exc)
        return _error(request, ApiError(500, INTERNAL, "the service failed: the details are in its log under the "
                                                       f"correlation reference {correlation}"))

    # --- who is asking ---------------------------------------------------------------------------------------

    def viewer_of(who: auth.Caller) -> Viewer:
        return platform.queries().viewer(who.account)

    async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(fn, *args)

    async def write_call(request: Request, who: auth.Caller, action: str, subject: str,
                         work: Callable[[], Awaitable[Response]]) -> Response:
        """Run a state-changing call; a refusal is recorded in the audit log too (its success records itself)."""
        try:
            try:
                return await work()
            except EblError as exc:
                converted = api_error_of(exc)
                if converted.status >= 500:
                    log.error("%s %s failed (correlation %s)", request.method, request.url.path,
                              _correlation(request), exc_info=exc)
                raise converted from exc
        except ApiError as refused:
            await in_thread(_note_refusal, platform, who, action, subject, refused, _correlation(request))
            raise

    # --- DCSA -------------------------------------------------------------------------------------------------

    @app.put("/v3/ebl-issuance-requests", status_code=204, tags=["DCSA eBL Issuance"],
             dependencies=[Depends(dcsa_version)], responses={**ERRORS, 204: {"description": "Accepted: the "
                                                                              "answer follows by callback"}},
             openapi_extra={"x-body": "IssuanceRequest"})
    async def put_issuance_request(request: Request, who: Caller) -> Response:
        """Request the issuance of an eBL (DCSA EBL_ISS). The verdict (ISSU, BREQ, REFU) follows at the carrier's
        POST /v3/ebl-issuance-responses."""
        async def work() -> Response:
            raw = await read_json(request, limit)
            accepted = await in_thread(issuance.accept, platform, who, raw, _correlation(request))
            workers.wake_issuance()
            log.info("issuance request %s (%s, %s) accepted from %s", accepted.request_id, accepted.reference,
                     accepted.kind, who.account)
            return Response(status_code=204, headers=DCSA_HEADERS)

        return await write_call(request, who, "issuance request", "-", work)

    @app.post("/v3/ebl-surrender-responses", status_code=204, tags=["DCSA eBL Surrender"],
              dependencies=[Depends(dcsa_version)], responses={**ERRORS, 204: {"description": "Answer applied"}},
              openapi_extra={"x-body": "SurrenderRequestAnswer"})
    async def post_surrender_response(request: Request, who: Caller) -> Response:
        """Accept (SURR) or reject (SREJ) a surrender the platform requested (DCSA EBL_SUR); applied on chain
        with the carrier's key before the 204."""
        async def work() -> Response:
            raw = await read_json(request, limit)
            await in_thread(desk.answer, who, raw, _correlation(request))
            return Response(status_code=204, headers=DCSA_HEADERS)

        return await write_call(request, who, "surrender response", "-", work)

    @app.get("/endorsement-chains/{transportDocumentReference}", tags=["DCSA eBL Endorsement Chain"],
             response_model=list[EndorsementChain], responses=ERRORS)
    async def get_endorsement_chain(
            transportDocumentReference: str, who: Caller,
            transportDocumentSubReference: Annotated[str | None, Query(max_length=100)] = None,
            carrierSCACCode: Annotated[str | None, Query(max_length=4)] = None) -> Response:
        """The endorsement chain of every bill with this reference the caller may see (DCSA EBL_END), from the
        index: one chain per bill (an amendment starts a new one), oldest entry first, each entry's
        auditReference the transaction that recorded it."""
        chains = await in_thread(_endorsement_chains, platform, who, transportDocumentReference,
                                 transportDocumentSubReference, carrierSCACCode)
        return _json(200, [c.dump() for c in chains], dcsa=True)

    # --- back office ------------------------------------------------------------------------------------------

    @app.get("/v1/me", tags=["Back office"], response_model=views.Me, responses=ERRORS)
    async def me(who: Caller) -> Response:
        def work() -> views.Me:
            q = platform.queries()
            viewer = q.viewer(who.account)
            with platform.index.connect() as conn:
                roles = conn.execute(select(s.participants.c.roles).where(
                    s.participants.c.account == who.account)).scalar()
            return views.Me(account=who.account, name=q.directory.name(who.account),
                            roles=Role(roles or 0).names(), regulator=viewer.regulator,
                            signsHere=platform.acts_for(who.account))
        return _json(200, (await in_thread(work)).model_dump())

    @app.get("/v1/bills", tags=["Back office"], response_model=list[views.BillOut], responses=ERRORS)
    async def list_bills(who: Caller, holder: str | None = None, beneficiary: str | None = None,
                         carrier: str | None = None, status: str | None = None,
                         limit_: Annotated[int | None, Query(alias="limit", ge=1, le=10000)] = None) -> Response:
        """Bills the caller may see (holds or held, issued, financed; the regulator: all), newest first."""
        def work() -> list[dict[str, Any]]:
            q = platform.queries()
            found = q.bills(viewer_of(who), holder=holder, beneficiary=beneficiary, carrier=carrier, status=status,
                            limit=limit_)
            return [views.bill(b, q.directory).model_dump() for b in found]
        return _json(200, await in_thread(work))

    @app.get("/v1/bills/{token}", tags=["Back office"], response_model=views.BillOut, responses=ERRORS)
    async def get_bill(token: str, who: Caller) -> Response:
        def work() -> dict[str, Any]:
            q = platform.queries()
            return views.bill(_visible(q, who, token), q.directory).model_dump()
        return _json(200, await in_thread(work))

    @app.get("/v1/bills/{token}/history", tags=["Back office"], response_model=list[views.TitleEventOut],
             responses=ERRORS)
    async def bill_history(token: str, who: Caller) -> Response:
        def work() -> list[dict[str, Any]]:
            q = platform.queries()
            view = _visible(q, who, token)
            return [views.title_event(e, q.directory).model_dump()
                    for e in q.history(viewer_of(who), view.bill.token_id)]
        return _json(200, await in_thread(work))

    @app.post("/v1/bills/{token}/surrender", status_code=201, tags=["Back office"],
              response_model=views.SurrenderAccepted, responses=ERRORS, openapi_extra={"x-body": "SurrenderIn"})
    async def surrender_bill(token: str, request: Request, who: Caller) -> Response:
        """Surrender a bill the caller holds, signed with its key on this host: for delivery, or for amendment
        (reasonCode SWTP asks for a switch to paper). The carrier gets a DCSA surrender request."""
        async def work() -> Response:
            body = parsed(views.SurrenderIn, await read_json(request, limit), "surrender")
            reference, tx_hash = await in_thread(desk.request, who, token, body.purpose, body.reasonCode,
                                                 body.comments, _correlation(request))
            return _json(201, views.SurrenderAccepted(surrenderRequestReference=reference,
                                                      transactionHash=tx_hash).model_dump())
        return await write_call(request, who, "surrender", token, work)

    @app.get("/v1/inbox", tags=["Back office"], response_model=list[views.TaskOut], responses=ERRORS)
    async def inbox(who: Caller, account: str | None = None) -> Response:
        """What waits for the caller (a regulator may ask for another account's)."""
        def work() -> list[dict[str, Any]]:
            q = platform.queries()
            return [views.task(x, q.directory).model_dump() for x in q.inbox(viewer_of(who), account)]
        return _json(200, await in_thread(work))

    @app.get("/v1/book", tags=["Back office"], response_model=views.BookOut, responses=ERRORS)
    async def financing_book(who: Caller, financier: str | None = None, exporter: str | None = None) -> Response:
        """Open financings the caller is party to (the regulator: all), with exposure by currency."""
        def work() -> dict[str, Any]:
            q = platform.queries()
            return views.book(q.book(viewer_of(who), financier=financier, exporter=exporter),
                              q.directory).model_dump()
        return _json(200, await in_thread(work))

    @app.get("/v1/issuance-requests", tags=["Back office"], response_model=list[views.IssuanceRequestOut],
             responses=ERRORS)
    async def issuance_requests(who: Caller, reference: str | None = None) -> Response:
        """The caller's issuance requests and what became of them (the regulator: everyone's)."""
        def work() -> list[dict[str, Any]]:
            query = select(t.issuance_requests).order_by(t.issuance_requests.c.id)
            if not viewer_of(who).regulator:
                query = query.where(t.issuance_requests.c.carrier == who.account)
            if reference:
                query = query.where(t.issuance_requests.c.reference == reference)
            with platform.db.connect() as conn:
                return [views.issuance_request(dict(r)).model_dump() for r in conn.execute(query).mappings()]
        return _json(200, await in_thread(work))

    @app.get("/v1/surrender-requests", tags=["Back office"], response_model=list[views.SurrenderOut],
             responses=ERRORS)
    async def surrender_requests(who: Caller, reference: str | None = None) -> Response:
        """Surrenders the caller made or must answer (the regulator: all)."""
        def work() -> list[dict[str, Any]]:
            query = select(t.surrenders.c.reference).order_by(t.surrenders.c.requested_at)
            if not viewer_of(who).regulator:
                query = query.where((t.surrenders.c.carrier == who.account)
                                    | (t.surrenders.c.surrendered_by == who.account))
            if reference:
                query = query.where(t.surrenders.c.transport_document_reference == reference)
            with platform.db.connect() as conn:
                references = list(conn.execute(query).scalars())
            found = [find(platform, r) for r in references]
            return [views.surrender(x).model_dump() for x in found if x is not None]
        return _json(200, await in_thread(work))

    @app.get("/v1/audit", tags=["Back office"], response_model=list[views.AuditOut], responses=ERRORS)
    async def audit_log(who: Caller, account: str | None = None,
                        limit_: Annotated[int, Query(alias="limit", ge=1, le=5000)] = 500) -> Response:
        """The service's audit log: the caller's own lines, newest first (the regulator: anyone's, or all)."""
        def work() -> list[dict[str, Any]]:
            q = platform.queries()
            regulator = viewer_of(who).regulator
            if account is not None and account != who.account and not regulator:
                raise forbidden("a participant reads only its own audit lines")
            whose = account if account is not None else (None if regulator else who.account)
            return [views.audit_entry(x, q.directory).model_dump()
                    for x in audit.entries(platform.db, whose, limit=limit_)]
        return _json(200, await in_thread(work))

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(who: Caller) -> Response:
        return _json(200, app.openapi())

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _note_refusal(platform: Platform, who: auth.Caller, action: str, subject: str, refused: ApiError,
                  correlation: str) -> None:
    with platform.db.begin() as conn:
        audit.record(conn, account=who.account, key_id=who.key_id, action=f"{action} refused", subject=subject,
                     status=refused.status, detail=refused.message, correlation=correlation)


def _visible(q: Any, who: auth.Caller, token: str) -> Any:
    try:
        return q.bill(q.viewer(who.account), token)
    except (AccessDenied, NotFound):
        raise not_found(f"no bill {token} that {who.account} may see") from None


def _endorsement_chains(platform: Platform, who: auth.Caller, reference: str, sub_reference: str | None,
                        scac: str | None) -> list[EndorsementChain]:
    q = platform.queries()
    viewer = q.viewer(who.account)
    with platform.index.connect() as conn:
        tokens = list(conn.execute(select(s.bills.c.token_id).where(s.bills.c.reference == reference)
                                   .order_by(s.bills.c.issued_block, s.bills.c.token_id)).scalars())
    chains = []
    directory = q.directory
    code = platform.config.platform
    with platform.db.connect() as conn:
        subs = {r.token_id: r.sub_reference for r in conn.execute(select(
            t.issuance_requests.c.token_id, t.issuance_requests.c.sub_reference).where(
            t.issuance_requests.c.token_id.in_(tokens)))}
    for token in tokens:
        try:
            view = q.bill(viewer, token)
        except (AccessDenied, NotFound):
            continue
        carrier = view.bill.carrier
        carrier_scac = parties.carrier_scac(carrier, directory)
        sub = subs.get(token_key(view.bill.token_id))
        if (sub_reference is not None and sub != sub_reference) or (scac is not None and carrier_scac != scac):
            continue
        events = q.history(viewer, view.bill.token_id)
        chains.append(EndorsementChain.make(
            transportDocumentReference=view.bill.transport_document_reference, transportDocumentSubReference=sub,
            carrierSCACCode=carrier_scac,
            endorsementChain=endorsement.links(events, carrier, lambda a: parties.party(a, directory, code))))
    if not chains:
        raise not_found(f"no endorsement chain for transport document reference {reference}")
    return chains


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the request bodies the routes read themselves (strict JSON, size-limited)
    described by the project's models of DCSA's messages."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    models = (IssuanceRequest, IssuanceManifest, IssuanceResponse, SurrenderRequestAnswer, SurrenderRequestDetails,
              EndorsementChain, ErrorResponse, views.SurrenderIn)
    _, definitions = models_json_schema([(m, "validation") for m in models],
                                        ref_template="#/components/schemas/{model}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in definitions.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            body = operation.pop("x-body", None)
            if body:
                operation["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{body}"}}}}
    document["components"]["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "ebl serve keys add ACCOUNT"}}
    document["security"] = [{"apiKey": []}]
    app.openapi_schema = document
    return document

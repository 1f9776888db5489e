"""`ebl serve`: the platform's standard eBL APIs. Carriers' documentation systems reach the platform through
DCSA's eBL 3.0 APIs (issuance requests in, issuance responses and surrender requests out, surrender responses
in, endorsement chains served), participants' back offices through its own read API over the index.

Modules: `config` (TOML + environment), `runtime` (the node, index, directory, database and keys, opened
once), `app` (the FastAPI application), `dcsa` and `transport_document` (the project's models of DCSA's
messages), `manifest` (JWS and checksums), `issuance`, `surrender`, `endorsement`, `parties`, `outbox` (the
callbacks), `workers`, `auth` (API keys), `audit`, `tables`/`store`/`migrations` (the service database),
`views` (the back office's JSON), `carrier` (the carrier's side, for its systems, the demo and the tests).
"""

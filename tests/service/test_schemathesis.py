"""A property-based run of DCSA's own OpenAPI files against the running service (schemathesis): requests
generated from the Issuance, Surrender and Endorsement Chain specs, valid and invalid, sent as the carrier.
Whatever they hold, the service never answers 5xx, and every answer is valid against the spec (status,
content type, headers, body). Bounded and derandomized: the same examples on every run."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from . import dcsa_specs
from .world import World

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
ISSUANCE = schemathesis.openapi.from_path(dcsa_specs.spec_path(dcsa_specs.ISSUANCE)).include(
    path="/v3/ebl-issuance-requests", method="PUT")
SURRENDER = schemathesis.openapi.from_path(dcsa_specs.spec_path(dcsa_specs.SURRENDER)).include(
    path="/v3/ebl-surrender-responses", method="POST")
ENDORSEMENT = schemathesis.openapi.from_path(dcsa_specs.spec_path(dcsa_specs.ENDORSEMENT))
# the coverage phase walks every boundary of every property of DCSA's TransportDocument: thousands of requests.
# test_transport_document.py does that walk against the model itself, without HTTP; here the fuzzing phase does
ISSUANCE.config.phases.coverage.enabled = False
for _schema in (ISSUANCE, SURRENDER, ENDORSEMENT):
    # invalid data may also be too large to read: 413 refuses it too
    _rejection = _schema.config.checks.negative_data_rejection
    _rejection.expected_statuses = [*_rejection.expected_statuses, "413"]


@schemathesis.pytest.parametrize(issuance=ISSUANCE, surrender=SURRENDER, endorsement=ENDORSEMENT)
@settings(max_examples=25, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_service_answers_dcsa_as_dcsa_says(case: schemathesis.Case, platform: World) -> None:
    before = platform.height()
    case.call_and_validate(base_url=platform.service.url, checks=CHECKS,
                           headers={"Authorization": f"Bearer {platform.api_keys['carrier']}"})
    assert platform.height() == before  # nothing generated is a request the platform acts on

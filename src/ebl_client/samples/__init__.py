"""Sample documents of the Hong Kong -> Shanghai trade that `make demo` runs and the tests use.

- `transport_document_hkg_sha.json`: a DCSA eBL 3.0 transport document (Victoria Harbour Shipping Line,
  Pearl River Electronics to order, notify Shanghai Huaxin Trading).
- `credit_report_exporter.json`: the exporter's credit report from the Shanghai credit reference center.
- `commercial_invoice.json`: the exporter's invoice for the shipment, the one that is financed.
"""

from __future__ import annotations

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
TRANSPORT_DOCUMENT = DIRECTORY / "transport_document_hkg_sha.json"
CREDIT_REPORT = DIRECTORY / "credit_report_exporter.json"
INVOICE = DIRECTORY / "commercial_invoice.json"

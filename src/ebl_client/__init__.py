"""Python client for the eBL title registry, credit-hash registry and financing escrow."""

"""Contract-level tests run on Ape's fixtures (`project`, `accounts`) against the Anvil that Ape's
foundry provider starts; Ape snapshots and reverts the chain around each test."""

import pytest


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def outsider(accounts):
    return accounts[9]

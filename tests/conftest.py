"""Every test journals into its own outbox (and fixtures shared by many tests into the session's).

Client.connect journals each transaction in an outbox (default .ebl/outbox, or $EBL_OUTBOX) and, on the next
connect, resends whatever the node no longer has. A test that reverts an evm snapshot looks exactly like a
node restarted from an old state file, so with a shared outbox the next test's connect would resend the
previous test's transactions. Hence one outbox per test, and none left in the working tree.
"""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _outbox_per_session(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EBL_OUTBOX", str(tmp_path_factory.mktemp("outbox")))
        yield


@pytest.fixture(autouse=True)
def _outbox_per_test(tmp_path, monkeypatch):
    monkeypatch.setenv("EBL_OUTBOX", str(tmp_path / "outbox"))

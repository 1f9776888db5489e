"""scripts/deploy.py (`ape run deploy`) on the new deploy_suite: run against the Anvil of Ape's own provider
(the one `ape test --network ethereum:local:foundry` connected), settings from the environment, and the
manifest it writes verified by the client like any other."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ebl_client import deployment, errors
from ebl_client.chain import Chain
from ebl_client.credit import CreditRecords
from ebl_client.financing import Financings

DAY = 86_400
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "deploy.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("ape_deploy_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_come_from_the_environment(script):
    assert script.settings_from_env({}) == deployment.Settings()
    env = {"EBL_GRACE_DAYS": "3", "EBL_MIN_TENOR_DAYS": "0", "EBL_RESERVATION_DAYS": " 10 ",
           "EBL_MAX_VALIDITY_DAYS": ""}
    assert script.settings_from_env(env) == deployment.Settings(grace_days=3, min_tenor_days=0, reservation_days=10)
    for bad in ("-1", "ten", "1.5"):
        with pytest.raises(errors.InvalidInput, match="EBL_RESERVATION_DAYS"):
            script.settings_from_env({"EBL_RESERVATION_DAYS": bad})


def test_ape_run_deploy_writes_a_verified_manifest(script, networks, tmp_path, monkeypatch, capsys):
    for variable, value in {"EBL_DEPLOYMENTS": str(tmp_path), "EBL_REDEPLOY": "1", "EBL_TEST_STABLECOIN": "1",
                            "EBL_GRACE_DAYS": "5", "EBL_MIN_TENOR_DAYS": "2", "EBL_RESERVATION_DAYS": "9",
                            "EBL_MAX_VALIDITY_DAYS": "100"}.items():
        monkeypatch.setenv(variable, value)
    for variable in ("EBL_KEYSTORE", "EBL_PRIVATE_KEY", "EBL_ADMIN"):
        monkeypatch.delenv(variable, raising=False)
    script.main()
    out = capsys.readouterr().out
    assert "FinancingEscrow: 0x" in out and "minimum tenor 2 days" in out and "manifest: " in out

    chain = Chain.connect(networks.provider.http_uri)
    suite = deployment.load_for(chain, tmp_path)  # the code and wiring of every contract check out
    assert set(suite.contracts) == {*deployment.SUITE, "TestStablecoin"} and suite.pending == []
    fin, credit = Financings.of(chain, suite), CreditRecords.of(chain, suite)
    assert (fin.grace_period(), fin.min_tenor(), fin.reservation_period()) == (5 * DAY, 2 * DAY, 9 * DAY)
    assert credit.max_validity() == 100 * DAY
    assert fin.is_allowed_token(suite.address("TestStablecoin"))

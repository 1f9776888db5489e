"""`make demo`: the consortium is onboarded on an embedded Anvil and the chain is left on disk."""

import json

from ebl_client import demo, deployment
from ebl_client.chain import Chain
from ebl_client.node import AnvilNode
from ebl_client.participants import Participants


def test_demo_onboards_the_consortium_and_keeps_the_chain(tmp_path, capsys):
    state, manifests = tmp_path / "state.json", tmp_path / "deployments"
    assert demo.main(["--json", "--state-file", str(state), "--deployments", str(manifests)]) == 0
    report = json.loads(capsys.readouterr().out)
    people = {p["handle"]: p for p in report["participants"]}
    assert len(people) == len(demo.CONSORTIUM) == 11
    assert people["exporter"]["jurisdiction"] == "HK" and people["importer"]["jurisdiction"] == "CN"
    assert people["hk_maker"]["institution"] == people["hk_checker"]["institution"] == "Harbour Bank HK (financier)"
    assert people["cn_maker"]["roles"] == ["verifier"] and people["regulator"]["roles"] == ["regulator"]

    with AnvilNode(state_file=state) as node:  # what `ebl node` does afterwards
        chain = Chain.connect(node.url)
        registry = Participants.of(chain, deployment.load_for(chain, manifests))
        listed = [p.address for p in registry.list() if p.address != report["contracts"]["FinancingEscrow"]]
        assert listed == [p["address"] for p in report["participants"]]


def test_demo_runs_twice(tmp_path, capsys):
    args = ["--json", "--state-file", str(tmp_path / "s.json"), "--deployments", str(tmp_path / "d")]
    assert demo.main(args) == 0 and demo.main(args) == 0

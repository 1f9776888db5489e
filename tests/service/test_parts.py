"""The service's parts on their own (no chain): the configuration, the database and its migrations, API keys,
the callback outbox against a real endpoint, manifests, DCSA parties and the endorsement chain mapping."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from joserfc import jws
from sqlalchemy import inspect

from ebl_client.directory import Directory, Entry
from ebl_client.errors import InvalidInput, NotFound
from ebl_client.models import TitleAction, TitleEvent
from ebl_client.service import auth, endorsement, manifest, outbox, parties, store
from ebl_client.service import config as configs
from ebl_client.service import tables as t
from ebl_client.service.carrier import CallbackEndpoint

CARRIER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
HOLDER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
OTHER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def test_configuration_file_environment_and_options(tmp_path: Path) -> None:
    file = tmp_path / "serve.toml"
    file.write_text(f'directory = "dir.json"\n[service]\nport = 9000\nplatform = "TEST"\n[chain]\nchain_id = 1337\n'
                    f'deployments = "deploy"\n[callbacks]\nmax_attempts = 3\n[[participants]]\naccount = "{CARRIER}"\n'
                    'keystore = "k.json"\npassword_env = "PW"\n')
    loaded = configs.load(file, env={"EBL_SERVE_PORT": "9100", "EBL_RPC_URL": "http://node:8545"})
    assert (loaded.port, loaded.platform, loaded.chain_id, loaded.rpc_url, loaded.host) == (
        9100, "TEST", 1337, "http://node:8545", "127.0.0.1")
    assert loaded.directory == tmp_path / "dir.json" and loaded.deployments == tmp_path / "deploy"
    assert loaded.participants[0].keystore == tmp_path / "k.json" and loaded.callbacks.max_attempts == 3
    assert loaded.with_overrides(port=9200, host=None).port == 9200
    with pytest.raises(InvalidInput, match="password"):
        loaded.participants[0].password()
    for bad in ('[service]\nplatform = "TOOLONG"\n', "[service]\nwhat = 1\n", "nonsense = 1\n", "[service\n",
                f'[[participants]]\naccount = "{CARRIER}"\n'):
        file.write_text(bad)
        with pytest.raises(InvalidInput):
            configs.load(file, env={})
    assert configs.load(None, env={}).port == configs.DEFAULT_PORT


def test_backoff_doubles_up_to_its_cap() -> None:
    settings = configs.CallbackSettings(initial_backoff=0.5, max_backoff=3.0)
    assert [settings.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_the_migrations_create_exactly_the_tables(database_url: str) -> None:
    engine = store.open_database(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": t.VERSION_TABLE})
        assert compare_metadata(context, t.metadata) == []
    assert store.MIGRATIONS.current(engine) == store.MIGRATIONS.head()
    store.bind(engine, 31337, CARRIER)
    store.bind(engine, 31337, CARRIER)
    with pytest.raises(store.ServiceDatabaseError, match="records of chain 31337"):
        store.bind(engine, 1337, CARRIER)
    store.MIGRATIONS.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {t.VERSION_TABLE}


def test_api_keys_are_kept_as_hashes(database_url: str) -> None:
    engine = store.open_database(database_url)
    record, key = auth.add_key(engine, HOLDER.lower(), "back office")
    assert record.account == HOLDER and auth.authenticate(engine, key) == auth.Caller(HOLDER, record.key_id)
    with engine.connect() as conn:
        stored = conn.execute(t.api_keys.select()).mappings().one()
    secret = key.split("_", 2)[2]  # ebl_<key id>_<secret>; the secret (urlsafe base64) may itself hold "_"
    assert secret not in str(dict(stored)) and len(stored["secret_hash"]) == 64
    assert auth.authenticate(engine, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert auth.authenticate(engine, "ebl_nothing") is None
    auth.revoke_key(engine, record.key_id)
    assert auth.authenticate(engine, key) is None
    assert [k.active for k in auth.list_keys(engine)] == [False]
    with pytest.raises(NotFound):
        auth.revoke_key(engine, "000000000000")
    with pytest.raises(InvalidInput):
        auth.presented_key("Basic abc", None)
    assert auth.presented_key(None, " k ") == "k"


def test_the_outbox_retries_until_the_carrier_answers_and_keeps_what_it_gives_up(database_url: str) -> None:
    engine = store.open_database(database_url)
    settings = configs.CallbackSettings(timeout=5, initial_backoff=0.01, max_backoff=0.02, max_attempts=4)
    with CallbackEndpoint(failing=True, token="Bearer carrier-secret") as endpoint:
        sender = outbox.Sender(engine, settings, token_for=lambda carrier: "Bearer carrier-secret")
        with engine.begin() as conn:
            first = outbox.enqueue(conn, CARRIER, endpoint.url, outbox.ISSUANCE_RESPONSE, "REF1",
                                   {"transportDocumentReference": "REF1", "issuanceResponseCode": "ISSU"})
            outbox.enqueue(conn, CARRIER, endpoint.url, outbox.SURRENDER_REQUEST, "SR-1", {"n": 2})
            outbox.enqueue(conn, CARRIER, "", outbox.SURRENDER_REQUEST, "SR-2", {"n": 3})
        while outbox.listed(engine, status="pending")[0].attempts < 2:
            sender.deliver_due()
            time.sleep(0.01)
        waiting = outbox.listed(engine)
        assert [c.attempts for c in waiting[:2]] == [2, 0]  # the second waits behind the first: order kept
        assert waiting[2].status == "dead" and "no callback URL" in (waiting[2].last_error or "")
        endpoint.failing = False
        while outbox.listed(engine, status="pending"):
            sender.deliver_due()
            time.sleep(0.01)
        assert [r.json() for r in endpoint.received] == [
            {"transportDocumentReference": "REF1", "issuanceResponseCode": "ISSU"}, {"n": 2}]
        assert endpoint.received[0].headers["Authorization"] == "Bearer carrier-secret"
        assert endpoint.received[0].headers["API-Version"] == "3"
        endpoint.failing = True
        with engine.begin() as conn:
            outbox.enqueue(conn, CARRIER, endpoint.url, outbox.ISSUANCE_RESPONSE, "REF9", {"n": 9})
        while outbox.listed(engine, status="pending"):
            sender.deliver_due()
            time.sleep(0.01)
        dead = outbox.listed(engine, status="dead")
        assert [(c.subject, c.attempts) for c in dead] == [("SR-2", 0), ("REF9", 4)]
        assert "503" in str(dead[1].last_error)
        assert outbox.retry(engine, dead[1].id).status == "pending"
        sender.close()
    assert [c.status for c in outbox.listed(engine)][:2] == ["delivered", "delivered"]
    assert outbox.listed(engine)[0].id == first


def test_a_manifest_is_verified_with_the_registered_public_key_only() -> None:
    key = manifest.new_signing_key()
    signed = manifest.sign({"documentChecksum": "a" * 64, "issueToChecksum": "b" * 64}, key)
    assert manifest.verify(signed, manifest.public_key(manifest.public_jwk(key)))["issueToChecksum"] == "b" * 64
    for registered in (key.as_dict(private=True), "not a key", {"kty": "oct", "k": "c2VjcmV0"}, 42):
        with pytest.raises(manifest.ManifestError):
            manifest.public_key(registered)
    with pytest.raises(manifest.ManifestError):
        manifest.verify(signed, manifest.public_key(manifest.public_jwk(manifest.new_signing_key())))
    assert manifest.checksum({"b": 1, "a": [1.0, "x"]}) == manifest.checksum({"a": [1, "x"], "b": 1})
    # a payload nested past any manifest is refused before parsing (parsing it could crash the service)
    deep = jws.serialize_compact({"alg": "ES256"}, b"[" * 5_000, key)
    with pytest.raises(manifest.ManifestError, match="nested more than 64 levels"):
        manifest.verify(deep, manifest.public_key(manifest.public_jwk(key)))


def _directory() -> Directory:
    d = Directory()
    lei = {"codeListProvider": "GLEIF", "partyCode": "5493001KJTIIGC8Y1R12", "codeListName": "LEI"}
    d.entries[HOLDER] = Entry(HOLDER, "Pearl River Electronics Ltd", "HK", "LEI", "5493001KJTIIGC8Y1R12", (lei,))
    d.entries[CARRIER] = Entry(CARRIER, "Victoria Harbour Shipping Line", "HK", "LEI", "549300VHSL0CARR1ER7",
                               ({"codeListProvider": "SMDG", "partyCode": "VHSL"},))
    return d


def test_parties_by_the_platforms_codes_and_the_directorys() -> None:
    d = _directory()
    by_account = [{"codeListProvider": "GBAE", "partyCode": HOLDER.lower()}]
    assert parties.resolve(by_account, d, "GBAE").accounts == {HOLDER}
    assert parties.resolve([{"codeListProvider": "gleif", "partyCode": "5493001KJTIIGC8Y1R12", "codeListName": "LEI"}],
                           d, "GBAE").accounts == {HOLDER}
    none = parties.resolve([{"codeListProvider": "GLEIF", "partyCode": "5493001KJTIIGC8Y1R12", "codeListName": "X"},
                            {"codeListProvider": "GBAE", "partyCode": "not an address"}], d, "GBAE")
    assert none.accounts == frozenset() and len(none.unmatched) == 2
    shown = parties.party(HOLDER, d, "GBAE").dump()
    assert shown["partyName"] == "Pearl River Electronics Ltd"
    assert shown["identifyingCodes"][0] == {"codeListProvider": "GBAE", "partyCode": HOLDER, "codeListName": "ACCOUNT"}
    assert parties.party(OTHER, d, "GBAE").dump()["partyName"] == OTHER
    assert parties.carrier_scac(CARRIER, d) == "VHSL" and parties.carrier_scac(HOLDER, d) is None


def test_title_events_as_dcsa_actions() -> None:
    def event(action: TitleAction, actor: str, holder: str, beneficiary: str | None, n: int) -> TitleEvent:
        return TitleEvent(1, action, actor, holder, beneficiary, None, n, f"0x{n:064x}", 0, 1_800_000_000 + n)

    events = [event(TitleAction.ISSUE, CARRIER, HOLDER, HOLDER, 1),
              event(TitleAction.NOMINATE, HOLDER, HOLDER, OTHER, 2),
              event(TitleAction.TRANSFER_OWNERS, HOLDER, OTHER, OTHER, 3),
              event(TitleAction.REJECT, OTHER, HOLDER, HOLDER, 4),
              event(TitleAction.SURRENDER_FOR_AMENDMENT, HOLDER, CARRIER, HOLDER, 5),
              event(TitleAction.SURRENDER_REJECTED, CARRIER, HOLDER, HOLDER, 6),
              event(TitleAction.SWITCH_TO_PAPER, CARRIER, HOLDER, HOLDER, 7)]
    links = endorsement.links(events, CARRIER, lambda a: parties.party(a, Directory(), "GBAE"))
    assert [(x.actionCode, x.actor.partyName, x.recipient.partyName if x.recipient else None) for x in links] == [
        ("ISSUE", CARRIER, HOLDER), ("ENDORSE", HOLDER, OTHER), ("TRANSFER", HOLDER, OTHER),
        ("ENDORSE", OTHER, HOLDER), ("TRANSFER", OTHER, HOLDER), ("SURRENDER_FOR_AMENDMENT", HOLDER, CARRIER),
        ("TRANSFER", CARRIER, HOLDER), ("SURRENDERED", CARRIER, None)]
    assert links[0].actionDateTime == "2027-01-15T08:00:01Z" and links[2].auditReference == f"0x{3:064x}"

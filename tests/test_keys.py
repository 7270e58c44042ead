"""Key rotation: a new current key, old keys kept by id, old exports still matched, old registries migrated."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from tracer.accuse import ExportSeen, Suspect, Verdict, merge_verdicts
from tracer.errors import KeyError_, RegistryError
from tracer.keys import KEY_BYTES, load_ring, parse_ring, write_ring
from tracer.registry.schema import SCHEMA_VERSION

from .conftest import FIXTURES, Reg, file_mode, read_csv, write_csv

HEX = [bytes([n]) * KEY_BYTES for n in (1, 2, 3)]


def leak_of(work: Path, export: Path, name: str, rows: int = 100, seed: int = 1) -> Path:
    header, out_rows = read_csv(export)
    return write_csv(work / name, header, random.Random(seed).sample(out_rows, rows))


def suspects(cli, *leaks, registry=None) -> list[str]:
    result = cli("match", *leaks, "--json", registry=registry)
    assert result.exit_code == 0, result.stderr
    return [s["account"] for s in json.loads(result.stdout)["suspects"]]


@pytest.fixture
def rotated(cli, tmp_path, waybills):
    """alice exports with key 1, the key is rotated, bob exports the same records with key 2."""
    header, rows = waybills
    assert cli("init").exit_code == 0
    for name in ("alice", "bob", "carol"):
        cli("accounts", "add", name)
    source = write_csv(tmp_path / "src.csv", header, rows[:600])
    old_key = (tmp_path / "tracer.key").read_text()
    assert cli("export", source, "--account", "alice", "--output", tmp_path / "alice.csv").exit_code == 0
    result = cli("key", "rotate")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Key 2 is now current")
    assert cli("export", source, "--account", "bob", "--output", tmp_path / "bob.csv").exit_code == 0
    return tmp_path, source, old_key


def test_old_and_new_exports_are_both_matched_after_rotation(rotated, cli):
    work, _, _ = rotated
    assert suspects(cli, leak_of(work, work / "alice.csv", "leak-alice.csv")) == ["alice"]
    assert suspects(cli, leak_of(work, work / "bob.csv", "leak-bob.csv")) == ["bob"]
    both = [leak_of(work, work / "alice.csv", "half-alice.csv", 60, 2),
            leak_of(work, work / "bob.csv", "half-bob.csv", 60, 3)]
    assert sorted(suspects(cli, *both)) == ["alice", "bob"]


def test_each_export_records_its_key_and_digests_depend_on_it(rotated):
    """The same records exported with two keys share no exposure digest: digests are keyed."""
    work, _, _ = rotated
    reg = Reg(work / "tracer.db", work / "tracer.key")
    assert reg.rows("SELECT id, key_id FROM exports ORDER BY id") == [(1, 1), (2, 2)]
    with reg.open() as registry:
        pairs = [(int(d), int(e)) for ds, es in registry.exposure_batches() for d, e in zip(ds, es)]
    first, second = ({d for d, e in pairs if e == i} for i in (1, 2))
    assert len(first) == len(second) > 600 and not first & second


def test_rotation_keeps_the_old_key_in_a_private_ring(rotated, cli):
    work, _, old_key = rotated
    key_file = work / "tracer.key"
    assert file_mode(key_file) == 0o600
    ring = load_ring(key_file)
    assert sorted(ring.keys) == [1, 2] and ring.current_id == 2
    assert ring.keys[1].secret.hex() == old_key.strip()
    assert [p.name for p in work.iterdir() if p.name.startswith(".tracer.key")] == []  # no temp file left
    listed = cli("key", "list", "--json")
    assert [(k["id"], k["exports"], k["current"]) for k in json.loads(listed.stdout)] == [(1, 1, False), (2, 1, True)]
    shown = listed.stdout + cli("key", "list").stdout + cli("key", "rotate").stdout
    assert not any(key.secret.hex() in shown for key in load_ring(key_file).keys.values())


def test_registry_check_verifies_each_export_with_its_own_key(rotated, cli):
    work, _, _ = rotated
    result = cli("registry", "check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Registry OK: 3 accounts, 2 exports,")
    reg = Reg(work / "tracer.db", work / "tracer.key")
    reg.rows("DROP TRIGGER exports_only_release")  # an attacker with write access and no key
    reg.rows("UPDATE exports SET key_id = 1 WHERE id = 2")
    result = cli("registry", "check")
    assert result.exit_code == 1
    assert result.stderr == ("Error: registry check failed: export 2: its entry, its canaries "
                             "or an earlier entry was altered\n")


def test_keys_and_their_exports_are_append_only(rotated):
    work, _, _ = rotated
    reg = Reg(work / "tracer.db", work / "tracer.key")
    for statement in ("DELETE FROM keys WHERE id = 1", "UPDATE keys SET check_value = 'x'",
                      "UPDATE exports SET key_id = 2 WHERE id = 1"):
        with pytest.raises(RegistryError, match="append-only"):
            reg.rows(statement)


def test_rotation_refuses_keys_from_the_environment(rotated, cli, monkeypatch):
    work, _, _ = rotated
    ring = load_ring(work / "tracer.key")
    before = (work / "tracer.key").read_bytes()
    monkeypatch.setenv("TRACER_KEY", ",".join(f"{i}:{k.secret.hex()}" for i, k in ring.keys.items()))
    assert suspects(cli, leak_of(work, work / "alice.csv", "leak.csv")) == ["alice"]  # the ring from TRACER_KEY
    result = cli("key", "rotate")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: cannot rotate keys held in TRACER_KEY: put them in the key file "
                             f"{work / 'tracer.key'} (mode 600), unset TRACER_KEY and rotate again\n")
    assert (work / "tracer.key").read_bytes() == before


def test_a_ring_missing_a_key_the_registry_has_is_refused(rotated, cli, monkeypatch):
    work, _, old_key = rotated
    monkeypatch.setenv("TRACER_KEY", old_key.strip())  # a bare key: key 1 only
    result = cli("match", work / "alice.csv")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: TRACER_KEY lacks key 2 of registry {work / 'tracer.db'}; every key "
                             "the registry has had is needed (exports made with it)\n")


def test_a_ring_key_the_registry_does_not_know_is_refused(rotated, cli):
    work, _, _ = rotated
    key_file = work / "tracer.key"
    with open(key_file, "a") as handle:
        handle.write(f"7 {HEX[0].hex()}\n")
    result = cli("match", work / "alice.csv")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: key 7 of key file {key_file} is not registered in registry "
                             f"{work / 'tracer.db'}\n")


def test_a_ring_key_that_does_not_match_is_refused(rotated, cli):
    work, _, _ = rotated
    key_file = work / "tracer.key"
    ring = load_ring(key_file)
    key_file.write_text(f"1 {ring.keys[1].secret.hex()}\n2 {HEX[1].hex()}\n")
    result = cli("export", work / "src.csv", "--account", "carol", "--output", work / "carol.csv")
    assert result.exit_code == 1
    assert result.stderr == f"Error: key 2 of key file {key_file} does not belong to registry {work / 'tracer.db'}\n"
    assert not (work / "carol.csv").exists()


def test_an_interrupted_rotation_is_finished_not_repeated(rotated, cli):
    """The ring is written before the key is registered: a crash between leaves a key the next rotation adopts."""
    work, source, _ = rotated
    key_file = work / "tracer.key"
    pending = load_ring(key_file).rotated()
    write_ring(key_file, pending)  # the key file is written, then the process dies
    result = cli("export", source, "--account", "carol", "--output", work / "carol.csv")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: key 3 of key file {key_file} is not registered in registry "
                             f"{work / 'tracer.db'} (a key rotation was interrupted: run tracer key rotate "
                             "to finish it)\n")
    result = cli("key", "rotate")
    assert result.exit_code == 0 and result.stdout.startswith("Key 3 is now current")
    assert load_ring(key_file).keys == pending.keys
    assert cli("export", source, "--account", "carol", "--output", work / "carol.csv").exit_code == 0
    assert suspects(cli, leak_of(work, work / "carol.csv", "leak-carol.csv")) == ["carol"]


@pytest.mark.parametrize("text, ids", [
    (HEX[0].hex() + "\n", [1]),
    (f"# a comment, with a comma\n1 {HEX[0].hex()}\n\n2 {HEX[1].hex()}\n", [1, 2]),
    (f"1:{HEX[0].hex()},3:{HEX[2].hex()}", [1, 3]),
])
def test_key_ring_formats(text, ids):
    ring = parse_ring(text, "TRACER_KEY")
    assert sorted(ring.keys) == ids and ring.current_id == ids[-1]
    assert [ring.keys[i].secret for i in ids] == [HEX[i - 1] for i in ids]
    assert parse_ring(ring.file_text(), "key file").keys == ring.keys


@pytest.mark.parametrize("text, message", [
    ("", "TRACER_KEY holds no key"),
    ("abc", "TRACER_KEY is not a tracer key (expected 64 hex digits)"),
    (f"{HEX[0].hex()}\n{HEX[1].hex()}", "TRACER_KEY is not a tracer key ring"),
    (f"0:{HEX[0].hex()}", "TRACER_KEY is not a tracer key ring"),
    (f"1:{HEX[0].hex()},1:{HEX[1].hex()}", "TRACER_KEY holds key 1 twice"),
    (f"1:{HEX[0].hex()},2:abcd", "TRACER_KEY, key 2, is not a tracer key (expected 64 hex digits)"),
])
def test_malformed_key_rings_are_refused_without_showing_a_secret(text, message):
    with pytest.raises(KeyError_) as refused:
        parse_ring(text, "TRACER_KEY")
    assert str(refused.value).startswith(message)
    assert HEX[0].hex() not in str(refused.value) and HEX[1].hex() not in str(refused.value)


def test_a_registry_from_before_rotation_migrates_and_still_matches(tmp_path, cli):
    """A schema-1 registry made by the tracer of that time: opened, migrated, verified, matched, rotated."""
    old = FIXTURES / "registry-v1"
    registry = tmp_path / "tracer.db"
    conn = sqlite3.connect(registry)  # the file as that tracer left it (so not through today's interface)
    conn.executescript((old / "tracer.sql").read_text())
    conn.execute("PRAGMA user_version=1")
    conn.close()
    shutil.copy(old / "tracer.key", tmp_path / "tracer.key")
    os.chmod(tmp_path / "tracer.key", 0o600)
    legacy_key = (tmp_path / "tracer.key").read_text()

    leak = leak_of(tmp_path, old / "alice.csv", "leak-alice.csv", 80)
    assert suspects(cli, leak) == ["alice"]
    reg = Reg(registry, tmp_path / "tracer.key")
    assert reg.rows("PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert reg.rows("SELECT value FROM meta WHERE name = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert reg.rows("SELECT id, key_id FROM exports ORDER BY id") == [(1, 1), (2, 1)]
    with pytest.raises(RegistryError, match="append-only"):  # the migrated history stays append-only
        reg.rows("UPDATE exports SET key_id = 2 WHERE id = 1")
    assert (tmp_path / "tracer.key").read_text() == legacy_key  # a legacy key file is read, not rewritten
    assert cli("registry", "check").stdout.startswith("Registry OK: 2 accounts, 2 exports,")

    assert cli("key", "rotate").exit_code == 0
    cli("accounts", "add", "carol")
    header, rows = read_csv(FIXTURES / "waybills.csv")
    source = write_csv(tmp_path / "src.csv", header, rows[:150])
    assert cli("export", source, "--account", "carol", "--output", tmp_path / "carol.csv").exit_code == 0
    assert suspects(cli, leak) == ["alice"]
    assert suspects(cli, leak_of(tmp_path, tmp_path / "carol.csv", "leak-carol.csv", 80)) == ["carol"]
    assert cli("registry", "check").exit_code == 0


def _suspect(account_id: int, p_value: float, exports: list[int]) -> Suspect:
    return Suspect(account=f"a{account_id}", account_id=account_id, p_value=p_value,
                   log10_p_value=math.log10(p_value), p_marks=p_value, p_canaries=1.0, score=1.0,
                   canary_hits=0, marks_observed=10, marks_agreeing=10, records_in_leak=5,
                   exports=[ExportSeen(e, "2026-01-01", "src.csv", 5, 0) for e in exports],
                   accused=p_value <= 1e-6)


def _verdict(*candidates: Suspect) -> Verdict:
    return Verdict(rows=10, fpr=1e-6, files=[], candidates=list(candidates), accounts_registered=3,
                   positions_read=10, channels_erased=[])


def test_verdicts_of_several_keys_pay_for_every_key_tried():
    """Each account keeps its smallest p-value over the keys, times the number of keys (Bonferroni)."""
    merged = merge_verdicts([_verdict(_suspect(1, 1e-9, [1]), _suspect(2, 6e-7, [1])),
                             _verdict(_suspect(1, 1e-3, [4]))], fpr=1e-6)
    assert [(s.account, s.p_value, s.accused) for s in merged.candidates] == [
        ("a1", 2e-9, True), ("a2", 1.2e-6, False)]  # a2 alone would be accused at 6e-7; two keys were tried
    assert [e.export_id for e in merged.candidates[0].exports] == [1, 4]
    assert merged.candidates[0].log10_p_value == pytest.approx(-9 + math.log10(2))
    assert merged.positions_read == 20
    single = _verdict(_suspect(1, 1e-9, [1]), _suspect(2, 6e-7, [1]))
    assert merge_verdicts([single], fpr=1e-6).candidates == single.candidates


def test_a_canary_avoids_records_exported_only_under_an_old_key(tmp_path, waybills):
    """After a rotation, a new canary phone must still be no phone exported with an earlier key."""
    from tracer import api
    from tracer.columns import phone_anchor, recognise
    from tracer.export import _Exporter
    from tracer.keys import KeyRing

    header, rows = waybills
    registry = tmp_path / "tracer.db"
    api.init(registry)
    api.add_account(registry, "alice")
    api.add_account(registry, "carol")
    api.export(registry, write_csv(tmp_path / "src.csv", header, rows[:300]), account="alice",
               output=tmp_path / "alice.csv")
    api.rotate_key(registry)
    db, ring = api.open_with_key(registry)
    with db:
        schema = recognise(header, rows[:200])
        phones = [c.index for c in schema.of_kind("phone")]
        carol = db.account("carol")
        exporter = _Exporter(db, ring, carol, schema)
        exported = {phone_anchor(r[i]) for r in rows[:300] for i in phones}
        unseen = [r for r in rows[300:] if not {phone_anchor(r[i]) for i in phones} & exported][:20]
        assert len(unseen) == 20
        assert all(exporter.taken(row, phones) for row in rows[:20])
        assert not any(exporter.taken(row, phones) for row in unseen)
        current_only = _Exporter(db, KeyRing({2: ring.current}, "test"), carol, schema)
        assert not any(current_only.taken(row, phones) for row in rows[:20])

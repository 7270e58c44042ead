"""The registry's tables: the first schema, every migration since, and how to apply them.

Only ``registry`` uses this module.  A new registry is made with ``SCHEMA``
and then every migration, an old one gets the migrations it lacks: both end
with the same tables.  Both lists are history, so they are append only: a registry
written by an earlier tracer must still open.

The history tables are append-only in SQLite itself (triggers): an export's
entry, exposure and canaries never change, except that an entry is marked
released once its file is in place; keys are never deleted or changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

SCHEMA_VERSION = 5

# The tables every schema version has: a database without them is no tracer registry.
TABLES = ("meta", "accounts", "exports", "exposure", "canaries")

# The first schema (version 1), frozen: what came after is in MIGRATIONS.
SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    uid TEXT NOT NULL UNIQUE,
    note TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE TABLE exports (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    created TEXT NOT NULL,
    source TEXT NOT NULL,
    output TEXT NOT NULL,
    rows INTEGER NOT NULL,
    canaries INTEGER NOT NULL,
    marked_cells INTEGER NOT NULL,
    anchors INTEGER NOT NULL DEFAULT 0,
    chain TEXT NOT NULL DEFAULT '',
    released TEXT
);
CREATE TABLE exposure (
    digest INTEGER NOT NULL,
    export_id INTEGER NOT NULL REFERENCES exports(id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (digest, export_id)
) WITHOUT ROWID;
CREATE TABLE canaries (
    digest INTEGER NOT NULL,
    export_id INTEGER NOT NULL REFERENCES exports(id) DEFERRABLE INITIALLY DEFERRED,
    space INTEGER NOT NULL,  -- how many equally likely values it was drawn from; 0: not at random, no evidence
    PRIMARY KEY (digest, export_id)
) WITHOUT ROWID;
CREATE INDEX exports_account ON exports(account_id);
CREATE INDEX canaries_export ON canaries(export_id);
-- The history is append-only: an export's entry, exposure and canaries never change,
-- except that an entry is marked released once its file is in place.
CREATE TRIGGER exports_no_delete BEFORE DELETE ON exports
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER exports_only_release BEFORE UPDATE ON exports
    WHEN OLD.released IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.account_id IS NOT OLD.account_id
      OR NEW.created IS NOT OLD.created OR NEW.source IS NOT OLD.source OR NEW.output IS NOT OLD.output
      OR NEW.rows IS NOT OLD.rows OR NEW.canaries IS NOT OLD.canaries
      OR NEW.marked_cells IS NOT OLD.marked_cells OR NEW.anchors IS NOT OLD.anchors OR NEW.chain IS NOT OLD.chain
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER exposure_no_delete BEFORE DELETE ON exposure
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER exposure_no_update BEFORE UPDATE ON exposure
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER canaries_no_delete BEFORE DELETE ON canaries
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER canaries_no_update BEFORE UPDATE ON canaries
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
"""


APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END"

# version -> the statements that bring a registry from the version before to it.  Append only.
MIGRATIONS: dict[int, str] = {
    # Key rotation: a ring of keys by id (the one key so far is key 1), and each export names its key.
    2: f"""
CREATE TABLE keys (id INTEGER PRIMARY KEY, check_value TEXT NOT NULL, created TEXT NOT NULL);
INSERT INTO keys(id, check_value, created)
    SELECT 1, k.value, c.value FROM meta k, meta c WHERE k.name = 'key_check' AND c.name = 'created';
DELETE FROM meta WHERE name = 'key_check';
ALTER TABLE exports ADD COLUMN key_id INTEGER NOT NULL DEFAULT 1;
DROP TRIGGER exports_only_release;
CREATE TRIGGER exports_only_release BEFORE UPDATE ON exports
    WHEN OLD.released IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.account_id IS NOT OLD.account_id
      OR NEW.created IS NOT OLD.created OR NEW.source IS NOT OLD.source OR NEW.output IS NOT OLD.output
      OR NEW.rows IS NOT OLD.rows OR NEW.canaries IS NOT OLD.canaries
      OR NEW.marked_cells IS NOT OLD.marked_cells OR NEW.anchors IS NOT OLD.anchors OR NEW.chain IS NOT OLD.chain
      OR NEW.key_id IS NOT OLD.key_id
    {APPEND_ONLY};
CREATE TRIGGER keys_no_delete BEFORE DELETE ON keys {APPEND_ONLY};
CREATE TRIGGER keys_no_update BEFORE UPDATE ON keys {APPEND_ONLY};
""",
    # Shared canary slots (issue 12): each version of a decoy that several accounts may receive, by the keyed
    # digest of its new phone (or fresh identifier), with the code positions and symbols it shows and the
    # exposure digests of the record it follows.  Keyed digests only: no decoy value in clear.
    3: f"""
CREATE TABLE shared_decoys (
    digest INTEGER NOT NULL,
    export_id INTEGER NOT NULL REFERENCES exports(id) DEFERRABLE INITIALLY DEFERRED,
    positions TEXT NOT NULL,
    symbols TEXT NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (digest, export_id)
) WITHOUT ROWID;
CREATE INDEX shared_decoys_export ON shared_decoys(export_id);
CREATE TRIGGER shared_decoys_no_delete BEFORE DELETE ON shared_decoys {APPEND_ONLY};
CREATE TRIGGER shared_decoys_no_update BEFORE UPDATE ON shared_decoys {APPEND_ONLY};
""",
    # The canary pool: phone numbers the company holds, as a keyed digest (to trace one) and sealed
    # under that key (exports need the number); never in clear.  Canaries carrying one are registered
    # in ``canaries`` with space -1 (evidence, no p-value).
    4: """
CREATE TABLE canary_pool (
    digest INTEGER NOT NULL,
    key_id INTEGER NOT NULL REFERENCES keys(id),
    sealed BLOB NOT NULL,
    added TEXT NOT NULL,
    PRIMARY KEY (digest, key_id)
) WITHOUT ROWID;
""",
    # Exposure as sorted runs (issue 15, ``runs``): an export's distinct digests sorted into blocks of one page,
    # the first digest of each block and a filter in the run's row; runs are merged as they accumulate.  A run never changes;
    # a merge deletes its inputs once the merged run (newer, holding their exports) is in.  Exposure rows of
    # older tracers stay in ``exposure`` and are read as before.
    5: f"""
CREATE TABLE exposure_runs (
    id INTEGER PRIMARY KEY,
    level INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    per_block INTEGER NOT NULL,
    first_export INTEGER NOT NULL REFERENCES exports(id) DEFERRABLE INITIALLY DEFERRED,
    last_export INTEGER NOT NULL REFERENCES exports(id) DEFERRABLE INITIALLY DEFERRED,
    fences BLOB NOT NULL,  -- each block's first digest, little-endian int64
    bloom BLOB NOT NULL  -- a filter of the run's digests (runs.Bloom): most runs are skipped unread
);
CREATE TABLE exposure_blocks (
    id INTEGER PRIMARY KEY,  -- run << 32 | block number
    digests BLOB NOT NULL,  -- little-endian int64, sorted
    export_ids BLOB  -- little-endian int32 per digest; NULL in a run of one export
);
CREATE TRIGGER exposure_runs_no_update BEFORE UPDATE ON exposure_runs {APPEND_ONLY};
CREATE TRIGGER exposure_blocks_no_update BEFORE UPDATE ON exposure_blocks {APPEND_ONLY};
CREATE TRIGGER exposure_runs_merged_only BEFORE DELETE ON exposure_runs
    WHEN NOT EXISTS (SELECT 1 FROM exposure_runs m WHERE m.id > OLD.id AND m.rows >= OLD.rows
                     AND m.first_export <= OLD.first_export AND m.last_export >= OLD.last_export)
    {APPEND_ONLY};
CREATE TRIGGER exposure_blocks_merged_only BEFORE DELETE ON exposure_blocks
    WHEN EXISTS (SELECT 1 FROM exposure_runs WHERE id = OLD.id >> 32)
    {APPEND_ONLY};
""",
}
assert sorted(MIGRATIONS) == list(range(2, SCHEMA_VERSION + 1))


def statements(script: str) -> Iterator[str]:
    """A script's statements one at a time (a trigger's body whole), to run inside a transaction of ours.

    ``executescript`` would commit first: a crash mid-way would leave half a
    schema or half a migration.
    """
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement: {buffer.strip()[:60]}")


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring the schema from ``version`` to ``SCHEMA_VERSION``, inside the caller's transaction."""
    for target in range(version + 1, SCHEMA_VERSION + 1):
        for statement in statements(MIGRATIONS[target]):
            conn.execute(statement)
        conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(target),))
        conn.execute(f"PRAGMA user_version={target}")

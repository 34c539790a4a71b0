-- 0034_federation_witness (postgres): witnessing between halls (src/federation/witness.c,
-- src/ledger/witness.c). Keep the same logical shape as the other backend's file.
-- witness_logs: per log this hall witnesses (by its origin line), the latest checkpoint it
-- cosigned (C2SP tlog-witness: the old size of the next add-checkpoint must be this size).
-- witness_splits: two different checkpoints of one size from one log, both signed by it (a
-- split view), as this hall saw them, as witness or in another hall's published view.
-- ledger_cosignatures: the cosignatures other halls gave this hall's own checkpoints.
-- Roots are base64 text; times are Unix seconds.

CREATE TABLE witness_logs (
  origin TEXT PRIMARY KEY,
  hall_id TEXT NOT NULL,             -- the hall of the directory whose log it is
  size BIGINT NOT NULL,
  root TEXT NOT NULL,
  note TEXT NOT NULL,                -- the checkpoint as submitted (the log's signature)
  updated_at BIGINT NOT NULL
);

CREATE TABLE witness_splits (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  origin TEXT NOT NULL,
  hall_id TEXT NOT NULL,
  size BIGINT NOT NULL,
  root_a TEXT NOT NULL,              -- the root seen first
  note_a TEXT NOT NULL,
  root_b TEXT NOT NULL,              -- the other root of the same size
  note_b TEXT NOT NULL,
  source TEXT NOT NULL,              -- 'witness' (submitted here) or 'gossip' (another hall's view)
  reported_by TEXT NOT NULL,         -- the hall whose view showed it ('' for this hall)
  seen_at BIGINT NOT NULL,
  UNIQUE (origin, size, root_a, root_b)
);

CREATE TABLE ledger_cosignatures (
  size BIGINT NOT NULL,                  -- the checkpoint of this hall's log that was cosigned
  witness TEXT NOT NULL,             -- the cosigning hall's id
  line TEXT NOT NULL,                -- the signature line (C2SP tlog-cosignature/v1)
  cosigned_at BIGINT NOT NULL,           -- its timestamp
  PRIMARY KEY (size, witness)
);

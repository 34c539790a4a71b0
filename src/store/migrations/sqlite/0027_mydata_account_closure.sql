-- 0027_mydata_account_closure (SQLite): when a person closed their account (src/privacy), and
-- requests to correct a name.
-- A closed account is 'disabled' with closed_at set: it cannot log in, an administrator
-- cannot enable it again, its contact data and look-up indexes are erased, and the records a
-- law requires keeping stay linked to it (docs/privacy.md). Keep the same logical shape as
-- the PostgreSQL twin.
ALTER TABLE accounts ADD COLUMN closed_at INTEGER;

-- A person's request to correct the name their account was registered with (identity was
-- checked, so an administrator reviews it: src/identity/namefix.c). Covered by the
-- transparency log; an approval changes accounts.name in the same transaction.
CREATE TABLE name_corrections (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  old_name TEXT NOT NULL,
  new_name TEXT NOT NULL,
  reason TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
  created_at INTEGER NOT NULL,
  decided_at INTEGER,
  decided_by INTEGER REFERENCES accounts(id),
  note TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX name_corrections_account ON name_corrections(account_id);
CREATE INDEX name_corrections_state ON name_corrections(state, id);

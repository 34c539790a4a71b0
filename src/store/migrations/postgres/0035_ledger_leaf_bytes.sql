-- 0035_ledger_leaf_bytes (PostgreSQL): a leaf is stored as bytes (src/ledger/pack.c): a
-- version byte, then its canonical text (0) or the text packed (1: 32-byte hashes instead of
-- hex, member names as one or two bytes). What is hashed, proved and put in receipts is the
-- text, as before: the leaves written before keep their text, as version 0, and every hash,
-- tile, checkpoint and receipt stays as it was. Keep the same logical shape as
-- migrations/sqlite/0035_ledger_leaf_bytes.sql.
ALTER TABLE ledger_leaves ALTER COLUMN leaf TYPE BYTEA USING '\x00'::bytea || convert_to(leaf, 'UTF8');

-- 0036_remote_joint (PostgreSQL): 多地联办, an item whose steps belong to two halls (src/remote/joint.c).
-- Keep the same logical shape as migrations/sqlite/0036_remote_joint.sql. Times are Unix seconds.
-- Its tables are made only when missing: a database put back to an older schema version (the
-- audit test's old leaves) runs it again.

-- An item version's second step at another hall (the item record's "joint" member, catalog
-- data): the hall (directory id) and the national item code of its part there. Written by the
-- catalog's import with the version it belongs to.
CREATE TABLE IF NOT EXISTS item_joint (
  code TEXT NOT NULL,
  version BIGINT NOT NULL,
  hall TEXT NOT NULL,
  item_code TEXT NOT NULL,
  PRIMARY KEY (code, version),
  FOREIGN KEY (code, version) REFERENCES service_items(code, version)
);

-- At the hall of the first step (A): the application whose second step was forwarded, and the
-- forwarding (fed_forwarded) that carries it to the other hall.
CREATE TABLE IF NOT EXISTS fed_joint (
  application_id BIGINT PRIMARY KEY REFERENCES applications(id),
  forwarded_id BIGINT NOT NULL UNIQUE REFERENCES fed_forwarded(id),
  created_at BIGINT NOT NULL
);

-- At the hall of the second step (B): the first step's decision that came with it.
CREATE TABLE IF NOT EXISTS fed_joint_prior (
  application_id BIGINT PRIMARY KEY REFERENCES applications(id),
  origin TEXT NOT NULL,              -- the hall of the first step
  origin_number TEXT NOT NULL,       -- its application's number there
  item_code TEXT NOT NULL,           -- its item there
  item_name TEXT NOT NULL,
  state TEXT NOT NULL,               -- its decision ('approved')
  decided_at BIGINT NOT NULL
);

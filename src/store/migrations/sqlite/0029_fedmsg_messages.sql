-- 0029_fedmsg_messages (SQLite): messages between halls (src/federation/msg.c). Keep the
-- same logical shape as migrations/postgres/0029_fedmsg_messages.sql.
-- The outbox holds what this hall sends, written in the same transaction as the change that
-- causes it and delivered by the duty "federation outbox" in order per (dest, subject); the
-- inbox what it received, once per (sender, idempotency key), in order per (sender, subject).
-- Both keep the SHA-256 of the request and of the response, which the transparency log
-- covers. Times are Unix seconds.

CREATE TABLE fed_outbox (
  id INTEGER PRIMARY KEY,
  dest TEXT NOT NULL,                -- the receiving hall's id in the directory
  subject TEXT NOT NULL,             -- what the message is about (one application): the order
  seq INTEGER NOT NULL,                -- 1, 2, ... per (dest, subject)
  idem_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,                -- the request body as sent
  request_hash TEXT NOT NULL,        -- hex SHA-256 of body
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  delivered_at INTEGER,
  response_hash TEXT,                -- hex SHA-256 of the receiver's answer
  UNIQUE (dest, subject, seq)
) STRICT;
CREATE INDEX fed_outbox_due ON fed_outbox(next_at) WHERE delivered_at IS NULL;

CREATE TABLE fed_inbox (
  sender TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  subject TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,                -- the request body as received
  request_hash TEXT NOT NULL,
  signature_hash TEXT NOT NULL,      -- hex SHA-256 of the Signature field (a replay repeats it)
  response TEXT NOT NULL,
  response_hash TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (sender, idem_key),
  UNIQUE (sender, subject, seq)
) STRICT;

-- 0023_pay_fees_orders (SQLite): fees and payments (缴费, src/pay). Keep the same logical shape
-- as migrations/postgres/0023_pay_fees_orders.sql. Money is integers of fen (分) throughout.

-- An item version's fee rule (the item record's "fee" member, catalog data: docs/payments.md).
-- Written by the catalog's import with the version it belongs to.
CREATE TABLE item_fees (
  code TEXT NOT NULL,
  version INTEGER NOT NULL,
  rule TEXT NOT NULL,                   -- JSON object, validated at import
  PRIMARY KEY (code, version),
  FOREIGN KEY (code, version) REFERENCES service_items(code, version)
) STRICT;

-- What an application owes, assessed once when the workflow reaches the item's payment point.
CREATE TABLE pay_fees (
  application_id INTEGER PRIMARY KEY REFERENCES applications(id),
  item_code TEXT NOT NULL,
  item_version INTEGER NOT NULL,
  department TEXT NOT NULL REFERENCES departments(code),
  point TEXT NOT NULL CHECK (point IN ('before_acceptance', 'after_approval')),
  gross INTEGER NOT NULL CHECK (gross >= 0),     -- fen by the rule, before any exemption
  amount INTEGER NOT NULL CHECK (amount >= 0),   -- fen due (0: exempt or free)
  exemption TEXT,                       -- the exemption's code, when one applied
  basis_zh TEXT NOT NULL,
  basis_en TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('due', 'paid', 'exempt', 'free')),
  assessed_at INTEGER NOT NULL,
  paid_order_id INTEGER
) STRICT;

-- Orders: one attempt to collect a fee through the gateway. A fee may need several (an order
-- that expired or failed is followed by a new one); at most one is open at a time.
CREATE TABLE pay_orders (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,          -- the reference the gateway knows it by
  application_id INTEGER NOT NULL REFERENCES pay_fees(application_id),
  payer_id INTEGER NOT NULL REFERENCES accounts(id),   -- the applicant or enterprise told of it
  department TEXT NOT NULL REFERENCES departments(code),
  item_code TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  state TEXT NOT NULL CHECK (state IN ('created', 'pending', 'paid', 'failed', 'expired', 'cancelled', 'held',
                                       'partly_refunded', 'refunded')),
  gateway_id TEXT UNIQUE,               -- the gateway's payment_id, once known
  pay_url TEXT,                         -- where the payer pays (the gateway's page)
  idem_key TEXT NOT NULL UNIQUE,        -- the create request's Idempotency-Key
  gw_seq INTEGER NOT NULL DEFAULT 0,    -- the newest gateway version of the payment applied
  paid_amount INTEGER NOT NULL DEFAULT 0 CHECK (paid_amount >= 0),
  refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0),           -- refunds paid out
  refund_reserved INTEGER NOT NULL DEFAULT 0 CHECK (refund_reserved >= 0), -- refunds asked for and not failed
  created_at INTEGER NOT NULL,
  sent_at INTEGER,                      -- first sent to the gateway (the 30 minutes run from here)
  expires_at INTEGER,
  paid_at INTEGER,
  closed_at INTEGER,                    -- failed, expired, cancelled or settled by a refund
  checked_at INTEGER,                   -- last asked of the gateway (the query duty)
  note TEXT NOT NULL DEFAULT '',        -- why it is held, or why it was refunded by itself
  CHECK (refund_reserved <= paid_amount AND refunded <= refund_reserved)
) STRICT;
CREATE UNIQUE INDEX pay_orders_open ON pay_orders(application_id) WHERE state IN ('created', 'pending');
CREATE INDEX pay_orders_application ON pay_orders(application_id, id);
CREATE INDEX pay_orders_unsettled ON pay_orders(state, checked_at) WHERE state IN ('pending', 'held');
CREATE INDEX pay_orders_department ON pay_orders(department, state, id);

CREATE TABLE pay_refunds (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,          -- the refund's Idempotency-Key at the gateway
  order_id INTEGER NOT NULL REFERENCES pay_orders(id),
  amount INTEGER NOT NULL CHECK (amount > 0),
  reason TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
  automatic INTEGER NOT NULL DEFAULT 0, -- 1: made by the hall itself (a payment after expiry)
  requested_by INTEGER REFERENCES accounts(id),
  gateway_id TEXT UNIQUE,
  created_at INTEGER NOT NULL,
  done_at INTEGER
) STRICT;
CREATE INDEX pay_refunds_order ON pay_refunds(order_id, id);
CREATE INDEX pay_refunds_pending ON pay_refunds(state) WHERE state = 'pending';

-- Notifications received, once each (the gateway's event id): duplicates are answered and
-- change nothing.
CREATE TABLE pay_notices (
  event_id TEXT PRIMARY KEY,
  order_id INTEGER REFERENCES pay_orders(id),
  type TEXT NOT NULL,
  seq INTEGER NOT NULL,
  outcome TEXT NOT NULL,                -- applied, stale (older than the order), ...
  received_at INTEGER NOT NULL
) STRICT;

-- Electronic receipts (电子票据) for payments and refunds, signed with the department's
-- certificate key and committed to the transparency log.
CREATE TABLE pay_receipts (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
  order_id INTEGER NOT NULL REFERENCES pay_orders(id),
  refund_id INTEGER UNIQUE REFERENCES pay_refunds(id),
  department TEXT NOT NULL REFERENCES departments(code),
  payer_id INTEGER NOT NULL REFERENCES accounts(id),
  key_id TEXT NOT NULL,
  document TEXT NOT NULL,               -- canonical JSON of the signed content
  signature TEXT NOT NULL,              -- base64 Ed25519 over document
  hash TEXT NOT NULL UNIQUE,            -- hex SHA-256 of document
  leaf_index INTEGER,
  issued_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX pay_receipts_payment ON pay_receipts(order_id) WHERE kind = 'payment';

-- Daily reconciliation of the gateway's settlement file with the orders.
CREATE TABLE pay_recon_runs (
  id INTEGER PRIMARY KEY,
  day TEXT NOT NULL UNIQUE,             -- YYYY-MM-DD, China Standard Time
  ran_at INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  total INTEGER NOT NULL,               -- fen, payments less refunds, as settled
  hall_total INTEGER NOT NULL,          -- fen, as the hall's orders say
  differences INTEGER NOT NULL
) STRICT;

-- One task per difference found, for administrators to resolve.
CREATE TABLE pay_recon_diffs (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES pay_recon_runs(id),
  kind TEXT NOT NULL CHECK (kind IN ('missing_in_hall', 'missing_in_settlement', 'amount_differs')),
  ref TEXT NOT NULL,                    -- the gateway's payment or refund id, or our order number
  order_id INTEGER REFERENCES pay_orders(id),
  hall_amount INTEGER NOT NULL,
  settled_amount INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
  resolved_by INTEGER REFERENCES accounts(id),
  resolved_at INTEGER,
  note TEXT NOT NULL DEFAULT '',
  UNIQUE (run_id, kind, ref)
) STRICT;
CREATE INDEX pay_recon_diffs_open ON pay_recon_diffs(state, id);

-- Order numbers: PO + day + a daily sequence.
CREATE TABLE pay_numbers (
  kind TEXT NOT NULL,
  day TEXT NOT NULL,
  last INTEGER NOT NULL,
  PRIMARY KEY (kind, day)
) STRICT;

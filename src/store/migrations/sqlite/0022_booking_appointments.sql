-- 0022_booking_appointments (SQLite): service centres and their counters, appointment slots,
-- bookings (预约), tickets (取号) and their calling (叫号) (src/booking). Keep the same logical
-- shape as migrations/postgres/0022_booking_appointments.sql. Times are Unix seconds; days are
-- day numbers since 1970-01-01 in China Standard Time; times of day are minutes after midnight,
-- China Standard Time.

-- Centres, counters, the items each counter serves and the places per slot: reference data,
-- replaced by `govhall import centres` (like the catalog's departments).
CREATE TABLE booking_centres (
  code TEXT NOT NULL PRIMARY KEY,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  address_zh TEXT NOT NULL DEFAULT '',
  address_en TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  open_min INTEGER NOT NULL CHECK (open_min BETWEEN 0 AND 1440),
  close_min INTEGER NOT NULL CHECK (close_min BETWEEN 0 AND 1440),
  break_start INTEGER,                -- a lunch break without slots (both or neither)
  break_end INTEGER,
  slot_minutes INTEGER NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE booking_counters (
  centre TEXT NOT NULL REFERENCES booking_centres(code),
  code TEXT NOT NULL,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  PRIMARY KEY (centre, code)
) STRICT;

CREATE TABLE booking_counter_items (
  centre TEXT NOT NULL,
  counter TEXT NOT NULL,
  item_code TEXT NOT NULL,
  PRIMARY KEY (centre, counter, item_code),
  FOREIGN KEY (centre, counter) REFERENCES booking_counters(centre, code)
) STRICT;
CREATE INDEX booking_counter_items_item ON booking_counter_items(item_code, centre);

-- Places per slot of an item at a centre, per booking channel.
CREATE TABLE booking_capacity (
  centre TEXT NOT NULL REFERENCES booking_centres(code),
  item_code TEXT NOT NULL,
  online INTEGER NOT NULL CHECK (online >= 0),
  phone INTEGER NOT NULL CHECK (phone >= 0),
  counter INTEGER NOT NULL CHECK (counter >= 0),
  PRIMARY KEY (centre, item_code)
) STRICT;

-- Places taken in a slot of one channel: made on first use, and a place is taken by one
-- conditional UPDATE (taken < capacity), never by reading and then writing.
CREATE TABLE booking_slots (
  id INTEGER PRIMARY KEY,
  centre TEXT NOT NULL,
  item_code TEXT NOT NULL,
  day INTEGER NOT NULL,
  start_min INTEGER NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('online', 'phone', 'counter')),
  taken INTEGER NOT NULL DEFAULT 0 CHECK (taken >= 0),
  UNIQUE (centre, item_code, day, start_min, channel)
) STRICT;

CREATE TABLE bookings (
  id INTEGER PRIMARY KEY,
  ref TEXT NOT NULL UNIQUE,           -- the booking's reference, shown to the citizen
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  enterprise_id INTEGER REFERENCES accounts(id),
  booked_by INTEGER REFERENCES accounts(id),   -- staff booking for a caller (phone, counter)
  centre TEXT NOT NULL,
  item_code TEXT NOT NULL,
  department TEXT NOT NULL,
  application_id INTEGER REFERENCES applications(id),
  application_number TEXT,            -- the application the visit is for (its number)
  slot_id INTEGER NOT NULL REFERENCES booking_slots(id),
  day INTEGER NOT NULL,
  start_min INTEGER NOT NULL,
  end_min INTEGER NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('online', 'phone', 'counter')),
  via TEXT NOT NULL,                  -- web, app, kiosk, phone, counter
  state TEXT NOT NULL CHECK (state IN ('held', 'booked', 'checked_in', 'served', 'missed', 'expired', 'cancelled', 'lapsed')),
  hold_until INTEGER,                 -- a hold lapses then unless confirmed
  name_enc BLOB NOT NULL,             -- the person's name and phone, sealed (key_id), with masks
  name_masked TEXT NOT NULL,
  phone_enc BLOB,
  phone_masked TEXT,
  key_id INTEGER NOT NULL,
  idempotency_key TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  reminded_at INTEGER,                -- the reminder of the day before went out (once)
  created_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  cancelled_at INTEGER,
  checked_in_at INTEGER,
  missed_at INTEGER,
  updated_at INTEGER NOT NULL,
  UNIQUE (account_id, idempotency_key)
) STRICT;
CREATE INDEX bookings_account ON bookings(account_id, id);
CREATE INDEX bookings_enterprise ON bookings(enterprise_id, id) WHERE enterprise_id IS NOT NULL;
CREATE INDEX bookings_slot ON bookings(slot_id, state);
CREATE INDEX bookings_day ON bookings(day, state);
CREATE INDEX bookings_held ON bookings(hold_until) WHERE state = 'held';
CREATE INDEX bookings_missed ON bookings(account_id, missed_at) WHERE state = 'missed';
CREATE INDEX bookings_application ON bookings(application_id) WHERE application_id IS NOT NULL;

-- Active bookings (held, booked, checked in) per person and item: the limit is one
-- conditional upsert, so two concurrent bookings cannot both pass it.
CREATE TABLE booking_quota (
  account_id INTEGER NOT NULL,
  item_code TEXT NOT NULL,
  active INTEGER NOT NULL CHECK (active >= 0),
  PRIMARY KEY (account_id, item_code)
) STRICT;

-- Online booking paused for a person after repeated no-shows.
CREATE TABLE booking_pauses (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  paused_from INTEGER NOT NULL,
  paused_until INTEGER NOT NULL,
  noshows INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX booking_pauses_account ON booking_pauses(account_id, paused_until);

CREATE TABLE booking_tickets (
  id INTEGER PRIMARY KEY,
  centre TEXT NOT NULL,
  day INTEGER NOT NULL,
  number TEXT NOT NULL,               -- Y001 (booked), A001 (walk-in): per centre and day
  kind TEXT NOT NULL CHECK (kind IN ('booked', 'walkin')),
  booking_id INTEGER UNIQUE REFERENCES bookings(id),
  item_code TEXT NOT NULL,
  department TEXT NOT NULL,
  account_id INTEGER REFERENCES accounts(id),
  name_enc BLOB,                      -- sealed (key_id); NULL when no name was given
  name_masked TEXT NOT NULL,
  key_id INTEGER,
  slot_at INTEGER,                    -- booked: the start of its slot
  issued_at INTEGER NOT NULL,
  issued_by INTEGER REFERENCES accounts(id),  -- staff issuing for a walk-in
  via TEXT NOT NULL,                  -- kiosk, app, web, counter
  state TEXT NOT NULL CHECK (state IN ('waiting', 'called', 'served', 'missed', 'expired')),
  counter TEXT,                       -- the counter that called it, or that it was sent to
  transferred_from TEXT,
  calls INTEGER NOT NULL DEFAULT 0,
  called_at INTEGER,
  called_by INTEGER REFERENCES accounts(id),
  closed_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (centre, day, number)
) STRICT;
CREATE INDEX booking_tickets_queue ON booking_tickets(centre, day, state);
CREATE INDEX booking_tickets_account ON booking_tickets(account_id, day);

CREATE TABLE booking_ticket_seq (
  centre TEXT NOT NULL,
  day INTEGER NOT NULL,
  prefix TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (centre, day, prefix)
) STRICT;

-- A change counter per centre: every call moves it, and the hall's screens follow it.
CREATE TABLE booking_display (
  centre TEXT NOT NULL PRIMARY KEY,
  seq INTEGER NOT NULL
) STRICT;

-- What happened to a booking or a ticket, by whom.
CREATE TABLE booking_events (
  id INTEGER PRIMARY KEY,
  booking_id INTEGER REFERENCES bookings(id),
  ticket_id INTEGER REFERENCES booking_tickets(id),
  action TEXT NOT NULL,
  actor_id INTEGER REFERENCES accounts(id),
  detail TEXT NOT NULL DEFAULT '{}',
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX booking_events_booking ON booking_events(booking_id, id) WHERE booking_id IS NOT NULL;
CREATE INDEX booking_events_ticket ON booking_events(ticket_id, id) WHERE ticket_id IS NOT NULL;

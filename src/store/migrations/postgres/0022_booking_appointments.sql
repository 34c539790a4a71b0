-- 0022_booking_appointments (PostgreSQL): service centres and their counters, appointment slots,
-- bookings (预约), tickets (取号) and their calling (叫号) (src/booking). Keep the same logical
-- shape as migrations/sqlite/0022_booking_appointments.sql. Times are Unix seconds; days are
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
  open_min BIGINT NOT NULL CHECK (open_min BETWEEN 0 AND 1440),
  close_min BIGINT NOT NULL CHECK (close_min BETWEEN 0 AND 1440),
  break_start BIGINT,                -- a lunch break without slots (both or neither)
  break_end BIGINT,
  slot_minutes BIGINT NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
  active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  updated_at BIGINT NOT NULL
);

CREATE TABLE booking_counters (
  centre TEXT NOT NULL REFERENCES booking_centres(code),
  code TEXT NOT NULL,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  PRIMARY KEY (centre, code)
);

CREATE TABLE booking_counter_items (
  centre TEXT NOT NULL,
  counter TEXT NOT NULL,
  item_code TEXT NOT NULL,
  PRIMARY KEY (centre, counter, item_code),
  FOREIGN KEY (centre, counter) REFERENCES booking_counters(centre, code)
);
CREATE INDEX booking_counter_items_item ON booking_counter_items(item_code, centre);

-- Places per slot of an item at a centre, per booking channel.
CREATE TABLE booking_capacity (
  centre TEXT NOT NULL REFERENCES booking_centres(code),
  item_code TEXT NOT NULL,
  online BIGINT NOT NULL CHECK (online >= 0),
  phone BIGINT NOT NULL CHECK (phone >= 0),
  counter BIGINT NOT NULL CHECK (counter >= 0),
  PRIMARY KEY (centre, item_code)
);

-- Places taken in a slot of one channel: made on first use, and a place is taken by one
-- conditional UPDATE (taken < capacity), never by reading and then writing.
CREATE TABLE booking_slots (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  centre TEXT NOT NULL,
  item_code TEXT NOT NULL,
  day BIGINT NOT NULL,
  start_min BIGINT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('online', 'phone', 'counter')),
  taken BIGINT NOT NULL DEFAULT 0 CHECK (taken >= 0),
  UNIQUE (centre, item_code, day, start_min, channel)
);

CREATE TABLE bookings (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ref TEXT NOT NULL UNIQUE,           -- the booking's reference, shown to the citizen
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  enterprise_id BIGINT REFERENCES accounts(id),
  booked_by BIGINT REFERENCES accounts(id),   -- staff booking for a caller (phone, counter)
  centre TEXT NOT NULL,
  item_code TEXT NOT NULL,
  department TEXT NOT NULL,
  application_id BIGINT REFERENCES applications(id),
  application_number TEXT,            -- the application the visit is for (its number)
  slot_id BIGINT NOT NULL REFERENCES booking_slots(id),
  day BIGINT NOT NULL,
  start_min BIGINT NOT NULL,
  end_min BIGINT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('online', 'phone', 'counter')),
  via TEXT NOT NULL,                  -- web, app, kiosk, phone, counter
  state TEXT NOT NULL CHECK (state IN ('held', 'booked', 'checked_in', 'served', 'missed', 'expired', 'cancelled', 'lapsed')),
  hold_until BIGINT,                 -- a hold lapses then unless confirmed
  name_enc BYTEA NOT NULL,             -- the person's name and phone, sealed (key_id), with masks
  name_masked TEXT NOT NULL,
  phone_enc BYTEA,
  phone_masked TEXT,
  key_id BIGINT NOT NULL,
  idempotency_key TEXT,
  version BIGINT NOT NULL DEFAULT 1,
  reminded_at BIGINT,                -- the reminder of the day before went out (once)
  created_at BIGINT NOT NULL,
  confirmed_at BIGINT,
  cancelled_at BIGINT,
  checked_in_at BIGINT,
  missed_at BIGINT,
  updated_at BIGINT NOT NULL,
  UNIQUE (account_id, idempotency_key)
);
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
  account_id BIGINT NOT NULL,
  item_code TEXT NOT NULL,
  active BIGINT NOT NULL CHECK (active >= 0),
  PRIMARY KEY (account_id, item_code)
);

-- Online booking paused for a person after repeated no-shows.
CREATE TABLE booking_pauses (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  paused_from BIGINT NOT NULL,
  paused_until BIGINT NOT NULL,
  noshows BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX booking_pauses_account ON booking_pauses(account_id, paused_until);

CREATE TABLE booking_tickets (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  centre TEXT NOT NULL,
  day BIGINT NOT NULL,
  number TEXT NOT NULL,               -- Y001 (booked), A001 (walk-in): per centre and day
  kind TEXT NOT NULL CHECK (kind IN ('booked', 'walkin')),
  booking_id BIGINT UNIQUE REFERENCES bookings(id),
  item_code TEXT NOT NULL,
  department TEXT NOT NULL,
  account_id BIGINT REFERENCES accounts(id),
  name_enc BYTEA,                      -- sealed (key_id); NULL when no name was given
  name_masked TEXT NOT NULL,
  key_id BIGINT,
  slot_at BIGINT,                    -- booked: the start of its slot
  issued_at BIGINT NOT NULL,
  issued_by BIGINT REFERENCES accounts(id),  -- staff issuing for a walk-in
  via TEXT NOT NULL,                  -- kiosk, app, web, counter
  state TEXT NOT NULL CHECK (state IN ('waiting', 'called', 'served', 'missed', 'expired')),
  counter TEXT,                       -- the counter that called it, or that it was sent to
  transferred_from TEXT,
  calls BIGINT NOT NULL DEFAULT 0,
  called_at BIGINT,
  called_by BIGINT REFERENCES accounts(id),
  closed_at BIGINT,
  version BIGINT NOT NULL DEFAULT 1,
  UNIQUE (centre, day, number)
);
CREATE INDEX booking_tickets_queue ON booking_tickets(centre, day, state);
CREATE INDEX booking_tickets_account ON booking_tickets(account_id, day);

CREATE TABLE booking_ticket_seq (
  centre TEXT NOT NULL,
  day BIGINT NOT NULL,
  prefix TEXT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (centre, day, prefix)
);

-- A change counter per centre: every call moves it, and the hall's screens follow it.
CREATE TABLE booking_display (
  centre TEXT NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL
);

-- What happened to a booking or a ticket, by whom.
CREATE TABLE booking_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  booking_id BIGINT REFERENCES bookings(id),
  ticket_id BIGINT REFERENCES booking_tickets(id),
  action TEXT NOT NULL,
  actor_id BIGINT REFERENCES accounts(id),
  detail TEXT NOT NULL DEFAULT '{}',
  at BIGINT NOT NULL
);
CREATE INDEX booking_events_booking ON booking_events(booking_id, id) WHERE booking_id IS NOT NULL;
CREATE INDEX booking_events_ticket ON booking_events(ticket_id, id) WHERE ticket_id IS NOT NULL;

-- 0030_dupes_followers (PostgreSQL): duplicate reports (src/interact/dupes.c). Keep the
-- same logical shape as the SQLite twin.
--
-- A complaint merged by staff into another one (its primary) is closed: state 'answered'
-- with merged_into set, and no answer of its own (the primary's answer reaches everybody).
ALTER TABLE complaints ADD COLUMN merged_into BIGINT REFERENCES complaints(id);
CREATE INDEX complaints_merged_into ON complaints(merged_into) WHERE merged_into IS NOT NULL;

-- People who said "this is my problem too" of an open report (via 'follow'), or whose own
-- report, or whose following of one, was merged into it (via 'merge'). A follower is told what
-- the reporter is told. subject_kind names the report's kind: "complaint" (complaints.id) or
-- "open311" (open311_requests.id, src/open311).
CREATE TABLE report_followers (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('complaint', 'open311')),
  subject_id BIGINT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  enterprise_id BIGINT REFERENCES accounts(id),  -- followed for the enterprise: its inbox is told
  via TEXT NOT NULL CHECK (via IN ('follow', 'merge')),
  created_at BIGINT NOT NULL,
  UNIQUE (subject_kind, subject_id, account_id)
);
CREATE INDEX report_followers_account ON report_followers(account_id);

-- An Open311 request staff merged into another (its primary): the duplicate is closed
-- (open311_requests.state 'merged', closed 1) and answers name the primary (src/open311).
CREATE TABLE open311_merges (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id BIGINT NOT NULL UNIQUE REFERENCES open311_requests(id),
  into_id BIGINT NOT NULL REFERENCES open311_requests(id),
  merged_by BIGINT NOT NULL REFERENCES accounts(id),
  merged_at BIGINT NOT NULL
);
CREATE INDEX open311_merges_into ON open311_merges(into_id);

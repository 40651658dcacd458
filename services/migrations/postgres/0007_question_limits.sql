-- The question pipeline's per-user limits (issue 13), held in the store so
-- they hold across processes sharing it:
-- question_rate: one question per second with a burst of three, as a
--   generic cell rate algorithm: `tat_ms` is the theoretical arrival time
--   of the next question; a question is admitted while tat_ms - now stays
--   within the burst tolerance, and moves it one interval on.
-- questions_in_flight: one question at a time per person; a row older than
--   the stale limit (a process that died mid-question) may be taken over.
-- Twin of migrations/sqlite/0007_question_limits.sql; keep them in step.
CREATE TABLE question_rate (
    user_id BIGINT PRIMARY KEY,
    tat_ms  BIGINT NOT NULL
);

CREATE TABLE questions_in_flight (
    user_id    BIGINT PRIMARY KEY,
    token      TEXT NOT NULL,
    started_at BIGINT NOT NULL
);

-- Initial schema (PostgreSQL). Keep in step with migrations/sqlite/0001_init.sql: the two
-- backends share every query (src/sql_store.rs), so tables and columns must match.
--
-- Conventions: `seq` orders rows for keyset pagination (an identity column: a deleted seq is
-- never reused); timestamps are unix milliseconds; maps and details are JSON text.

CREATE TABLE stages (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    tags           TEXT    NOT NULL,
    auto_recording TEXT,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX stages_by_name ON stages (name, seq);

CREATE TABLE tokens (
    participant_id   TEXT    NOT NULL PRIMARY KEY,
    stage_id         TEXT    NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    user_id          TEXT,
    attributes       TEXT    NOT NULL,
    can_publish      BOOLEAN NOT NULL,
    can_subscribe    BOOLEAN NOT NULL,
    duration_minutes BIGINT  NOT NULL,
    issued_at        BIGINT  NOT NULL,
    expires_at       BIGINT  NOT NULL
);
CREATE INDEX tokens_by_stage ON tokens (stage_id);
CREATE INDEX tokens_by_expiry ON tokens (expires_at);

-- No foreign key: revoking never fails for want of a stage; delete_stage removes them itself.
-- Keyed by stage and participant: self-signed tokens may reuse a participant id (jti) on
-- several stages, and disconnecting it from one must not undo a revocation on another.
CREATE TABLE revocations (
    stage_id       TEXT   NOT NULL,
    participant_id TEXT   NOT NULL,
    reason         TEXT,
    revoked_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (stage_id, participant_id)
);
CREATE INDEX revocations_by_expiry ON revocations (expires_at);

CREATE TABLE public_keys (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT   NOT NULL UNIQUE,
    name        TEXT   NOT NULL,
    material    TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL UNIQUE,
    tags        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A retired key (its private half lost or rotated away) stays listed so that a node still
-- holding it cannot register it again.
CREATE TABLE node_keys (
    kid        TEXT NOT NULL PRIMARY KEY,
    public_pem TEXT NOT NULL,
    retired_at BIGINT
);

CREATE TABLE sessions (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stage_id   TEXT   NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    session_id TEXT   NOT NULL,
    start_time BIGINT NOT NULL,
    end_time   BIGINT,
    UNIQUE (stage_id, session_id)
);
-- At most one active session per stage, whatever the callers race.
CREATE UNIQUE INDEX sessions_one_active ON sessions (stage_id) WHERE end_time IS NULL;

CREATE TABLE participants (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stage_id        TEXT    NOT NULL,
    session_id      TEXT    NOT NULL,
    participant_id  TEXT    NOT NULL,
    user_id         TEXT,
    state           TEXT    NOT NULL,
    first_join_time BIGINT  NOT NULL,
    attributes      TEXT    NOT NULL,
    published       BOOLEAN NOT NULL,
    recording_state TEXT    NOT NULL,
    details         TEXT    NOT NULL,
    UNIQUE (stage_id, session_id, participant_id),
    FOREIGN KEY (stage_id, session_id) REFERENCES sessions (stage_id, session_id) ON DELETE CASCADE
);
CREATE INDEX participants_by_stage ON participants (stage_id, participant_id);
CREATE INDEX participants_by_session ON participants (stage_id, session_id, seq);

CREATE TABLE events (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stage_id       TEXT   NOT NULL,
    session_id     TEXT   NOT NULL,
    participant_id TEXT   NOT NULL,
    name           TEXT   NOT NULL,
    event_time     BIGINT NOT NULL,
    details        TEXT   NOT NULL,
    FOREIGN KEY (stage_id, session_id) REFERENCES sessions (stage_id, session_id) ON DELETE CASCADE
);
CREATE INDEX events_by_participant ON events (stage_id, session_id, participant_id, seq);

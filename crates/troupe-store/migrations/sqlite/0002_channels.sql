-- Channels (the IVS low-latency `ivs` API), their stream keys and stream sessions, recording
-- configurations (channels) and storage configurations (stages), and per-participant recording
-- state (SQLite). Keep in step with migrations/postgres/0002_channels.sql.
--
-- References between resources are foreign keys without ON DELETE: deleting a configuration
-- that a channel or stage still uses fails, which the store reports as a conflict, and naming
-- one that does not exist fails, which it reports as not found; no race can slip between a
-- check and a write.

CREATE TABLE recording_configurations (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT   NOT NULL UNIQUE,
    name        TEXT   NOT NULL,
    bucket_name TEXT   NOT NULL,
    settings    TEXT   NOT NULL,
    tags        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE channels (
    seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
    id                         TEXT   NOT NULL UNIQUE,
    name                       TEXT   NOT NULL,
    recording_configuration_id TEXT   REFERENCES recording_configurations (id),
    settings                   TEXT   NOT NULL,
    tags                       TEXT   NOT NULL,
    created_at                 BIGINT NOT NULL
);
CREATE INDEX channels_by_name ON channels (name, seq);
CREATE INDEX channels_by_recording ON channels (recording_configuration_id, seq);

-- The value is the bearer secret an encoder streams with: unique, and looked up on ingest.
CREATE TABLE stream_keys (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT   NOT NULL UNIQUE,
    channel_id TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    value      TEXT   NOT NULL UNIQUE,
    tags       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stream_keys_by_channel ON stream_keys (channel_id, seq);

-- `channel` and `recording_configuration` are snapshots taken when the stream went live (as
-- GetStreamSession shows them); `events` is the JSON list of the session's stream events.
CREATE TABLE stream_sessions (
    seq                     INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id              TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    stream_id               TEXT   NOT NULL UNIQUE,
    start_time              BIGINT NOT NULL,
    end_time                BIGINT,
    channel                 TEXT   NOT NULL,
    ingest_configuration    TEXT   NOT NULL,
    recording_configuration TEXT,
    events                  TEXT   NOT NULL
);
CREATE INDEX stream_sessions_by_channel ON stream_sessions (channel_id, seq);

CREATE TABLE storage_configurations (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT   NOT NULL UNIQUE,
    name        TEXT   NOT NULL,
    bucket_name TEXT   NOT NULL,
    tags        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The storage configuration a stage's autoParticipantRecordingConfiguration names.
ALTER TABLE stages ADD COLUMN storage_configuration_id TEXT REFERENCES storage_configurations (id);
CREATE INDEX stages_by_storage ON stages (storage_configuration_id);

-- Written by the recorder, apart from the participant rows the events hub rewrites on every
-- change, so that neither overwrites the other and either may come first.
CREATE TABLE participant_recordings (
    stage_id       TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    state          TEXT NOT NULL,
    bucket_name    TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    PRIMARY KEY (stage_id, session_id, participant_id),
    FOREIGN KEY (stage_id, session_id) REFERENCES sessions (stage_id, session_id) ON DELETE CASCADE
);

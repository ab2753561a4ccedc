//! The operations of the IVS Real-Time API, by name: which Troupe serves, which are read-only
//! (what a read-only key may call), and which are known but not built yet.

/// An operation Troupe serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    CreateStage,
    GetStage,
    ListStages,
    UpdateStage,
    DeleteStage,
    ListStageSessions,
    GetStageSession,
    CreateParticipantToken,
    DisconnectParticipant,
    GetParticipant,
    ListParticipants,
    ListParticipantEvents,
    ImportPublicKey,
    GetPublicKey,
    ListPublicKeys,
    DeletePublicKey,
    TagResource,
    UntagResource,
    ListTagsForResource,
}

impl Operation {
    pub const ALL: [Operation; 19] = [
        Operation::CreateStage,
        Operation::GetStage,
        Operation::ListStages,
        Operation::UpdateStage,
        Operation::DeleteStage,
        Operation::ListStageSessions,
        Operation::GetStageSession,
        Operation::CreateParticipantToken,
        Operation::DisconnectParticipant,
        Operation::GetParticipant,
        Operation::ListParticipants,
        Operation::ListParticipantEvents,
        Operation::ImportPublicKey,
        Operation::GetPublicKey,
        Operation::ListPublicKeys,
        Operation::DeletePublicKey,
        Operation::TagResource,
        Operation::UntagResource,
        Operation::ListTagsForResource,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operation::CreateStage => "CreateStage",
            Operation::GetStage => "GetStage",
            Operation::ListStages => "ListStages",
            Operation::UpdateStage => "UpdateStage",
            Operation::DeleteStage => "DeleteStage",
            Operation::ListStageSessions => "ListStageSessions",
            Operation::GetStageSession => "GetStageSession",
            Operation::CreateParticipantToken => "CreateParticipantToken",
            Operation::DisconnectParticipant => "DisconnectParticipant",
            Operation::GetParticipant => "GetParticipant",
            Operation::ListParticipants => "ListParticipants",
            Operation::ListParticipantEvents => "ListParticipantEvents",
            Operation::ImportPublicKey => "ImportPublicKey",
            Operation::GetPublicKey => "GetPublicKey",
            Operation::ListPublicKeys => "ListPublicKeys",
            Operation::DeletePublicKey => "DeletePublicKey",
            Operation::TagResource => "TagResource",
            Operation::UntagResource => "UntagResource",
            Operation::ListTagsForResource => "ListTagsForResource",
        }
    }

    /// The operation served at `POST /<name>` (the tag operations live under `/tags/`).
    pub fn from_post_path(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().filter(|op| !op.is_tag_operation()).find(|op| op.name() == name)
    }

    pub fn is_tag_operation(self) -> bool {
        matches!(
            self,
            Operation::TagResource | Operation::UntagResource | Operation::ListTagsForResource
        )
    }

    /// Whether the operation only reads: what a read-only key may call. Listed one by one
    /// (not by name prefix) so that a new operation is a write until said otherwise.
    pub fn is_read_only(self) -> bool {
        match self {
            Operation::GetStage
            | Operation::ListStages
            | Operation::ListStageSessions
            | Operation::GetStageSession
            | Operation::GetParticipant
            | Operation::ListParticipants
            | Operation::ListParticipantEvents
            | Operation::GetPublicKey
            | Operation::ListPublicKeys
            | Operation::ListTagsForResource => true,
            Operation::CreateStage
            | Operation::UpdateStage
            | Operation::DeleteStage
            | Operation::CreateParticipantToken
            | Operation::DisconnectParticipant
            | Operation::ImportPublicKey
            | Operation::DeletePublicKey
            | Operation::TagResource
            | Operation::UntagResource => false,
        }
    }
}

/// IVS Real-Time operations that Troupe knows of but does not serve yet: calls answer a clear
/// NotImplementedException naming the operation instead of a confusing 404.
pub const NOT_YET_IMPLEMENTED: &[(&str, &str)] = &[
    ("StartComposition", "server-side composition"),
    ("StopComposition", "server-side composition"),
    ("GetComposition", "server-side composition"),
    ("ListCompositions", "server-side composition"),
    ("CreateEncoderConfiguration", "encoder configurations"),
    ("GetEncoderConfiguration", "encoder configurations"),
    ("ListEncoderConfigurations", "encoder configurations"),
    ("DeleteEncoderConfiguration", "encoder configurations"),
    ("CreateStorageConfiguration", "storage configurations"),
    ("GetStorageConfiguration", "storage configurations"),
    ("ListStorageConfigurations", "storage configurations"),
    ("DeleteStorageConfiguration", "storage configurations"),
    ("CreateIngestConfiguration", "RTMP ingest configurations"),
    ("GetIngestConfiguration", "RTMP ingest configurations"),
    ("UpdateIngestConfiguration", "RTMP ingest configurations"),
    ("ListIngestConfigurations", "RTMP ingest configurations"),
    ("DeleteIngestConfiguration", "RTMP ingest configurations"),
    ("StartParticipantReplication", "participant replication"),
    ("StopParticipantReplication", "participant replication"),
    ("ListParticipantReplicas", "participant replication"),
];

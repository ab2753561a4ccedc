//! The operations of the IVS Real-Time and `ivs` (channels) APIs, by name: which Troupe
//! serves, which are read-only (what a read-only key may call), and which are known but not
//! built yet.

/// Declares the operations once: the enum, `ALL` and `name` cannot drift apart.
macro_rules! operations {
    ($($op:ident),* $(,)?) => {
        /// An operation Troupe serves: the IVS Real-Time API's (`ivs-realtime`) and the
        /// low-latency streaming API's (`ivs`: channels). Both are signed with the name `ivs`
        /// and routed by name at `POST /{Operation}`; their names do not collide.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($op),*
        }

        impl Operation {
            pub const ALL: [Operation; [$(Operation::$op),*].len()] = [$(Operation::$op),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$op => stringify!($op)),*
                }
            }
        }
    };
}

operations! {
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
    CreateStorageConfiguration,
    GetStorageConfiguration,
    ListStorageConfigurations,
    DeleteStorageConfiguration,
    CreateChannel,
    GetChannel,
    BatchGetChannel,
    ListChannels,
    UpdateChannel,
    DeleteChannel,
    CreateStreamKey,
    GetStreamKey,
    ListStreamKeys,
    DeleteStreamKey,
    GetStream,
    ListStreams,
    StopStream,
    GetStreamSession,
    ListStreamSessions,
    CreateRecordingConfiguration,
    GetRecordingConfiguration,
    ListRecordingConfigurations,
    DeleteRecordingConfiguration,
}

impl Operation {
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

    /// The `ivs` model answers its deletes with 204 and no body; everything else is 200.
    pub fn answers_no_content(self) -> bool {
        matches!(
            self,
            Operation::DeleteChannel
                | Operation::DeleteStreamKey
                | Operation::DeleteRecordingConfiguration
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
            | Operation::ListTagsForResource
            | Operation::GetStorageConfiguration
            | Operation::ListStorageConfigurations
            | Operation::GetChannel
            | Operation::BatchGetChannel
            | Operation::ListChannels
            | Operation::GetStreamKey
            | Operation::ListStreamKeys
            | Operation::GetStream
            | Operation::ListStreams
            | Operation::GetStreamSession
            | Operation::ListStreamSessions
            | Operation::GetRecordingConfiguration
            | Operation::ListRecordingConfigurations => true,
            Operation::CreateStage
            | Operation::UpdateStage
            | Operation::DeleteStage
            | Operation::CreateParticipantToken
            | Operation::DisconnectParticipant
            | Operation::ImportPublicKey
            | Operation::DeletePublicKey
            | Operation::TagResource
            | Operation::UntagResource
            | Operation::CreateStorageConfiguration
            | Operation::DeleteStorageConfiguration
            | Operation::CreateChannel
            | Operation::UpdateChannel
            | Operation::DeleteChannel
            | Operation::CreateStreamKey
            | Operation::DeleteStreamKey
            | Operation::StopStream
            | Operation::CreateRecordingConfiguration
            | Operation::DeleteRecordingConfiguration => false,
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
    ("CreateIngestConfiguration", "RTMP ingest configurations"),
    ("GetIngestConfiguration", "RTMP ingest configurations"),
    ("UpdateIngestConfiguration", "RTMP ingest configurations"),
    ("ListIngestConfigurations", "RTMP ingest configurations"),
    ("DeleteIngestConfiguration", "RTMP ingest configurations"),
    ("StartParticipantReplication", "participant replication"),
    ("StopParticipantReplication", "participant replication"),
    ("ListParticipantReplicas", "participant replication"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_route_back_to_their_operation() {
        for op in Operation::ALL {
            if !op.is_tag_operation() {
                assert_eq!(Operation::from_post_path(op.name()), Some(op));
            }
            assert!(
                !NOT_YET_IMPLEMENTED.iter().any(|(name, _)| *name == op.name()),
                "{} is served and listed as not implemented",
                op.name()
            );
        }
        assert_eq!(Operation::from_post_path("CreateChannel"), Some(Operation::CreateChannel));
        assert_eq!(Operation::from_post_path("TagResource"), None);
    }
}

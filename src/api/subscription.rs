use async_graphql::{Context, Enum, Object, Result, Subscription, ID};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use crate::service::{self, Change, ServiceError};

use super::error::to_graphql;
use super::service;

pub struct SubscriptionRoot;

/// What happened to a record.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service::ChangeKind")]
pub enum ChangeKind {
    /// It was recorded.
    Created,
    /// Its fields changed.
    Updated,
    /// It was removed.
    Deleted,
}

/// Which sort of record changed.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service::RecordType")]
pub enum RecordType {
    /// An entity.
    Entity,
    /// A relation.
    Relation,
    /// A source.
    Source,
    /// A claim.
    Claim,
}

pub struct ChangeEvent(Change);

/// One committed write.
#[Object]
impl ChangeEvent {
    /// What happened.
    async fn kind(&self) -> ChangeKind {
        self.0.kind.into()
    }

    /// To which sort of record.
    async fn record_type(&self) -> RecordType {
        self.0.record.into()
    }

    /// The id of the record that changed; look it up with `node` (null once deleted).
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The entities the change touches: the entity itself, or a relation's two ends.
    async fn entities(&self) -> Vec<ID> {
        self.0.entities.iter().cloned().map(ID).collect()
    }
}

/// Live feeds of the graph's changes.
#[Subscription]
impl SubscriptionRoot {
    /// Every write as it is committed. With `entity`, only the changes touching that entity:
    /// writes to it, to its relations and their claims, and to claims it made. An entity that
    /// does not exist is refused (NOT_FOUND). A subscriber that falls far behind is disconnected
    /// rather than buffered without bound.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes touching this entity.")] entity: Option<ID>,
    ) -> Result<impl Stream<Item = ChangeEvent>> {
        if let Some(id) = &entity {
            if service(ctx).entity(&id.0).map_err(to_graphql)?.is_none() {
                return Err(to_graphql(ServiceError::not_found(
                    "entity", &id.0, "entity",
                )));
            }
        }
        let receiver = service(ctx).subscribe();
        // Each commit's change record carries its events; they are handed out one at a time.
        let pending = std::collections::VecDeque::<Change>::new();
        Ok(stream::unfold(
            (receiver, entity, pending),
            |(mut receiver, entity, mut pending)| async move {
                loop {
                    if let Some(change) = pending.pop_front() {
                        return Some((ChangeEvent(change), (receiver, entity, pending)));
                    }
                    match receiver.recv().await {
                        Ok(record) => pending.extend(
                            record
                                .events
                                .iter()
                                .filter(|change| {
                                    entity
                                        .as_ref()
                                        .is_none_or(|e| change.entities.contains(&e.0))
                                })
                                .cloned(),
                        ),
                        // Lagged: too slow to keep up; Closed: shutting down. Either ends the feed.
                        Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }
}

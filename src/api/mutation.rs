use async_graphql::{Context, Object, Result, ID};

use crate::model;

use super::access::WriteGuard;
use super::blocking;
use super::inputs::{
    ClaimInput, CreateEntityInput, CreateRelationInput, SourceInput, UpdateEntityInput,
    UpdateRelationInput, UpdateSourceInput,
};
use super::types::{Claim, DeletePayload, Entity, Relation, Source};

pub struct MutationRoot;

fn deleted_ids(deleted: impl IntoIterator<Item = String>) -> DeletePayload {
    DeletePayload {
        deleted_ids: deleted.into_iter().map(ID).collect(),
    }
}

/// Changes to the graph. Each is validated, atomic, and durable on disk before it is answered;
/// a refused change writes nothing.
#[Object]
impl MutationRoot {
    /// Records a new entity. When an identifier it gives (`uei`, `duns`, `wikidata`, ... any
    /// scheme but `registration`) is held by an entity already, that entity is the one meant:
    /// its name and aliases gain the new ones, its identifiers the new ones, and it is returned
    /// (under its own id) instead of a second entity being made.
    #[graphql(guard = "WriteGuard")]
    async fn create_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity to record.")] input: CreateEntityInput,
    ) -> Result<Entity> {
        let draft = model::EntityDraft::from(input);
        blocking(ctx, move |s| s.create_entity(draft))
            .await
            .map(Entity::loaded)
    }

    /// Changes an entity's fields.
    #[graphql(guard = "WriteGuard")]
    async fn update_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity to change.")] id: ID,
        #[graphql(desc = "The fields to change.")] input: UpdateEntityInput,
    ) -> Result<Entity> {
        let patch = model::EntityPatch::from(input);
        blocking(ctx, move |s| s.update_entity(&id, patch))
            .await
            .map(Entity::loaded)
    }

    /// Deletes an entity. Refused while it has relations or made claims, unless `cascade`,
    /// which deletes those relations and claims too (and a relation left without a claim).
    #[graphql(guard = "WriteGuard")]
    async fn delete_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity to delete.")] id: ID,
        #[graphql(desc = "Also delete what depends on it.", default_with = "Some(false)")] cascade: Option<bool>,
    ) -> Result<DeletePayload> {
        let deleted =
            blocking(ctx, move |s| s.delete_entity(&id, cascade.unwrap_or(false))).await?;
        Ok(deleted_ids(
            deleted
                .entities
                .into_iter()
                .chain(deleted.relations)
                .chain(deleted.claims),
        ))
    }

    /// Records a new source.
    #[graphql(guard = "WriteGuard")]
    async fn create_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source to record.")] input: SourceInput,
    ) -> Result<Source> {
        let draft = model::SourceDraft::from(input);
        blocking(ctx, move |s| s.create_source(draft))
            .await
            .map(Source)
    }

    /// Changes a source's fields: those left out stay as they are; its id stays.
    #[graphql(guard = "WriteGuard")]
    async fn update_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source to change.")] id: ID,
        #[graphql(desc = "The fields to change.")] input: UpdateSourceInput,
    ) -> Result<Source> {
        let patch = model::SourcePatch::from(input);
        blocking(ctx, move |s| s.update_source(&id, patch))
            .await
            .map(Source)
    }

    /// Deletes a source; refused while any claim cites it.
    #[graphql(guard = "WriteGuard")]
    async fn delete_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source to delete.")] id: ID,
    ) -> Result<DeletePayload> {
        let deleted = id.0.clone();
        blocking(ctx, move |s| s.delete_source(&id)).await?;
        Ok(deleted_ids([deleted]))
    }

    /// Records a relation together with the claim that reports it.
    #[graphql(guard = "WriteGuard")]
    async fn create_relation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relation and its first claim.")] input: CreateRelationInput,
    ) -> Result<Relation> {
        let draft = model::RelationDraft::from(input);
        blocking(ctx, move |s| s.create_relation(draft))
            .await
            .map(Relation)
    }

    /// Changes a relation's status, role, description, amount or period.
    #[graphql(guard = "WriteGuard")]
    async fn update_relation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relation to change.")] id: ID,
        #[graphql(desc = "The qualifiers to change.")] input: UpdateRelationInput,
    ) -> Result<Relation> {
        let patch = model::RelationPatch::from(input);
        blocking(ctx, move |s| s.update_relation(&id, patch))
            .await
            .map(Relation)
    }

    /// Deletes a relation and its claims.
    #[graphql(guard = "WriteGuard")]
    async fn delete_relation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relation to delete.")] id: ID,
    ) -> Result<DeletePayload> {
        let deleted = blocking(ctx, move |s| s.delete_relation(&id)).await?;
        Ok(deleted_ids(
            deleted.relations.into_iter().chain(deleted.claims),
        ))
    }

    /// Adds a claim, for or against, to a relation.
    #[graphql(guard = "WriteGuard")]
    async fn add_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relation the claim is about.")] relation: ID,
        #[graphql(desc = "The claim: its source, stance, claimant and quote.")] claim: ClaimInput,
    ) -> Result<Claim> {
        let draft = model::ClaimDraft::from(claim);
        blocking(ctx, move |s| s.add_claim(&relation, draft))
            .await
            .map(Claim)
    }

    /// Merges `from` into `into`, two records of one real thing, in one atomic write: `from`'s
    /// ties become `into`'s (a tie `into` already has, of the same kind with the same entity,
    /// takes their claims), the claims `from` made are credited to `into`, `from`'s names and
    /// identifiers are added to `into`'s (whose own fields stay), and `from` is deleted. The id
    /// `from` keeps leading to `into`: `entity(id: from)` answers with it, `mergedInto` says
    /// so. Refused when a tie joins the two (delete it first) or would not suit `into`'s kind.
    /// Returns `into` as it is now.
    #[graphql(guard = "WriteGuard")]
    async fn merge_entities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity that stays.")] into: ID,
        #[graphql(desc = "The entity merged into it, whose id will lead to it.")] from: ID,
    ) -> Result<Entity> {
        blocking(ctx, move |s| s.merge_entities(&into, &from))
            .await
            .map(Entity::loaded)
    }

    /// Undoes the merge that took the entity `from` away, putting back exactly the entities,
    /// ties and claims there were before it. Refused with `CONFLICT`, writing nothing, when a
    /// record the merge wrote has changed since (an edit, an import, a later merge: undo that
    /// first). Returns the two entities: the one merged into, then `from`.
    #[graphql(guard = "WriteGuard")]
    async fn unmerge(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id that was merged away.")] from: ID,
    ) -> Result<Vec<Entity>> {
        blocking(ctx, move |s| s.unmerge(&from))
            .await
            .map(|entities| entities.into_iter().map(Entity::loaded).collect())
    }

    /// Deletes a claim; refused for a relation's last claim (delete the relation instead).
    #[graphql(guard = "WriteGuard")]
    async fn delete_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim to delete.")] id: ID,
    ) -> Result<DeletePayload> {
        let deleted = id.0.clone();
        blocking(ctx, move |s| s.delete_claim(&id)).await?;
        Ok(deleted_ids([deleted]))
    }
}

use async_graphql::{Context, Object, Result, ID};

use crate::model;
use crate::service::{ConnectedRequest, PathRequest, ShortestRequest};

use super::connection::{
    ClaimConnection, DuplicateCandidateConnection, EntityConnection, PathConnection,
    ReachConnection, SourceConnection,
};
use super::enums::{EntityKind, ExportFormat, ExportScope, RelationKind};
use super::error::{bad_input, to_graphql};
use super::inputs::{self, hop_specs, BudgetInput, EntityFilter, EntityOrder, HopInput};
use super::types::{
    entity_connection, Claim, DuplicateCandidate, Entity, GraphStats, Node, Path, Reach, Relation,
    ShortestPaths, Source, Subgraph,
};
use super::{blocking, page_size, service, DEFAULT_PAGE};

pub struct QueryRoot;

/// Questions about the graph. Lookups of unknown ids return null; searches from unknown ids are errors.
#[Object]
impl QueryRoot {
    /// The entity with this id, or null; for an id merged away (`mergeEntities`), the entity it
    /// was merged into.
    async fn entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's slug, e.g. `cbp`.")] id: ID,
    ) -> Result<Option<Entity>> {
        Ok(service(ctx)
            .entity_or_merged(&id)
            .map_err(to_graphql)?
            .map(Entity::loaded))
    }

    /// The entity an id was merged into by `mergeEntities` (through later merges too), or
    /// null for an id that was never merged away. `entity(id:)` follows merges the same way.
    async fn merged_into(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An entity id, as it was before a merge.")] id: ID,
    ) -> Result<Option<Entity>> {
        let service = service(ctx);
        Ok(match service.merged_into(&id).map_err(to_graphql)? {
            Some(into) => service
                .entity(&into)
                .map_err(to_graphql)?
                .map(Entity::loaded),
            None => None,
        })
    }

    /// Entities, filtered by kind, country, identifier, identifier scheme, last change and
    /// text (`filter`), in the order `orderBy` asks for (by name, id, degree or last change,
    /// either way). Without `orderBy` they come in id order, or, when `filter.text` is given,
    /// best match first: every word of the text must be found, in any order, ignoring case
    /// and accents, in the id, name, aliases or description; a text that is a whole name or
    /// alias comes first, then entities where every word is a whole word, then the start of
    /// one, then inside one (`ICE` finds ICE before RAICES), and matches in names before
    /// matches in descriptions. `totalCount` counts every entity the filter keeps.
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE as i32).max(0) as usize * child_complexity + 1"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn entities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which entities to list (all when absent).")] filter: Option<EntityFilter>,
        #[graphql(
            desc = "The order: by id when absent, or by relevance when `filter.text` is given."
        )]
        order_by: Option<EntityOrder>,
        #[graphql(
            desc = "Only entities of this kind.",
            deprecation = "Use `filter: {kinds: [...]}`."
        )]
        kind: Option<EntityKind>,
        #[graphql(
            desc = "Words to find, in any order, ignoring case and accents (`customs border`, `cafe`).",
            deprecation = "Use `filter: {text: ...}`."
        )]
        search: Option<String>,
        #[graphql(
            desc = "Only entities of this country (ISO 3166-1 alpha-2, any case).",
            deprecation = "Use `filter: {country: ...}`."
        )]
        country: Option<String>,
        #[graphql(
            desc = "Only entities with this identifier, written `scheme:value` (`uei:J7M9HPTGJ1S9`), any case.",
            deprecation = "Use `filter: {identifier: ...}`."
        )]
        identifier: Option<String>,
        #[graphql(desc = "Page size (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last entity of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<EntityConnection> {
        let service = service(ctx);
        let first = page_size(first, service.limits().max_page)?;
        inputs::one_way(
            filter.is_some(),
            &[
                ("kind", kind.is_some()),
                ("search", search.is_some()),
                ("country", country.is_some()),
                ("identifier", identifier.is_some()),
            ],
            "filter",
        )?;
        let filter = filter.unwrap_or_else(|| EntityFilter {
            kinds: kind.map(|k| vec![k]),
            country,
            identifier,
            text: search,
            ..EntityFilter::default()
        });
        let query = filter.query("filter")?;
        let order = order_by.map(Into::into);
        let count = ctx.look_ahead().field("totalCount").exists();
        let cursor = after.clone();
        // A text search, an order or a count reads every entity of the index: off the async
        // runtime.
        let page = blocking(ctx, move |s| {
            s.entities(&query, order, cursor.as_deref(), first, count)
        })
        .await?;
        Ok(entity_connection(page, after.is_some()))
    }

    /// The relation with this id, or null.
    async fn relation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relation's id.")] id: ID,
    ) -> Result<Option<Relation>> {
        Ok(service(ctx)
            .relation(&id)
            .map_err(to_graphql)?
            .map(Relation))
    }

    /// The source with this id, or null.
    async fn source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's id.")] id: ID,
    ) -> Result<Option<Source>> {
        Ok(service(ctx).source(&id).map_err(to_graphql)?.map(Source))
    }

    /// The claim with this id, or null.
    async fn claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim's id.")] id: ID,
    ) -> Result<Option<Claim>> {
        Ok(service(ctx).claim(&id).map_err(to_graphql)?.map(Claim))
    }

    /// Claims whose quote or claimant holds every word of `search`, in any order, ignoring case
    /// and accents: who said "operational backbone", and where. The search reads the
    /// relations in id order, so a page is bounded by the budget (`partial` says when it was
    /// cut short).
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE as i32).max(0) as usize * child_complexity + 10"
    )]
    async fn claims(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words the quote or the claimant holds (`operational backbone`).")]
        search: String,
        #[graphql(desc = "Page size (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last claim of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Less work than the server allows, to bound this search.")] budget: Option<
            BudgetInput,
        >,
    ) -> Result<ClaimConnection> {
        let first = page_size(first, service(ctx).limits().max_page)?;
        let budget = inputs::budget(budget)?;
        let cursor = after.clone();
        let page = blocking(ctx, move |s| {
            s.search_claims(&search, cursor.as_deref(), first, budget)
        })
        .await?;
        let items = page
            .items
            .into_iter()
            .map(|c| (c.id.clone(), Claim(c)))
            .collect();
        Ok(ClaimConnection::new(
            items,
            after.is_some(),
            page.has_next,
            page.partial,
        ))
    }

    /// Sources whose id, title, publisher or address holds every word of `search`, in any
    /// order, ignoring case and accents, in id order; bounded by the budget like `claims`.
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE as i32).max(0) as usize * child_complexity + 10"
    )]
    async fn sources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words the source's id, title, publisher or address holds.")]
        search: String,
        #[graphql(desc = "Page size (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last source of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Less work than the server allows, to bound this search.")] budget: Option<
            BudgetInput,
        >,
    ) -> Result<SourceConnection> {
        let first = page_size(first, service(ctx).limits().max_page)?;
        let budget = inputs::budget(budget)?;
        let cursor = after.clone();
        let page = blocking(ctx, move |s| {
            s.search_sources(&search, cursor.as_deref(), first, budget)
        })
        .await?;
        let items = page
            .items
            .into_iter()
            .map(|s| (s.id.clone(), Source(s)))
            .collect();
        Ok(SourceConnection::new(
            items,
            after.is_some(),
            page.has_next,
            page.partial,
        ))
    }

    /// Groups of entities that may be one real thing recorded twice (the same company from two
    /// sources): the same name or alias once case, accents, punctuation and legal forms such as
    /// Inc, LLC or Corp are set aside (within one kind), or the same identifier. Each group
    /// says why; nothing is merged.
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE as i32).max(0) as usize * child_complexity + 10"
    )]
    async fn duplicate_candidates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entities of this kind.")] kind: Option<EntityKind>,
        #[graphql(desc = "Page size (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last group of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<DuplicateCandidateConnection> {
        let first = page_size(first, service(ctx).limits().max_page)?;
        let kind = kind.map(Into::into);
        let cursor = after.clone();
        let (groups, has_next) = blocking(ctx, move |s| {
            s.duplicate_candidates(kind, cursor.as_deref(), first)
        })
        .await?;
        let items = groups
            .into_iter()
            .map(|g| (g.key.clone(), DuplicateCandidate(g)))
            .collect();
        Ok(DuplicateCandidateConnection::new(
            items,
            after.is_some(),
            has_next,
        ))
    }

    /// Any record by id: an entity, relation, source or claim; null when none has it.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Any record's id.")] id: ID,
    ) -> Result<Option<Node>> {
        Ok(service(ctx).node(&id).map_err(to_graphql)?.map(Node::from))
    }

    /// How big the graph is.
    async fn stats(&self, ctx: &Context<'_>) -> GraphStats {
        let service = service(ctx);
        GraphStats {
            entities: i32::try_from(service.entity_count()).unwrap_or(i32::MAX),
            relations: i32::try_from(service.relation_count()).unwrap_or(i32::MAX),
        }
    }

    /// Every path from an entity that follows a pattern of hops, shortest first, then by relation
    /// ids. Each hop carries its relation and the relation's claims, so every answer is cited.
    /// Each page is searched for from its cursor on, so it costs the paths on it.
    /// Example, the nonprofits tied to CBP through its vendors:
    /// `paths(from: "cbp", pattern: [{relationKinds: [VENDOR_TO], direction: IN}, {direction: ANY, entityKinds: [NONPROFIT]}])`.
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE as i32).max(0) as usize * child_complexity + 10"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn paths(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity paths start from.")] from: ID,
        #[graphql(desc = "The hops, in order, that a path follows.")] pattern: Vec<HopInput>,
        #[graphql(desc = "Only paths ending at this entity.")] to: Option<ID>,
        #[graphql(
            desc = "Also cross relations whose every claim denies them.",
            default_with = "Some(false)"
        )]
        include_denied: Option<bool>,
        #[graphql(
            desc = "Only cross relations that may have held on this date (YYYY, YYYY-MM or YYYY-MM-DD)."
        )]
        as_of: Option<String>,
        #[graphql(desc = "Page size (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last path of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Less work than the server allows, to bound this search.")] budget: Option<
            BudgetInput,
        >,
    ) -> Result<PathConnection> {
        let request = PathRequest {
            from: from.0,
            hops: hop_specs(pattern)?,
            to: to.map(|t| t.0),
            include_denied: include_denied.unwrap_or(false),
            as_of: inputs::as_of(as_of)?,
            first: page_size(first, service(ctx).limits().max_page)?,
            after: after.clone(),
            budget: inputs::budget(budget)?,
            count: ctx.look_ahead().field("totalCount").exists(),
        };
        let page = blocking(ctx, move |s| s.paths(&request)).await?;
        let total = page
            .total
            .map_or(0, |t| i32::try_from(t).unwrap_or(i32::MAX));
        let items = page
            .paths
            .into_iter()
            .map(|p| (p.cursor.clone(), Path(p)))
            .collect();
        Ok(PathConnection::new(
            items,
            page.has_previous,
            page.has_next,
            page.partial,
            total,
        ))
    }

    /// Each entity a pattern reaches, once, in id order, with (when selected) how many paths
    /// reach it and a few example paths: the set form of `paths`, and usually what "which X are
    /// connected to Y through Z" means. An entity is reached when some walk matching the pattern
    /// ends at it (the start itself excluded). The search expands each entity at most once per
    /// hop, so it costs the relations it touches, not the number of paths; its answer is kept
    /// and later pages are served from it until the graph changes.
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE as i32).max(0) as usize * child_complexity + 10"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn connected(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity the pattern starts from.")] from: ID,
        #[graphql(desc = "The hops, in order, that a path follows.")] pattern: Vec<HopInput>,
        #[graphql(
            desc = "Also cross relations whose every claim denies them.",
            default_with = "Some(false)"
        )]
        include_denied: Option<bool>,
        #[graphql(desc = "Only cross relations that may have held on this date.")] as_of: Option<
            String,
        >,
        #[graphql(
            desc = "Example paths to give per entity reached (at most 10).",
            default_with = "Some(3)"
        )]
        examples: Option<i32>,
        #[graphql(desc = "Page size (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last entity of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Less work than the server allows, to bound this search.")] budget: Option<
            BudgetInput,
        >,
    ) -> Result<ReachConnection> {
        let examples = examples.unwrap_or(3);
        if !(0..=10).contains(&examples) {
            return Err(bad_input("examples", "examples must be between 0 and 10"));
        }
        let request = ConnectedRequest {
            from: from.0,
            hops: hop_specs(pattern)?,
            include_denied: include_denied.unwrap_or(false),
            as_of: inputs::as_of(as_of)?,
            examples: if selects_on_nodes(ctx, "examples") {
                examples as usize
            } else {
                0
            },
            count_paths: selects_on_nodes(ctx, "pathCount")
                || selects_on_nodes(ctx, "pathCountExact"),
            first: page_size(first, service(ctx).limits().max_page)?,
            after,
            budget: inputs::budget(budget)?,
        };
        let page = blocking(ctx, move |s| s.connected(&request)).await?;
        let total = i32::try_from(page.total).unwrap_or(i32::MAX);
        let items = page
            .reached
            .into_iter()
            .map(|r| (r.entity.clone(), Reach(r)))
            .collect();
        Ok(ReachConnection::new(
            items,
            page.has_previous,
            page.has_next,
            page.partial,
            total,
        ))
    }

    /// The `k` shortest loopless paths (at most 12 relations long) between two entities,
    /// following relations either way: how is this person tied to that department? Shortest
    /// first, then the best supported; `partial` says whether the search ran out of budget.
    #[graphql(complexity = "k.unwrap_or(1).max(0) as usize * child_complexity + 10")]
    #[allow(clippy::too_many_arguments)]
    async fn shortest_paths(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity the paths start at.")] from: ID,
        #[graphql(desc = "The entity the paths end at.")] to: ID,
        #[graphql(desc = "Only cross relations of these kinds (any when absent).")] relation_kinds: Option<Vec<RelationKind>>,
        #[graphql(desc = "How many paths (1 to 20).", default_with = "Some(1)")] k: Option<i32>,
        #[graphql(
            desc = "Also cross relations whose every claim denies them.",
            default_with = "Some(false)"
        )]
        include_denied: Option<bool>,
        #[graphql(desc = "Only cross relations that may have held on this date.")] as_of: Option<
            String,
        >,
        #[graphql(desc = "Less work than the server allows, to bound this search.")] budget: Option<
            BudgetInput,
        >,
    ) -> Result<ShortestPaths> {
        let request = ShortestRequest {
            from: from.0,
            to: to.0,
            relation_kinds: relation_kinds
                .unwrap_or_default()
                .into_iter()
                .map(model::RelationKind::from)
                .collect(),
            k: usize::try_from(k.unwrap_or(1)).map_err(|_| bad_input("k", "k must be positive"))?,
            include_denied: include_denied.unwrap_or(false),
            as_of: inputs::as_of(as_of)?,
            budget: inputs::budget(budget)?,
        };
        let (paths, partial) = blocking(ctx, move |s| s.shortest_paths(&request)).await?;
        Ok(ShortestPaths {
            paths: paths.into_iter().map(Path).collect(),
            partial,
        })
    }

    /// The entities within `depth` relations of one (either direction) and every relation
    /// among them: a subgraph ready to draw.
    #[graphql(complexity = "50 * child_complexity + 10")]
    async fn neighborhood(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity at the centre.")] id: ID,
        #[graphql(
            desc = "How many relations out to go (0 to 4).",
            default_with = "Some(1)"
        )]
        depth: Option<i32>,
        #[graphql(desc = "Only cross relations of these kinds (any when absent).")] relation_kinds: Option<Vec<RelationKind>>,
        #[graphql(
            desc = "Also cross relations whose every claim denies them.",
            default_with = "Some(false)"
        )]
        include_denied: Option<bool>,
        #[graphql(desc = "Only cross relations that may have held on this date.")] as_of: Option<
            String,
        >,
    ) -> Result<Subgraph> {
        let depth = u32::try_from(depth.unwrap_or(1))
            .map_err(|_| bad_input("depth", "depth must not be negative"))?;
        let kinds: Vec<model::RelationKind> = relation_kinds
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let as_of = inputs::as_of(as_of)?;
        let view = blocking(ctx, move |s| {
            s.neighborhood(&id, depth, &kinds, include_denied.unwrap_or(false), as_of)
        })
        .await?;
        Ok(Subgraph {
            partial: view.partial,
            view,
        })
    }

    /// The whole graph, a neighbourhood or a path query's entities and relations as one document
    /// in an exchange format, every relation with its kind, status, standing and claims (each
    /// with its source). The same documents as `GET /export`: for the JSON formats the document
    /// itself (an object), for GraphML, GEXF and CSV a string holding it.
    #[graphql(complexity = 1_000)]
    #[allow(clippy::too_many_arguments)]
    async fn export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The document format.")] format: ExportFormat,
        #[graphql(
            desc = "Which part of the graph to export.",
            default_with = "ExportScope::All"
        )]
        scope: ExportScope,
        #[graphql(
            desc = "NEIGHBORHOOD: the entity at the centre; PATHS: the entity paths start from."
        )]
        id: Option<ID>,
        #[graphql(
            desc = "NEIGHBORHOOD: how many relations out to go (0 to 4).",
            default = 1
        )]
        depth: i32,
        #[graphql(desc = "NEIGHBORHOOD: only cross relations of these kinds (any when absent).")]
        relation_kinds: Option<Vec<RelationKind>>,
        #[graphql(desc = "PATHS: the hops, in order, that a path follows.")] pattern: Option<
            Vec<HopInput>,
        >,
        #[graphql(desc = "PATHS: only paths ending at this entity.")] to: Option<ID>,
        #[graphql(
            desc = "NEIGHBORHOOD and PATHS: also cross relations whose every claim denies them.",
            default = false
        )]
        include_denied: bool,
    ) -> Result<super::export::Json> {
        let kinds = relation_kinds
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let hops = pattern.map(hop_specs).transpose()?;
        let scope = super::export::scope(
            scope,
            id.map(|i| i.0),
            depth,
            kinds,
            hops,
            to.map(|t| t.0),
            include_denied,
        )?;
        super::export::export(ctx, format, scope).await
    }
}

/// Whether the query asks for `field` of a connection's items (through `edges { node }` or
/// `nodes`): what is not asked for is not computed.
fn selects_on_nodes(ctx: &Context<'_>, field: &str) -> bool {
    let look = ctx.look_ahead();
    look.field("edges").field("node").field(field).exists()
        || look.field("nodes").field(field).exists()
}

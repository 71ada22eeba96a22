//! GraphQL object types: thin wrappers over model records that ask the service for what they link to.

use async_graphql::{ComplexObject, Context, Interface, Object, Result, SimpleObject, ID};

use crate::model;
use crate::service::{self, PathView, TiesQuery};

use super::connection::{EntityConnection, RelationConnection};
use super::enums::{Direction, EntityKind, RelationKind, Stance, Standing, Status};
use super::error::{coded, to_graphql, ErrorCode};
use super::inputs::{self, EntityFilter, EntityOrder, RelationFilter, RelationOrder};
use super::{page_size, service};

/// Anything with a global id: an entity, relation, source or claim. Ids are unique across types.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The record's id, unique across all types."
))]
pub enum Node {
    Entity(Entity),
    Relation(Relation),
    Source(Source),
    Claim(Claim),
}

impl From<service::NodeRecord> for Node {
    fn from(record: service::NodeRecord) -> Self {
        match record {
            service::NodeRecord::Entity(e) => Node::Entity(Entity::loaded(e)),
            service::NodeRecord::Relation(r) => Node::Relation(Relation(r)),
            service::NodeRecord::Source(s) => Node::Source(Source(s)),
            service::NodeRecord::Claim(c) => Node::Claim(Claim(c)),
        }
    }
}

pub(super) fn load_relation(ctx: &Context<'_>, id: &str) -> Result<Relation> {
    match service(ctx).relation(id).map_err(to_graphql)? {
        Some(relation) => Ok(Relation(relation)),
        None => Err(coded(
            ErrorCode::NotFound,
            format!("relation `{id}` was deleted while this answer was prepared"),
        )),
    }
}

/// An identifier an entity has in another register.
#[derive(SimpleObject)]
pub struct Identifier {
    /// The register: `wikidata`, `ein`, `uei`, `lei`, …
    pub scheme: String,
    /// The entity's identifier in that register.
    pub value: String,
}

pub struct Entity {
    id: String,
    // Loaded on first use: many answers only ever ask for an entity's id.
    record: std::sync::OnceLock<model::Entity>,
}

impl Entity {
    pub fn loaded(entity: model::Entity) -> Self {
        let record = std::sync::OnceLock::new();
        let id = entity.id.clone();
        let _ = record.set(entity);
        Entity { id, record }
    }

    /// An entity known by id, read from the store only if a field other than `id` is asked for.
    pub fn lazy(id: &str) -> Self {
        Entity {
            id: id.to_owned(),
            record: std::sync::OnceLock::new(),
        }
    }

    fn record(&self, ctx: &Context<'_>) -> Result<&model::Entity> {
        if let Some(record) = self.record.get() {
            return Ok(record);
        }
        match service(ctx).entity(&self.id).map_err(to_graphql)? {
            Some(entity) => Ok(self.record.get_or_init(|| entity)),
            None => Err(coded(
                ErrorCode::NotFound,
                format!(
                    "entity `{}` was deleted while this answer was prepared",
                    self.id
                ),
            )),
        }
    }
}

/// A company, government body, nonprofit, person or informal group.
#[Object]
impl Entity {
    /// Stable, human-readable slug such as `cbp` or `marc-benioff`.
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// What sort of actor this is.
    async fn kind(&self, ctx: &Context<'_>) -> Result<EntityKind> {
        Ok(self.record(ctx)?.kind.into())
    }

    /// The name it is best known by.
    async fn name(&self, ctx: &Context<'_>) -> Result<&str> {
        Ok(&self.record(ctx)?.name)
    }

    /// Other names it goes by: acronyms, former and formal names.
    async fn aliases(&self, ctx: &Context<'_>) -> Result<&[String]> {
        Ok(&self.record(ctx)?.aliases)
    }

    /// What it is, in a sentence.
    async fn description(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.record(ctx)?.description.as_deref())
    }

    /// ISO 3166-1 alpha-2 country code, when known.
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.record(ctx)?.country.as_deref())
    }

    /// Free text refining the kind: "department", "federal agency", "administration".
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.record(ctx)?.category.as_deref())
    }

    /// Its identifiers in other registers.
    async fn identifiers(&self, ctx: &Context<'_>) -> Result<Vec<Identifier>> {
        let identifiers = &self.record(ctx)?.identifiers;
        Ok(identifiers
            .iter()
            .map(|i| Identifier {
                scheme: i.scheme.clone(),
                value: i.value.clone(),
            })
            .collect())
    }

    /// The ids of entities merged into this one (`mergeEntities`), which now lead here; in id
    /// order. `unmerge` undoes a merge.
    async fn merged_from(&self, ctx: &Context<'_>) -> Result<Vec<ID>> {
        Ok(service(ctx)
            .merged_from(&self.id)
            .map_err(to_graphql)?
            .into_iter()
            .map(ID)
            .collect())
    }

    /// When it was first recorded (RFC 3339, UTC).
    async fn created_at(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.record(ctx)?.created_at.to_rfc3339())
    }

    /// When it last changed (RFC 3339, UTC).
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.record(ctx)?.updated_at.to_rfc3339())
    }

    /// Its relations, both those it starts and those it ends, that `filter` keeps and whose
    /// other end `other` keeps, in the order `orderBy` asks for (relation-id order when
    /// absent). `totalCount` counts them all.
    #[graphql(
        complexity = "first.unwrap_or(super::DEFAULT_PAGE as i32).max(0) as usize * child_complexity + 1"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn relations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which relations to list (all but denied ones when absent).")]
        filter: Option<RelationFilter>,
        #[graphql(desc = "Only relations whose other end this filter keeps.")] other: Option<
            EntityFilter,
        >,
        #[graphql(desc = "The order (relation-id order when absent).")] order_by: Option<
            RelationOrder,
        >,
        #[graphql(
            desc = "Only relations of these kinds (all when absent).",
            deprecation = "Use `filter: {kinds: [...]}`."
        )]
        kinds: Option<Vec<RelationKind>>,
        #[graphql(
            desc = "OUT: relations this entity is the `from` of; IN: the `to` of; ANY: both.",
            default_with = "Some(Direction::Any)"
        )]
        direction: Option<Direction>,
        #[graphql(
            desc = "Include relations whose every claim denies them.",
            default_with = "Some(false)"
        )]
        include_denied: Option<bool>,
        #[graphql(desc = "Page size (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last relation of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<RelationConnection> {
        let service = service(ctx);
        inputs::one_way(filter.is_some(), &[("kinds", kinds.is_some())], "filter")?;
        let filter = filter.unwrap_or_else(|| RelationFilter {
            kinds,
            ..RelationFilter::default()
        });
        let ties = TiesQuery {
            relations: filter.query(include_denied.unwrap_or(false), "filter")?,
            others: other.unwrap_or_default().query("other")?,
            direction: direction.unwrap_or(Direction::Any).into(),
            order: order_by.map(Into::into).unwrap_or_default(),
            after: after.clone(),
            first: page_size(first, service.limits().max_page)?,
        };
        let id = self.id.clone();
        // An order or a hub's many relations may read much: off the async runtime.
        let page = super::blocking(ctx, move |s| s.relations_of(&id, &ties)).await?;
        let items = page
            .relations
            .into_iter()
            .map(|(cursor, r)| (cursor, Relation(r)))
            .collect();
        Ok(RelationConnection::new(
            items,
            after.is_some(),
            page.has_next,
            i32::try_from(page.total).unwrap_or(i32::MAX),
        ))
    }

    /// The distinct entities one relation away that `filter` keeps, across relations that
    /// `via` keeps, in the order `orderBy` asks for (id order when absent). `totalCount`
    /// counts them all.
    #[graphql(
        complexity = "first.unwrap_or(super::DEFAULT_PAGE as i32).max(0) as usize * child_complexity + 1"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn neighbors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which neighbours to list (all when absent).")] filter: Option<
            EntityFilter,
        >,
        #[graphql(
            desc = "Only across relations this filter keeps (all but denied ones when absent)."
        )]
        via: Option<RelationFilter>,
        #[graphql(desc = "The order (id order when absent).")] order_by: Option<EntityOrder>,
        #[graphql(
            desc = "Only across relations of these kinds (all when absent).",
            deprecation = "Use `via: {kinds: [...]}`."
        )]
        kinds: Option<Vec<RelationKind>>,
        #[graphql(
            desc = "Which way relations are followed.",
            default_with = "Some(Direction::Any)"
        )]
        direction: Option<Direction>,
        #[graphql(
            desc = "Only neighbours of these kinds (all when absent).",
            deprecation = "Use `filter: {kinds: [...]}`."
        )]
        entity_kinds: Option<Vec<EntityKind>>,
        #[graphql(
            desc = "Also across relations whose every claim denies them.",
            default_with = "Some(false)"
        )]
        include_denied: Option<bool>,
        #[graphql(desc = "Page size (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last entity of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<EntityConnection> {
        let service = service(ctx);
        inputs::one_way(via.is_some(), &[("kinds", kinds.is_some())], "via")?;
        inputs::one_way(
            filter.is_some(),
            &[("entityKinds", entity_kinds.is_some())],
            "filter",
        )?;
        let via = via.unwrap_or_else(|| RelationFilter {
            kinds,
            ..RelationFilter::default()
        });
        let filter = filter.unwrap_or_else(|| EntityFilter {
            kinds: entity_kinds,
            ..EntityFilter::default()
        });
        let ties = TiesQuery {
            relations: via.query(include_denied.unwrap_or(false), "via")?,
            others: filter.query("filter")?,
            direction: direction.unwrap_or(Direction::Any).into(),
            order: order_by.map(Into::into).unwrap_or_default(),
            after: after.clone(),
            first: page_size(first, service.limits().max_page)?,
        };
        let id = self.id.clone();
        let page = super::blocking(ctx, move |s| s.neighbors(&id, &ties)).await?;
        Ok(entity_connection(page, after.is_some()))
    }
}

pub(super) fn entity_connection(page: service::EntityPage, has_previous: bool) -> EntityConnection {
    let items = page
        .entities
        .into_iter()
        .map(|(cursor, e)| (cursor, Entity::loaded(e)))
        .collect();
    let total = page.total.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    EntityConnection::new(items, has_previous, page.has_next, total)
}

/// A group `duplicateCandidates` found.
pub struct DuplicateCandidate(pub crate::graph::DuplicateGroup);

/// Entities that may be one real thing recorded twice, and why they seem so. Only a
/// suggestion: nothing is merged.
#[Object]
impl DuplicateCandidate {
    /// Why these entities seem one: the name they share once case, accents, punctuation and
    /// legal forms (Inc, LLC, Corp, ...) are set aside, or an identifier they share.
    async fn reasons(&self) -> &[String] {
        &self.0.reasons
    }

    /// The entities, in id order.
    async fn entities(&self) -> Vec<Entity> {
        self.0.ids.iter().map(|id| Entity::lazy(id)).collect()
    }
}

/// A sum of money.
#[derive(SimpleObject)]
pub struct Amount {
    /// The sum, in units of the currency.
    pub value: f64,
    /// ISO 4217 currency code, such as USD.
    pub currency: String,
}

/// A relation and its claims, read together: as one commit left them.
pub struct Relation(pub model::RelationWithClaims);

/// A directed tie between two entities, with the claims that report it.
#[Object]
impl Relation {
    /// The relation's id.
    async fn id(&self) -> ID {
        ID(self.0.relation.id.clone())
    }

    /// What sort of tie it is.
    async fn kind(&self) -> RelationKind {
        self.0.relation.kind.into()
    }

    /// The entity the tie goes from (the supplier, the donor, the sub-unit, the officer…).
    async fn from(&self) -> Entity {
        Entity::lazy(&self.0.relation.from)
    }

    /// The entity the tie goes to (the customer, the recipient, the parent body…).
    async fn to(&self) -> Entity {
        Entity::lazy(&self.0.relation.to)
    }

    /// Where the tie stands in its life, when the sources say.
    async fn status(&self) -> Option<Status> {
        self.0.relation.status.map(Into::into)
    }

    /// How well it is supported, derived from its claims.
    async fn standing(&self, ctx: &Context<'_>) -> Standing {
        service(ctx)
            .standing(&self.0.relation, &self.0.claims)
            .into()
    }

    /// The capacity or form of the tie: "chief executive", "boycott threat".
    async fn role(&self) -> Option<&str> {
        self.0.relation.role.as_deref()
    }

    /// What the tie is, in a sentence.
    async fn description(&self) -> Option<&str> {
        self.0.relation.description.as_deref()
    }

    /// Money involved, when the sources say how much.
    async fn amount(&self) -> Option<Amount> {
        self.0.relation.amount.as_ref().map(|a| Amount {
            value: a.value,
            currency: a.currency.clone(),
        })
    }

    /// When the tie began: YYYY, YYYY-MM or YYYY-MM-DD, as precisely as known.
    async fn start(&self) -> Option<String> {
        self.0.relation.period.start.map(|d| d.to_string())
    }

    /// When the tie ended: YYYY, YYYY-MM or YYYY-MM-DD, as precisely as known.
    async fn end(&self) -> Option<String> {
        self.0.relation.period.end.map(|d| d.to_string())
    }

    /// The claims reporting (or denying) the tie, in the order they were recorded; never empty.
    async fn claims(&self) -> Vec<Claim> {
        self.0.claims.iter().cloned().map(Claim).collect()
    }

    /// When it was first recorded (RFC 3339, UTC).
    async fn created_at(&self) -> String {
        self.0.relation.created_at.to_rfc3339()
    }

    /// When it last changed (RFC 3339, UTC).
    async fn updated_at(&self) -> String {
        self.0.relation.updated_at.to_rfc3339()
    }
}

pub struct Source(pub model::Source);

/// A document that reports ties: a news article, letter, statement, filing or dataset.
#[Object]
impl Source {
    /// The source's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Its title or headline.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Who published it, when known.
    async fn publisher(&self) -> Option<&str> {
        self.0.publisher.as_deref()
    }

    /// Where to read it, when known.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }

    /// When it was published: YYYY, YYYY-MM or YYYY-MM-DD, as precisely as known.
    async fn published(&self) -> Option<String> {
        self.0.published.map(|d| d.to_string())
    }

    /// The claims that cite it, by relation.
    #[graphql(complexity = "first.unwrap_or(100).max(0) as usize * child_complexity + 1")]
    async fn claims(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (default 100).")] first: Option<i32>,
    ) -> Result<Vec<Claim>> {
        let service = service(ctx);
        let first = match first {
            None => 100,
            Some(n) => page_size(Some(n), service.limits().max_page)?,
        };
        let claims = service.claims_citing(&self.0.id).map_err(to_graphql)?;
        Ok(claims.into_iter().take(first).map(Claim).collect())
    }
}

pub struct Claim(pub model::Claim);

/// A source's report that a relation holds, or does not, in someone's words.
#[Object]
impl Claim {
    /// The claim's id: `<relation id>.c<n>`.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Whether it says the tie exists or not.
    async fn stance(&self) -> Stance {
        self.0.stance.into()
    }

    /// Who made the statement; null when the source reports it in its own voice.
    async fn claimant(&self) -> Option<Entity> {
        self.0.claimant.as_deref().map(Entity::lazy)
    }

    /// The words of the source, verbatim.
    async fn quote(&self) -> &str {
        &self.0.quote
    }

    /// The document the quote is from.
    async fn source(&self, ctx: &Context<'_>) -> Result<Source> {
        match service(ctx).source(&self.0.source).map_err(to_graphql)? {
            Some(source) => Ok(Source(source)),
            None => Err(coded(
                ErrorCode::NotFound,
                format!("source `{}` was deleted", self.0.source),
            )),
        }
    }

    /// The relation the claim is about.
    async fn relation(&self, ctx: &Context<'_>) -> Result<Relation> {
        load_relation(ctx, &self.0.relation)
    }

    /// When it was recorded (RFC 3339, UTC).
    async fn recorded_at(&self) -> String {
        self.0.recorded_at.to_rfc3339()
    }
}

pub struct Path(pub PathView);

/// The shortest paths between two entities, and whether the search for them was complete.
#[derive(SimpleObject)]
pub struct ShortestPaths {
    /// Up to `k` loopless paths, shortest first. Among paths of one length, those whose ties
    /// stand better come first: fewer `DENIED` ties (crossed only with `includeDenied`), then
    /// fewer `DISPUTED`, then fewer `REPORTED` (so more `CONFIRMED`); then by the ids of the
    /// relations they cross, sorted. The order depends only on which relations a path crosses,
    /// so the search from the other end gives the same paths in the same order, each reversed.
    pub paths: Vec<Path>,
    /// The search stopped at its budget: shorter, better-standing or more paths than these may
    /// exist, and an empty list does not mean the two are not connected. When false the list is
    /// complete: empty then means no path of at most 12 relations passes the filters.
    pub partial: bool,
}

/// A walk through the graph that visits no entity twice; each hop is cited by its relation's claims.
#[Object]
impl Path {
    /// Where the path starts.
    async fn start(&self) -> Entity {
        Entity::lazy(&self.0.start)
    }

    /// Where the path ends.
    async fn end(&self) -> Entity {
        Entity::lazy(&self.0.end)
    }

    /// How many relations it crosses.
    async fn length(&self) -> i32 {
        self.0.hops.len() as i32
    }

    /// The relations it crosses, in order.
    async fn hops(&self) -> Vec<Hop> {
        self.0.hops.iter().cloned().map(Hop).collect()
    }
}

pub struct Hop(pub service::Hop);

/// One relation crossed by a path.
#[Object]
impl Hop {
    /// The relation crossed, with its claims.
    async fn relation(&self, ctx: &Context<'_>) -> Result<Relation> {
        load_relation(ctx, &self.0.relation)
    }

    /// OUT when the hop follows the relation from its `from` to its `to`; IN when it goes against it.
    async fn direction(&self) -> Direction {
        self.0.direction.into()
    }

    /// The entity the hop leaves.
    async fn from(&self) -> Entity {
        Entity::lazy(&self.0.from)
    }

    /// The entity the hop reaches.
    async fn to(&self) -> Entity {
        Entity::lazy(&self.0.to)
    }
}

/// Entities and the relations among them, ready for a front-end to draw.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Subgraph {
    #[graphql(skip)]
    pub view: service::SubgraphView,
    /// The search stopped at a budget or size cap: there is more beyond these nodes.
    pub partial: bool,
}

#[ComplexObject]
impl Subgraph {
    /// The entities, the centre first, then by distance from it and by id.
    async fn nodes(&self) -> Vec<Entity> {
        self.view.nodes.iter().map(|id| Entity::lazy(id)).collect()
    }

    /// Every relation between two of the entities, by id.
    async fn edges(&self, ctx: &Context<'_>) -> Result<Vec<Relation>> {
        self.view
            .edges
            .iter()
            .map(|id| load_relation(ctx, id))
            .collect()
    }

    /// This subgraph as one document in an exchange format (Cytoscape.js, graphology, NetworkX
    /// node-link, GraphML, GEXF, CSV), each relation with its standing and cited claims: the
    /// document itself for the JSON formats, a string holding it for the others.
    #[graphql(complexity = 20)]
    async fn export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The document format.")] format: super::enums::ExportFormat,
    ) -> Result<super::export::Json> {
        let title = "tiegraph: a neighbourhood".to_owned();
        super::export::export_ids(
            ctx,
            format,
            title,
            self.view.nodes.clone(),
            self.view.edges.clone(),
            self.partial,
        )
        .await
    }
}

pub struct Reach(pub service::Reach);

/// An entity a pattern reaches, with how many paths reach it and a few of them as examples.
/// An entity is reached when some walk matching the pattern ends at it; the paths counted and
/// shown visit no entity twice, so an entity that only walks reach (ones passing an entity
/// twice) has a `pathCount` of 0. Counts and examples are computed only when asked for, for
/// the entities of the page.
#[Object]
impl Reach {
    /// The entity reached.
    async fn entity(&self) -> Entity {
        Entity::lazy(&self.0.entity)
    }

    /// Distinct paths that reach it, each visiting no entity twice; a lower bound when
    /// `pathCountExact` is false.
    async fn path_count(&self) -> i32 {
        i32::try_from(self.0.paths).unwrap_or(i32::MAX)
    }

    /// True when `pathCount` counts every path, false when counting the paths to this page's
    /// entities ran out of budget (then `pathCount` is a lower bound and `examples` may miss
    /// some of the shortest).
    async fn path_count_exact(&self) -> bool {
        self.0.exact
    }

    /// Example paths, shortest first, then by relation ids, each hop cited.
    async fn examples(&self) -> Vec<Path> {
        self.0.examples.iter().cloned().map(Path).collect()
    }
}

/// What a delete removed.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The ids of every record removed: the record asked for and, with cascade, what depended on it.
    pub deleted_ids: Vec<ID>,
}

/// The size of the graph.
#[derive(SimpleObject)]
pub struct GraphStats {
    /// Entities in the graph.
    pub entities: i32,
    /// Relations in the graph.
    pub relations: i32,
}

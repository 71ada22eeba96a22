//! The questions the API asks: lookups, lists and graph searches, answered from the index
//! (topology) and the store (details).

use crate::graph::{
    self, Budget, BudgetLimits, EdgeFilter, EntityQuery, GraphIndex, HopSpec, KindSet, Order,
    OrderField, PathQuery, Place, RelationQuery, ShortestQuery, SortKey,
};
use crate::model::{
    derive_standing, search_words, slugify, Claim, Direction, Entity, EntityKind, PartialDate,
    Relation, RelationKind, RelationWithClaims, Source, Standing,
};

use super::{Result, Service, ServiceError};
use crate::store::{claim_sequence, relation_of_claim};

/// What a list of an entity's ties asks for: which relations, which entities at their other
/// end, which way, in what order, and which page.
#[derive(Debug, Clone, Default)]
pub struct TiesQuery {
    pub relations: RelationQuery,
    pub others: EntityQuery,
    pub direction: Direction,
    pub order: Order,
    pub after: Option<String>,
    pub first: usize,
}

impl TiesQuery {
    fn admits(&self, index: &GraphIndex, edge: graph::Edge, other: graph::Node) -> bool {
        self.relations.admits(index, edge) && self.others.rank_of(index.node_data(other)).is_some()
    }
}

/// The refusal of a cursor that no page of this list and order gave out.
fn not_a_cursor(cursor: &str) -> ServiceError {
    ServiceError::BadQuery(format!(
        "`{cursor}` is not a cursor of this list in this order: pass a cursor it returned"
    ))
}

fn place_of(order: Order, after: Option<&str>) -> Result<Option<Place>> {
    after
        .map(|cursor| order.place(cursor).ok_or_else(|| not_a_cursor(cursor)))
        .transpose()
}

/// Any record, looked up by an id that may name any type.
#[derive(Debug, Clone)]
pub enum NodeRecord {
    Entity(Entity),
    Relation(RelationWithClaims),
    Source(Source),
    Claim(Claim),
}

/// A page of entities in id order.
#[derive(Debug, Clone, Default)]
pub struct EntityPage {
    /// Each entity with the cursor that marks its place.
    pub entities: Vec<(String, Entity)>,
    pub has_next: bool,
    /// Entities in all, across every page, when it was asked for.
    pub total: Option<usize>,
}

/// A page of an entity's relations.
#[derive(Debug, Clone, Default)]
pub struct RelationPage {
    /// Each relation with the cursor that marks its place.
    pub relations: Vec<(String, RelationWithClaims)>,
    pub has_next: bool,
    /// Relations in all, across every page.
    pub total: usize,
}

/// A page of a text search over the store's records.
#[derive(Debug)]
pub struct TextPage<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    /// The budget ran out before the store was read through: there may be more.
    pub partial: bool,
}

impl<T> Default for TextPage<T> {
    fn default() -> Self {
        TextPage {
            items: Vec::new(),
            has_next: false,
            partial: false,
        }
    }
}

/// The words of a text search; a search needs one.
fn words_of(text: &str) -> Result<Vec<String>> {
    let words: Vec<String> = search_words(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    if words.is_empty() {
        return Err(ServiceError::BadQuery(
            "a search needs at least one word (letters or digits)".into(),
        ));
    }
    Ok(words)
}

/// One relation crossed by a path, in the direction the path crossed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub relation: String,
    /// `Out` when the path follows the relation from `from` to `to`, `In` when it goes against it.
    pub direction: Direction,
    /// The entity the hop leaves.
    pub from: String,
    /// The entity the hop reaches.
    pub to: String,
}

/// A path by ids, with the cursor that finds its place in an ordered answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathView {
    pub start: String,
    pub end: String,
    pub hops: Vec<Hop>,
    pub cursor: String,
}

/// A pattern search as the API asks it.
#[derive(Debug, Clone)]
pub struct PathRequest {
    pub from: String,
    pub hops: Vec<HopSpec>,
    pub to: Option<String>,
    pub include_denied: bool,
    pub as_of: Option<PartialDate>,
    pub first: usize,
    pub after: Option<String>,
    /// Less than the server's budget, if the client wants to bound its own search.
    pub budget: Option<BudgetLimits>,
    /// Count every path, not just this page's: a search as long as the paths are many.
    pub count: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PathPage {
    pub paths: Vec<PathView>,
    pub has_next: bool,
    pub has_previous: bool,
    /// The search stopped at its budget: more paths may exist than were found.
    pub partial: bool,
    /// Paths in all (not just on this page), when asked for; a lower bound when `partial`.
    pub total: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct ConnectedRequest {
    pub from: String,
    pub hops: Vec<HopSpec>,
    pub include_denied: bool,
    pub as_of: Option<PartialDate>,
    /// Example paths per entity on the page; 0 for none.
    pub examples: usize,
    /// Count the paths to each entity on the page.
    pub count_paths: bool,
    pub first: usize,
    pub after: Option<String>,
    pub budget: Option<BudgetLimits>,
}

/// An entity a pattern reaches.
#[derive(Debug, Clone)]
pub struct Reach {
    pub entity: String,
    /// Distinct simple paths reaching it, when asked for; a lower bound unless `exact`.
    pub paths: u64,
    /// The paths were all counted within the budget.
    pub exact: bool,
    pub examples: Vec<PathView>,
}

#[derive(Debug, Clone, Default)]
pub struct ConnectedPage {
    pub reached: Vec<Reach>,
    pub has_next: bool,
    pub has_previous: bool,
    pub partial: bool,
    /// Entities reached in all.
    pub total: usize,
}

#[derive(Debug, Clone)]
pub struct ShortestRequest {
    pub from: String,
    pub to: String,
    pub relation_kinds: Vec<RelationKind>,
    pub k: usize,
    pub include_denied: bool,
    pub as_of: Option<PartialDate>,
    pub budget: Option<BudgetLimits>,
}

/// Entity and relation ids of a subgraph.
#[derive(Debug, Clone, Default)]
pub struct SubgraphView {
    pub nodes: Vec<String>,
    pub edges: Vec<String>,
    pub partial: bool,
}

/// The most ids a NOT_FOUND suggests.
const SUGGESTIONS: usize = 3;

/// The longest path a shortest-path search looks for.
const MAX_SHORTEST_LENGTH: usize = 12;

impl Service {
    /// The id of the entity an entity record would be if imported now: its own, or that of the
    /// entity holding one of its identifiers (see `resolve`). A record whose identifiers name
    /// several entities keeps its own here; the import refuses it.
    pub fn resolved_id(&self, draft: &crate::model::EntityDraft) -> String {
        let index = self.read_index();
        let own = super::resolve::draft_id(draft);
        match super::resolve::resolve_one(&index, draft) {
            Ok(Some(holder)) => holder,
            _ => own,
        }
    }

    /// The entity holding the identifier `scheme:value` (the first in id order, should there be
    /// duplicates), with its kind: an index lookup, not a scan.
    pub fn entity_holding(
        &self,
        scheme: &str,
        value: &str,
    ) -> Option<(String, crate::model::EntityKind)> {
        let index = self.read_index();
        let id = index
            .entities_with_identifier(scheme, value)
            .first()?
            .to_string();
        let kind = index.entity_kind(&id)?;
        Some((id, kind))
    }

    pub fn entity(&self, id: &str) -> Result<Option<Entity>> {
        Ok(self.committed().entity(id)?)
    }

    /// A relation with its claims, as one commit left them.
    pub fn relation(&self, id: &str) -> Result<Option<RelationWithClaims>> {
        Ok(self.committed().relation(id)?)
    }

    pub fn source(&self, id: &str) -> Result<Option<Source>> {
        Ok(self.committed().source(id)?)
    }

    pub fn claim(&self, id: &str) -> Result<Option<Claim>> {
        Ok(self.committed().claim(id)?)
    }

    /// Whatever record has this id.
    pub fn node(&self, id: &str) -> Result<Option<NodeRecord>> {
        if let Some(entity) = self.committed().entity(id)? {
            return Ok(Some(NodeRecord::Entity(entity)));
        }
        if let Some(relation) = self.committed().relation(id)? {
            return Ok(Some(NodeRecord::Relation(relation)));
        }
        if let Some(source) = self.committed().source(id)? {
            return Ok(Some(NodeRecord::Source(source)));
        }
        Ok(self.committed().claim(id)?.map(NodeRecord::Claim))
    }

    /// The claims citing a source, ordered by relation then as recorded.
    pub fn claims_citing(&self, source: &str) -> Result<Vec<Claim>> {
        let relations: Vec<String> = self
            .read_index()
            .relations_citing(source)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut claims = Vec::new();
        for id in relations {
            if let Some(record) = self.committed().relation(&id)? {
                claims.extend(record.claims.into_iter().filter(|c| c.source == source));
            }
        }
        Ok(claims)
    }

    /// Every source, entity and relation in the store, in id order, each read as it stands when
    /// reached ([`Service::snapshot`] reads them all as they were at one moment).
    pub fn all_sources(&self) -> impl Iterator<Item = Result<Source>> + '_ {
        self.gated(self.store.sources())
            .map(|r| r.map_err(ServiceError::from))
    }

    pub fn all_entities(&self) -> impl Iterator<Item = Result<Entity>> + '_ {
        self.gated(self.store.entities())
            .map(|r| r.map_err(ServiceError::from))
    }

    pub fn all_relations(&self) -> impl Iterator<Item = Result<RelationWithClaims>> + '_ {
        self.gated(self.store.relations())
            .map(|r| r.map_err(ServiceError::from))
    }

    /// A relation's standing: a claim counts as a party's when its claimant is an end of the
    /// relation or an officer of one.
    pub fn standing(&self, relation: &Relation, claims: &[Claim]) -> Standing {
        let index = self.read_index();
        derive_standing(claims, |claimant| {
            claimant == relation.from
                || claimant == relation.to
                || index.is_officer_of(claimant, &relation.from)
                || index.is_officer_of(claimant, &relation.to)
        })
    }

    /// The entities `query` finds, one page after the cursor `after`: in id order (the cursor
    /// is the id), or with a text best match first, then by id (the cursor is `rank:id`).
    /// `count` asks for the total across pages, which costs a scan of every entity when the
    /// query filters.
    pub fn entities(
        &self,
        query: &EntityQuery,
        order: Option<Order>,
        after: Option<&str>,
        first: usize,
        count: bool,
    ) -> Result<EntityPage> {
        let by_id = order.is_none_or(|o| o == Order::default());
        // Anything but a plain listing by id may read every entity (a third of a second at a
        // million): it takes a turn among the searches.
        let _turn = match query.is_everything() && by_id {
            true => None,
            false => Some(self.searches.turn()?),
        };
        let index = self.read_index();
        let (cursors, total) = if order.is_none() && query.is_ranked() {
            let after = after
                .map(|cursor| {
                    cursor
                        .split_once(':')
                        .and_then(|(rank, id)| Some((rank.parse::<u8>().ok()?, id)))
                        .ok_or_else(|| not_a_cursor(cursor))
                })
                .transpose()?;
            let found = index.ranked_entities(query);
            let start = after.map_or(0, |after| found.partition_point(|&hit| hit <= after));
            let page = found[start..]
                .iter()
                .take(first + 1)
                .map(|(rank, id)| (format!("{rank}:{id}"), id.to_string()))
                .collect();
            (page, Some(found.len()))
        } else if by_id {
            let page = index
                .find_entities(query, after)
                .take(first + 1)
                .map(|(_, data)| (data.id.to_string(), data.id.to_string()))
                .collect();
            let total = count.then(|| match query.is_everything() {
                true => index.entity_count(),
                false => index.find_entities(query, None).count(),
            });
            (page, total)
        } else {
            let order = order.unwrap_or_default();
            let place = place_of(order, after)?;
            let mut total = 0;
            let found = index
                .find_entities(query, None)
                .filter_map(|(_, data)| index.node(&data.id))
                .inspect(|_| total += 1)
                .map(|node| {
                    let id = &*index.node_data(node).id;
                    (index.entity_key(node, order.field), id, id)
                });
            let page = order
                .page(found, place.as_ref(), first + 1)
                .into_iter()
                .map(|(cursor, id)| (cursor, id.to_owned()))
                .collect();
            (page, Some(total))
        };
        drop(index);
        self.entity_page(cursors, first, total.filter(|_| count))
    }

    /// Reads a page of entities by id: `ids` holds each one's cursor and id, and one more than
    /// a page when there is a next one.
    fn entity_page(
        &self,
        mut ids: Vec<(String, String)>,
        first: usize,
        total: Option<usize>,
    ) -> Result<EntityPage> {
        let has_next = ids.len() > first;
        ids.truncate(first);
        let mut entities = Vec::with_capacity(ids.len());
        for (cursor, id) in ids {
            // Deleted between the index read and now: leave it out rather than fail the page.
            if let Some(entity) = self.committed().entity(&id)? {
                entities.push((cursor, entity));
            }
        }
        Ok(EntityPage {
            entities,
            has_next,
            total,
        })
    }

    /// A page of an entity's relations that `ties` admits, each with its cursor; with whether
    /// there are more, and how many there are in all.
    pub fn relations_of(&self, entity: &str, ties: &TiesQuery) -> Result<RelationPage> {
        let place = place_of(ties.order, ties.after.as_deref())?;
        let take = ties.first + 1;
        let (page, total) = {
            let index = self.read_index();
            let Some(node) = index.node(entity) else {
                return Ok(RelationPage::default());
            };
            let mut found: Vec<(&str, graph::Node)> = index
                .steps(node, ties.direction)
                .filter(|s| ties.admits(&index, s.edge, s.to))
                .map(|s| (index.relation_id(s.edge), s.to))
                .collect();
            // A relation from the entity to itself is two steps.
            found.sort_unstable_by_key(|&(id, _)| id);
            found.dedup_by_key(|&mut (id, _)| id);
            let total = found.len();
            let page: Vec<(String, String)> = match ties.order.field {
                // Last updates are in the store: read below, outside the index's lock.
                OrderField::UpdatedAt => found
                    .into_iter()
                    .map(|(id, _)| (String::new(), id.to_owned()))
                    .collect(),
                field => ties
                    .order
                    .page(
                        found
                            .into_iter()
                            .map(|(id, other)| (index.entity_key(other, field), id, id)),
                        place.as_ref(),
                        take,
                    )
                    .into_iter()
                    .map(|(cursor, id)| (cursor, id.to_owned()))
                    .collect(),
            };
            (page, total)
        };
        let mut relations = Vec::with_capacity(page.len());
        for (cursor, id) in page {
            // Deleted since the index was read: left out rather than failing the page.
            if let Some(relation) = self.committed().relation(&id)? {
                relations.push((cursor, relation));
            }
        }
        if ties.order.field == OrderField::UpdatedAt {
            let ids: Vec<String> = relations
                .iter()
                .map(|(_, r)| r.relation.id.clone())
                .collect();
            let keyed = relations
                .into_iter()
                .zip(&ids)
                .map(|((_, r), id)| (SortKey::Number(r.relation.updated_at.0), id.as_str(), r));
            relations = ties.order.page(keyed, place.as_ref(), take);
        }
        let has_next = relations.len() > ties.first;
        relations.truncate(ties.first);
        Ok(RelationPage {
            relations,
            has_next,
            total,
        })
    }

    /// A page of the distinct entities one relation away that `ties` admits (the relation
    /// and the entity at its other end), each with its cursor.
    pub fn neighbors(&self, entity: &str, ties: &TiesQuery) -> Result<EntityPage> {
        let place = place_of(ties.order, ties.after.as_deref())?;
        let (page, total) = {
            let index = self.read_index();
            let Some(node) = index.node(entity) else {
                return Ok(EntityPage {
                    total: Some(0),
                    ..EntityPage::default()
                });
            };
            let mut found: Vec<graph::Node> = index
                .steps(node, ties.direction)
                .filter(|s| ties.admits(&index, s.edge, s.to))
                .map(|s| s.to)
                .collect();
            found.sort_unstable();
            found.dedup();
            let total = found.len();
            let page: Vec<(String, String)> = ties
                .order
                .page(
                    found.into_iter().map(|other| {
                        let id = &*index.node_data(other).id;
                        (index.entity_key(other, ties.order.field), id, id)
                    }),
                    place.as_ref(),
                    ties.first + 1,
                )
                .into_iter()
                .map(|(cursor, id)| (cursor, id.to_owned()))
                .collect();
            (page, total)
        };
        self.entity_page(page, ties.first, Some(total))
    }

    /// Claims whose quote or claimant holds every word of `text` (in any order, ignoring case
    /// and accents), in relation-id order after the claim `after`. The scan reads relations
    /// from the store, one visit each, so a page is bounded by the budget and says when the
    /// budget cut it short; the next page goes on from its last cursor.
    pub fn search_claims(
        &self,
        text: &str,
        after: Option<&str>,
        first: usize,
        budget: Option<BudgetLimits>,
    ) -> Result<TextPage<Claim>> {
        let (start, passed) = match after {
            Some(cursor) => {
                let relation = relation_of_claim(cursor).ok_or_else(|| {
                    ServiceError::BadQuery(format!("`{cursor}` is not a claim's id"))
                })?;
                (relation, Some((relation, claim_sequence(cursor))))
            }
            None => ("", None),
        };
        let claims = self.gated(self.store.relations_from(start)).map(|record| {
            record.map(|record| {
                let relation = record.relation.id;
                record.claims.into_iter().filter(move |claim| {
                    passed.is_none_or(|(at, sequence)| {
                        relation != at || claim_sequence(&claim.id) > sequence
                    })
                })
            })
        });
        self.text_scan(text, claims, first, budget, |claim| {
            let claimant = claim.claimant.as_deref().unwrap_or_default();
            format!("{} {}", search_words(&claim.quote), search_words(claimant))
        })
    }

    /// Entities that may be one real thing recorded twice, one page of groups after the group
    /// key `after`; only suggested, never merged. A scan of every entity, so it takes a turn
    /// among the searches.
    pub fn duplicate_candidates(
        &self,
        kind: Option<EntityKind>,
        after: Option<&str>,
        first: usize,
    ) -> Result<(Vec<graph::DuplicateGroup>, bool)> {
        let _turn = self.searches.turn()?;
        let mut groups = self.read_index().duplicate_candidates(kind);
        groups.retain(|g| after.is_none_or(|a| g.key.as_str() > a));
        let has_next = groups.len() > first;
        groups.truncate(first);
        Ok((groups, has_next))
    }

    /// Sources whose id, title, publisher or address holds every word of `text`, in id order
    /// after the source `after`; bounded by the budget as [`Service::search_claims`] is.
    pub fn search_sources(
        &self,
        text: &str,
        after: Option<&str>,
        first: usize,
        budget: Option<BudgetLimits>,
    ) -> Result<TextPage<Source>> {
        let sources = self
            .gated(self.store.sources_from(after.unwrap_or_default()))
            .map(|source| {
                source.map(|source| Some(source).filter(|s| after != Some(s.id.as_str())))
            });
        self.text_scan(text, sources, first, budget, |source| {
            [
                Some(source.id.as_str()),
                Some(source.title.as_str()),
                source.publisher.as_deref(),
                source.url.as_deref(),
            ]
            .into_iter()
            .flatten()
            .map(search_words)
            .collect::<Vec<_>>()
            .join(" ")
        })
    }

    /// One page of the items of `records` whose text (as `text_of` writes it, in search
    /// words) holds every word of `search`. Each record read spends a visit of the budget, and
    /// may hold several items (a relation's claims) or none; a page the budget cut short is
    /// `partial` and has a next page.
    fn text_scan<T, I, R>(
        &self,
        search: &str,
        records: R,
        first: usize,
        budget: Option<BudgetLimits>,
        text_of: impl Fn(&T) -> String,
    ) -> Result<TextPage<T>>
    where
        I: IntoIterator<Item = T>,
        R: Iterator<Item = std::result::Result<I, crate::store::StoreError>>,
    {
        let words = words_of(search)?;
        let _turn = self.searches.turn()?;
        let mut budget = Budget::new(self.budget(budget));
        let mut page = TextPage::default();
        for record in records {
            if !budget.spend() {
                page.partial = true;
                page.has_next = true;
                break;
            }
            for item in record? {
                let text = text_of(&item);
                if !words.iter().all(|w| text.contains(w.as_str())) {
                    continue;
                }
                if page.items.len() == first {
                    page.has_next = true;
                    return Ok(page);
                }
                page.items.push(item);
            }
        }
        Ok(page)
    }

    fn budget(&self, asked: Option<BudgetLimits>) -> BudgetLimits {
        let server = self.limits.budget;
        match asked {
            Some(asked) => BudgetLimits {
                max_visits: asked.max_visits.min(server.max_visits),
                max_time: asked.max_time.min(server.max_time),
            },
            None => server,
        }
    }

    fn check_pattern(&self, hops: &[HopSpec]) -> Result<()> {
        if hops.is_empty() {
            return Err(ServiceError::BadQuery(
                "a pattern needs at least one hop".into(),
            ));
        }
        let mut length = 0u32;
        for (i, hop) in hops.iter().enumerate() {
            if hop.min_repeat > hop.max_repeat {
                return Err(ServiceError::BadQuery(format!(
                    "pattern hop {i}: minRepeat {} is greater than maxRepeat {}",
                    hop.min_repeat, hop.max_repeat
                )));
            }
            length = length.saturating_add(hop.max_repeat);
        }
        if length == 0 {
            return Err(ServiceError::BadQuery(
                "every hop has maxRepeat 0: the pattern crosses no relation".into(),
            ));
        }
        if hops.len() + length as usize > graph::MAX_POSITIONS {
            return Err(ServiceError::BadQuery(format!(
                "the pattern has {} hops that may cross {length} relations; hops plus relations may be at most {}",
                hops.len(),
                graph::MAX_POSITIONS
            )));
        }
        if length > self.limits.max_pattern_length {
            return Err(ServiceError::BadQuery(format!(
                "the pattern may cross {length} relations; this server allows at most {}",
                self.limits.max_pattern_length
            )));
        }
        Ok(())
    }

    /// The entity `id` names, or NOT_FOUND with the ids the caller may have meant: the slug of
    /// what they typed (`CBP` is `cbp`), then entities whose names contain it.
    fn node_or_not_found(index: &GraphIndex, id: &str, field: &'static str) -> Result<graph::Node> {
        if let Some(node) = index.node(id) {
            return Ok(node);
        }
        let slug = slugify(id);
        let mut suggestions: Vec<String> = Vec::new();
        if index.node(&slug).is_some() {
            suggestions.push(slug);
        }
        let query = EntityQuery::default().text(Some(id));
        if query.is_ranked() {
            // By name or alias only: a word in a description is no sign of what was meant.
            let named = index
                .ranked_entities(&query)
                .into_iter()
                .take_while(|&(rank, _)| rank < EntityQuery::FIRST_DESCRIPTION_RANK)
                .take(SUGGESTIONS + 1)
                .map(|(_, id)| id.to_owned());
            for id in named {
                if !suggestions.contains(&id) {
                    suggestions.push(id);
                }
            }
        }
        suggestions.truncate(SUGGESTIONS);
        Err(ServiceError::NotFound {
            what: "entity",
            id: id.to_owned(),
            field,
            suggestions,
        })
    }

    /// Every simple path matching a pattern, ordered shortest first then by relation ids, one
    /// page: searched for from the cursor on, so a page costs the paths on it, and memory holds
    /// one page.
    pub fn paths(&self, request: &PathRequest) -> Result<PathPage> {
        self.check_pattern(&request.hops)?;
        let after = request
            .after
            .as_deref()
            .map(parse_path_cursor)
            .transpose()?;
        let _turn = self.searches.turn()?;
        let index = self.read_index();
        let query = PathQuery {
            start: Self::node_or_not_found(&index, &request.from, "from")?,
            hops: request.hops.clone(),
            target: request
                .to
                .as_deref()
                .map(|to| Self::node_or_not_found(&index, to, "to"))
                .transpose()?,
            filter: EdgeFilter {
                kinds: KindSet::default(),
                include_denied: request.include_denied,
                as_of: request.as_of,
            },
        };
        let limits = self.budget(request.budget);
        let mut budget = Budget::new(limits);
        let mut paths: Vec<PathView> = Vec::new();
        let after_path = after.as_ref().map(|(length, key)| graph::After {
            length: *length,
            key,
        });
        // One more than the page, to know whether another page follows.
        graph::find_paths(&index, &query, after_path, &mut budget, |steps| {
            paths.push(view_path(&index, query.start, steps));
            paths.len() <= request.first
        });
        let mut partial = budget.exhausted();
        let has_next = paths.len() > request.first || (partial && !paths.is_empty());
        paths.truncate(request.first);
        let total = request.count.then(|| {
            let (count, cut) = self.searches.path_count(&index, &query, limits);
            partial |= cut;
            count
        });
        Ok(PathPage {
            paths,
            has_next,
            has_previous: after.is_some(),
            partial,
            total,
        })
    }

    /// Each entity a pattern reaches, once, in id order, with its path count and examples when
    /// asked for. The entities come from one frontier search per answer, kept for its pages;
    /// the paths are counted for the page's entities only.
    pub fn connected(&self, request: &ConnectedRequest) -> Result<ConnectedPage> {
        self.check_pattern(&request.hops)?;
        let _turn = self.searches.turn()?;
        let index = self.read_index();
        let query = PathQuery {
            start: Self::node_or_not_found(&index, &request.from, "from")?,
            hops: request.hops.clone(),
            target: None,
            filter: EdgeFilter {
                kinds: KindSet::default(),
                include_denied: request.include_denied,
                as_of: request.as_of,
            },
        };
        let limits = self.budget(request.budget);
        let (reached, partial) = self.searches.reached(&index, &query, limits);
        let ends = &reached.ends;
        let skip = match request.after.as_deref() {
            Some(after) => ends.partition_point(|&n| &*index.node_data(n).id <= after),
            None => 0,
        };
        let page = &ends[skip..(skip + request.first).min(ends.len())];
        let (counts, exact) = if request.count_paths || request.examples > 0 {
            let mut budget = Budget::new(limits);
            let counts = graph::paths_to(
                &index,
                &query,
                &reached,
                page,
                request.examples,
                &mut budget,
            );
            (counts, !budget.exhausted())
        } else {
            (vec![graph::PathsTo::default(); page.len()], false)
        };
        let reached_page = page
            .iter()
            .zip(counts)
            .map(|(&node, paths)| Reach {
                entity: index.node_data(node).id.to_string(),
                paths: paths.count,
                exact,
                examples: paths
                    .examples
                    .iter()
                    .map(|p| view_path(&index, p.start, &p.steps))
                    .collect(),
            })
            .collect();
        Ok(ConnectedPage {
            has_next: skip + page.len() < ends.len(),
            has_previous: skip > 0,
            reached: reached_page,
            partial,
            total: ends.len(),
        })
    }

    /// The `k` shortest loopless paths between two entities, following relations either way,
    /// in the order `graph::shortest_paths` gives, and whether the budget ran out first.
    pub fn shortest_paths(&self, request: &ShortestRequest) -> Result<(Vec<PathView>, bool)> {
        if request.k == 0 || request.k > self.limits.max_k {
            return Err(ServiceError::BadQuery(format!(
                "k must be between 1 and {}",
                self.limits.max_k
            )));
        }
        let _turn = self.searches.turn()?;
        let index = self.read_index();
        let query = ShortestQuery {
            from: Self::node_or_not_found(&index, &request.from, "from")?,
            to: Self::node_or_not_found(&index, &request.to, "to")?,
            filter: EdgeFilter {
                kinds: KindSet::of(&request.relation_kinds),
                include_denied: request.include_denied,
                as_of: request.as_of,
            },
            k: request.k,
            max_length: MAX_SHORTEST_LENGTH,
        };
        let mut budget = Budget::new(self.budget(request.budget));
        let paths = graph::shortest_paths(&index, &query, &mut budget);
        let views = paths
            .iter()
            .map(|p| view_path(&index, p.start, &p.steps))
            .collect();
        Ok((views, budget.exhausted()))
    }

    /// The entities within `depth` admitted relations of `id`, and the relations among them.
    pub fn neighborhood(
        &self,
        id: &str,
        depth: u32,
        relation_kinds: &[RelationKind],
        include_denied: bool,
        as_of: Option<PartialDate>,
    ) -> Result<SubgraphView> {
        if depth > self.limits.max_depth {
            return Err(ServiceError::BadQuery(format!(
                "depth must be at most {}",
                self.limits.max_depth
            )));
        }
        let _turn = self.searches.turn()?;
        let index = self.read_index();
        let center = Self::node_or_not_found(&index, id, "id")?;
        let filter = EdgeFilter {
            kinds: KindSet::of(relation_kinds),
            include_denied,
            as_of,
        };
        let mut budget = Budget::new(self.budget(None));
        let subgraph = graph::neighborhood(
            &index,
            center,
            depth,
            &filter,
            self.limits.max_subgraph_nodes,
            &mut budget,
        );
        Ok(SubgraphView {
            nodes: subgraph
                .nodes
                .iter()
                .map(|&n| index.node_data(n).id.to_string())
                .collect(),
            edges: subgraph
                .edges
                .iter()
                .map(|&e| index.relation_id(e).to_string())
                .collect(),
            partial: subgraph.partial,
        })
    }
}

fn view_path(index: &GraphIndex, start: graph::Node, steps: &[graph::Step]) -> PathView {
    let mut at = start;
    let hops: Vec<Hop> = steps
        .iter()
        .map(|step| {
            let hop = Hop {
                relation: index.relation_id(step.edge).to_string(),
                direction: step.direction,
                from: index.node_data(at).id.to_string(),
                to: index.node_data(step.to).id.to_string(),
            };
            at = step.to;
            hop
        })
        .collect();
    let cursor = format!(
        "{}:{}",
        hops.len(),
        hops.iter()
            .map(|h| h.relation.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    PathView {
        start: index.node_data(start).id.to_string(),
        end: index.node_data(at).id.to_string(),
        hops,
        cursor,
    }
}

/// A path cursor is `<length>:<relation id>,<relation id>,…`: the path's place in the order.
fn parse_path_cursor(cursor: &str) -> Result<(usize, Vec<String>)> {
    let bad = || ServiceError::BadQuery(format!("`{cursor}` is not a cursor this query returned"));
    let (length, key) = cursor.split_once(':').ok_or_else(bad)?;
    let length: usize = length.parse().map_err(|_| bad())?;
    let key: Vec<String> = key.split(',').map(str::to_owned).collect();
    if key.len() != length {
        return Err(bad());
    }
    Ok((length, key))
}

/// The graph's shape as an index holds it, in id order: for consistency checks (a snapshot, a
/// rebuild and a replayed change log must agree) and exports that need the whole topology.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    pub entities: Vec<(String, EntityKind)>,
    /// `(id, kind, from, to, denied)` of every relation.
    pub relations: Vec<(String, RelationKind, String, String, bool)>,
    /// Every source, with the relations citing it.
    pub sources: Vec<(String, Vec<String>)>,
    /// Every entity that made claims about relations it is not an end of, with those relations.
    pub statements: Vec<(String, Vec<String>)>,
}

impl Topology {
    pub fn of(index: &GraphIndex) -> Topology {
        let entities: Vec<(String, EntityKind)> = index
            .entity_ids()
            .filter_map(|id| index.entity_kind(id).map(|kind| (id.to_owned(), kind)))
            .collect();
        let mut relations: Vec<_> = index
            .relation_ids()
            .filter_map(|id| {
                let edge = index.edge(id)?;
                let (from, to) = index.ends(edge)?;
                let data = index.edge_data(edge);
                Some((
                    id.to_owned(),
                    data.kind,
                    index.node_data(from).id.to_string(),
                    index.node_data(to).id.to_string(),
                    data.denied,
                ))
            })
            .collect();
        relations.sort();
        let owned = |ids: Vec<&str>| ids.into_iter().map(str::to_owned).collect::<Vec<_>>();
        let sources = index
            .source_ids()
            .into_iter()
            .map(|id| (id.to_owned(), owned(index.relations_citing(id))))
            .collect();
        let statements = entities
            .iter()
            .map(|(id, _)| (id.clone(), owned(index.statements_by(id))))
            .filter(|(_, said)| !said.is_empty())
            .collect();
        Topology {
            entities,
            relations,
            sources,
            statements,
        }
    }
}

impl Service {
    pub fn topology(&self) -> Topology {
        Topology::of(&self.read_index())
    }
}

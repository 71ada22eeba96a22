//! GraphQL enums, mirroring the model's, each value described for the schema's readers.

use async_graphql::Enum;

use crate::model;

/// What sort of actor an entity is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "model::EntityKind")]
pub enum EntityKind {
    /// A business.
    Company,
    /// Any government body: agency, department, administration (`category` says which).
    Agency,
    /// An advocacy group, charity, foundation or union.
    Nonprofit,
    /// A natural person.
    Person,
    /// An informal collective with no legal form, such as a company's employees.
    Group,
}

/// What sort of tie a relation is; each is directed, from → to as described.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "model::RelationKind")]
pub enum RelationKind {
    /// Supplier → customer: sells goods or services to.
    VendorTo,
    /// Sub-unit → parent body.
    PartOf,
    /// Person → organisation in which they hold an office (`role` names it).
    OfficerOf,
    /// Person or group → the organisation employing them.
    EmployeeOf,
    /// Member → organisation.
    MemberOf,
    /// Owner → what it owns (in part or whole).
    Owns,
    /// Donor → recipient of a gift (`amount` when known).
    Donation,
    /// Lobbyist → the government body lobbied.
    Lobbied,
    /// Actor → target of a letter, complaint, demand or boycott threat (`role` says which).
    Pressured,
    /// Any other tie, described by `description`.
    AssociatedWith,
}

/// Where a tie stands in its life; which values make sense depends on the kind.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "model::Status")]
pub enum Status {
    /// The tie holds now.
    Active,
    /// The tie held once and no longer does.
    Ended,
    /// A party has threatened to end the tie (VENDOR_TO).
    Threatened,
    /// The tie was ended by a party's decision (VENDOR_TO).
    Cancelled,
    /// A donation was offered, not (yet) accepted.
    Offered,
    /// A donation was accepted.
    Accepted,
    /// A donation was refused.
    Declined,
    /// A donation was accepted, then given back.
    Returned,
}

/// Whether a claim says a tie exists or says it does not.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "model::Stance")]
pub enum Stance {
    /// The claim says the tie exists.
    Asserts,
    /// The claim says the tie does not exist.
    Denies,
}

/// How well a relation is supported, derived from its claims (never set by hand).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "model::Standing")]
pub enum Standing {
    /// Asserted by a party to the relation or someone speaking for one (an officer), and not denied.
    Confirmed,
    /// Asserted only by others, or by a source in its own voice, and not denied.
    Reported,
    /// Both asserted and denied.
    Disputed,
    /// Only denied. Searches skip such relations unless `includeDenied` is true.
    Denied,
}

/// Which way to follow a relation.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "model::Direction")]
pub enum Direction {
    /// From the relation's `from` end to its `to` end.
    Out,
    /// From the relation's `to` end back to its `from` end.
    In,
    /// Either way.
    Any,
}

/// A document format a subgraph can be exported as (see `Query.export` and `Subgraph.export`).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::formats::export::ExportFormat")]
pub enum ExportFormat {
    /// Cytoscape.js elements JSON: `{elements: {nodes: [{data}], edges: [{data}]}}`.
    Cytoscape,
    /// graphology's serialized graph (`Graph.from(json)`), directed multigraph.
    Graphology,
    /// NetworkX node-link JSON with an `edges` key (`nx.node_link_graph(d, edges="edges")`).
    NodeLink,
    /// GraphML with every attribute declared as a key (NetworkX, Gephi, yEd, igraph).
    Graphml,
    /// GEXF 1.2, Gephi's format (NetworkX 3.4 and 3.6 read it too), with declared node and edge attributes.
    Gexf,
    /// CSV with a header, one row per entity.
    CsvNodes,
    /// CSV with a header, one row per relation; `claims` holds JSON.
    CsvEdges,
}

/// Which part of the graph `Query.export` covers.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ExportScope {
    /// Every entity and relation, denied relations included (their `standing` says so).
    All,
    /// The entities within `depth` relations of `id` and every relation among them.
    Neighborhood,
    /// The entities and relations on the paths from `id` that follow `pattern`.
    Paths,
}

/// Which way a list runs.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Smallest first: A to Z, fewest relations first, oldest first.
    #[default]
    Asc,
    /// Largest first: Z to A, most relations first, newest first.
    Desc,
}

/// What a list of entities is ordered by; ties are broken by id.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EntityOrderField {
    /// The id.
    Id,
    /// The name, ignoring case, accents and punctuation.
    Name,
    /// How many relations it is an end of, denied ones included (what `relations` counts
    /// with every standing listed).
    Degree,
    /// When it last changed.
    UpdatedAt,
}

/// What a list of relations is ordered by; ties are broken by relation id.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum RelationOrderField {
    /// The relation's id.
    Id,
    /// The name of the entity at the other end, ignoring case, accents and punctuation.
    Name,
    /// How many relations the entity at the other end is an end of, denied ones included.
    Degree,
    /// When the relation last changed (this order reads every listed relation from the store).
    UpdatedAt,
}

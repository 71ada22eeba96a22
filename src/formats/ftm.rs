//! FollowTheMoney (FtM) data, as OpenSanctions, Aleph and `ftm` write it: entity JSON lines
//! (`{"id", "schema", "properties": {"name": [...], ...}}`), fragments of one entity on several
//! lines (merged by id), entities nested in property values (OpenSanctions' nested exports),
//! and statements, one property value per JSON line or CSV row (`entity_id`/`canonical_id`,
//! `schema`, `prop`, `value`).
//!
//! Owns the mapping from FtM schemata to tiegraph's kinds (the table is in
//! `docs/ftm-mapping.md`): Company, Organization, PublicBody and Person become entities;
//! Ownership, Directorship, Membership, Employment, Payment, ContractAward, Representation and
//! UnknownLink become relations, each with a claim citing a source made from the record's
//! `sourceUrl`, `publisher` and `publishedAt`/`modifiedAt`. Contract records are read only to
//! find a ContractAward's authority. Other schemata are skipped and counted in the notes.
//!
//! FtM ids are not slugs, so each becomes one deterministically ([`ftm_slug`]), and the FtM
//! id is kept as the identifier `ftm:<id>`; sources get ids from a hash of what they are made
//! of. The claim's quote is generated from the FtM statement's properties (FtM records carry
//! no verbatim quote) and says so. The same file therefore maps to the same records every
//! time, and importing it again changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use crate::model::{
    slugify, Amount, ClaimDraft, EntityDraft, EntityKind, Identifier, RelationDraft, RelationKind,
    SourceDraft, Stance,
};
use crate::service::ImportItem;

use super::{FormatError, ImportBatch, Origin};

/// One FtM entity as it appears on a line; fields other than these are ignored.
#[derive(Debug, Clone, Deserialize)]
struct FtmRecord {
    id: String,
    schema: String,
    #[serde(default)]
    properties: BTreeMap<String, Vec<Value>>,
    #[serde(default)]
    datasets: Vec<String>,
}

impl FtmRecord {
    /// A property's values as text; references given as nested entities become their ids.
    fn values(&self, property: &str) -> Vec<String> {
        self.properties
            .get(property)
            .map(|values| {
                values
                    .iter()
                    .filter_map(|value| match value {
                        Value::String(text) => Some(text.trim().to_owned()),
                        Value::Number(n) => Some(n.to_string()),
                        Value::Object(object) => {
                            object.get("id").and_then(Value::as_str).map(str::to_owned)
                        }
                        _ => None,
                    })
                    .filter(|text| !text.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn first(&self, property: &str) -> Option<String> {
        self.values(property).into_iter().next()
    }
}

/// The entity schemata tiegraph holds, and the kind each becomes.
pub const ENTITY_SCHEMATA: [(&str, EntityKind); 4] = [
    ("Company", EntityKind::Company),
    ("Organization", EntityKind::Nonprofit),
    ("PublicBody", EntityKind::Agency),
    ("Person", EntityKind::Person),
];

/// A link schema: the property naming the `from` end, the one naming the `to` end, the kind
/// it becomes, and the word used as `role` when its ends do not fit that kind.
struct LinkSchema {
    schema: &'static str,
    from: &'static str,
    to: &'static str,
    kind: RelationKind,
    verb: &'static str,
}

const LINK_SCHEMATA: [LinkSchema; 8] = [
    LinkSchema {
        schema: "Ownership",
        from: "owner",
        to: "asset",
        kind: RelationKind::Owns,
        verb: "owner",
    },
    LinkSchema {
        schema: "Directorship",
        from: "director",
        to: "organization",
        kind: RelationKind::OfficerOf,
        verb: "director",
    },
    LinkSchema {
        schema: "Membership",
        from: "member",
        to: "organization",
        kind: RelationKind::MemberOf,
        verb: "member",
    },
    LinkSchema {
        schema: "Employment",
        from: "employee",
        to: "employer",
        kind: RelationKind::EmployeeOf,
        verb: "employee",
    },
    LinkSchema {
        schema: "Payment",
        from: "payer",
        to: "beneficiary",
        kind: RelationKind::Donation,
        verb: "payer",
    },
    // The authority is on the award's Contract record, looked up by the `contract` property.
    LinkSchema {
        schema: "ContractAward",
        from: "supplier",
        to: "contract",
        kind: RelationKind::VendorTo,
        verb: "supplier",
    },
    // An agent acting for a client (a lawyer, a registered agent, a lobbying firm for the
    // firm that hires it): neither end lobbies the other.
    LinkSchema {
        schema: "Representation",
        from: "agent",
        to: "client",
        kind: RelationKind::AssociatedWith,
        verb: "represents",
    },
    LinkSchema {
        schema: "UnknownLink",
        from: "subject",
        to: "object",
        kind: RelationKind::AssociatedWith,
        verb: "associated",
    },
];

/// Properties the generated quote leaves out: the ends (named instead) and the provenance
/// (which is the claim's source).
const NOT_QUOTED: [&str; 5] = [
    "sourceUrl",
    "publisher",
    "publisherUrl",
    "publishedAt",
    "modifiedAt",
];

/// The longest quote kept; a record with more properties than this is cut short.
const MAX_QUOTE: usize = 4_000;

/// FNV-1a, 64 bits: stable across runs, platforms and Rust versions (std's hasher is not).
pub(crate) fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The slug an FtM id becomes: its slugified form (cut to 48 characters), a dash, and 8 hex
/// digits of a hash of the exact id, so ids that slugify alike still differ.
///
/// ```
/// use tiegraph::formats::ftm::ftm_slug;
/// assert_eq!(ftm_slug("NK-abc.123"), ftm_slug("NK-abc.123"));
/// assert!(ftm_slug("NK-abc.123").starts_with("nk-abc-123-"));
/// assert_ne!(ftm_slug("a.b"), ftm_slug("a-b"));
/// ```
pub fn ftm_slug(id: &str) -> String {
    let mut base: String = slugify(id).chars().take(48).collect();
    while base.ends_with('-') {
        base.pop();
    }
    format!("{base}-{:08x}", fnv1a(id) as u32)
}

/// An FtM date or datetime as a partial date: `2019-05-01T12:00:00` becomes `2019-05-01`.
fn date_part(text: &str) -> String {
    text.get(..10)
        .filter(|_| text.len() > 10)
        .unwrap_or(text)
        .to_owned()
}

/// What a line of FtM JSON holds: an entity (or a fragment of one), or one statement.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FtmLine {
    // First: a statement also has an `id` and a `schema`, and would read as an empty entity.
    Statement(Statement),
    Entity(FtmRecord),
}

/// One statement, as `ftm` and OpenSanctions write them (JSON lines or CSV with these columns):
/// one property value of one entity. A statement of the property `id` only says the entity
/// exists.
#[derive(Debug, Deserialize)]
struct Statement {
    #[serde(default)]
    canonical_id: Option<String>,
    #[serde(default)]
    entity_id: Option<String>,
    schema: String,
    prop: String,
    value: String,
    #[serde(default)]
    dataset: Option<String>,
}

impl Statement {
    fn entity(&self) -> Option<&str> {
        self.canonical_id
            .as_deref()
            .or(self.entity_id.as_deref())
            .filter(|id| !id.is_empty())
    }
}

/// Schemata whose records say less than their descendants: a fragment of such a schema takes
/// the more specific schema of another fragment of the same entity.
const GENERIC_SCHEMATA: [&str; 4] = ["Thing", "LegalEntity", "Interval", "Interest"];

/// The entities of `input` whole: entity lines, statements (JSON lines, or CSV with a header
/// naming `entity_id` or `canonical_id`, `schema`, `prop` and `value`), fragments of one id
/// merged as `ftm aggregate` merges them, and entities nested in property values made records
/// of their own. Each record keeps the line it (or its first fragment) was on.
fn read_records(input: impl BufRead, file: &str) -> Result<Vec<(usize, FtmRecord)>, FormatError> {
    let bad = |line: usize, message: String| FormatError::BadLine {
        file: file.to_owned(),
        line,
        message,
    };
    let mut merged: Vec<(usize, FtmRecord)> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut add = |line: usize, record: FtmRecord| -> Result<(), FormatError> {
        let mut pending = vec![record];
        while let Some(mut record) = pending.pop() {
            unnest(&mut record, &mut pending);
            match by_id.get(&record.id) {
                Some(&at) => merge(&mut merged[at].1, record).map_err(|m| bad(line, m))?,
                None => {
                    by_id.insert(record.id.clone(), merged.len());
                    merged.push((line, record));
                }
            }
        }
        Ok(())
    };
    let mut lines = super::numbered_lines(input, file.to_owned()).peekable();
    let first = loop {
        match lines.peek() {
            Some(Ok((_, line))) if line.trim().is_empty() => {
                lines.next();
            }
            Some(Ok((_, line))) => break Some(line.trim_start().starts_with('{')),
            Some(Err(_)) => break Some(true),
            None => break None,
        }
    };
    if first == Some(false) {
        // CSV statements: the header names the columns.
        let text: String = lines
            .map(|line| line.map(|(_, text)| text + "\n"))
            .collect::<Result<_, _>>()?;
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| bad(1, format!("not FtM statements CSV: {e}")))?
            .clone();
        let has = |name: &str| headers.iter().any(|h| h == name);
        if !(has("schema")
            && has("prop")
            && has("value")
            && (has("entity_id") || has("canonical_id")))
        {
            return Err(bad(1, "not FtM JSON or statements CSV: a statements CSV has the columns entity_id (or canonical_id), schema, prop and value".into()));
        }
        for (row, record) in reader.deserialize::<Statement>().enumerate() {
            let line = row + 2;
            let statement = record.map_err(|e| bad(line, format!("not an FtM statement: {e}")))?;
            add(line, statement_record(statement).map_err(|m| bad(line, m))?)?;
        }
        return Ok(merged);
    }
    for line in lines {
        let (line_number, line) = line?;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let record = match serde_json::from_str(trimmed) {
            Ok(FtmLine::Entity(record)) => record,
            Ok(FtmLine::Statement(statement)) => {
                statement_record(statement).map_err(|m| bad(line_number, m))?
            }
            Err(e) => {
                // Say what is wrong as an entity: it is what most files hold.
                let e = serde_json::from_str::<FtmRecord>(trimmed)
                    .err()
                    .unwrap_or(e);
                return Err(bad(
                    line_number,
                    format!("not an FtM entity or statement: {e}"),
                ));
            }
        };
        add(line_number, record)?;
    }
    Ok(merged)
}

/// A statement as a one-property fragment of its entity.
fn statement_record(statement: Statement) -> Result<FtmRecord, String> {
    let id = statement
        .entity()
        .ok_or("a statement needs `entity_id` or `canonical_id`")?
        .to_owned();
    let mut properties = BTreeMap::new();
    if statement.prop != "id" {
        properties.insert(statement.prop, vec![Value::String(statement.value)]);
    }
    Ok(FtmRecord {
        id,
        schema: statement.schema,
        properties,
        datasets: statement.dataset.into_iter().collect(),
    })
}

/// Moves entities nested in `record`'s property values (`{"id", "schema", "properties"}`) to
/// `out`, leaving their ids in their place; a nested entity without an id gets one from its
/// place. OpenSanctions' nested exports hold links this way (a Person's `ownershipOwner` holds
/// Ownership records, whose `asset` holds the Company).
fn unnest(record: &mut FtmRecord, out: &mut Vec<FtmRecord>) {
    let parent = record.id.clone();
    for (property, values) in record.properties.iter_mut() {
        for (i, value) in values.iter_mut().enumerate() {
            let Value::Object(object) = value else {
                continue;
            };
            if !object.contains_key("schema") {
                continue;
            }
            let id = object
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{parent}.{property}.{i}"));
            let mut nested = object.clone();
            nested.insert("id".into(), Value::String(id.clone()));
            if let Ok(nested) = serde_json::from_value::<FtmRecord>(Value::Object(nested)) {
                out.push(nested);
                *value = Value::String(id);
            }
        }
    }
}

/// Merges a fragment into the record of the same id: property values joined without repeats,
/// the more specific schema kept.
fn merge(into: &mut FtmRecord, fragment: FtmRecord) -> Result<(), String> {
    if fragment.schema != into.schema {
        if GENERIC_SCHEMATA.contains(&into.schema.as_str()) {
            into.schema = fragment.schema;
        } else if !GENERIC_SCHEMATA.contains(&fragment.schema.as_str()) {
            return Err(format!(
                "fragments of `{}` give two schemata, {} and {}",
                into.id, into.schema, fragment.schema
            ));
        }
    }
    for (property, values) in fragment.properties {
        let known = into.properties.entry(property).or_default();
        for value in values {
            if !known.contains(&value) {
                known.push(value);
            }
        }
    }
    for dataset in fragment.datasets {
        if !into.datasets.contains(&dataset) {
            into.datasets.push(dataset);
        }
    }
    Ok(())
}

/// Reads every FtM record of `input`. `known_kind` tells the kind of an entity already in the
/// store (by slug), for links to entities this file does not hold.
pub fn read(
    input: impl BufRead,
    file: &str,
    known_kind: &dyn Fn(&str) -> Option<EntityKind>,
) -> Result<ImportBatch, FormatError> {
    let bad = |line: usize, message: String| FormatError::BadLine {
        file: file.to_owned(),
        line,
        message,
    };
    let records = read_records(input, file)?;

    // First pass: what each FtM id is, so links can be checked whatever the order of the file.
    let mut kinds: HashMap<&str, EntityKind> = HashMap::new();
    let mut names: HashMap<&str, String> = HashMap::new();
    let mut contracts: HashMap<&str, &FtmRecord> = HashMap::new();
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    let mut skipped_ids: HashMap<&str, &str> = HashMap::new();
    for (_, record) in &records {
        if let Some((_, kind)) = ENTITY_SCHEMATA.iter().find(|(s, _)| *s == record.schema) {
            kinds.insert(&record.id, *kind);
            if let Some(name) = record.first("name") {
                names.insert(&record.id, name);
            }
        } else if record.schema == "Contract" {
            contracts.insert(&record.id, record);
        } else if !LINK_SCHEMATA.iter().any(|l| l.schema == record.schema) {
            *skipped.entry(&record.schema).or_default() += 1;
            skipped_ids.insert(&record.id, &record.schema);
        }
    }

    let mut batch = ImportBatch::new();
    let origin = |line: usize| Origin {
        file: file.to_owned(),
        line,
    };
    let mut skipped_links = 0usize;
    for (line, record) in &records {
        let line = *line;
        if let Some((_, kind)) = ENTITY_SCHEMATA.iter().find(|(s, _)| *s == record.schema) {
            batch.push(
                origin(line),
                ImportItem::Entity(entity(record, *kind).map_err(|m| bad(line, m))?),
            )?;
            continue;
        }
        let Some(link) = LINK_SCHEMATA.iter().find(|l| l.schema == record.schema) else {
            continue;
        };
        let from = record
            .first(link.from)
            .ok_or_else(|| bad(line, format!("{} needs `{}`", link.schema, link.from)))?;
        let to = if link.schema == "ContractAward" {
            let contract = record
                .first("contract")
                .ok_or_else(|| bad(line, "ContractAward needs `contract`".into()))?;
            let contract = contracts.get(contract.as_str()).ok_or_else(|| {
                bad(line, format!("ContractAward's contract `{contract}` is not a Contract record in this file"))
            })?;
            contract.first("authority").ok_or_else(|| {
                bad(
                    line,
                    format!("Contract `{}` has no `authority`", contract.id),
                )
            })?
        } else {
            record
                .first(link.to)
                .ok_or_else(|| bad(line, format!("{} needs `{}`", link.schema, link.to)))?
        };
        if skipped_ids.contains_key(from.as_str()) || skipped_ids.contains_key(to.as_str()) {
            skipped_links += 1;
            continue;
        }
        let (from_slug, to_slug) = (ftm_slug(&from), ftm_slug(&to));
        let kind_of =
            |ftm_id: &str, slug: &str| kinds.get(ftm_id).copied().or_else(|| known_kind(slug));
        let (kind, role) = choose_kind(
            link,
            record,
            kind_of(&from, &from_slug),
            kind_of(&to, &to_slug),
        );
        let contract = contracts
            .get(record.first("contract").unwrap_or_default().as_str())
            .copied();
        let description = record
            .first("summary")
            .or_else(|| record.first("description"))
            .or_else(|| record.first("purpose"))
            .or_else(|| contract.and_then(|c| c.first("title")));
        let amount = amount(record).map_err(|m| bad(line, m))?;
        let quote = quote(record, link, &from, &to, &names);
        let mut claims = Vec::new();
        for source in sources(record, file) {
            let id = source.id.clone().unwrap_or_default();
            batch.push_source_once(origin(line), source)?;
            claims.push(ClaimDraft {
                source: id,
                stance: Stance::Asserts,
                claimant: None,
                quote: quote.clone(),
            });
        }
        let draft = RelationDraft {
            id: Some(ftm_slug(&record.id)),
            kind,
            from: from_slug,
            to: to_slug,
            // FtM says when a tie started and ended, not whether it holds today: no status is invented.
            status: None,
            role,
            description,
            amount,
            start: record
                .first("startDate")
                .or_else(|| record.first("date"))
                .map(|d| date_part(&d)),
            end: record.first("endDate").map(|d| date_part(&d)),
            claims,
        };
        batch.push(origin(line), ImportItem::Relation(draft))?;
    }
    for (schema, count) in skipped {
        batch.notes.push(format!(
            "skipped {count} {schema} record(s): tiegraph has no kind for that schema"
        ));
    }
    if skipped_links > 0 {
        batch.notes.push(format!(
            "skipped {skipped_links} link(s) to records of skipped schemata"
        ));
    }
    Ok(batch)
}

fn entity(record: &FtmRecord, kind: EntityKind) -> Result<EntityDraft, String> {
    let mut all_names = record.values("name");
    if all_names.is_empty() {
        return Err(format!("{} `{}` has no `name`", record.schema, record.id));
    }
    let name = all_names.remove(0);
    let mut aliases: Vec<String> = Vec::new();
    for alias in all_names
        .into_iter()
        .chain(record.values("alias"))
        .chain(record.values("previousName"))
    {
        if alias != name && !aliases.contains(&alias) {
            aliases.push(alias);
        }
    }
    // FtM country codes are lower case and include non-ISO ones (`zz`, `suhh`): keep ISO ones.
    let country = record
        .values("country")
        .into_iter()
        .chain(record.values("jurisdiction"))
        .map(|c| c.to_ascii_uppercase())
        .find(|c| crate::model::is_country_code(c));
    let mut identifiers = vec![Identifier {
        scheme: "ftm".into(),
        value: record.id.clone(),
    }];
    for (property, scheme) in [
        ("wikidataId", "wikidata"),
        ("leiCode", "lei"),
        ("innCode", "inn"),
        ("registrationNumber", "registration"),
        ("uniqueEntityId", "uei"),
        ("dunsCode", "duns"),
    ] {
        for value in record.values(property) {
            identifiers.push(Identifier {
                scheme: scheme.into(),
                value,
            });
        }
    }
    Ok(EntityDraft {
        id: Some(ftm_slug(&record.id)),
        kind,
        name,
        aliases,
        description: record
            .first("description")
            .or_else(|| record.first("summary")),
        country,
        category: None,
        identifiers,
    })
}

/// The kind and role a link becomes. Its schema's kind when the ends fit it (a Representation
/// is LOBBIED only when the client is a government body); otherwise ASSOCIATED_WITH with the
/// schema's verb as role, so that a company directing a company is kept, not refused.
fn choose_kind(
    link: &LinkSchema,
    record: &FtmRecord,
    from: Option<EntityKind>,
    to: Option<EntityKind>,
) -> (RelationKind, Option<String>) {
    let role = record.first("role");
    let fitting = match (from, to) {
        // The tie is that the agent acts for the client, whatever the two are: its role says so.
        _ if link.schema == "Representation" => false,
        (Some(from), Some(to)) => super::fits(link.kind, from, to),
        // An end the service does not know either: it will say so, naming the line.
        _ => true,
    };
    if fitting {
        let role = role.or_else(|| record.first("percentage").map(|p| format!("{p}%")));
        (link.kind, role)
    } else {
        let role = match role {
            Some(role) => format!("{}: {role}", link.verb),
            None => link.verb.to_owned(),
        };
        (RelationKind::AssociatedWith, Some(role))
    }
}

fn amount(record: &FtmRecord) -> Result<Option<Amount>, String> {
    let Some(text) = record.first("amount") else {
        return Ok(None);
    };
    let value: f64 = text
        .replace(',', "")
        .parse()
        .map_err(|_| format!("amount `{text}` is not a number"))?;
    match record.first("currency") {
        Some(currency) => Ok(Some(Amount {
            value,
            currency: currency.to_ascii_uppercase(),
        })),
        // A sum without a currency is no amount tiegraph can hold; the quote keeps it.
        None => Ok(None),
    }
}

/// One source per `sourceUrl` (or one without a URL), named by publisher, URL or dataset.
fn sources(record: &FtmRecord, file: &str) -> Vec<SourceDraft> {
    let publisher = record.first("publisher");
    let published = record
        .first("publishedAt")
        .or_else(|| record.first("modifiedAt"))
        .map(|d| date_part(&d));
    let dataset = record.datasets.first().cloned();
    let mut urls: Vec<Option<String>> = record.values("sourceUrl").into_iter().map(Some).collect();
    if urls.is_empty() {
        urls.push(None);
    }
    urls.into_iter()
        .map(|url| {
            let file_name = std::path::Path::new(file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let title = publisher
                .clone()
                .or_else(|| url.clone())
                .or_else(|| {
                    dataset
                        .as_ref()
                        .map(|d| format!("FollowTheMoney dataset {d}"))
                })
                .unwrap_or_else(|| format!("FollowTheMoney file {file_name}"));
            let key = format!(
                "{}|{}|{}|{}",
                url.as_deref().unwrap_or(""),
                publisher.as_deref().unwrap_or(""),
                published.as_deref().unwrap_or(""),
                if url.is_none() && publisher.is_none() {
                    dataset.as_deref().unwrap_or(&file_name)
                } else {
                    ""
                },
            );
            SourceDraft {
                id: Some(format!("ftm-source-{:016x}", fnv1a(&key))),
                title,
                publisher: publisher.clone(),
                url,
                published: published.clone(),
            }
        })
        .collect()
}

/// The generated quote: the FtM statement in words, so a reader sees what the claim rests on.
fn quote(
    record: &FtmRecord,
    link: &LinkSchema,
    from: &str,
    to: &str,
    names: &HashMap<&str, String>,
) -> String {
    let named = |id: &str| match names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    };
    let to_property = if link.schema == "ContractAward" {
        "authority"
    } else {
        link.to
    };
    let mut quote = format!(
        "[generated from FollowTheMoney {} {}] {}: {}; {}: {}",
        record.schema,
        record.id,
        link.from,
        named(from),
        to_property,
        named(to)
    );
    for property in record.properties.keys() {
        if property == link.from || property == link.to || NOT_QUOTED.contains(&property.as_str()) {
            continue;
        }
        let values = record.values(property);
        if !values.is_empty() {
            quote.push_str(&format!("; {property}: {}", values.join(", ")));
        }
    }
    if quote.chars().count() > MAX_QUOTE {
        quote = quote.chars().take(MAX_QUOTE - 1).collect::<String>() + "…";
    }
    quote
}

//! LittleSis (<https://littlesis.org>) data: the bulk files of
//! <https://littlesis.org/database/download> (`entities.json.gz`, `relationships.json.gz`,
//! gunzipped) and the objects of its API.
//!
//! Owns the mapping from LittleSis entities and relationships to tiegraph's records: entity
//! kinds from `primary_ext` and `types`, the twelve relationship categories to relation kinds
//! and directions, LittleSis dates to partial dates, and one claim per relationship citing its
//! LittleSis page. The tables are in `docs/littlesis-mapping.md` and the README. It knows
//! nothing of how entities are matched to ones already stored by identifier (the service
//! does that): it emits drafts carrying `littlesis:<id>` and asks `known` only for the slug and
//! kind of an entity a relationship names that the file does not hold.
//!
//! What LittleSis writes, from its source (github.com/public-accountability/littlesis-rails,
//! snapshot of 2026-06-30, commit 8f13fee3):
//! - `app/utility/public_data.rb` writes each bulk file as ONE JSON array of `api_data`
//!   objects, written back to back with no line breaks; `app/utility/api/serializable.rb`
//!   makes each object `{"type": "entities"|"relationships", "id", "attributes", "links"}`.
//! - `config/api.yml` and `app/utility/api/serializer.rb`: an entity's attributes are its
//!   columns (`id`, `name`, `blurb`, `summary`, `website`, `parent_id`, `primary_ext`,
//!   `start_date`, `end_date`, `updated_at`, ...) plus `aliases` (which include the name
//!   itself), `types` (extension display names, the primary one included: "Organization",
//!   "Business", ...), `extensions` and `tags`; a relationship's are its columns (`entity1_id`,
//!   `entity2_id`, `category_id`, `description1`, `description2`, `amount`, `currency`,
//!   `goods`, `filings`, `start_date`, `end_date`, `is_current`, `updated_at`) plus
//!   `description` (a sentence) and `category_attributes` (a Position's `is_board`,
//!   `is_executive`, `is_employee`, ...). `app/models/relationship.rb` gives a relationship's
//!   links as `self` (`https://littlesis.org/relationships/<id>`), `entity` and `related`;
//!   the bulk objects carry no references or documents, so the page is the source.
//! - `db/seeds.rb` and `data/relationship_categories.csv`: categories 1 Position,
//!   2 Education, 3 Membership, 4 Family, 5 Donation ("Donation/Grant"), 6 Transaction
//!   ("Service/Transaction"), 7 Lobbying, 8 Social, 9 Professional, 10 Ownership,
//!   11 Hierarchy, 12 Generic, with which end must be a Person or an Org; the entity
//!   extensions (types) and their display names.
//! - `app/models/concerns/relationship_display.rb` and `Relationship#default_description`:
//!   the direction of each category (entity1 "gave money to" entity2, "is an owner of",
//!   "lobbies"; in a Hierarchy entity1 is the child org; a Transaction is "A and B did
//!   business", with no direction).
//! - `app/utility/ls_date.rb`: dates are `YYYY-MM-DD` with `00` for an unknown month or day.
//! - `Relationship#set_currency_default`: currencies are stored lower case, `usd` when an
//!   amount is given without one.
//!
//! Input: one JSON array of objects, JSON lines of objects, or several arrays back to back
//! (`cat entities.json relationships.json`), each object in the JSON:API form or flat (its
//! attributes at the top level), an API answer's `data` and `included` read as well. Entities
//! and relationships may come in any order. Errors name the line where the object starts (a
//! bulk file is one line, so the message also gives the object's number and LittleSis id).
//!
//! Ids are deterministic: an entity is `slugify(name)-<id>` (LittleSis's own URLs are
//! `/org/<id>-<Name>`), a relationship `littlesis-relationship-<id>`, its source
//! `littlesis-relationship-<id>-page`; the quote is generated from the relationship's own
//! fields only (never from names looked up elsewhere), so importing a file again, or the same
//! relationships in another file, changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::Read;

use serde_json::{Map, Value};

use crate::model::{
    slugify, validate_relation, Amount, ClaimDraft, EntityDraft, EntityKind, Identifier,
    PartialDate, Period, RelationDraft, RelationKind, SourceDraft, Stance, Status,
};
use crate::service::ImportItem;

use super::{FormatError, ImportBatch, Origin};

/// LittleSis's relationship categories by id (`db/seeds.rb`, display names).
pub const CATEGORIES: [(u64, &str); 12] = [
    (1, "Position"),
    (2, "Education"),
    (3, "Membership"),
    (4, "Family"),
    (5, "Donation/Grant"),
    (6, "Service/Transaction"),
    (7, "Lobbying"),
    (8, "Social"),
    (9, "Professional"),
    (10, "Ownership"),
    (11, "Hierarchy"),
    (12, "Generic"),
];

/// The name of a category id, `None` for ids LittleSis does not have.
pub fn category_name(id: u64) -> Option<&'static str> {
    CATEGORIES
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, name)| *name)
}

/// Org types that decide the kind, in order of precedence: the first of these an Org has
/// wins. A government body that is also listed as something else is still government; a
/// business that is also a member organisation is still a business; "Media Organization" is
/// last because LittleSis gives it to nonprofit newsrooms too, which also carry
/// "Other Not-for-Profit". Types not listed here (and "Organization") decide nothing.
pub const ORG_TYPES: [(&str, EntityKind); 27] = [
    ("Government Body", EntityKind::Agency),
    ("Government Advisory Body", EntityKind::Agency),
    ("Business", EntityKind::Company),
    ("Private Company", EntityKind::Company),
    ("Public Company", EntityKind::Company),
    ("Government-Sponsored Enterprise", EntityKind::Company),
    ("Law Firm", EntityKind::Company),
    ("Lobbying Firm", EntityKind::Company),
    ("Public Relations Firm", EntityKind::Company),
    ("Consulting Firm", EntityKind::Company),
    ("Other Not-for-Profit", EntityKind::Nonprofit),
    ("Philanthropy", EntityKind::Nonprofit),
    ("Policy/Think Tank", EntityKind::Nonprofit),
    ("Membership Organization", EntityKind::Nonprofit),
    ("Industry/Trade Association", EntityKind::Nonprofit),
    ("Professional Association", EntityKind::Nonprofit),
    ("Labor Union", EntityKind::Nonprofit),
    ("Social Club", EntityKind::Nonprofit),
    ("Cultural/Arts", EntityKind::Nonprofit),
    ("School", EntityKind::Nonprofit),
    ("Academic Research Institute", EntityKind::Nonprofit),
    ("Elite Consensus Group", EntityKind::Nonprofit),
    // Parties and campaign committees are not government: LittleSis files them under Org, not
    // under Government Body, and they raise and spend money as nonprofits do.
    ("Political Party", EntityKind::Nonprofit),
    ("Political Fundraising Committee", EntityKind::Nonprofit),
    ("PAC", EntityKind::Nonprofit),
    ("Individual Campaign Committee", EntityKind::Nonprofit),
    ("Media Organization", EntityKind::Company),
];

/// The kind an Org becomes when none of its types is in [`ORG_TYPES`] (FtM's plain
/// Organization becomes a nonprofit too); such entities are counted in the notes.
pub const DEFAULT_ORG_KIND: EntityKind = EntityKind::Nonprofit;

/// Types that only repeat the primary extension, left out of the entity's category.
const PRIMARY_TYPES: [&str; 3] = ["Organization", "Person", "Couple"];

/// The kind of a LittleSis entity, and whether it was the Org default.
pub fn entity_kind(primary_ext: &str, types: &[String]) -> Result<(EntityKind, bool), String> {
    match primary_ext {
        "Person" => Ok((EntityKind::Person, false)),
        // A Couple (`db/seeds.rb`: a tier-1 extension beside Person and Org) is two people.
        "Couple" => Ok((EntityKind::Group, false)),
        "Org" => Ok(ORG_TYPES
            .iter()
            .find(|(name, _)| types.iter().any(|t| t == name))
            .map_or((DEFAULT_ORG_KIND, true), |(_, kind)| (*kind, false))),
        other => Err(format!(
            "primary_ext `{other}` is not one of Person, Org or Couple"
        )),
    }
}

/// A LittleSis date as a partial date: `2019-00-00` is `2019`, `2019-05-00` is `2019-05`.
/// Empty means unknown.
pub fn ls_date(text: &str, field: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = text.split('-').collect();
    let partial = match parts.as_slice() {
        [year] => (*year).to_owned(),
        [year, "00"] | [year, "00", "00"] => (*year).to_owned(),
        [year, month] | [year, month, "00"] => format!("{year}-{month}"),
        [_, "00", _] => {
            return Err(format!(
                "{field} `{text}` gives a day without a month (LittleSis dates are YYYY-MM-DD, 00 for unknown)"
            ))
        }
        _ => text.to_owned(),
    };
    PartialDate::parse(&partial, field).map_err(|_| {
        format!(
            "{field} `{text}` is not a LittleSis date (YYYY-MM-DD, 00 for an unknown month or day)"
        )
    })?;
    Ok(Some(partial))
}

/// The slug of a LittleSis entity: its name's slug (cut short so any id fits) and its id.
///
/// ```
/// use tiegraph::formats::littlesis::entity_slug;
/// assert_eq!(entity_slug("Walmart", 1), "walmart-1");
/// assert_eq!(entity_slug("Friends of the Example River", 900002), "friends-of-the-example-river-900002");
/// ```
pub fn entity_slug(name: &str, id: u64) -> String {
    let mut base: String = slugify(name).chars().take(100).collect();
    while base.ends_with('-') {
        base.pop();
    }
    format!("{base}-{id}")
}

/// The relation a LittleSis relationship becomes.
pub fn relation_slug(id: u64) -> String {
    format!("littlesis-relationship-{id}")
}

/// The source citing a LittleSis relationship's page.
pub fn source_slug(id: u64) -> String {
    format!("littlesis-relationship-{id}-page")
}

/// The longest description taken from a `summary` (blurbs are one line; summaries are
/// essays, and a record's description is for telling entities apart).
const MAX_SUMMARY: usize = 4_000;
/// The model's limit on aliases.
const MAX_ALIASES: usize = 100;
/// The model's limit on one-line texts (a category).
const MAX_NAME: usize = 500;

/// One object of the input and where it starts.
struct Piece<'a> {
    /// The line (1-based) its first character is on.
    line: usize,
    /// Its place among the file's objects, 1-based.
    number: usize,
    text: &'a str,
}

/// Where lines start, to turn byte offsets into line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines(starts)
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end of the JSON value starting at `start`: after its closing bracket for an object or
/// array (strings and escapes skipped), at the next separator for anything else. Whether the
/// text is valid JSON is serde_json's to say; this only finds where each object is.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    if !matches!(bytes.get(start), Some(b'{' | b'[')) {
        let mut i = start;
        while i < bytes.len() && !matches!(bytes[i], b',' | b']' | b'}') {
            if bytes[i].is_ascii_whitespace() {
                break;
            }
            i += 1;
        }
        return Some(i.max(start + 1).min(bytes.len()));
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The objects of `text`: top-level objects (JSON lines, or objects back to back) and the
/// elements of top-level arrays.
fn pieces<'a>(text: &'a str, lines: &Lines, file: &str) -> Result<Vec<Piece<'a>>, FormatError> {
    let bad = |offset: usize, message: String| FormatError::BadLine {
        file: file.to_owned(),
        line: lines.line(offset),
        message,
    };
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let piece = |start: usize, end: usize, out: &mut Vec<Piece<'a>>| {
        out.push(Piece {
            line: lines.line(start),
            number: out.len() + 1,
            text: &text[start..end],
        })
    };
    let unended = |start: usize, what: &str| {
        bad(
            start,
            format!("the {what} starting here never ends (is the file cut short?)"),
        )
    };
    let mut i = skip_space(bytes, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                let end = value_end(bytes, i).ok_or_else(|| unended(i, "object"))?;
                piece(i, end, &mut out);
                i = end;
            }
            b'[' => {
                let array = i;
                i = skip_space(bytes, i + 1);
                loop {
                    match bytes.get(i) {
                        None => return Err(unended(array, "array")),
                        Some(b']') => {
                            i += 1;
                            break;
                        }
                        Some(_) => {}
                    }
                    let end = value_end(bytes, i).ok_or_else(|| unended(i, "object"))?;
                    piece(i, end, &mut out);
                    i = skip_space(bytes, end);
                    match bytes.get(i) {
                        Some(b',') => i = skip_space(bytes, i + 1),
                        Some(b']') => {
                            i += 1;
                            break;
                        }
                        None => return Err(unended(array, "array")),
                        Some(_) => {
                            return Err(bad(
                                i,
                                format!(
                                    "expected `,` or `]` after object {} of the array",
                                    out.len()
                                ),
                            ))
                        }
                    }
                }
            }
            _ => {
                return Err(bad(
                    i,
                    "expected a JSON object or an array of objects (LittleSis entities or relationships)".into(),
                ))
            }
        }
        i = skip_space(bytes, i);
    }
    Ok(out)
}

/// What an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Sort {
    Entity,
    Relationship,
}

/// One LittleSis object, JSON:API or flat, read down to what the mapping uses.
struct Object {
    line: usize,
    number: usize,
    sort: Sort,
    id: u64,
    attributes: Map<String, Value>,
    links: Map<String, Value>,
}

impl Object {
    /// Where it is, for messages: a bulk file is one line, so the number says which object.
    fn place(&self) -> String {
        let sort = match self.sort {
            Sort::Entity => "entity",
            Sort::Relationship => "relationship",
        };
        format!("object {} (LittleSis {sort} {})", self.number, self.id)
    }

    fn text(&self, field: &str) -> Result<Option<String>, String> {
        match self.attributes.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => {
                let text = text.trim();
                Ok((!text.is_empty()).then(|| text.to_owned()))
            }
            Some(other) => Err(format!("`{field}` should be text, not {other}")),
        }
    }

    fn number_field(&self, field: &str) -> Result<Option<u64>, String> {
        self.attributes
            .get(field)
            .map(|value| {
                as_id(value)
                    .ok_or_else(|| format!("`{field}` should be a whole number, not {value}"))
            })
            .transpose()
    }

    fn required_number(&self, field: &str) -> Result<u64, String> {
        self.number_field(field)?
            .ok_or_else(|| format!("a relationship needs `{field}`"))
    }

    fn flag(&self, map: &Map<String, Value>, field: &str) -> Result<Option<bool>, String> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(format!(
                "`{field}` should be true, false or null, not {other}"
            )),
        }
    }

    fn texts(&self, field: &str) -> Result<Vec<String>, String> {
        match self.attributes.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(values)) => values
                .iter()
                .map(|value| match value {
                    Value::String(text) => Ok(text.trim().to_owned()),
                    other => Err(format!("`{field}` should hold texts, not {other}")),
                })
                .filter(|text| !matches!(text, Ok(t) if t.is_empty()))
                .collect(),
            Some(other) => Err(format!("`{field}` should be a list of texts, not {other}")),
        }
    }

    fn category_attributes(&self) -> Map<String, Value> {
        match self.attributes.get("category_attributes") {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        }
    }
}

/// An id as LittleSis writes it: a number, or (in some clients' output) digits in a string.
fn as_id(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Reads one piece into the objects it holds (an API answer's `data` and `included` hold
/// several); other types of object (lists, tags) are counted in `others`.
fn objects(
    piece: &Piece,
    file: &str,
    out: &mut Vec<Object>,
    others: &mut BTreeMap<String, usize>,
) -> Result<(), FormatError> {
    let value: Value = serde_json::from_str(piece.text).map_err(|e| FormatError::BadLine {
        file: file.to_owned(),
        line: piece.line + e.line().saturating_sub(1),
        message: format!("object {} is not JSON: {e}", piece.number),
    })?;
    let bad = |message: String| FormatError::BadLine {
        file: file.to_owned(),
        line: piece.line,
        message: format!("object {}: {message}", piece.number),
    };
    let Value::Object(map) = value else {
        return Err(bad(format!(
            "expected a LittleSis entity or relationship object, not {value}"
        )));
    };
    if map.contains_key("data") && !map.contains_key("attributes") {
        let mut inner = Vec::new();
        for key in ["data", "included"] {
            match map.get(key) {
                Some(Value::Array(values)) => inner.extend(values.iter().cloned()),
                Some(value @ Value::Object(_)) => inner.push(value.clone()),
                _ => {}
            }
        }
        for value in inner {
            let Value::Object(map) = value else {
                return Err(bad("an API answer's `data` should hold objects".into()));
            };
            if let Some(object) = object(map, piece, others).map_err(&bad)? {
                out.push(object);
            }
        }
        return Ok(());
    }
    if let Some(object) = object(map, piece, others).map_err(bad)? {
        out.push(object);
    }
    Ok(())
}

fn object(
    mut map: Map<String, Value>,
    piece: &Piece,
    others: &mut BTreeMap<String, usize>,
) -> Result<Option<Object>, String> {
    let kind = map.get("type").and_then(Value::as_str).map(str::to_owned);
    let links = match map.remove("links") {
        Some(Value::Object(links)) => links,
        _ => Map::new(),
    };
    let top_id = map.get("id").cloned();
    let attributes = match map.remove("attributes") {
        Some(Value::Object(attributes)) => attributes,
        Some(other) => return Err(format!("`attributes` should be an object, not {other}")),
        None => map,
    };
    let sort = match kind.as_deref() {
        Some("entities" | "entity") => Sort::Entity,
        Some("relationships" | "relationship") => Sort::Relationship,
        Some(other) => {
            *others.entry(other.to_owned()).or_default() += 1;
            return Ok(None);
        }
        None if attributes.contains_key("entity1_id") => Sort::Relationship,
        None if attributes.contains_key("primary_ext") || attributes.contains_key("name") => {
            Sort::Entity
        }
        None => {
            return Err(
                "neither a LittleSis entity (`name`, `primary_ext`) nor a relationship (`entity1_id`, `entity2_id`, `category_id`)".into(),
            )
        }
    };
    let id_value = top_id
        .or_else(|| attributes.get("id").cloned())
        .ok_or("a LittleSis object needs its `id`")?;
    let id =
        as_id(&id_value).ok_or_else(|| format!("`id` should be a whole number, not {id_value}"))?;
    Ok(Some(Object {
        line: piece.line,
        number: piece.number,
        sort,
        id,
        attributes,
        links,
    }))
}

/// Where an object was first given, and a digest of what it said.
struct First {
    line: usize,
    number: usize,
    digest: u64,
    /// The piece and the place in it.
    at: (usize, usize),
}

/// A digest of a JSON value that does not depend on the order of its keys.
fn digest(value: &Value, hasher: &mut impl Hasher) {
    match value {
        Value::Object(map) => digest_map(map, hasher),
        Value::Array(values) => {
            hasher.write_u8(b'[');
            for value in values {
                digest(value, hasher);
            }
            hasher.write_u8(b']');
        }
        other => other.to_string().hash(hasher),
    }
}

fn digest_map(map: &Map<String, Value>, hasher: &mut impl Hasher) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    hasher.write_u8(b'{');
    for key in keys {
        key.hash(hasher);
        if let Some(value) = map.get(key) {
            digest(value, hasher);
        }
    }
    hasher.write_u8(b'}');
}

/// Whether `object` is the first of its id. An object given twice alike (API answers each
/// include the entities they name) is read once; given twice differently, it is refused.
fn first_time(
    firsts: &mut HashMap<(Sort, u64), First>,
    object: &Object,
    at: (usize, usize),
) -> Result<bool, String> {
    // The digest is only compared within this run: std's hasher is enough.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for (key, value) in [("attributes", &object.attributes), ("links", &object.links)] {
        key.hash(&mut hasher);
        digest_map(value, &mut hasher);
    }
    let digest = hasher.finish();
    match firsts.get(&(object.sort, object.id)) {
        Some(first) if first.digest == digest => Ok(false),
        Some(first) => Err(format!(
            "{} is given twice, differently (first on line {}, object {})",
            object.place(),
            first.line,
            first.number
        )),
        None => {
            firsts.insert(
                (object.sort, object.id),
                First {
                    line: object.line,
                    number: object.number,
                    digest,
                    at,
                },
            );
            Ok(true)
        }
    }
}

/// What the file says of an entity a relationship may name.
struct End {
    slug: String,
    kind: EntityKind,
}

/// Reads every LittleSis object of `input`. `known` gives the slug and kind of an entity
/// already in the store by its LittleSis id, for relationships naming entities this file does
/// not hold.
pub fn read(
    mut input: impl Read,
    file: &str,
    known: &dyn Fn(u64) -> Option<(String, EntityKind)>,
) -> Result<ImportBatch, FormatError> {
    let bad = |line: usize, message: String| FormatError::BadLine {
        file: file.to_owned(),
        line,
        message,
    };
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|source| FormatError::Io {
            file: file.to_owned(),
            source,
        })?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(bad(
            1,
            "this is gzip-compressed (LittleSis's bulk files are .json.gz): gunzip it first".into(),
        ));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            let column = at
                - bytes[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
            return Err(bad(
                line,
                format!("the line is not valid UTF-8 (byte {})", column + 1),
            ));
        }
    };
    let lines = Lines::of(&text);
    let pieces = pieces(&text, &lines, file)?;
    let mut others: BTreeMap<String, usize> = BTreeMap::new();

    let mut batch = ImportBatch::new();
    let origin = |line: usize| Origin {
        file: file.to_owned(),
        line,
    };
    // First pass: entities become drafts at once, so relationships can find their ends in any
    // order; relationships are parsed again in the second pass rather than kept, so memory
    // holds the file and the drafts, never every object's parsed JSON at once (parsed JSON
    // takes several times the bytes of its text, and the bulk files hold every record).
    let mut ends: HashMap<u64, End> = HashMap::new();
    let mut firsts: HashMap<(Sort, u64), First> = HashMap::new();
    let mut relationship_pieces: Vec<usize> = Vec::new();
    let mut defaulted: BTreeMap<String, usize> = BTreeMap::new();
    let mut aliases_cut = 0usize;
    for (p, piece) in pieces.iter().enumerate() {
        let mut here = Vec::new();
        objects(piece, file, &mut here, &mut others)?;
        for (k, object) in here.iter().enumerate() {
            if !first_time(&mut firsts, object, (p, k)).map_err(|m| bad(object.line, m))? {
                continue;
            }
            if object.sort == Sort::Relationship {
                if relationship_pieces.last() != Some(&p) {
                    relationship_pieces.push(p);
                }
                continue;
            }
            let at = |m: String| bad(object.line, format!("{}: {m}", object.place()));
            let (draft, was_default, cut) = entity(object).map_err(at)?;
            if was_default {
                let types = object.texts("types").unwrap_or_default();
                let told: Vec<&str> = types
                    .iter()
                    .map(String::as_str)
                    .filter(|t| !PRIMARY_TYPES.contains(t))
                    .collect();
                let key = if told.is_empty() {
                    "no type".to_owned()
                } else {
                    told.join(", ")
                };
                *defaulted.entry(key).or_default() += 1;
            }
            aliases_cut += cut;
            ends.insert(
                object.id,
                End {
                    slug: draft.id.clone().unwrap_or_default(),
                    kind: draft.kind,
                },
            );
            batch.push(origin(object.line), ImportItem::Entity(draft))?;
        }
    }

    let mut unknown: BTreeMap<u64, usize> = BTreeMap::new();
    let mut fell_back: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut undirected = 0usize;
    let mut amounts_left = 0usize;
    let mut periods_left = 0usize;
    let mut again: Vec<Object> = Vec::new();
    for &p in &relationship_pieces {
        again.clear();
        objects(&pieces[p], file, &mut again, &mut BTreeMap::new())?;
        let firsts_here = again.iter().enumerate().filter(|(k, object)| {
            object.sort == Sort::Relationship
                && firsts.get(&(object.sort, object.id)).map(|f| f.at) == Some((p, *k))
        });
        for (_, object) in firsts_here {
            let at = |m: String| bad(object.line, format!("{}: {m}", object.place()));
            let category = object.required_number("category_id").map_err(at)?;
            let Some(category_label) = category_name(category) else {
                *unknown.entry(category).or_default() += 1;
                continue;
            };
            let resolve = |field: &str| -> Result<(String, EntityKind), FormatError> {
                let id = object.required_number(field).map_err(at)?;
                match ends.get(&id) {
                    Some(end) => Ok((end.slug.clone(), end.kind)),
                    None => known(id).ok_or_else(|| {
                        at(format!("{field} {id} is no entity in this file, and no entity in the store has the identifier littlesis:{id}"))
                    }),
                }
            };
            let entity1 = resolve("entity1_id")?;
            let entity2 = resolve("entity2_id")?;
            let mapped = relationship(object, category, entity1.1, entity2.1).map_err(at)?;
            if mapped.fell_back {
                *fell_back.entry(category_label).or_default() += 1;
            }
            if mapped.undirected {
                undirected += 1;
            }
            amounts_left += usize::from(mapped.amount_left);
            periods_left += usize::from(mapped.period_left);
            let (from, to) = if mapped.reversed {
                (entity2.0, entity1.0)
            } else {
                (entity1.0, entity2.0)
            };
            let source = SourceDraft {
                id: Some(source_slug(object.id)),
                title: format!("LittleSis relationship {}", object.id),
                publisher: Some("LittleSis".into()),
                url: Some(
                    object
                        .links
                        .get("self")
                        .and_then(Value::as_str)
                        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
                        .map(str::to_owned)
                        .unwrap_or_else(|| {
                            format!("https://littlesis.org/relationships/{}", object.id)
                        }),
                ),
                published: object
                    .text("updated_at")
                    .ok()
                    .flatten()
                    .and_then(|d| d.get(..10).map(str::to_owned))
                    .filter(|d| PartialDate::parse(d, "updated_at").is_ok()),
            };
            batch.push(origin(object.line), ImportItem::Source(source))?;
            let draft = RelationDraft {
                id: Some(relation_slug(object.id)),
                kind: mapped.kind,
                from,
                to,
                status: mapped.status,
                role: mapped.role,
                description: mapped.description,
                amount: mapped.amount,
                start: mapped.start,
                end: mapped.end,
                claims: vec![ClaimDraft {
                    source: source_slug(object.id),
                    stance: Stance::Asserts,
                    claimant: None,
                    quote: mapped.quote,
                }],
            };
            batch.push(origin(object.line), ImportItem::Relation(draft))?;
        }
    }
    for (category, count) in unknown {
        batch.notes.push(format!(
            "skipped {count} relationship(s) of unknown category {category}: LittleSis's categories are 1 to 12"
        ));
    }
    for (category, count) in fell_back {
        batch.notes.push(format!(
            "{count} {category} relationship(s) became ASSOCIATED_WITH (role `{}: ...`): their ends do not fit the category's kind",
            category.to_lowercase()
        ));
    }
    if undirected > 0 {
        batch.notes.push(format!(
            "{undirected} Service/Transaction relationship(s) became ASSOCIATED_WITH: their descriptions do not say which end is the vendor"
        ));
    }
    if amounts_left > 0 {
        batch.notes.push(format!(
            "{amounts_left} relationship(s) keep their amount only in the quote: negative, or not in an ISO 4217 currency"
        ));
    }
    if periods_left > 0 {
        batch.notes.push(format!(
            "{periods_left} relationship(s) keep their dates only in the quote: the end is before the start"
        ));
    }
    for (types, count) in defaulted {
        batch.notes.push(format!(
            "{count} Org(s) with {types} imported as {}: no type says company, agency or nonprofit",
            DEFAULT_ORG_KIND.as_str()
        ));
    }
    if aliases_cut > 0 {
        batch.notes.push(format!(
            "left out {aliases_cut} alias(es) past the first {MAX_ALIASES} of an entity"
        ));
    }
    for (kind, count) in others {
        batch.notes.push(format!(
            "skipped {count} object(s) of type `{kind}`: only entities and relationships are imported"
        ));
    }
    Ok(batch)
}

/// An entity's draft, whether its kind was the Org default, and how many aliases were cut.
fn entity(object: &Object) -> Result<(EntityDraft, bool, usize), String> {
    let name = object.text("name")?.ok_or("an entity needs a `name`")?;
    let primary_ext = object
        .text("primary_ext")?
        .ok_or("an entity needs `primary_ext` (Person or Org)")?;
    let types = object.texts("types")?;
    let (kind, was_default) = entity_kind(&primary_ext, &types)?;
    let mut aliases: Vec<String> = Vec::new();
    let mut folded = vec![name.to_lowercase()];
    let mut cut = 0;
    for alias in object.texts("aliases")? {
        let key = alias.to_lowercase();
        if folded.contains(&key) {
            continue;
        }
        if aliases.len() == MAX_ALIASES {
            cut += 1;
            continue;
        }
        folded.push(key);
        aliases.push(alias);
    }
    let description = match object.text("blurb")? {
        Some(blurb) => Some(blurb),
        None => object.text("summary")?.map(|summary| {
            if summary.chars().count() > MAX_SUMMARY {
                summary.chars().take(MAX_SUMMARY - 1).collect::<String>() + "…"
            } else {
                summary
            }
        }),
    };
    let told: Vec<&str> = types
        .iter()
        .map(String::as_str)
        .filter(|t| !PRIMARY_TYPES.contains(t))
        .collect();
    let category = (!told.is_empty())
        .then(|| told.join(", "))
        .map(|c| c.chars().take(MAX_NAME).collect());
    Ok((
        EntityDraft {
            id: Some(entity_slug(&name, object.id)),
            kind,
            name,
            aliases,
            description,
            country: None,
            category,
            identifiers: vec![Identifier {
                scheme: "littlesis".into(),
                value: object.id.to_string(),
            }],
        },
        was_default,
        cut,
    ))
}

/// What a relationship becomes, before its ends are filled in.
struct Mapped {
    kind: RelationKind,
    /// entity2 is the `from` end.
    reversed: bool,
    /// The category's kind did not fit the ends: ASSOCIATED_WITH instead.
    fell_back: bool,
    /// A transaction whose descriptions name no vendor.
    undirected: bool,
    /// LittleSis's amount is one the model cannot hold: it is only in the quote.
    amount_left: bool,
    /// The dates contradict each other: they are only in the quote.
    period_left: bool,
    status: Option<Status>,
    role: Option<String>,
    description: Option<String>,
    amount: Option<Amount>,
    start: Option<String>,
    end: Option<String>,
    quote: String,
}

/// Words in a transaction's descriptions that say an end sells the service.
const VENDOR_WORDS: [&str; 10] = [
    "vendor",
    "contractor",
    "supplier",
    "provider",
    "consultant",
    "seller",
    "lobbying firm",
    "lobbyist",
    "law firm",
    "counsel",
];
/// Words that say an end buys it.
const CLIENT_WORDS: [&str; 4] = ["client", "customer", "buyer", "purchaser"];

fn says(description: Option<&str>, words: &[&str]) -> bool {
    description.is_some_and(|d| {
        let d = d.to_lowercase();
        words.iter().any(|w| d.contains(w))
    })
}

/// The kind a category gives and whether entity2 is the `from` end; `None` for a transaction
/// whose direction its descriptions do not tell.
fn category_kind(
    category: u64,
    description1: Option<&str>,
    description2: Option<&str>,
    board_or_executive: bool,
) -> Option<(RelationKind, bool)> {
    use RelationKind::*;
    Some(match category {
        // A seat on the board or an executive office is an office; other positions are jobs.
        1 if board_or_executive => (OfficerOf, false),
        1 => (EmployeeOf, false),
        // A student belongs to the school.
        2 | 3 => (MemberOf, false),
        5 => (Donation, false),
        // "A and B did business": the vendor is whichever end the descriptions call one.
        6 => {
            let forward = says(description1, &VENDOR_WORDS) || says(description2, &CLIENT_WORDS);
            let backward = says(description2, &VENDOR_WORDS) || says(description1, &CLIENT_WORDS);
            match (forward, backward) {
                (true, false) => (VendorTo, false),
                (false, true) => (VendorTo, true),
                _ => return None,
            }
        }
        7 => (Lobbied, false),
        10 => (Owns, false),
        // entity1 is the child org (`default_description`: "child org" / "parent org").
        11 => (PartOf, false),
        _ => (AssociatedWith, false),
    })
}

/// Whether the model accepts this amount and this period (the model's rules, asked rather
/// than repeated here).
fn holdable(amount: &Amount, period: &Period) -> bool {
    let mut relation = super::probe_relation(RelationKind::AssociatedWith);
    relation.amount = Some(amount.clone());
    relation.period = *period;
    validate_relation(&relation, EntityKind::Company, EntityKind::Company).is_ok()
}

fn relationship(
    object: &Object,
    category: u64,
    kind1: EntityKind,
    kind2: EntityKind,
) -> Result<Mapped, String> {
    let label = category_name(category).unwrap_or("Generic");
    let description1 = object.text("description1")?;
    let description2 = object.text("description2")?;
    let attributes = object.category_attributes();
    let is_board = object.flag(&attributes, "is_board")?;
    let is_executive = object.flag(&attributes, "is_executive")?;
    let board_or_executive = is_board == Some(true) || is_executive == Some(true);
    let chosen = category_kind(
        category,
        description1.as_deref(),
        description2.as_deref(),
        board_or_executive,
    );
    let undirected = chosen.is_none();
    let (mut kind, reversed) = chosen.unwrap_or((RelationKind::AssociatedWith, false));
    let (from_kind, to_kind) = if reversed {
        (kind2, kind1)
    } else {
        (kind1, kind2)
    };
    let fell_back = !super::fits(kind, from_kind, to_kind);
    if fell_back {
        kind = RelationKind::AssociatedWith;
    }
    let from_description = if reversed {
        &description2
    } else {
        &description1
    };
    let own_role = from_description.clone().or_else(|| match category {
        1 if is_board == Some(true) => Some("board member".into()),
        1 if is_executive == Some(true) => Some("executive".into()),
        10 => attributes
            .get("percent_stake")
            .and_then(|p| as_id(p).map(|p| format!("{p}%"))),
        _ => None,
    });
    let role =
        if kind == RelationKind::AssociatedWith && (fell_back || undirected || category != 12) {
            let word = label.to_lowercase();
            Some(match own_role {
                Some(role) if role.to_lowercase() != word => format!("{word}: {role}"),
                _ => word,
            })
        } else {
            own_role
        };

    let sentence = object.text("description")?;
    let other_description = if reversed {
        &description1
    } else {
        &description2
    };
    // The role says what the `from` end is; what LittleSis calls the other end is kept here.
    let other = other_description
        .as_ref()
        .map(|d| format!("the to end is described as \"{d}\""));
    let description = match (sentence, other) {
        (Some(s), Some(o)) => Some(format!("{s}; {o}")),
        (s, o) => s.or(o),
    };

    let amount = match object.attributes.get("amount") {
        None | Some(Value::Null) => None,
        Some(value) => {
            let number = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(text) => text.trim().replace(',', "").parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("`amount` should be a number, not {value}"))?;
            // LittleSis stores currencies lower case and gives `usd` to an amount without one.
            let currency = object
                .text("currency")?
                .unwrap_or_else(|| "usd".into())
                .to_ascii_uppercase();
            Some(Amount {
                value: number,
                currency,
            })
        }
    };

    // LittleSis takes negative sums and any currency of the Money gem's table; one bad sum
    // must not refuse a whole bulk file, and the quote keeps it as LittleSis gave it.
    let amount_left = amount
        .as_ref()
        .is_some_and(|a| !holdable(a, &Period::default()));
    let quoted_amount = amount.clone();
    let amount = amount.filter(|_| !amount_left);

    let start_text = object.text("start_date")?;
    let end_text = object.text("end_date")?;
    let start = start_text
        .as_deref()
        .map(|d| ls_date(d, "start_date"))
        .transpose()?
        .flatten();
    let end = end_text
        .as_deref()
        .map(|d| ls_date(d, "end_date"))
        .transpose()?
        .flatten();
    let period = Period {
        start: start
            .as_deref()
            .and_then(|d| PartialDate::parse(d, "start_date").ok()),
        end: end
            .as_deref()
            .and_then(|d| PartialDate::parse(d, "end_date").ok()),
    };
    let period_left = !holdable(
        &Amount {
            value: 0.0,
            currency: "USD".into(),
        },
        &period,
    );
    let (start, end) = if period_left {
        (None, None)
    } else {
        (start, end)
    };
    let is_current = object.flag(&object.attributes, "is_current")?;
    let status = is_current
        .map(|current| {
            if current {
                Status::Active
            } else {
                Status::Ended
            }
        })
        .filter(|status| kind.allowed_statuses().contains(status));

    let mut quote = format!(
        "[generated from LittleSis's fields] LittleSis relationship {} (category {category} {label}): entity1 {}",
        object.id,
        object.required_number("entity1_id")?
    );
    if let Some(d) = &description1 {
        quote.push_str(&format!(" (description1 \"{d}\")"));
    }
    quote.push_str(&format!(
        "; entity2 {}",
        object.required_number("entity2_id")?
    ));
    if let Some(d) = &description2 {
        quote.push_str(&format!(" (description2 \"{d}\")"));
    }
    if let Some(amount) = &quoted_amount {
        quote.push_str(&format!("; amount {} {}", amount.value, amount.currency));
        if object.text("currency")?.is_none() {
            quote.push_str(" (no currency given: LittleSis's default)");
        }
    }
    if start_text.is_some() || end_text.is_some() {
        quote.push_str(&format!(
            "; {}..{}",
            start_text.as_deref().unwrap_or(""),
            end_text.as_deref().unwrap_or("")
        ));
    }
    if let Some(current) = is_current {
        quote.push_str(&format!("; is_current {current}"));
    }
    if let Some(goods) = object.text("goods")? {
        quote.push_str(&format!("; goods \"{goods}\""));
    }
    let mut details: Vec<(&String, &Value)> =
        attributes.iter().filter(|(_, v)| !v.is_null()).collect();
    details.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in details {
        quote.push_str(&format!("; {key} {value}"));
    }
    Ok(Mapped {
        kind,
        reversed,
        fell_back,
        undirected,
        amount_left,
        period_left,
        status,
        role,
        description,
        amount,
        start,
        end,
        quote,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity_line(id: u64, name: &str, primary_ext: &str, types: &[&str]) -> String {
        serde_json::json!({
            "type": "entities",
            "id": id,
            "attributes": {"id": id, "name": name, "primary_ext": primary_ext, "types": types, "aliases": [name]},
            "links": {"self": format!("https://littlesis.org/org/{id}-X")}
        })
        .to_string()
    }

    fn relationship_line(id: u64, from: u64, to: u64, category: u64, extra: Value) -> String {
        let mut attributes = serde_json::json!({
            "id": id, "entity1_id": from, "entity2_id": to, "category_id": category
        });
        if let (Value::Object(a), Value::Object(e)) = (&mut attributes, extra) {
            a.extend(e);
        }
        serde_json::json!({"type": "relationships", "id": id, "attributes": attributes}).to_string()
    }

    fn nobody(_: u64) -> Option<(String, EntityKind)> {
        None
    }

    fn relations(batch: &ImportBatch) -> Vec<&RelationDraft> {
        batch
            .items()
            .iter()
            .filter_map(|item| match item {
                ImportItem::Relation(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn entities(batch: &ImportBatch) -> Vec<&EntityDraft> {
        batch
            .items()
            .iter()
            .filter_map(|item| match item {
                ImportItem::Entity(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// Two people (1, 2), a business (3), a nonprofit (4), an agency (5), a business (6).
    fn cast() -> Vec<String> {
        vec![
            entity_line(1, "Ann Person", "Person", &["Person"]),
            entity_line(2, "Bob Person", "Person", &["Person", "Lobbyist"]),
            entity_line(3, "Acme Example", "Org", &["Organization", "Business"]),
            entity_line(
                4,
                "Helpers Example",
                "Org",
                &["Organization", "Other Not-for-Profit"],
            ),
            entity_line(
                5,
                "Example Agency",
                "Org",
                &["Organization", "Government Body"],
            ),
            entity_line(
                6,
                "Sub Example",
                "Org",
                &["Organization", "Private Company"],
            ),
        ]
    }

    /// The relation one relationship line becomes, among the cast.
    fn one(relationship: String) -> (RelationDraft, Vec<String>) {
        let mut lines = cast();
        lines.push(relationship);
        let batch = read(lines.join("\n").as_bytes(), "t.json", &nobody).expect("reads");
        let relation = relations(&batch)
            .first()
            .map(|r| (*r).clone())
            .expect("one relation");
        (relation, batch.notes)
    }

    fn kind_and_ends(relation: &RelationDraft) -> (RelationKind, &str, &str) {
        (relation.kind, relation.from.as_str(), relation.to.as_str())
    }

    #[test]
    fn every_category_maps_to_its_kind_and_direction() {
        use RelationKind::*;
        let none = serde_json::json!({});
        let board = serde_json::json!({"category_attributes": {"is_board": true}});
        // (category, entity1, entity2, more attributes, what it becomes)
        type Case = (
            u64,
            u64,
            u64,
            Value,
            (RelationKind, &'static str, &'static str),
        );
        let cases: Vec<Case> = vec![
            (
                1,
                1,
                4,
                board,
                (OfficerOf, "ann-person-1", "helpers-example-4"),
            ),
            (
                1,
                1,
                4,
                none.clone(),
                (EmployeeOf, "ann-person-1", "helpers-example-4"),
            ),
            (
                2,
                1,
                4,
                none.clone(),
                (MemberOf, "ann-person-1", "helpers-example-4"),
            ),
            (
                3,
                3,
                4,
                none.clone(),
                (MemberOf, "acme-example-3", "helpers-example-4"),
            ),
            (
                4,
                1,
                2,
                none.clone(),
                (AssociatedWith, "ann-person-1", "bob-person-2"),
            ),
            (
                5,
                3,
                4,
                none.clone(),
                (Donation, "acme-example-3", "helpers-example-4"),
            ),
            (
                6,
                3,
                5,
                serde_json::json!({"description1": "Contractor", "description2": "Client"}),
                (VendorTo, "acme-example-3", "example-agency-5"),
            ),
            (
                6,
                5,
                3,
                serde_json::json!({"description1": "Client"}),
                (VendorTo, "acme-example-3", "example-agency-5"),
            ),
            (
                6,
                3,
                5,
                none.clone(),
                (AssociatedWith, "acme-example-3", "example-agency-5"),
            ),
            (
                7,
                3,
                5,
                none.clone(),
                (Lobbied, "acme-example-3", "example-agency-5"),
            ),
            (
                8,
                1,
                2,
                none.clone(),
                (AssociatedWith, "ann-person-1", "bob-person-2"),
            ),
            (
                9,
                1,
                2,
                none.clone(),
                (AssociatedWith, "ann-person-1", "bob-person-2"),
            ),
            (
                10,
                3,
                6,
                none.clone(),
                (Owns, "acme-example-3", "sub-example-6"),
            ),
            (
                11,
                6,
                3,
                none.clone(),
                (PartOf, "sub-example-6", "acme-example-3"),
            ),
            (
                12,
                3,
                4,
                none,
                (AssociatedWith, "acme-example-3", "helpers-example-4"),
            ),
        ];
        for (category, from, to, extra, expected) in cases {
            let (relation, _) = one(relationship_line(77, from, to, category, extra));
            assert_eq!(kind_and_ends(&relation), expected, "category {category}");
            assert_eq!(relation.id.as_deref(), Some("littlesis-relationship-77"));
        }
        let (family, _) = one(relationship_line(
            78,
            1,
            2,
            4,
            serde_json::json!({"description1": "Spouse"}),
        ));
        assert_eq!(family.role.as_deref(), Some("family: Spouse"));
    }

    #[test]
    fn ends_that_do_not_fit_fall_back_to_associated_with_and_are_counted() {
        // Lobbying a person (a politician): LOBBIED needs an organisation at its to end.
        let (relation, notes) = one(relationship_line(80, 3, 2, 7, serde_json::json!({})));
        assert_eq!(relation.kind, RelationKind::AssociatedWith);
        assert_eq!(relation.role.as_deref(), Some("lobbying"));
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("1 Lobbying relationship(s) became ASSOCIATED_WITH")),
            "{notes:?}"
        );
        // A position held under a person (a congressional staffer's boss).
        let (relation, _) = one(relationship_line(
            81,
            1,
            2,
            1,
            serde_json::json!({"description1": "Chief of Staff"}),
        ));
        assert_eq!(
            (relation.kind, relation.role.as_deref()),
            (
                RelationKind::AssociatedWith,
                Some("position: Chief of Staff")
            )
        );
        let (relation, notes) = one(relationship_line(82, 3, 5, 6, serde_json::json!({})));
        assert_eq!(relation.role.as_deref(), Some("service/transaction"));
        assert!(
            notes.iter().any(|n| n.contains("Service/Transaction")),
            "{notes:?}"
        );
    }

    #[test]
    fn unknown_categories_are_skipped_and_named() {
        let mut lines = cast();
        lines.push(relationship_line(90, 1, 4, 99, serde_json::json!({})));
        lines.push(relationship_line(91, 1, 4, 99, serde_json::json!({})));
        lines.push(relationship_line(92, 1, 4, 0, serde_json::json!({})));
        let batch = read(lines.join("\n").as_bytes(), "t.json", &nobody).unwrap();
        assert!(relations(&batch).is_empty());
        assert!(batch.notes.contains(
            &"skipped 2 relationship(s) of unknown category 99: LittleSis's categories are 1 to 12"
                .to_owned()
        ), "{:?}", batch.notes);
        assert!(batch.notes.iter().any(|n| n.contains("unknown category 0")));
    }

    #[test]
    fn types_decide_the_kind() {
        let kind = |ext: &str, types: &[&str]| {
            let types: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
            entity_kind(ext, &types).unwrap()
        };
        use EntityKind::*;
        assert_eq!(
            kind("Person", &["Person", "Public Official"]),
            (Person, false)
        );
        assert_eq!(kind("Org", &["Organization", "Business"]), (Company, false));
        assert_eq!(
            kind("Org", &["Organization", "Lobbying Firm"]),
            (Company, false)
        );
        assert_eq!(
            kind("Org", &["Organization", "Government Body"]),
            (Agency, false)
        );
        assert_eq!(
            kind("Org", &["Organization", "Business", "Government Body"]),
            (Agency, false)
        );
        assert_eq!(
            kind("Org", &["Organization", "Philanthropy"]),
            (Nonprofit, false)
        );
        assert_eq!(
            kind("Org", &["Organization", "Political Party"]),
            (Nonprofit, false)
        );
        assert_eq!(
            kind(
                "Org",
                &["Organization", "Media Organization", "Other Not-for-Profit"]
            ),
            (Nonprofit, false)
        );
        assert_eq!(
            kind("Org", &["Organization", "Media Organization"]),
            (Company, false)
        );
        assert_eq!(kind("Org", &["Organization"]), (Nonprofit, true));
        assert_eq!(kind("Couple", &["Couple"]), (Group, false));
        assert!(entity_kind("Thing", &[]).is_err());
    }

    #[test]
    fn entities_keep_their_id_aliases_blurb_and_types() {
        let line = serde_json::json!({"id": 12, "name": "Acme Example", "primary_ext": "Org",
            "types": ["Organization", "Business", "Public Company"],
            "aliases": ["Acme Example", "ACME EXAMPLE", "Acme Ex."], "blurb": "A business", "summary": "Long"})
        .to_string();
        let batch = read(line.as_bytes(), "t.json", &nobody).unwrap();
        let entity = entities(&batch)[0].clone();
        assert_eq!(entity.id.as_deref(), Some("acme-example-12"));
        assert_eq!(entity.aliases, vec!["Acme Ex.".to_owned()]);
        assert_eq!(entity.description.as_deref(), Some("A business"));
        assert_eq!(entity.category.as_deref(), Some("Business, Public Company"));
        assert_eq!(
            entity.identifiers,
            vec![Identifier {
                scheme: "littlesis".into(),
                value: "12".into()
            }]
        );
    }

    #[test]
    fn dates_amounts_and_status() {
        assert_eq!(ls_date("2019-00-00", "d").unwrap().as_deref(), Some("2019"));
        assert_eq!(
            ls_date("2019-05-00", "d").unwrap().as_deref(),
            Some("2019-05")
        );
        assert_eq!(
            ls_date("2019-05-31", "d").unwrap().as_deref(),
            Some("2019-05-31")
        );
        assert_eq!(ls_date("2019", "d").unwrap().as_deref(), Some("2019"));
        assert_eq!(ls_date("", "d").unwrap(), None);
        assert!(ls_date("2019-00-05", "d").is_err());
        assert!(ls_date("2019-02-30", "d").is_err());
        assert!(ls_date("May 2019", "d").is_err());

        let (relation, _) = one(relationship_line(
            83,
            1,
            4,
            1,
            serde_json::json!({"start_date": "2010-00-00", "end_date": "2012-06-00", "is_current": false}),
        ));
        assert_eq!(
            (
                relation.start.as_deref(),
                relation.end.as_deref(),
                relation.status
            ),
            (Some("2010"), Some("2012-06"), Some(Status::Ended))
        );
        // A donation has no ACTIVE or ENDED; an amount without a currency is in dollars.
        let (relation, _) = one(relationship_line(
            84,
            3,
            4,
            5,
            serde_json::json!({"amount": 500, "is_current": true}),
        ));
        assert_eq!(relation.status, None);
        assert!(
            relation.claims[0]
                .quote
                .contains("; amount 500 USD (no currency given: LittleSis's default)"),
            "{}",
            relation.claims[0].quote
        );
        assert_eq!(
            relation.amount,
            Some(Amount {
                value: 500.0,
                currency: "USD".into()
            })
        );
        let (relation, _) = one(relationship_line(
            85,
            3,
            4,
            5,
            serde_json::json!({"amount": 7, "currency": "eur"}),
        ));
        assert_eq!(relation.amount.map(|a| a.currency).as_deref(), Some("EUR"));
    }

    #[test]
    fn amounts_and_dates_the_model_cannot_hold_stay_in_the_quote() {
        let mut lines = cast();
        lines.push(relationship_line(
            94,
            3,
            4,
            5,
            serde_json::json!({"amount": -250, "currency": "usd"}),
        ));
        lines.push(relationship_line(
            95,
            3,
            4,
            5,
            serde_json::json!({"amount": 9, "currency": "zzz"}),
        ));
        lines.push(relationship_line(
            96,
            1,
            4,
            3,
            serde_json::json!({"start_date": "2020-00-00", "end_date": "2019-05-01"}),
        ));
        let batch = read(lines.join("\n").as_bytes(), "t.json", &nobody).unwrap();
        let relations = relations(&batch);
        assert_eq!(relations.len(), 3);
        assert_eq!(
            (relations[0].amount.as_ref(), relations[1].amount.as_ref()),
            (None, None)
        );
        assert!(relations[0].claims[0].quote.contains("; amount -250 USD"));
        assert!(relations[1].claims[0].quote.contains("; amount 9 ZZZ"));
        assert_eq!(
            (relations[2].start.as_deref(), relations[2].end.as_deref()),
            (None, None)
        );
        assert!(relations[2].claims[0]
            .quote
            .contains("; 2020-00-00..2019-05-01"));
        assert!(batch.notes.contains(&"2 relationship(s) keep their amount only in the quote: negative, or not in an ISO 4217 currency".to_owned()), "{:?}", batch.notes);
        assert!(batch.notes.contains(&"1 relationship(s) keep their dates only in the quote: the end is before the start".to_owned()), "{:?}", batch.notes);
    }

    #[test]
    fn the_claim_cites_the_page_with_a_generated_quote() {
        let mut lines = cast();
        lines.push(relationship_line(
            86,
            3,
            4,
            5,
            serde_json::json!({"description1": "Donor", "amount": 5000, "currency": "usd",
                "start_date": "2019-01-01", "end_date": "2020-00-00"}),
        ));
        let batch = read(lines.join("\n").as_bytes(), "t.json", &nobody).unwrap();
        let relation = relations(&batch)[0];
        assert_eq!(
            relation.claims,
            vec![ClaimDraft {
                source: "littlesis-relationship-86-page".into(),
                stance: Stance::Asserts,
                claimant: None,
                quote: "[generated from LittleSis's fields] LittleSis relationship 86 (category 5 Donation/Grant): entity1 3 (description1 \"Donor\"); entity2 4; amount 5000 USD; 2019-01-01..2020-00-00".into(),
            }]
        );
        let source = batch
            .items()
            .iter()
            .find_map(|item| match item {
                ImportItem::Source(s) => Some(s),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            (
                source.url.as_deref(),
                source.publisher.as_deref(),
                source.title.as_str()
            ),
            (
                Some("https://littlesis.org/relationships/86"),
                Some("LittleSis"),
                "LittleSis relationship 86"
            )
        );
    }

    #[test]
    fn json_api_flat_array_and_lines_read_alike() {
        let json_api = [
            entity_line(1, "Ann Person", "Person", &["Person"]),
            entity_line(
                4,
                "Helpers Example",
                "Org",
                &["Organization", "Other Not-for-Profit"],
            ),
            relationship_line(5, 1, 4, 3, serde_json::json!({})),
        ];
        let flat: Vec<String> = json_api
            .iter()
            .map(|line| {
                let value: Value = serde_json::from_str(line).unwrap();
                value["attributes"].to_string()
            })
            .collect();
        let read_items = |text: String| {
            let batch = read(text.as_bytes(), "t.json", &nobody).unwrap();
            format!("{:?}", batch.items())
        };
        let lines = read_items(json_api.join("\n"));
        assert!(lines.contains("MemberOf"), "{lines}");
        assert_eq!(read_items(format!("[{}]", json_api.join(","))), lines);
        assert_eq!(read_items(flat.join("\n")), lines);
        // `cat entities.json relationships.json`: two bulk arrays back to back.
        assert_eq!(
            read_items(format!(
                "[{},{}]\n[{}]",
                json_api[0], json_api[1], json_api[2]
            )),
            lines
        );
        // An API answer: the relationship in `data`, its entities in `included`.
        let answer = format!(
            "{{\"data\":{},\"included\":[{},{}]}}",
            json_api[2], json_api[0], json_api[1]
        );
        let batch = read(answer.as_bytes(), "t.json", &nobody).unwrap();
        assert_eq!((entities(&batch).len(), relations(&batch).len()), (2, 1));
    }

    #[test]
    fn objects_repeated_alike_are_read_once() {
        let ann = entity_line(1, "Ann Person", "Person", &["Person"]);
        let helpers = entity_line(4, "Helpers Example", "Org", &["Other Not-for-Profit"]);
        // The same entity with its keys in another order is the same entity.
        let ann_reordered = {
            let value: Value = serde_json::from_str(&ann).unwrap();
            format!(
                "{{\"links\":{},\"attributes\":{},\"id\":1,\"type\":\"entities\"}}",
                value["links"], value["attributes"]
            )
        };
        // Two API answers, each including both ends.
        let answers = [5, 6]
            .map(|id| {
                format!(
                    "{{\"data\":{},\"included\":[{},{}]}}",
                    relationship_line(id, 1, 4, 3, serde_json::json!({})),
                    if id == 5 { &ann } else { &ann_reordered },
                    helpers
                )
            })
            .join("\n");
        let batch = read(answers.as_bytes(), "t.json", &nobody).unwrap();
        assert_eq!((entities(&batch).len(), relations(&batch).len()), (2, 2));
    }

    #[test]
    fn gzip_is_refused_with_advice() {
        let error = read(&[0x1f, 0x8b, 8, 0][..], "entities.json.gz", &nobody).unwrap_err();
        assert!(
            error.to_string().starts_with("entities.json.gz:1: ")
                && error.to_string().contains("gunzip it first"),
            "{error}"
        );
    }

    fn refused(text: &str) -> (usize, String) {
        match read(text.as_bytes(), "bad.json", &nobody) {
            Err(FormatError::BadLine {
                file,
                line,
                message,
            }) => {
                assert_eq!(file, "bad.json");
                (line, message)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn bad_objects_are_refused_by_line() {
        let mut lines = cast();
        lines.push(relationship_line(
            87,
            1,
            4,
            5,
            serde_json::json!({"amount": "lots"}),
        ));
        let (line, message) = refused(&lines.join("\n"));
        assert_eq!(line, 7, "{message}");
        assert!(
            message.contains("object 7 (LittleSis relationship 87)"),
            "{message}"
        );
        assert!(message.contains("lots"), "{message}");

        // In an array written over lines, the line where the object starts.
        let array = format!(
            "[\n{},\n{},\n{}\n]",
            lines[0],
            lines[3],
            relationship_line(88, 1, 4, 5, serde_json::json!({"start_date": "someday"}))
        );
        let (line, message) = refused(&array);
        assert_eq!(line, 4, "{message}");
        assert!(message.contains("someday"), "{message}");

        let (line, message) = refused(&format!(
            "{}\n{}",
            lines[0],
            relationship_line(89, 1, 42, 5, serde_json::json!({}))
        ));
        assert_eq!(line, 2);
        assert!(message.contains("littlesis:42"), "{message}");

        let (line, message) = refused(&format!(
            "{}\n{{\"type\": \"entities\", \"id\": 3,",
            lines[0]
        ));
        assert_eq!(line, 2);
        assert!(message.contains("never ends"), "{message}");

        let (line, _) = refused(&format!("{}\n\n{{\"id\": 3, \"name\": }}", lines[0]));
        assert_eq!(line, 3);

        let (line, message) = refused(&format!(
            "{}\n{}",
            lines[0],
            entity_line(1, "Other", "Person", &[])
        ));
        assert_eq!(line, 2);
        assert!(message.contains("given twice"), "{message}");

        let (line, message) = refused("\n\nnot json");
        assert_eq!(line, 3);
        assert!(message.contains("expected a JSON object"), "{message}");

        let (line, message) = refused(&entity_line(5, "Thing", "Robot", &[]));
        assert_eq!(line, 1);
        assert!(message.contains("primary_ext `Robot`"), "{message}");
    }

    #[test]
    fn relationships_may_name_entities_already_stored() {
        let known = |id: u64| (id == 42).then(|| ("stored-org-42".to_owned(), EntityKind::Company));
        let text = format!(
            "{}\n{}",
            entity_line(1, "Ann Person", "Person", &["Person"]),
            relationship_line(93, 1, 42, 1, serde_json::json!({}))
        );
        let batch = read(text.as_bytes(), "t.json", &known).unwrap();
        assert_eq!(
            kind_and_ends(relations(&batch)[0]),
            (RelationKind::EmployeeOf, "ann-person-1", "stored-org-42")
        );
    }
}

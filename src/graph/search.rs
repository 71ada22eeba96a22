//! Finding entities by what people type: the text the index keeps of each entity, and how a
//! query ranks it.
//!
//! The text is words as [`search_words`] writes them (transliterated lower-case ASCII), one
//! field a line: the id, the name and each alias; then the description, the country and each
//! identifier, each line marked by its first character. Every word of a query must be found
//! (in any order), in a name-like field or, ranked after them, in the description; an entity
//! ranks by the worst of its words' matches: a whole word before a word's start before a
//! word's inside, so `ICE` finds ICE (its alias, whole) before RAICES. A query that is a whole
//! name-like field ranks first of all.

use crate::model::{identifier_key, search_words, Entity, EntityKind, Timestamp};

use super::{EntityKindSet, NodeData};

const DESCRIPTION: char = '\u{1}';
const COUNTRY: char = '\u{2}';
const IDENTIFIER: char = '\u{3}';

/// What the index keeps of an entity to find it: see the module's documentation.
pub(super) fn search_text(entity: &Entity) -> Box<str> {
    let mut text = search_words(&entity.id);
    for name in std::iter::once(&entity.name).chain(&entity.aliases) {
        text.push('\n');
        text.push_str(&search_words(name));
    }
    if let Some(description) = &entity.description {
        text.push('\n');
        text.push(DESCRIPTION);
        text.push_str(&search_words(description));
    }
    if let Some(country) = &entity.country {
        text.push('\n');
        text.push(COUNTRY);
        text.push_str(&country.to_ascii_uppercase());
    }
    for identifier in &entity.identifiers {
        text.push('\n');
        text.push(IDENTIFIER);
        text.push_str(&identifier_key(&identifier.scheme, &identifier.value));
    }
    text.into_boxed_str()
}

/// Which entities to find: all of them, or those of some kinds, a country, an identifier or an
/// identifier scheme, written within a time range, and holding a text. The filters and the
/// text are normalised once, here, not for each entity scanned.
#[derive(Debug, Clone, Default)]
pub struct EntityQuery {
    kinds: EntityKindSet,
    /// ISO 3166-1 alpha-2, upper case.
    country: Option<String>,
    /// `scheme:value`, as [`identifier_key`] writes it.
    identifier: Option<String>,
    /// `scheme:`, as [`identifier_key`] writes the start of an identifier of the scheme.
    scheme: Option<String>,
    /// Last written at or after the first, and before the second.
    updated: (Option<Timestamp>, Option<Timestamp>),
    /// The words to find, whole and one by one; `None` lists in id order.
    text: Option<(String, Vec<String>)>,
}

impl EntityQuery {
    /// The identifier it asks for, as [`identifier_key`] writes it.
    pub(super) fn identifier(&self) -> Option<&str> {
        self.identifier.as_deref()
    }

    /// Ranks from here on are matches in the description only.
    pub const FIRST_DESCRIPTION_RANK: u8 = 4;

    /// Entities of these kinds (any when empty), this country and this identifier
    /// (`scheme:value`; any case), any when `None`.
    pub fn new(kinds: &[EntityKind], country: Option<String>, identifier: Option<String>) -> Self {
        EntityQuery {
            kinds: EntityKindSet::of(kinds),
            country: country.map(|c| c.trim().to_ascii_uppercase()),
            // Without a scheme it matches nothing: every identifier kept has one.
            identifier: identifier.map(|i| match i.split_once(':') {
                Some((scheme, value)) => identifier_key(scheme, value),
                None => i,
            }),
            ..EntityQuery::default()
        }
    }

    /// Only entities holding an identifier of this scheme (any case).
    pub fn scheme(mut self, scheme: Option<&str>) -> Self {
        self.scheme = scheme.map(|scheme| identifier_key(scheme, ""));
        self
    }

    /// Only entities last written at or after `since` and before `before`.
    pub fn updated(mut self, since: Option<Timestamp>, before: Option<Timestamp>) -> Self {
        self.updated = (since, before);
        self
    }

    /// Sets the text to find; text with no words in it finds by the other filters alone.
    pub fn text(mut self, text: Option<&str>) -> Self {
        self.text = text
            .map(search_words)
            .filter(|p| !p.is_empty())
            .map(|phrase| {
                let words = phrase.split(' ').map(str::to_owned).collect();
                (phrase, words)
            });
        self
    }

    /// Whether results are ranked (a text was given) rather than listed in id order.
    pub fn is_ranked(&self) -> bool {
        self.text.is_some()
    }

    /// Whether the query asks for nothing but, perhaps, some kinds.
    pub fn is_plain(&self) -> bool {
        self.text.is_none()
            && self.country.is_none()
            && self.identifier.is_none()
            && self.scheme.is_none()
            && self.updated == (None, None)
    }

    /// Whether it finds every entity.
    pub fn is_everything(&self) -> bool {
        self.is_plain() && self.kinds == EntityKindSet::default()
    }

    /// `None` when the query does not find this entity of the index; else its rank (0 best;
    /// always 0 without a text).
    pub fn rank_of(&self, data: &NodeData) -> Option<u8> {
        let (since, before) = self.updated;
        if since.is_some_and(|t| data.updated_at < t)
            || before.is_some_and(|t| data.updated_at >= t)
        {
            return None;
        }
        self.rank(data.kind, &data.search_text)
    }

    /// `None` when an entity of `kind` with this search text is not found; else its rank
    /// (0 best; always 0 without a text).
    fn rank(&self, kind: EntityKind, text: &str) -> Option<u8> {
        if !self.kinds.admits(kind) {
            return None;
        }
        let marked = |mark: char| text.split('\n').filter_map(move |f| f.strip_prefix(mark));
        if let Some(country) = &self.country {
            marked(COUNTRY).find(|c| c == country)?;
        }
        if let Some(identifier) = &self.identifier {
            marked(IDENTIFIER).find(|i| i == identifier)?;
        }
        if let Some(scheme) = &self.scheme {
            marked(IDENTIFIER).find(|i| i.starts_with(scheme.as_str()))?;
        }
        let Some((phrase, words)) = &self.text else {
            return Some(0);
        };
        let names = || {
            text.split('\n')
                .filter(|f| !f.starts_with([DESCRIPTION, COUNTRY, IDENTIFIER]))
        };
        if names().any(|name| name == phrase) {
            return Some(0);
        }
        let description = marked(DESCRIPTION).next().unwrap_or_default();
        let mut worst = 0;
        for word in words {
            let best = names()
                .filter_map(|field| match_level(field, word))
                .min()
                .or_else(|| {
                    match_level(description, word)
                        .map(|level| level + Self::FIRST_DESCRIPTION_RANK - 1)
                })?;
            worst = worst.max(best);
        }
        Some(worst)
    }
}

/// How well `word` is found among the words of `field`: 1 a whole word, 2 the start of one,
/// 3 inside one.
fn match_level(field: &str, word: &str) -> Option<u8> {
    field
        .split(' ')
        .filter_map(|w| {
            if w == word {
                Some(1)
            } else if w.starts_with(word) {
                Some(2)
            } else if w.contains(word) {
                Some(3)
            } else {
                None
            }
        })
        .min()
}

/// Words of a legal form, which say nothing of which company it is (`Salesforce, Inc.` and
/// `SALESFORCE` are one name).
const LEGAL_FORMS: [&str; 19] = [
    "inc",
    "incorporated",
    "llc",
    "l",
    "c",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "lp",
    "llp",
    "pllc",
    "the",
];

/// A name-like field with its legal form (and a leading `the`) taken away; `None` when nothing
/// else is left.
fn name_key(field: &str) -> Option<String> {
    let mut words: Vec<&str> = field.split(' ').filter(|w| !w.is_empty()).collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_FORMS.contains(w)) {
        words.pop();
    }
    if words.len() > 1 && words[0] == "the" {
        words.remove(0);
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// The identifiers (`scheme:value`) a search text lists.
pub(super) fn identifiers_in(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .skip(1)
        .filter_map(|field| field.strip_prefix(IDENTIFIER))
}

/// What may show two entities to be one: the keys of their names and aliases (not their ids,
/// which are made from names), and their identifiers (`scheme:value`).
pub(super) fn resolution_keys(text: &str) -> (Vec<String>, Vec<&str>) {
    let (mut names, mut identifiers) = (Vec::new(), Vec::new());
    // The first field is the id.
    for field in text.split('\n').skip(1) {
        match field.chars().next() {
            Some(IDENTIFIER) => identifiers.push(&field[1..]),
            Some(DESCRIPTION | COUNTRY) => {}
            _ => names.extend(name_key(field)),
        }
    }
    names.sort_unstable();
    names.dedup();
    (names, identifiers)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::model::{Identifier, Timestamp};

    fn entity(id: &str, name: &str, aliases: &[&str], description: Option<&str>) -> Entity {
        Entity {
            id: id.into(),
            kind: EntityKind::Agency,
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            description: description.map(Into::into),
            country: Some("US".into()),
            category: None,
            identifiers: vec![Identifier {
                scheme: "uei".into(),
                value: "ABC123".into(),
            }],
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn rank(query: &str, e: &Entity) -> Option<u8> {
        EntityQuery::default()
            .text(Some(query))
            .rank(e.kind, &search_text(e))
    }

    #[test]
    fn words_in_any_order_accents_and_case_do_not_matter() {
        let cbp = entity("cbp", "U.S. Customs and Border Protection", &["CBP"], None);
        assert_eq!(rank("customs border", &cbp), Some(1));
        assert_eq!(rank("Border   CUSTOMS", &cbp), Some(1));
        assert_eq!(rank("cust bord", &cbp), Some(2));
        assert_eq!(rank("customs navy", &cbp), None);
        let cafe = entity("cafe-rene", "Café René", &[], None);
        assert_eq!(rank("cafe", &cafe), Some(1));
        assert_eq!(rank("RENÉ", &cafe), Some(1));
    }

    #[test]
    fn a_whole_word_ranks_before_a_part_of_one_and_names_before_descriptions() {
        let ice = entity(
            "ice",
            "U.S. Immigration and Customs Enforcement",
            &["ICE"],
            None,
        );
        let raices = entity(
            "raices",
            "RAICES",
            &[],
            Some("a nonprofit that serves immigrants"),
        );
        assert_eq!(rank("ICE", &ice), Some(0));
        assert_eq!(rank("ICE", &raices), Some(3));
        assert_eq!(rank("nonprofit", &raices), Some(4));
        assert_eq!(rank("serves immigr", &raices), Some(5));
    }

    #[test]
    fn names_differing_in_case_accents_punctuation_or_legal_form_share_a_key() {
        let a = entity("salesforce", "Salesforce", &[], None);
        let b = entity(
            "salesforce-inc",
            "SALESFORCE, INC.",
            &["The Salesforce Corp"],
            None,
        );
        let (a_names, _) = resolution_keys(&search_text(&a));
        let b_text = search_text(&b);
        let (b_names, identifiers) = resolution_keys(&b_text);
        assert_eq!(a_names, ["salesforce"]);
        assert_eq!(b_names, ["salesforce"]);
        assert_eq!(identifiers, ["uei:abc123"]);
        assert_eq!(
            name_key("inc"),
            Some("inc".into()),
            "a name is never emptied"
        );
    }

    #[test]
    fn filters_need_their_values() {
        let cbp = entity("cbp", "U.S. Customs and Border Protection", &[], None);
        let text = search_text(&cbp);
        let query = |country: Option<&str>, identifier: Option<&str>| {
            EntityQuery::new(&[], country.map(Into::into), identifier.map(Into::into))
        };
        assert_eq!(query(Some("us"), None).rank(cbp.kind, &text), Some(0));
        assert_eq!(query(Some("FR"), None).rank(cbp.kind, &text), None);
        assert_eq!(
            query(None, Some("UEI:abc123")).rank(cbp.kind, &text),
            Some(0)
        );
        assert_eq!(query(None, Some("uei:other")).rank(cbp.kind, &text), None);
        assert_eq!(query(None, Some("no scheme")).rank(cbp.kind, &text), None);
        let scheme = |scheme: &str| query(None, None).scheme(Some(scheme)).rank(cbp.kind, &text);
        assert_eq!(scheme(" UEI "), Some(0));
        assert_eq!(scheme("ue"), None, "a scheme is matched whole");
        assert_eq!(scheme("duns"), None);
    }

    #[test]
    fn a_time_range_admits_its_start_and_not_its_end() {
        let mut cbp = entity("cbp", "U.S. Customs and Border Protection", &[], None);
        cbp.updated_at = Timestamp(1_000);
        let data = NodeData {
            id: "cbp".into(),
            kind: cbp.kind,
            updated_at: cbp.updated_at,
            search_text: search_text(&cbp),
        };
        let within = |since: Option<i64>, before: Option<i64>| {
            EntityQuery::default()
                .updated(since.map(Timestamp), before.map(Timestamp))
                .rank_of(&data)
        };
        assert_eq!(within(Some(1_000), Some(1_001)), Some(0));
        assert_eq!(within(None, Some(1_000)), None);
        assert_eq!(within(Some(1_001), None), None);
        assert_eq!(data.name_key(), "u s customs and border protection");
    }
}

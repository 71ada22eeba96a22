//! The rules a record must obey on its own. Rules that need the rest of the graph
//! (does this end exist? is this id taken?) belong to the service, which can see it.

use super::{Claim, Entity, EntityKind, ModelError, Relation, RelationKind, Source};

const MAX_ID: usize = 128;
const MAX_NAME: usize = 500;
const MAX_TEXT: usize = 20_000;
/// More names than any real entity goes by; a list longer than this is a mistake or an attack.
const MAX_ALIASES: usize = 100;

/// A slug is lower-case ASCII letters and digits in dash-separated words: `cbp`, `marc-benioff`.
pub fn check_slug(field: &str, id: &str) -> Result<(), ModelError> {
    let well_formed = !id.is_empty()
        && id.len() <= MAX_ID
        && id.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if well_formed {
        Ok(())
    } else {
        Err(ModelError::invalid(
            field,
            format!(
                "`{}` is not a slug: use lower-case letters and digits in words joined by single dashes, at most {MAX_ID} characters",
                truncate(id)
            ),
        ))
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

/// A text of one line (a name, a title): no control characters at all.
fn check_text(field: &str, text: &str, max: usize) -> Result<(), ModelError> {
    check_any_text(field, text, max, |c| c.is_control())
}

/// A text that may run over lines (a description, a quote): line breaks and tabs, but no other
/// control characters.
fn check_long_text(field: &str, text: &str) -> Result<(), ModelError> {
    check_any_text(field, text, MAX_TEXT, |c| {
        c.is_control() && !matches!(c, '\n' | '\r' | '\t')
    })
}

fn check_any_text(
    field: &str,
    text: &str,
    max: usize,
    refused: impl Fn(char) -> bool,
) -> Result<(), ModelError> {
    if text.trim().is_empty() {
        return Err(ModelError::invalid(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(ModelError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if let Some(c) = text.chars().find(|&c| refused(c)) {
        return Err(ModelError::invalid(
            field,
            format!(
                "holds the control character U+{:04X}; remove it",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

fn check_optional_text(field: &str, text: &Option<String>, max: usize) -> Result<(), ModelError> {
    match text {
        Some(text) => check_text(field, text, max),
        None => Ok(()),
    }
}

/// Whether `code` is an ISO 3166-1 alpha-2 country code (upper case), the form entities keep.
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && code.parse::<iso_currency::Country>().is_ok()
}

pub fn validate_entity(entity: &Entity) -> Result<(), ModelError> {
    check_slug("id", &entity.id)?;
    check_text("name", &entity.name, MAX_NAME)?;
    if entity.aliases.len() > MAX_ALIASES {
        return Err(ModelError::invalid(
            "aliases",
            format!(
                "{} aliases; at most {MAX_ALIASES} are allowed",
                entity.aliases.len()
            ),
        ));
    }
    let mut names: Vec<String> = Vec::with_capacity(entity.aliases.len());
    for (i, alias) in entity.aliases.iter().enumerate() {
        let field = format!("aliases[{i}]");
        check_text(&field, alias, MAX_NAME)?;
        let folded = alias.trim().to_lowercase();
        if names.contains(&folded) {
            return Err(ModelError::invalid(
                &field,
                format!("`{}` is already in the aliases", truncate(alias)),
            ));
        }
        names.push(folded);
    }
    if let Some(description) = &entity.description {
        check_long_text("description", description)?;
    }
    check_optional_text("category", &entity.category, MAX_NAME)?;
    if let Some(country) = &entity.country {
        if !is_country_code(country) {
            return Err(ModelError::invalid(
                "country",
                format!(
                    "`{}` is not an ISO 3166-1 alpha-2 country code such as US",
                    truncate(country)
                ),
            ));
        }
    }
    for (i, identifier) in entity.identifiers.iter().enumerate() {
        check_text(
            &format!("identifiers[{i}].scheme"),
            &identifier.scheme,
            MAX_ID,
        )?;
        check_text(
            &format!("identifiers[{i}].value"),
            &identifier.value,
            MAX_NAME,
        )?;
    }
    Ok(())
}

/// Checks a relation given the kinds of the entities at its ends.
pub fn validate_relation(
    relation: &Relation,
    from_kind: EntityKind,
    to_kind: EntityKind,
) -> Result<(), ModelError> {
    check_slug("id", &relation.id)?;
    if relation.from == relation.to {
        return Err(ModelError::invalid(
            "to",
            "a relation must join two different entities",
        ));
    }
    if let Some(status) = relation.status {
        let allowed = relation.kind.allowed_statuses();
        if !allowed.contains(&status) {
            let names: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
            return Err(ModelError::invalid(
                "status",
                format!(
                    "{} makes no sense for a relation of kind {}; use one of {}",
                    status.as_str(),
                    relation.kind.as_str(),
                    names.join(", ")
                ),
            ));
        }
    }
    check_end_kinds(relation.kind, from_kind, to_kind)?;
    check_optional_text("role", &relation.role, MAX_NAME)?;
    if let Some(description) = &relation.description {
        check_long_text("description", description)?;
    }
    if let Some(amount) = &relation.amount {
        if !amount.value.is_finite() || amount.value < 0.0 {
            return Err(ModelError::invalid(
                "amount.value",
                "must be a finite, non-negative number",
            ));
        }
        if iso_currency::Currency::from_code(&amount.currency).is_none() {
            return Err(ModelError::invalid(
                "amount.currency",
                format!(
                    "`{}` is not an ISO 4217 currency code such as USD",
                    truncate(&amount.currency)
                ),
            ));
        }
    }
    if let (Some(start), Some(end)) = (relation.period.start, relation.period.end) {
        if start.earliest() > end.latest() {
            return Err(ModelError::invalid(
                "end",
                format!("{end} is before the start {start}"),
            ));
        }
    }
    Ok(())
}

/// Some kinds only make sense between certain kinds of entity: only a person holds an office,
/// and only an organisation has parts, owners' shares or employees.
fn check_end_kinds(kind: RelationKind, from: EntityKind, to: EntityKind) -> Result<(), ModelError> {
    let (field, ok, wanted) = match kind {
        RelationKind::OfficerOf => ("from", from == EntityKind::Person, "a PERSON"),
        RelationKind::EmployeeOf => (
            "from",
            matches!(from, EntityKind::Person | EntityKind::Group),
            "a PERSON or GROUP",
        ),
        RelationKind::PartOf => ("from", from.is_organisation(), "an organisation"),
        _ => ("to", true, ""),
    };
    if !ok {
        return Err(ModelError::invalid(
            field,
            format!("the {field} end of {} must be {wanted}", kind.as_str()),
        ));
    }
    let organisation_target = matches!(
        kind,
        RelationKind::PartOf
            | RelationKind::OfficerOf
            | RelationKind::EmployeeOf
            | RelationKind::MemberOf
            | RelationKind::Owns
            | RelationKind::Lobbied
    );
    if organisation_target && !to.is_organisation() {
        return Err(ModelError::invalid(
            "to",
            format!(
                "the to end of {} must be an organisation, not an entity of kind {}",
                kind.as_str(),
                to.as_str()
            ),
        ));
    }
    Ok(())
}

pub fn validate_source(source: &Source) -> Result<(), ModelError> {
    check_slug("id", &source.id)?;
    check_text("title", &source.title, MAX_NAME)?;
    check_optional_text("publisher", &source.publisher, MAX_NAME)?;
    if let Some(url) = &source.url {
        let web = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > "https://".len()
            && !url.chars().any(char::is_whitespace);
        if !web || url.len() > 2048 {
            return Err(ModelError::invalid(
                "url",
                format!("`{}` is not an http(s) URL", truncate(url)),
            ));
        }
    }
    Ok(())
}

pub fn validate_claim(claim: &Claim) -> Result<(), ModelError> {
    check_long_text("quote", &claim.quote)?;
    Ok(())
}

/// The words of free text, transliterated to lower-case ASCII as [`slugify`] does, each
/// followed by `separator`.
fn ascii_words(text: &str, separator: char) -> String {
    let mut slug = String::new();
    let separate = |slug: &mut String| {
        if !slug.is_empty() && !slug.ends_with(separator) {
            slug.push(separator);
        }
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if c.is_ascii() || c.is_whitespace() {
            separate(&mut slug);
        } else {
            match deunicode::deunicode_char(c) {
                Some(latin) if latin.chars().any(|l| l.is_ascii_alphanumeric()) => {
                    // deunicode ends a transliterated ideogram with a space: it is a word of its
                    // own (`bei-jing`); other letters stay in their word (`cafe`, `ivan`).
                    let word = latin.ends_with(' ');
                    if word {
                        separate(&mut slug);
                    }
                    for l in latin.trim().chars() {
                        if l.is_ascii_alphanumeric() {
                            slug.push(l.to_ascii_lowercase());
                        } else {
                            separate(&mut slug);
                        }
                    }
                    if word {
                        separate(&mut slug);
                    }
                }
                None if c.is_alphanumeric() => {
                    separate(&mut slug);
                    slug.push_str(&format!("u{separator}{:x}", u32::from(c)));
                    separate(&mut slug);
                }
                // Punctuation and symbols, in any script, separate words.
                _ => separate(&mut slug),
            }
        }
    }
    slug
}

/// A slug made from free text: `U.S. Customs & Border Protection` becomes
/// `u-s-customs-border-protection`. Letters outside ASCII are transliterated (`Café René`
/// becomes `cafe-rene`, `Иван Петров` `ivan-petrov`, `北京` `bei-jing`); characters with no
/// Latin form are written as their code points (`u-a000`), so no name gives an empty or
/// unreadable slug.
pub fn slugify(text: &str) -> String {
    let slug = ascii_words(text, '-');
    let mut slug: String = slug
        .trim_end_matches('-')
        .chars()
        .take(MAX_ID - 8)
        .collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push('x');
    }
    slug
}

/// Free text as search compares it: its words transliterated to lower-case ASCII, one space
/// between them (`Café René` is `cafe rene`, `U.S. Customs & Border` `u s customs border`).
pub fn search_words(text: &str) -> String {
    ascii_words(text, ' ').trim_end().to_owned()
}

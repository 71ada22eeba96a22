//! USAspending.gov contract award downloads: the CSV files of a "Prime Award Summaries" or a
//! "Prime Transactions" download (unzipped: the ZIP itself is not read), by their documented
//! column names.
//!
//! Owns the mapping from those columns to tiegraph's records (the table is in
//! `docs/usaspending-mapping.md`): awarding agencies and sub-agencies become AGENCY entities,
//! the sub-agency PART_OF its agency; recipients become COMPANY entities with `uei:` and
//! `duns:` identifiers, a parent that is another entity tied to it by OWNS; every (recipient,
//! awarding sub-agency) pair becomes one VENDOR_TO relation whose period spans its awards and
//! whose amount is the sum of their obligations, each award one claim citing a source made for
//! that award (its `usaspending_permalink`). It knows nothing of how the service resolves
//! entities by identifier: it gives each draft the identifiers the file holds, and asks
//! (`resolved`) which entity each would be, so that ties are named after, and their stored
//! claims looked up by, the ends they will have (after a merge too).
//!
//! The header is resolved once into column positions (`Columns`); the file kind is told by
//! it (a `federal_action_obligation` column means transactions). Rows are then streamed and
//! folded into one record per award, so memory grows with the awards, recipients and
//! agencies a file names, never with its rows. Columns not used are ignored; rows of award
//! types that are not contracts or IDVs are skipped and counted in the notes.
//!
//! Claim quotes are generated from the award's fields by [`award_quote`] and read back by
//! [`parse_award_quote`], the one format both use: a relation's amount is the sum over the
//! distinct awards its claims cite (those already in the store, told by the `existing`
//! closure, and this file's), each award counted once with the figures of its latest
//! `last_modified_date`. So importing a file again, or a later download that overlaps it,
//! changes only what changed. Amounts are kept to the cent, as USAspending gives them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

use csv::ByteRecord;

use crate::model::{
    slugify, Amount, ClaimDraft, EntityDraft, EntityKind, Identifier, PartialDate, RelationDraft,
    RelationKind, SourceDraft, Stance,
};
use crate::service::ImportItem;

use super::ftm::fnv1a;
use super::{FormatError, ImportBatch, Origin};

/// The publisher every source this reader makes names.
pub const PUBLISHER: &str = "USAspending.gov";

/// The source the PART_OF and OWNS claims cite: the same in every file, so a tie that every
/// download shows is claimed once, whichever award showed it first.
pub const STRUCTURE_SOURCE: &str = "usaspending-gov";

/// Where every generated quote starts: it says the words are the file's fields, not a text.
const GENERATED: &str = "[generated from the fields of a USAspending download]";

/// Which download a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// One row per award (`Contracts_PrimeAwardSummaries_*.csv`).
    Summaries,
    /// One row per transaction, several per award (`Contracts_PrimeTransactions_*.csv`).
    Transactions,
}

/// The obligation columns, by the file kind they belong to. Summaries downloads have called
/// theirs `total_obligated_amount` since 2020 and `total_dollars_obligated` before; a
/// transactions file has both `federal_action_obligation` and the award's running total.
const TRANSACTION_OBLIGATION: &str = "federal_action_obligation";
const SUMMARY_OBLIGATIONS: [&str; 2] = ["total_obligated_amount", "total_dollars_obligated"];

/// Contract award type codes (`award_type_code`) and IDV type codes (`idv_type_code`, written
/// `IDV_` + code in USAspending's API), with the names USAspending gives them.
const CONTRACT_TYPES: [(&str, &str); 9] = [
    ("A", "BPA CALL"),
    ("B", "PURCHASE ORDER"),
    ("C", "DELIVERY ORDER"),
    ("D", "DEFINITIVE CONTRACT"),
    ("IDV_A", "GWAC"),
    ("IDV_B", "IDC"),
    ("IDV_C", "FSS"),
    ("IDV_D", "BOA"),
    ("IDV_E", "BPA"),
];

/// Column positions, resolved once from the header and then used for every row.
#[derive(Debug)]
struct Columns {
    kind: FileKind,
    obligation_name: &'static str,
    award_key: usize,
    piid: usize,
    obligation: usize,
    /// Transactions only.
    action_date: Option<usize>,
    start: usize,
    end: usize,
    last_modified: usize,
    agency_code: usize,
    agency_name: usize,
    sub_agency_code: usize,
    sub_agency_name: usize,
    funding_agency: Option<usize>,
    funding_sub_agency: Option<usize>,
    recipient_name: usize,
    recipient_uei: Option<usize>,
    recipient_duns: Option<usize>,
    parent_name: Option<usize>,
    parent_uei: Option<usize>,
    parent_duns: Option<usize>,
    permalink: Option<usize>,
    award_type_code: Option<usize>,
    award_type: Option<usize>,
    idv_type_code: Option<usize>,
    idv_type: Option<usize>,
}

impl Columns {
    /// The positions of the columns this reader uses; every required column that is missing
    /// is named in the one error.
    fn resolve(header: &ByteRecord) -> Result<Columns, String> {
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let name = String::from_utf8_lossy(name);
                // Excel and some download tools put a byte-order mark before the first name.
                let name = if i == 0 {
                    name.trim_start_matches('\u{feff}')
                } else {
                    &name
                };
                name.trim().to_owned()
            })
            .collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        let transactions = find(TRANSACTION_OBLIGATION).is_some();
        let (kind, obligation_name) = if transactions {
            (FileKind::Transactions, TRANSACTION_OBLIGATION)
        } else {
            match SUMMARY_OBLIGATIONS.iter().find(|n| find(n).is_some()) {
                Some(name) => (FileKind::Summaries, *name),
                None => (FileKind::Summaries, SUMMARY_OBLIGATIONS[0]),
            }
        };
        let mut missing: Vec<&str> = Vec::new();
        let mut need = |name: &'static str| match find(name) {
            Some(i) => i,
            None => {
                missing.push(name);
                0
            }
        };
        let award_key = need("contract_award_unique_key");
        let piid = need("award_id_piid");
        let obligation = need(obligation_name);
        let action_date = transactions.then(|| need("action_date"));
        let start = need("period_of_performance_start_date");
        let end = need("period_of_performance_current_end_date");
        let last_modified = need("last_modified_date");
        let agency_code = need("awarding_agency_code");
        let agency_name = need("awarding_agency_name");
        let sub_agency_code = need("awarding_sub_agency_code");
        let sub_agency_name = need("awarding_sub_agency_name");
        let recipient_name = need("recipient_name");
        let recipient_uei = find("recipient_uei");
        let recipient_duns = find("recipient_duns");
        if recipient_uei.is_none() && recipient_duns.is_none() {
            missing.push("recipient_uei (or recipient_duns)");
        }
        if !missing.is_empty() && find("assistance_award_unique_key").is_some() {
            return Err("this is a USAspending assistance download (grants, loans, direct payments: it has assistance_award_unique_key); only contract award downloads are read".into());
        }
        if !missing.is_empty() {
            let what = if transactions {
                "a prime transactions file"
            } else {
                "a prime award summaries file (it has no federal_action_obligation column, so it is not a transactions file)"
            };
            return Err(format!(
                "not a USAspending contract award download: {what} needs the column{} {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ));
        }
        Ok(Columns {
            kind,
            obligation_name,
            award_key,
            piid,
            obligation,
            action_date,
            start,
            end,
            last_modified,
            agency_code,
            agency_name,
            sub_agency_code,
            sub_agency_name,
            funding_agency: find("funding_agency_name"),
            funding_sub_agency: find("funding_sub_agency_name"),
            recipient_name,
            recipient_uei,
            recipient_duns,
            parent_name: find("recipient_parent_name"),
            parent_uei: find("recipient_parent_uei"),
            parent_duns: find("recipient_parent_duns"),
            permalink: find("usaspending_permalink"),
            award_type_code: find("award_type_code"),
            award_type: find("award_type"),
            idv_type_code: find("idv_type_code"),
            idv_type: find("idv_type"),
        })
    }
}

/// What a claim says of one award: the figures its quote carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardFigures {
    pub kind: FileKind,
    /// `contract_award_unique_key`.
    pub key: String,
    pub piid: String,
    /// The column the obligation came from: `total_obligated_amount`,
    /// `total_dollars_obligated` or `federal_action_obligation`.
    pub obligation_name: &'static str,
    /// The award's obligation (transactions: the sum over this file's rows), in cents.
    pub cents: i64,
    /// Transactions only: how many rows, and the first and last `action_date` among them.
    pub transactions: Option<(u64, String, String)>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub last_modified: Option<String>,
    pub funding_agency: Option<String>,
    pub funding_sub_agency: Option<String>,
}

/// Cents as USAspending writes dollars: `-1234.5` is `-1234.50`.
fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The inverse of [`dollars`], for quotes: exactly two decimals.
fn cents_of(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.')?;
    if whole.is_empty()
        || fraction.len() != 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let value = whole.parse::<i64>().ok()?.checked_mul(100)? + fraction.parse::<i64>().ok()?;
    Some(if negative { -value } else { value })
}

/// The claim quote for an award: the one format [`parse_award_quote`] reads back.
pub fn award_quote(award: &AwardFigures) -> String {
    let mut quote = match (&award.kind, &award.transactions) {
        (FileKind::Transactions, Some((count, first, last))) => format!(
            "{GENERATED} prime transactions of award {} (PIID {}): {count} transaction{} dated {first}..{last}, {} sum {}",
            award.key,
            award.piid,
            if *count == 1 { "" } else { "s" },
            award.obligation_name,
            dollars(award.cents)
        ),
        _ => format!(
            "{GENERATED} prime award summary {} (PIID {}): {} {}",
            award.key,
            award.piid,
            award.obligation_name,
            dollars(award.cents)
        ),
    };
    for (name, value) in [
        ("period_of_performance_start_date", &award.start),
        ("period_of_performance_current_end_date", &award.end),
        ("last_modified_date", &award.last_modified),
        ("funding_agency_name", &award.funding_agency),
        ("funding_sub_agency_name", &award.funding_sub_agency),
    ] {
        if let Some(value) = value {
            quote.push_str(&format!("; {name} {value}"));
        }
    }
    quote
}

/// The figures of a quote [`award_quote`] wrote; `None` for any other text (a claim someone
/// added by hand, another reader's).
pub fn parse_award_quote(quote: &str) -> Option<AwardFigures> {
    let rest = quote.strip_prefix(GENERATED)?.strip_prefix(' ')?;
    let (kind, rest) = if let Some(rest) = rest.strip_prefix("prime award summary ") {
        (FileKind::Summaries, rest)
    } else {
        (
            FileKind::Transactions,
            rest.strip_prefix("prime transactions of award ")?,
        )
    };
    let (key, rest) = rest.split_once(" (PIID ")?;
    let (piid, rest) = rest.split_once("): ")?;
    let mut segments = rest.split("; ");
    let figure = segments.next()?;
    let (obligation_name, cents, transactions) = match kind {
        FileKind::Summaries => {
            let (name, amount) = figure.split_once(' ')?;
            let name = SUMMARY_OBLIGATIONS.into_iter().find(|n| *n == name)?;
            (name, cents_of(amount)?, None)
        }
        FileKind::Transactions => {
            let (count, rest) = figure.split_once(' ')?;
            let count: u64 = count.parse().ok()?;
            let rest = rest
                .strip_prefix("transactions dated ")
                .or_else(|| rest.strip_prefix("transaction dated "))?;
            let (dates, rest) = rest.split_once(", ")?;
            let (first, last) = dates.split_once("..")?;
            let amount = rest
                .strip_prefix(TRANSACTION_OBLIGATION)?
                .strip_prefix(" sum ")?;
            (
                TRANSACTION_OBLIGATION,
                cents_of(amount)?,
                Some((count, first.to_owned(), last.to_owned())),
            )
        }
    };
    let mut award = AwardFigures {
        kind,
        key: key.to_owned(),
        piid: piid.to_owned(),
        obligation_name,
        cents,
        transactions,
        start: None,
        end: None,
        last_modified: None,
        funding_agency: None,
        funding_sub_agency: None,
    };
    for segment in segments {
        let (name, value) = segment.split_once(' ')?;
        let slot = match name {
            "period_of_performance_start_date" => &mut award.start,
            "period_of_performance_current_end_date" => &mut award.end,
            "last_modified_date" => &mut award.last_modified,
            "funding_agency_name" => &mut award.funding_agency,
            "funding_sub_agency_name" => &mut award.funding_sub_agency,
            _ => continue,
        };
        *slot = Some(value.to_owned());
    }
    Some(award)
}

/// A day as USAspending writes it: `YYYY-MM-DD`, or a `last_modified_date` with its time
/// (`2021-07-01 12:34:56`), of which the date is kept. Empty is no date.
fn day<'t>(text: &'t str, column: &str) -> Result<Option<&'t str>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let date = match text.as_bytes().get(10) {
        Some(b' ' | b'T') => &text[..10],
        _ => text,
    };
    let full = date.len() == 10 && PartialDate::parse(date, column).is_ok_and(|d| d.day.is_some());
    if full {
        Ok(Some(date))
    } else {
        Err(format!(
            "{column} `{text}` is not a date of the form YYYY-MM-DD"
        ))
    }
}

/// `new` when it is before the date kept (or none is kept).
fn earlier<'t>(new: Option<&'t str>, kept: &Option<String>) -> Option<&'t str> {
    new.filter(|n| kept.as_deref().is_none_or(|k| *n < k))
}

/// `new` when it is after the date kept (or none is kept).
fn later<'t>(new: Option<&'t str>, kept: &Option<String>) -> Option<&'t str> {
    new.filter(|n| kept.as_deref().is_none_or(|k| *n > k))
}

/// A dollar amount as cents; non-numbers are refused.
fn amount(text: &str, column: &str) -> Result<i64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{column} `{text}` is not a number"))?;
    if !value.is_finite() || value.abs() >= 1e15 {
        return Err(format!(
            "{column} `{text}` is not a plausible dollar amount"
        ));
    }
    Ok((value * 100.0).round() as i64)
}

/// Text that goes into a quote segment: on one line and without the segment separator, so
/// [`parse_award_quote`] reads back what was written.
fn segment_text(text: &str) -> String {
    text.split(|c: char| c == ';' || c.is_control())
        .collect::<Vec<_>>()
        .join(",")
}

/// One award, folded from its rows.
struct Award {
    figures: AwardFigures,
    permalink: Option<String>,
    recipient: usize,
    sub_agency: String,
    /// `awarding_sub_agency_name` as the first row gives it, to tell rows that differ.
    sub_agency_name: Box<str>,
    line: usize,
}

/// An agency or sub-agency entity being gathered.
struct AgencyEntity {
    name: String,
    line: usize,
    identifiers: BTreeSet<(String, String)>,
}

/// A recipient (or a recipient's parent) being gathered.
struct Recipient {
    id: String,
    name: String,
    uei: Option<String>,
    duns: Option<String>,
    line: usize,
    /// The parent as the recipient's first row names it: name, UEI, DUNS.
    parent: Option<(String, Option<String>, Option<String>)>,
}

/// The id a recipient gets: its name's slug (at most 100 characters, so the id stays a slug)
/// and its UEI, or its DUNS when it has no UEI.
fn recipient_id(name: &str, uei: Option<&str>, duns: Option<&str>) -> Option<String> {
    let number = uei.or(duns)?;
    let mut base: String = slugify(name).chars().take(100).collect();
    while base.ends_with('-') {
        base.pop();
    }
    Some(format!("{base}-{}", slugify(number)))
}

/// The entity a record of the file is (see `ends` in [`read`]).
fn end_of(ends: &HashMap<String, String>, id: &str) -> String {
    ends.get(id).cloned().unwrap_or_else(|| id.to_owned())
}

/// A relation's id, `{from}-{kind}-{to}` as the service derives one, cut short with a hash of
/// the whole when it would be longer than an id may be.
fn relation_id(from: &str, kind: RelationKind, to: &str) -> String {
    let kind = kind.as_str().to_lowercase().replace('_', "-");
    let id = format!("{from}-{kind}-{to}");
    if id.len() <= 128 {
        return id;
    }
    let mut base: String = id.chars().take(119).collect();
    while base.ends_with('-') {
        base.pop();
    }
    format!("{base}-{:08x}", fnv1a(&id) as u32)
}

/// The source id of an award: its key's slug and a hash of the exact key, so keys that slugify
/// alike still differ.
fn award_source_id(key: &str) -> String {
    let mut base: String = slugify(key).chars().take(100).collect();
    while base.ends_with('-') {
        base.pop();
    }
    format!("usaspending-{base}-{:08x}", fnv1a(key) as u32)
}

/// Whether a row's award type is a contract or an IDV; `Err` names the type otherwise. No
/// type columns, or empty ones, mean a contract: the file has contract award keys.
fn award_type(record: &ByteRecord, columns: &Columns) -> Result<(), String> {
    let raw = |i: Option<usize>| {
        i.and_then(|i| record.get(i))
            .map(<[u8]>::trim_ascii)
            .unwrap_or_default()
    };
    // Nearly every row is a contract: decided without allocating.
    let code = raw(columns.award_type_code);
    if !code.is_empty() && CONTRACT_TYPES.iter().any(|(c, _)| c.as_bytes() == code) {
        return Ok(());
    }
    if code.is_empty() {
        let idv = raw(columns.idv_type_code);
        let idv = idv.strip_prefix(b"IDV_").unwrap_or(idv);
        if !idv.is_empty()
            && CONTRACT_TYPES
                .iter()
                .any(|(c, _)| c.strip_prefix("IDV_").is_some_and(|c| c.as_bytes() == idv))
        {
            return Ok(());
        }
    }
    let cell = |i: Option<usize>| {
        i.and_then(|i| record.get(i))
            .map(|b| String::from_utf8_lossy(b).trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    let (code, name) = match cell(columns.award_type_code) {
        Some(code) => (Some(code), cell(columns.award_type)),
        None => match cell(columns.idv_type_code) {
            Some(code) if code.starts_with("IDV_") => (Some(code), cell(columns.idv_type)),
            Some(code) => (Some(format!("IDV_{code}")), cell(columns.idv_type)),
            None => (None, cell(columns.award_type).or(cell(columns.idv_type))),
        },
    };
    let known = match (&code, &name) {
        (Some(code), _) => CONTRACT_TYPES.iter().any(|(c, _)| c == code),
        (None, Some(name)) => CONTRACT_TYPES
            .iter()
            .any(|(_, n)| n.eq_ignore_ascii_case(name)),
        (None, None) => true,
    };
    if known {
        return Ok(());
    }
    Err(match (code, name) {
        (Some(code), Some(name)) => format!("'{name}' (code {code})"),
        (Some(code), None) => format!("code '{code}'"),
        (None, Some(name)) => format!("'{name}'"),
        (None, None) => "unknown".to_owned(),
    })
}

/// Reads a USAspending contract awards CSV into a batch. `existing` gives the claim quotes a
/// relation (by id) already has in the store, so that amounts and periods count every award
/// the relation cites, not only this file's; `resolved` the id of the entity an entity draft
/// would become if imported now.
pub fn read(
    input: impl Read,
    file: &str,
    existing: &dyn Fn(&str) -> Vec<String>,
    resolved: &dyn Fn(&EntityDraft) -> String,
) -> Result<ImportBatch, FormatError> {
    let bad = |line: usize, message: String| FormatError::BadLine {
        file: file.to_owned(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
    let csv_error = |e: csv::Error, line: usize| -> FormatError {
        let line = e
            .position()
            .map_or(line, |p| usize::try_from(p.line()).unwrap_or(line));
        if e.is_io_error() {
            if let csv::ErrorKind::Io(source) = e.into_kind() {
                return FormatError::Io {
                    file: file.to_owned(),
                    source,
                };
            }
            return bad(line, "the file could not be read".into());
        }
        bad(line, format!("not a CSV row: {e}"))
    };
    let header = reader.byte_headers().map_err(|e| csv_error(e, 1))?.clone();
    let columns = Columns::resolve(&header).map_err(|m| bad(1, m))?;

    let mut awards: Vec<Award> = Vec::new();
    let mut award_at: HashMap<Box<str>, usize> = HashMap::new();
    let mut agencies: BTreeMap<String, AgencyEntity> = BTreeMap::new();
    // (sub-agency, agency) -> the first line showing it.
    let mut part_of: BTreeMap<(String, String), (usize, String)> = BTreeMap::new();
    let mut recipients: Vec<Recipient> = Vec::new();
    let mut recipient_at: HashMap<String, usize> = HashMap::new();
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    let mut empty_obligations = 0u64;
    let mut moved = 0u64;
    let mut rows = 0u64;

    let mut record = ByteRecord::new();
    let mut line = 1usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(e, line + 1)),
        }
        line = record
            .position()
            .map_or(line + 1, |p| usize::try_from(p.line()).unwrap_or(line + 1));
        rows += 1;
        if let Err(name) = award_type(&record, &columns) {
            *skipped.entry(name).or_default() += 1;
            continue;
        }
        let text = |i: usize, column: &str| -> Result<&str, FormatError> {
            std::str::from_utf8(record.get(i).unwrap_or_default())
                .map(str::trim)
                .map_err(|e| {
                    bad(
                        line,
                        format!("{column} is not valid UTF-8 (byte {})", e.valid_up_to() + 1),
                    )
                })
        };
        let optional = |i: Option<usize>, column: &str| -> Result<Option<&str>, FormatError> {
            match i {
                Some(i) => Ok(Some(text(i, column)?).filter(|t| !t.is_empty())),
                None => Ok(None),
            }
        };
        let key = text(columns.award_key, "contract_award_unique_key")?;
        if key.is_empty() {
            return Err(bad(line, "contract_award_unique_key is empty".into()));
        }
        let obligation_text = text(columns.obligation, columns.obligation_name)?;
        let cents = if obligation_text.is_empty() {
            empty_obligations += 1;
            0
        } else {
            amount(obligation_text, columns.obligation_name).map_err(|m| bad(line, m))?
        };
        // Dates stay borrowed from the row: most rows only compare them with their award's.
        let date = |i: usize, column: &str| -> Result<Option<&str>, FormatError> {
            day(text(i, column)?, column).map_err(|m| bad(line, m))
        };
        let start = date(columns.start, "period_of_performance_start_date")?;
        let end = date(columns.end, "period_of_performance_current_end_date")?;
        let last_modified = date(columns.last_modified, "last_modified_date")?;
        let action = match columns.action_date {
            Some(i) => Some(
                date(i, "action_date")?.ok_or_else(|| bad(line, "action_date is empty".into()))?,
            ),
            None => None,
        };
        let uei = optional(columns.recipient_uei, "recipient_uei")?;
        let duns = optional(columns.recipient_duns, "recipient_duns")?;
        if uei.is_none() && duns.is_none() {
            return Err(bad(
                line,
                "the recipient has neither recipient_uei nor recipient_duns".into(),
            ));
        }
        let funding_agency = optional(columns.funding_agency, "funding_agency_name")?;
        let funding_sub_agency = optional(columns.funding_sub_agency, "funding_sub_agency_name")?;

        if let Some(&at) = award_at.get(key) {
            let award = &mut awards[at];
            if columns.kind == FileKind::Summaries {
                return Err(bad(
                    line,
                    format!(
                        "award {key} is given twice in a summaries file (first on line {})",
                        award.line
                    ),
                ));
            }
            // A later row naming another recipient or sub-agency (a novation, a reorganisation)
            // still counts for the award, which stays where its first row put it: said in the notes.
            let recipient = &recipients[award.recipient];
            let same_recipient = match uei {
                Some(uei) => recipient.uei.as_deref() == Some(uei),
                None => recipient.duns.as_deref() == duns,
            };
            if !same_recipient
                || *award.sub_agency_name
                    != *text(columns.sub_agency_name, "awarding_sub_agency_name")?
            {
                moved += 1;
            }
            let figures = &mut award.figures;
            figures.cents = figures.cents.saturating_add(cents);
            if let (Some((count, first, last)), Some(action)) =
                (figures.transactions.as_mut(), action)
            {
                *count += 1;
                if action < first.as_str() {
                    *first = action.to_owned();
                } else if action > last.as_str() {
                    *last = action.to_owned();
                }
            }
            if let Some(start) = earlier(start, &figures.start) {
                figures.start = Some(start.to_owned());
            }
            if let Some(end) = later(end, &figures.end) {
                figures.end = Some(end.to_owned());
            }
            if let Some(modified) = later(last_modified, &figures.last_modified) {
                figures.last_modified = Some(modified.to_owned());
            }
            if figures.funding_agency.is_none() {
                figures.funding_agency = funding_agency.map(segment_text);
            }
            if figures.funding_sub_agency.is_none() {
                figures.funding_sub_agency = funding_sub_agency.map(segment_text);
            }
            if award.permalink.is_none() {
                award.permalink =
                    optional(columns.permalink, "usaspending_permalink")?.map(str::to_owned);
            }
            continue;
        }

        // An award's first row: its recipient and agencies.
        let required = |i: usize, column: &str| -> Result<&str, FormatError> {
            let value = text(i, column)?;
            if value.is_empty() {
                return Err(bad(line, format!("{column} is empty")));
            }
            Ok(value)
        };
        let piid = required(columns.piid, "award_id_piid")?;
        let agency_name = required(columns.agency_name, "awarding_agency_name")?;
        let agency_code = text(columns.agency_code, "awarding_agency_code")?;
        let sub_name = required(columns.sub_agency_name, "awarding_sub_agency_name")?;
        let sub_code = text(columns.sub_agency_code, "awarding_sub_agency_code")?;
        let recipient_name = required(columns.recipient_name, "recipient_name")?;
        let agency_id = slugify(agency_name);
        let sub_id = slugify(sub_name);
        let mut agency = |id: &str, name: &str, scheme: &str, code: &str| {
            let entity = agencies
                .entry(id.to_owned())
                .or_insert_with(|| AgencyEntity {
                    name: name.to_owned(),
                    line,
                    identifiers: BTreeSet::new(),
                });
            if !code.is_empty() {
                entity
                    .identifiers
                    .insert((scheme.to_owned(), code.to_owned()));
            }
        };
        agency(&agency_id, agency_name, "usaspending-agency", agency_code);
        agency(&sub_id, sub_name, "usaspending-subagency", sub_code);
        if sub_id != agency_id {
            part_of
                .entry((sub_id.clone(), agency_id.clone()))
                .or_insert_with(|| {
                    (
                        line,
                        format!(
                            "{GENERATED} awarding_sub_agency_name {} (awarding_sub_agency_code {}) is listed under awarding_agency_name {} (awarding_agency_code {})",
                            segment_text(sub_name),
                            segment_text(sub_code),
                            segment_text(agency_name),
                            segment_text(agency_code)
                        ),
                    )
                });
        }
        let recipient_key = match uei {
            Some(uei) => format!("uei:{uei}"),
            None => format!("duns:{}", duns.unwrap_or_default()),
        };
        let recipient = match recipient_at.get(&recipient_key) {
            Some(&at) => at,
            None => {
                let id = recipient_id(recipient_name, uei, duns).unwrap_or_default();
                let parent_name = optional(columns.parent_name, "recipient_parent_name")?;
                let parent_uei = optional(columns.parent_uei, "recipient_parent_uei")?;
                let parent_duns = optional(columns.parent_duns, "recipient_parent_duns")?;
                let same = match (parent_uei, uei) {
                    (Some(p), Some(r)) => p == r,
                    _ => parent_duns.is_some() && parent_duns == duns,
                };
                let parent = match parent_name {
                    Some(name) if !same => Some((
                        name.to_owned(),
                        parent_uei.map(str::to_owned),
                        parent_duns.map(str::to_owned),
                    )),
                    _ => None,
                };
                recipients.push(Recipient {
                    id,
                    name: recipient_name.to_owned(),
                    uei: uei.map(str::to_owned),
                    duns: duns.map(str::to_owned),
                    line,
                    parent,
                });
                recipient_at.insert(recipient_key, recipients.len() - 1);
                recipients.len() - 1
            }
        };
        let figures = AwardFigures {
            kind: columns.kind,
            key: key.to_owned(),
            piid: segment_text(piid),
            obligation_name: columns.obligation_name,
            cents,
            transactions: action.map(|a| (1, a.to_owned(), a.to_owned())),
            start: start.map(str::to_owned),
            end: end.map(str::to_owned),
            last_modified: last_modified.map(str::to_owned),
            funding_agency: funding_agency.map(segment_text),
            funding_sub_agency: funding_sub_agency.map(segment_text),
        };
        let permalink = optional(columns.permalink, "usaspending_permalink")?.map(str::to_owned);
        award_at.insert(key.into(), awards.len());
        awards.push(Award {
            figures,
            permalink,
            recipient,
            sub_agency: sub_id,
            sub_agency_name: sub_name.into(),
            line,
        });
    }

    let mut batch = ImportBatch::new();
    let origin = |line: usize| Origin {
        file: file.to_owned(),
        line,
    };
    let kind_name = match columns.kind {
        FileKind::Summaries => "prime award summary",
        FileKind::Transactions => "prime transaction",
    };
    batch.notes.push(format!(
        "read {rows} {kind_name} row(s) of {} award(s), {} recipient(s), {} agenc(ies)",
        awards.len(),
        recipients.len(),
        agencies.len()
    ));
    for (name, count) in &skipped {
        batch.notes.push(format!(
            "skipped {count} row(s) of award type {name}: not a contract or IDV award type"
        ));
    }
    if moved > 0 {
        batch.notes.push(format!(
            "{moved} transaction row(s) name another recipient or awarding sub-agency than their award's first row: they count for the award, which is tied as its first row says"
        ));
    }
    if empty_obligations > 0 {
        batch.notes.push(format!(
            "{empty_obligations} row(s) had an empty {}, read as 0.00",
            columns.obligation_name
        ));
    }

    // One VENDOR_TO per (recipient, sub-agency), its awards in the order of the file.
    let mut pairs: BTreeMap<(usize, &str), Vec<usize>> = BTreeMap::new();
    for (i, award) in awards.iter().enumerate() {
        pairs
            .entry((award.recipient, award.sub_agency.as_str()))
            .or_default()
            .push(i);
    }
    let mut pairs: Vec<_> = pairs.into_iter().collect();
    pairs.sort_by_key(|(_, list)| awards[list[0]].line);
    let agency_draft = |id: &str, agency: &AgencyEntity| EntityDraft {
        id: Some(id.to_owned()),
        kind: EntityKind::Agency,
        name: agency.name.clone(),
        aliases: Vec::new(),
        description: None,
        country: None,
        category: None,
        identifiers: agency
            .identifiers
            .iter()
            .map(|(scheme, value)| Identifier {
                scheme: scheme.clone(),
                value: value.clone(),
            })
            .collect(),
    };
    let company = |id: &str, name: &str, uei: Option<&str>, duns: Option<&str>| EntityDraft {
        id: Some(id.to_owned()),
        kind: EntityKind::Company,
        name: name.to_owned(),
        aliases: Vec::new(),
        description: None,
        country: None,
        category: None,
        identifiers: [("uei", uei), ("duns", duns)]
            .into_iter()
            .filter_map(|(scheme, value)| {
                value.map(|value| Identifier {
                    scheme: scheme.to_owned(),
                    value: value.to_owned(),
                })
            })
            .collect(),
    };
    // The entity each record of the file is, once resolved by its identifiers (an entity the
    // store holds under another id, or merged into another): ties are named after, and looked
    // up by, the ends they will have, so a later download finds them whatever became of ids.
    let mut ends: HashMap<String, String> = HashMap::new();
    for (id, agency) in &agencies {
        ends.insert(id.clone(), resolved(&agency_draft(id, agency)));
    }
    for r in &recipients {
        let draft = company(&r.id, &r.name, r.uei.as_deref(), r.duns.as_deref());
        ends.insert(r.id.clone(), resolved(&draft));
    }
    let mut negative = 0u64;
    let mut vendors: Vec<(usize, RelationDraft)> = Vec::new();
    // An award's source is dated by its latest version, the store's when that is newer, so
    // that reading an older download after a newer one does not date it back.
    let mut published: Vec<Option<String>> = awards
        .iter()
        .map(|a| a.figures.last_modified.clone())
        .collect();
    for ((recipient, sub), list) in pairs {
        let from = end_of(&ends, &recipients[recipient].id);
        let to = end_of(&ends, sub);
        let id = relation_id(&from, RelationKind::VendorTo, &to);
        // Each award once, with its latest figures: the store's claims, then this file's,
        // which win a tie (a file is read as the newer download).
        let mut latest: BTreeMap<String, AwardFigures> = BTreeMap::new();
        for quote in existing(&id) {
            if let Some(figures) = parse_award_quote(&quote) {
                match latest.get(&figures.key) {
                    Some(kept) if kept.last_modified >= figures.last_modified => {}
                    _ => {
                        latest.insert(figures.key.clone(), figures);
                    }
                }
            }
        }
        for &i in &list {
            let figures = &awards[i].figures;
            match latest.get(&figures.key) {
                Some(kept) if kept.last_modified > figures.last_modified => {
                    published[i] = kept.last_modified.clone();
                }
                _ => {
                    latest.insert(figures.key.clone(), figures.clone());
                }
            }
        }
        let total: i64 = latest.values().map(|f| f.cents).sum();
        let start = latest.values().filter_map(|f| f.start.clone()).min();
        let end = latest.values().filter_map(|f| f.end.clone()).max();
        let amount = if total >= 0 {
            Some(Amount {
                value: total as f64 / 100.0,
                currency: "USD".to_owned(),
            })
        } else {
            negative += 1;
            None
        };
        let claims = list
            .iter()
            .map(|&i| ClaimDraft {
                source: award_source_id(&awards[i].figures.key),
                stance: Stance::Asserts,
                claimant: None,
                quote: award_quote(&awards[i].figures),
            })
            .collect();
        vendors.push((
            awards[list[0]].line,
            RelationDraft {
                id: Some(id),
                kind: RelationKind::VendorTo,
                from,
                to,
                // USAspending says when awards run, not whether the tie holds: the period says it.
                status: None,
                role: None,
                description: None,
                amount,
                // A period that ends before it starts is the data's: the service refuses it.
                start,
                end,
                claims,
            },
        ));
    }
    // Sources first, then entities, then relations: each refers only to what came before.
    let structure = !part_of.is_empty() || recipients.iter().any(|r| r.parent.is_some());
    if let Some(first) = awards.first().filter(|_| structure) {
        batch.push(
            origin(first.line),
            ImportItem::Source(SourceDraft {
                id: Some(STRUCTURE_SOURCE.to_owned()),
                title: "USAspending.gov award data".to_owned(),
                publisher: Some(PUBLISHER.to_owned()),
                url: Some("https://www.usaspending.gov".to_owned()),
                published: None,
            }),
        )?;
    }
    for (award, published) in awards.iter().zip(published) {
        let key = &award.figures.key;
        batch.push(
            origin(award.line),
            ImportItem::Source(SourceDraft {
                id: Some(award_source_id(key)),
                title: format!("USAspending award {}", award.figures.piid),
                publisher: Some(PUBLISHER.to_owned()),
                url: Some(
                    award
                        .permalink
                        .clone()
                        .unwrap_or_else(|| format!("https://www.usaspending.gov/award/{key}")),
                ),
                published,
            }),
        )?;
    }
    for (id, agency) in &agencies {
        batch.push(
            origin(agency.line),
            ImportItem::Entity(agency_draft(id, agency)),
        )?;
    }
    for recipient in &recipients {
        batch.push(
            origin(recipient.line),
            ImportItem::Entity(company(
                &recipient.id,
                &recipient.name,
                recipient.uei.as_deref(),
                recipient.duns.as_deref(),
            )),
        )?;
    }
    // Parents: a parent that is a recipient of this file is that entity; others are made
    // from the first row naming them. A parent with neither UEI nor DUNS gets no id.
    let mut owns: Vec<(usize, String, String, String)> = Vec::new();
    let mut parents: HashMap<String, String> = HashMap::new();
    let mut unnumbered = 0u64;
    for recipient in &recipients {
        let Some((name, uei, duns)) = &recipient.parent else {
            continue;
        };
        let known = uei
            .as_ref()
            .and_then(|u| recipient_at.get(&format!("uei:{u}")))
            .or_else(|| {
                duns.as_ref()
                    .and_then(|d| recipient_at.get(&format!("duns:{d}")))
            });
        let parent_id = match known {
            Some(&at) => recipients[at].id.clone(),
            None => {
                let Some(id) = recipient_id(name, uei.as_deref(), duns.as_deref()) else {
                    unnumbered += 1;
                    continue;
                };
                if !parents.contains_key(&id) {
                    parents.insert(id.clone(), name.clone());
                    let draft = company(&id, name, uei.as_deref(), duns.as_deref());
                    ends.insert(id.clone(), resolved(&draft));
                    batch.push(origin(recipient.line), ImportItem::Entity(draft))?;
                }
                id
            }
        };
        if parent_id == recipient.id {
            continue;
        }
        let numbers = |uei: &Option<String>, duns: &Option<String>, prefix: &str| match (uei, duns)
        {
            (Some(uei), _) => format!("{prefix}_uei {}", segment_text(uei)),
            (None, Some(duns)) => format!("{prefix}_duns {}", segment_text(duns)),
            (None, None) => String::new(),
        };
        let quote = format!(
            "{GENERATED} recipient_parent_name {} ({}) is given as the parent of recipient_name {} ({})",
            segment_text(name),
            numbers(uei, duns, "recipient_parent"),
            segment_text(&recipient.name),
            numbers(&recipient.uei, &recipient.duns, "recipient"),
        );
        owns.push((recipient.line, parent_id, recipient.id.clone(), quote));
    }
    if unnumbered > 0 {
        batch.notes.push(format!(
            "{unnumbered} recipient parent(s) named without recipient_parent_uei or recipient_parent_duns were not imported"
        ));
    }
    let structural = |line: usize, kind: RelationKind, from: &str, to: &str, quote: &str| {
        let (from, to) = (end_of(&ends, from), end_of(&ends, to));
        (
            origin(line),
            ImportItem::Relation(RelationDraft {
                id: Some(relation_id(&from, kind, &to)),
                kind,
                from,
                to,
                status: None,
                role: None,
                description: None,
                amount: None,
                start: None,
                end: None,
                claims: vec![ClaimDraft {
                    source: STRUCTURE_SOURCE.to_owned(),
                    stance: Stance::Asserts,
                    claimant: None,
                    quote: quote.to_owned(),
                }],
            }),
        )
    };
    for ((sub, agency), (line, quote)) in &part_of {
        let (origin, item) = structural(*line, RelationKind::PartOf, sub, agency, quote);
        batch.push(origin, item)?;
    }
    for (line, parent, child, quote) in &owns {
        let (origin, item) = structural(*line, RelationKind::Owns, parent, child, quote);
        batch.push(origin, item)?;
    }

    for (line, draft) in vendors {
        batch.push(origin(line), ImportItem::Relation(draft))?;
    }
    if negative > 0 {
        batch.notes.push(format!(
            "{negative} VENDOR_TO tie(s) have obligations summing to less than zero (deobligations): their amount is left unset"
        ));
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolution in a store that holds nothing: every record is itself.
    fn own_id(draft: &EntityDraft) -> String {
        draft.id.clone().unwrap_or_default()
    }

    const SUMMARY_HEADER: &str = "contract_award_unique_key,award_id_piid,parent_award_agency_id,total_obligated_amount,period_of_performance_start_date,period_of_performance_current_end_date,awarding_agency_code,awarding_agency_name,awarding_sub_agency_code,awarding_sub_agency_name,funding_agency_name,recipient_uei,recipient_duns,recipient_name,recipient_parent_uei,recipient_parent_name,award_type_code,award_type,usaspending_permalink,last_modified_date";

    const TRANSACTION_HEADER: &str = "contract_transaction_unique_key,contract_award_unique_key,award_id_piid,modification_number,federal_action_obligation,total_dollars_obligated,action_date,period_of_performance_start_date,period_of_performance_current_end_date,awarding_agency_code,awarding_agency_name,awarding_sub_agency_code,awarding_sub_agency_name,recipient_uei,recipient_name,recipient_parent_uei,recipient_parent_name,award_type_code,award_type,last_modified_date";

    fn header(text: &str) -> ByteRecord {
        ByteRecord::from(text.split(',').collect::<Vec<_>>())
    }

    fn read_text(text: &str) -> Result<ImportBatch, FormatError> {
        read(text.as_bytes(), "awards.csv", &|_| Vec::new(), &own_id)
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

    #[test]
    fn header_tells_the_kind_and_names_every_missing_column() {
        let summaries = Columns::resolve(&header(SUMMARY_HEADER)).unwrap();
        assert_eq!(summaries.kind, FileKind::Summaries);
        assert_eq!(summaries.obligation_name, "total_obligated_amount");
        assert_eq!(summaries.award_key, 0);
        assert_eq!(summaries.permalink, Some(18));
        let old = Columns::resolve(&header(
            &SUMMARY_HEADER.replace("total_obligated_amount", "total_dollars_obligated"),
        ))
        .unwrap();
        assert_eq!(old.obligation_name, "total_dollars_obligated");
        // A transactions file has the award's total too: federal_action_obligation decides.
        let transactions = Columns::resolve(&header(TRANSACTION_HEADER)).unwrap();
        assert_eq!(transactions.kind, FileKind::Transactions);
        assert_eq!(transactions.obligation, 4);
        assert_eq!(transactions.action_date, Some(6));
        assert_eq!(transactions.permalink, None);

        let error = Columns::resolve(&header(
            "\u{feff}contract_award_unique_key,recipient_name,federal_action_obligation",
        ))
        .unwrap_err();
        assert_eq!(
            error,
            "not a USAspending contract award download: a prime transactions file needs the columns award_id_piid, action_date, period_of_performance_start_date, period_of_performance_current_end_date, last_modified_date, awarding_agency_code, awarding_agency_name, awarding_sub_agency_code, awarding_sub_agency_name, recipient_uei (or recipient_duns)"
        );
    }

    #[test]
    fn an_assistance_download_is_named_as_such() {
        let error = Columns::resolve(&header(
            "assistance_transaction_unique_key,assistance_award_unique_key,award_id_fain,federal_action_obligation,recipient_uei,recipient_name",
        ))
        .unwrap_err();
        assert!(error.contains("assistance download"), "{error}");
    }

    #[test]
    fn quotes_read_back_as_they_were_written() {
        let summary = AwardFigures {
            kind: FileKind::Summaries,
            key: "CONT_AWD_70B01C19F00000123_7014_70B01C18D00000012_7014".into(),
            piid: "70B01C19F00000123".into(),
            obligation_name: "total_obligated_amount",
            cents: 123_456,
            transactions: None,
            start: Some("2020-01-01".into()),
            end: Some("2021-06-30".into()),
            last_modified: Some("2021-07-01".into()),
            funding_agency: Some("Department of Homeland Security".into()),
            funding_sub_agency: None,
        };
        let quote = award_quote(&summary);
        assert_eq!(
            quote,
            "[generated from the fields of a USAspending download] prime award summary CONT_AWD_70B01C19F00000123_7014_70B01C18D00000012_7014 (PIID 70B01C19F00000123): total_obligated_amount 1234.56; period_of_performance_start_date 2020-01-01; period_of_performance_current_end_date 2021-06-30; last_modified_date 2021-07-01; funding_agency_name Department of Homeland Security"
        );
        assert_eq!(parse_award_quote(&quote), Some(summary.clone()));
        let transactions = AwardFigures {
            kind: FileKind::Transactions,
            obligation_name: TRANSACTION_OBLIGATION,
            cents: -5,
            transactions: Some((12, "2020-01-02".into(), "2020-09-30".into())),
            start: None,
            ..summary.clone()
        };
        let quote = award_quote(&transactions);
        assert!(
            quote.contains(": 12 transactions dated 2020-01-02..2020-09-30, federal_action_obligation sum -0.05; period_of_performance_current_end_date"),
            "{quote}"
        );
        assert_eq!(parse_award_quote(&quote), Some(transactions.clone()));
        let one = AwardFigures {
            transactions: Some((1, "2020-01-02".into(), "2020-01-02".into())),
            ..transactions
        };
        assert_eq!(parse_award_quote(&award_quote(&one)), Some(one));
        assert_eq!(parse_award_quote("Acme sells to CBP."), None);
        assert_eq!(
            parse_award_quote(&award_quote(&summary).replace("1234.56", "lots")),
            None
        );
    }

    #[test]
    fn transactions_fold_into_one_claim_per_award_and_one_tie_per_pair() {
        let rows = [
            "T1,AWD_1,P1,0,1000.50,9999,2020-03-01,2020-03-01,2020-12-31,070,Department of Homeland Security,7014,U.S. Customs and Border Protection,EXMPL0000001,Example Border Sensors LLC,EXMPL0000009,Example Holdings Corp,C,DELIVERY ORDER,2020-03-02 10:00:00",
            "T2,AWD_1,P1,1,-200.25,9999,2020-06-15,2020-03-01,2021-03-31,070,Department of Homeland Security,7014,U.S. Customs and Border Protection,EXMPL0000001,Example Border Sensors LLC,EXMPL0000009,Example Holdings Corp,C,DELIVERY ORDER,2020-06-16 09:00:00",
            "T3,AWD_2,P2,0,50,9999,2019-11-20,2019-11-20,2020-02-28,070,Department of Homeland Security,7014,U.S. Customs and Border Protection,EXMPL0000001,Example Border Sensors LLC,EXMPL0000009,Example Holdings Corp,D,DEFINITIVE CONTRACT,2019-11-21",
            "T4,AWD_1,P1,2,10,9999,2020-01-10,2020-01-10,2021-03-31,070,Department of Homeland Security,7014,U.S. Customs and Border Protection,EXMPL0000001,Example Border Sensors LLC,EXMPL0000009,Example Holdings Corp,C,DELIVERY ORDER,2020-06-01",
            "T6,AWD_2,P2,1,0,9999,2019-12-01,2019-11-20,2020-02-28,070,Department of Homeland Security,7014,U.S. Customs and Border Protection,EXMPL0000005,Example Successor LLC,,,D,DEFINITIVE CONTRACT,2019-12-02",
            "T5,GRANT_1,G1,0,10,9999,2020-01-10,2020-01-10,2021-03-31,070,Department of Homeland Security,7014,U.S. Customs and Border Protection,EXMPL0000001,Example Border Sensors LLC,,,04,PROJECT GRANT,2020-06-01",
        ];
        let text = format!("{TRANSACTION_HEADER}\n{}\n", rows.join("\n"));
        let batch = read_text(&text).unwrap();
        let ties = relations(&batch);
        let vendor: Vec<_> = ties
            .iter()
            .filter(|r| r.kind == RelationKind::VendorTo)
            .collect();
        assert_eq!(vendor.len(), 1);
        let tie = vendor[0];
        assert_eq!(
            tie.id.as_deref(),
            Some("example-border-sensors-llc-exmpl0000001-vendor-to-u-s-customs-and-border-protection")
        );
        assert_eq!(tie.amount.as_ref().map(|a| a.value), Some(860.25));
        assert_eq!(
            (tie.start.as_deref(), tie.end.as_deref()),
            (Some("2019-11-20"), Some("2021-03-31"))
        );
        assert_eq!(tie.claims.len(), 2);
        let first = parse_award_quote(&tie.claims[0].quote).unwrap();
        assert_eq!(first.key, "AWD_1");
        assert_eq!(first.cents, 81_025);
        assert_eq!(
            first.transactions,
            Some((3, "2020-01-10".into(), "2020-06-15".into()))
        );
        assert_eq!(first.start.as_deref(), Some("2020-01-10"));
        assert_eq!(first.last_modified.as_deref(), Some("2020-06-16"));
        assert!(ties.iter().any(
            |r| r.kind == RelationKind::PartOf && r.from == "u-s-customs-and-border-protection"
        ));
        assert!(ties.iter().any(|r| r.kind == RelationKind::Owns
            && r.from == "example-holdings-corp-exmpl0000009"
            && r.to == "example-border-sensors-llc-exmpl0000001"));
        assert!(
            batch
                .notes
                .iter()
                .any(|n| n.contains("skipped 1 row(s) of award type 'PROJECT GRANT' (code 04)")),
            "{:?}",
            batch.notes
        );
        assert!(
            batch.notes.iter().any(|n| n
                .starts_with("1 transaction row(s) name another recipient or awarding sub-agency")),
            "{:?}",
            batch.notes
        );
        // The store's claims count too: an award it holds with a later figure keeps it.
        let stored = award_quote(&AwardFigures {
            cents: 100_000,
            last_modified: Some("2022-01-01".into()),
            ..first.clone()
        });
        let other = award_quote(&AwardFigures {
            key: "AWD_OLD".into(),
            cents: 1,
            end: Some("2023-01-01".into()),
            ..first
        });
        let batch = read(
            text.as_bytes(),
            "awards.csv",
            &|_| vec![stored.clone(), other.clone(), "by hand".into()],
            &own_id,
        )
        .unwrap();
        let tie = relations(&batch)
            .into_iter()
            .find(|r| r.kind == RelationKind::VendorTo)
            .unwrap()
            .clone();
        assert_eq!(tie.amount.map(|a| a.value), Some(105_001.0 / 100.0));
        assert_eq!(tie.end.as_deref(), Some("2023-01-01"));
    }

    #[test]
    fn bad_dates_and_amounts_are_refused_at_their_line() {
        let row = |obligation: &str, end: &str| {
            format!("AWD_1,P1,,{obligation},2020-01-01,{end},070,Department of Homeland Security,7014,U.S. Customs and Border Protection,,EXMPL0000001,,Example Border Sensors LLC,,,D,DEFINITIVE CONTRACT,,2021-07-01 12:34:56")
        };
        let good = format!("{SUMMARY_HEADER}\n{}\n", row("12.5", "2021-06-30"));
        let batch = read_text(&good).unwrap();
        let tie = relations(&batch)
            .into_iter()
            .find(|r| r.kind == RelationKind::VendorTo)
            .unwrap();
        assert_eq!(tie.amount.as_ref().map(|a| a.value), Some(12.5));
        for (obligation, end, wanted) in [
            (
                "lots",
                "2021-06-30",
                "total_obligated_amount `lots` is not a number",
            ),
            (
                "1",
                "06/30/2021",
                "`06/30/2021` is not a date of the form YYYY-MM-DD",
            ),
            ("1", "2021-02-30", "is not a date"),
            ("1", "2021-06", "is not a date"),
            ("inf", "2021-06-30", "not a plausible dollar amount"),
        ] {
            let text = format!(
                "{SUMMARY_HEADER}\n{}\n{}\n",
                row("1", "2021-06-30").replace("AWD_1", "AWD_0"),
                row(obligation, end)
            );
            match read_text(&text) {
                Err(FormatError::BadLine {
                    file,
                    line,
                    message,
                }) => {
                    assert_eq!((file.as_str(), line), ("awards.csv", 3), "{message}");
                    assert!(message.contains(wanted), "{message}");
                }
                other => panic!("expected line 3 to be refused, got {other:?}"),
            }
        }
        let text = format!("{SUMMARY_HEADER}\n{}\n{}\n", row("1", ""), row("2", ""));
        match read_text(&text) {
            Err(FormatError::BadLine { line, message, .. }) => {
                assert_eq!(line, 3);
                assert!(message.contains("given twice"), "{message}");
            }
            other => panic!("expected a repeated award to be refused, got {other:?}"),
        }
        let no_number = row("1", "").replace("EXMPL0000001", "");
        match read_text(&format!("{SUMMARY_HEADER}\n{no_number}\n")) {
            Err(FormatError::BadLine { line, message, .. }) => {
                assert_eq!(line, 2);
                assert!(message.contains("neither recipient_uei nor recipient_duns"));
            }
            other => panic!("expected a recipient without numbers to be refused, got {other:?}"),
        }
    }

    #[test]
    fn empty_obligations_and_negative_sums_are_said_in_the_notes() {
        let row = |key: &str, obligation: &str| {
            format!("T,{key},P,0,{obligation},0,2021-01-04T00:00:00,2021-01-04,2021-12-31,070,Department of Homeland Security,7014,U.S. Customs and Border Protection,EXMPL0000001,Example; Border Sensors LLC,,,D,DEFINITIVE CONTRACT,2021-01-05")
        };
        let text = format!(
            "{TRANSACTION_HEADER}\n{}\n{}\n{}\n",
            row("AWD_1", ""),
            row("AWD_1", "-10"),
            row("AWD_2", "2.5")
        );
        let batch = read_text(&text).unwrap();
        assert!(batch
            .notes
            .contains(&"1 row(s) had an empty federal_action_obligation, read as 0.00".to_owned()));
        assert!(batch.notes.iter().any(
            |n| n.starts_with("1 VENDOR_TO tie(s) have obligations summing to less than zero")
        ));
        let tie = relations(&batch)
            .into_iter()
            .find(|r| r.kind == RelationKind::VendorTo)
            .unwrap();
        assert_eq!(tie.amount, None);
        // An ISO datetime's time is dropped; a `;` in a name is written so as not to cut a quote.
        let first = parse_award_quote(&tie.claims[0].quote).unwrap();
        assert_eq!(first.transactions.unwrap().1, "2021-01-04");
        assert_eq!(first.cents, -1_000);
        assert_eq!(segment_text("A; B\nC"), "A, B,C");
    }

    #[test]
    fn long_names_still_give_slugs() {
        let long = "a".repeat(200);
        let id = relation_id(
            &recipient_id(&long, Some("EXMPL0000001"), None).unwrap(),
            RelationKind::VendorTo,
            &slugify(&long),
        );
        assert!(id.len() <= 128, "{id}");
        assert!(crate::model::check_slug("id", &id).is_ok(), "{id}");
        let source = award_source_id(&format!("CONT_AWD_{long}"));
        assert!(crate::model::check_slug("id", &source).is_ok(), "{source}");
        assert_ne!(award_source_id("A_1"), award_source_id("A-1"));
    }
}

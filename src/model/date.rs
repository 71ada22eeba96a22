use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ModelError;

/// A date known to the year, the month or the day: sources rarely say more than they know,
/// and the model must not pretend they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialDate {
    pub year: i32,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, refusing dates that do not exist.
    pub fn parse(text: &str, field: &str) -> Result<Self, ModelError> {
        let bad = || {
            ModelError::invalid(
                field,
                format!("`{text}` is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD"),
            )
        };
        let mut parts = text.split('-');
        let year_text = parts.next().ok_or_else(bad)?;
        if year_text.len() != 4 || !year_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = year_text.parse().map_err(|_| bad())?;
        let mut two_digits = |limit: u8| -> Result<Option<u8>, ModelError> {
            match parts.next() {
                None => Ok(None),
                Some(p) if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) => {
                    let n: u8 = p.parse().map_err(|_| bad())?;
                    if n == 0 || n > limit {
                        Err(bad())
                    } else {
                        Ok(Some(n))
                    }
                }
                Some(_) => Err(bad()),
            }
        };
        let month = two_digits(12)?;
        let day = if month.is_some() {
            two_digits(31)?
        } else {
            None
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        if let (Some(m), Some(d)) = (month, day) {
            if d > days_in_month(year, m) {
                return Err(ModelError::invalid(
                    field,
                    format!("`{text}` is not a day of the calendar"),
                ));
            }
        }
        Ok(PartialDate { year, month, day })
    }

    /// The first day this date may mean, as (year, month, day): for ordering and `asOf` checks.
    pub fn earliest(&self) -> (i32, u8, u8) {
        (self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
    }

    /// The last day this date may mean.
    pub fn latest(&self) -> (i32, u8, u8) {
        let month = self.month.unwrap_or(12);
        (
            self.year,
            month,
            self.day.unwrap_or_else(|| days_in_month(self.year, month)),
        )
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl Serialize for PartialDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PartialDate::parse(&text, "date").map_err(serde::de::Error::custom)
    }
}

/// When a tie held: either end may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Period {
    pub start: Option<PartialDate>,
    pub end: Option<PartialDate>,
}

impl Period {
    /// Whether the tie may have held on `day` (year, month, day). Unknown ends are open.
    pub fn may_hold_on(&self, day: &PartialDate) -> bool {
        let starts_in_time = self.start.is_none_or(|s| s.earliest() <= day.latest());
        let not_yet_ended = self.end.is_none_or(|e| e.latest() >= day.earliest());
        starts_in_time && not_yet_ended
    }
}

/// A validity period as two day numbers, eight bytes where [`Period`] takes twenty-four: the
/// form the graph index keeps for five million relations. Unknown ends are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DaySpan {
    /// The first day the tie may have held (0: unknown).
    pub from: u32,
    /// The last day the tie may have held (`u32::MAX`: unknown).
    pub until: u32,
}

/// A day as a number that orders like the calendar (months count 31 days: only order matters).
fn day_number((year, month, day): (i32, u8, u8)) -> u32 {
    let year = (year.clamp(0, 9999) + 1) as u32;
    (year * 12 + u32::from(month.saturating_sub(1))) * 31 + u32::from(day.saturating_sub(1)) + 1
}

impl DaySpan {
    pub const OPEN: DaySpan = DaySpan {
        from: 0,
        until: u32::MAX,
    };

    /// Whether the tie may have held on `day`, as [`Period::may_hold_on`] says.
    pub fn may_hold_on(&self, day: &PartialDate) -> bool {
        self.from <= day_number(day.latest()) && self.until >= day_number(day.earliest())
    }
}

impl From<Period> for DaySpan {
    fn from(period: Period) -> Self {
        DaySpan {
            from: period.start.map_or(0, |d| day_number(d.earliest())),
            until: period.end.map_or(u32::MAX, |d| day_number(d.latest())),
        }
    }
}

/// Milliseconds since the Unix epoch, UTC: when a record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(millis)
    }

    /// RFC 3339 in UTC with millisecond precision.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(t) => t
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| self.0.to_string()),
            Err(_) => self.0.to_string(),
        }
    }
}

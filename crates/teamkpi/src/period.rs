//! Periods (day, ISO week, month) in an IANA time zone as half-open UTC ranges, DST-correct, and
//! the period helpers of `update_kpis` (today, last N days, last full week, last month).
//!
//! A period covers `[local start 00:00, local (end + 1 day) 00:00)`. A local midnight that falls in a
//! DST gap moves forward to the first instant that exists; an ambiguous one takes the earlier
//! instant.

use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};

use crate::choice::string_enum;
use crate::error::{Error, Result};

string_enum! {
    /// The natural period of a KPI or a metric grouping (the KPI tables' `aggregation_period`).
    pub enum PeriodKind ("period") {
        /// One local day.
        Day = "daily" | "day" | "days",
        /// One ISO week, Monday to Sunday.
        Week = "weekly" | "week" | "iso_week" | "weeks",
        /// One calendar month.
        Month = "monthly" | "month" | "months",
    }
}

/// An instant in UTC, as every activity window and event carries it.
pub type Timestamp = DateTime<Utc>;

/// Parses an IANA time zone name (`unknown_timezone` otherwise).
///
/// ```
/// assert!(teamkpi::parse_timezone("Europe/Warsaw").is_ok());
/// assert_eq!(teamkpi::parse_timezone("Mars/Olympus").unwrap_err().code(), "unknown_timezone");
/// ```
pub fn parse_timezone(name: &str) -> Result<Tz> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| Error::UnknownTimezone(name.to_owned()))
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| Error::InvalidDate {
        field: field.to_owned(),
        value: text.to_owned(),
        expected: "YYYY-MM-DD".into(),
    })
}

/// The instant of a local wall time: a time in a DST gap moves forward by the gap's length, an
/// ambiguous one takes the earlier instant.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // Interpreting the wall time with the offset in force before the gap lands just after
            // the transition, shifted forward by the gap's length.
            let before = tz
                .offset_from_utc_datetime(&(local - Duration::days(1)))
                .fix()
                .local_minus_utc();
            Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(before))))
        }
    }
}

/// The first instant of a local date.
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    resolve_local(tz, date.and_time(chrono::NaiveTime::MIN))
}

/// The local date of an instant.
pub fn local_date(tz: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// One period: a kind and its first and last day (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Period {
    /// Day, week or month.
    pub kind: PeriodKind,
    /// First day.
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
}

impl Period {
    /// The period of `kind` that contains `date`.
    ///
    /// ```
    /// use teamkpi::{Period, PeriodKind};
    /// use chrono::NaiveDate;
    /// let d = NaiveDate::from_ymd_opt(2025, 11, 2).unwrap(); // a Sunday
    /// let w = Period::containing(PeriodKind::Week, d);
    /// assert_eq!(w.start.to_string(), "2025-10-27");
    /// assert_eq!(w.end.to_string(), "2025-11-02");
    /// ```
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Period {
        match kind {
            PeriodKind::Day => Period {
                kind,
                start: date,
                end: date,
            },
            PeriodKind::Week => {
                let start = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
                Period {
                    kind,
                    start,
                    end: start + Duration::days(6),
                }
            }
            PeriodKind::Month => {
                let start = date.with_day(1).unwrap_or(date);
                let next = add_month(start);
                Period {
                    kind,
                    start,
                    end: next.pred_opt().unwrap_or(next),
                }
            }
        }
    }

    /// The period right after this one.
    pub fn next(&self) -> Period {
        Period::containing(self.kind, self.end.succ_opt().unwrap_or(self.end))
    }

    /// The period right before this one.
    pub fn prev(&self) -> Period {
        Period::containing(self.kind, self.start.pred_opt().unwrap_or(self.start))
    }

    /// Number of days in the period.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// True when `date` is within the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    /// The half-open UTC range `[local start 00:00, local (end + 1) 00:00)` in `tz`.
    ///
    /// ```
    /// use teamkpi::{parse_timezone, Period, PeriodKind};
    /// use chrono::NaiveDate;
    /// let tz = parse_timezone("Europe/Warsaw").unwrap();
    /// // The spring-forward day has 23 hours.
    /// let day = Period::containing(PeriodKind::Day, NaiveDate::from_ymd_opt(2025, 3, 30).unwrap());
    /// let (start, end) = day.utc_bounds(tz);
    /// assert_eq!((end - start).num_hours(), 23);
    /// ```
    pub fn utc_bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = self.end.succ_opt().unwrap_or(self.end);
        (local_midnight(tz, self.start), local_midnight(tz, after))
    }

    /// True when the period is over at `now` in `tz`.
    pub fn is_complete(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        now >= self.utc_bounds(tz).1
    }
}

fn add_month(first_of_month: NaiveDate) -> NaiveDate {
    let (y, m) = if first_of_month.month() == 12 {
        (first_of_month.year() + 1, 1)
    } else {
        (first_of_month.year(), first_of_month.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first_of_month)
}

/// An inclusive range of local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateRange {
    /// First day.
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
}

impl DateRange {
    /// A range; `invalid_range` when `end` is before `start`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self> {
        if end < start {
            return Err(Error::range("date_range", start, end));
        }
        crate::limits::check_span("date_range", start, end)?;
        Ok(DateRange { start, end })
    }

    /// A single day.
    pub fn day(date: NaiveDate) -> Self {
        DateRange {
            start: date,
            end: date,
        }
    }

    /// The days of the range, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let end = self.end;
        self.start.iter_days().take_while(move |d| *d <= end)
    }

    /// The natural periods of `kind` the range touches, whole, in order.
    pub fn periods(&self, kind: PeriodKind) -> Vec<Period> {
        let mut out = Vec::new();
        let mut p = Period::containing(kind, self.start);
        while p.start <= self.end {
            out.push(p);
            let next = p.next();
            if next == p {
                break;
            }
            p = next;
        }
        out
    }

    /// The half-open UTC range of the whole date range in `tz`.
    pub fn utc_bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = self.end.succ_opt().unwrap_or(self.end);
        (local_midnight(tz, self.start), local_midnight(tz, after))
    }
}

/// Today's local date at `now` in `tz`.
pub fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    local_date(tz, now)
}

/// The `n` local days ending today, today included (the support desk's `--days N`); `n` ≥ 1.
///
/// ```
/// use teamkpi::{last_n_days, parse_timezone};
/// use chrono::{TimeZone, Utc};
/// let now = Utc.with_ymd_and_hms(2025, 11, 2, 12, 0, 0).unwrap();
/// let r = last_n_days(now, parse_timezone("UTC").unwrap(), 7).unwrap();
/// assert_eq!((r.start.to_string(), r.end.to_string()), ("2025-10-27".into(), "2025-11-02".into()));
/// ```
pub fn last_n_days(now: DateTime<Utc>, tz: Tz, n: u32) -> Result<DateRange> {
    if n == 0 {
        return Err(Error::argument("days", "must be at least 1"));
    }
    crate::limits::check_days("days", u64::from(n))?;
    let end = today(now, tz);
    let start = end
        .checked_sub_signed(Duration::days(i64::from(n) - 1))
        .ok_or_else(|| {
            Error::argument("days", format!("{n} days reach before the earliest date"))
        })?;
    Ok(DateRange { start, end })
}

/// The last full ISO week (Monday to Sunday) before the week containing today — the KPI tables' weekly
/// job, with Sunday included.
pub fn last_full_week(now: DateTime<Utc>, tz: Tz) -> Period {
    Period::containing(PeriodKind::Week, today(now, tz)).prev()
}

/// The last full calendar month before the one containing today.
pub fn last_month(now: DateTime<Utc>, tz: Tz) -> Period {
    Period::containing(PeriodKind::Month, today(now, tz)).prev()
}

/// The date-range helpers by name, as every surface offers them: `today`, `last_n_days` (needs
/// `days`), `last_full_week`, `last_month` (another name is `invalid_choice`).
///
/// ```
/// use chrono::TimeZone;
/// let now = chrono::Utc.with_ymd_and_hms(2025, 11, 5, 10, 0, 0).unwrap();
/// let r = teamkpi::period::date_helper("last_n_days", now, chrono_tz::UTC, Some(7)).unwrap();
/// assert_eq!((r.start.to_string(), r.end.to_string()), ("2025-10-30".into(), "2025-11-05".into()));
/// ```
pub fn date_helper(
    helper: &str,
    now: DateTime<Utc>,
    tz: Tz,
    days: Option<u32>,
) -> Result<DateRange> {
    match helper {
        "today" => Ok(DateRange::day(today(now, tz))),
        "last_n_days" => {
            let n = days.ok_or_else(|| Error::argument("days", "required by last_n_days"))?;
            last_n_days(now, tz, n)
        }
        "last_full_week" | "last_month" => {
            let p = if helper == "last_full_week" {
                last_full_week(now, tz)
            } else {
                last_month(now, tz)
            };
            Ok(DateRange {
                start: p.start,
                end: p.end,
            })
        }
        other => Err(Error::InvalidChoice {
            field: "helper".into(),
            value: other.into(),
            expected: "today last_n_days last_full_week last_month".into(),
        }),
    }
}

pub(crate) fn zone_offset(tz: Tz, t: i64) -> i64 {
    let naive = DateTime::from_timestamp(t, 0)
        .map(|d| d.naive_utc())
        .unwrap_or(NaiveDateTime::MIN);
    i64::from(tz.offset_from_utc_datetime(&naive).fix().local_minus_utc())
}

/// Buckets of 2^25 s (about 388 days) from 1899 to 2253.
const BUCKET_SHIFT: u32 = 25;
const FIRST_BUCKET: i64 = -70;
const BUCKETS: usize = 360;

/// A zone's UTC offsets and transitions, computed per bucket on first use. Business-time
/// arithmetic asks for offsets many times per call; a table lookup is far cheaper than the zone
/// database's search. The cache is shared by clones (same zone) and never changes results.
#[derive(Clone)]
pub(crate) struct ZoneOffsets(Arc<[OnceLock<Bucket>]>);

/// The UTC offsets over a range of instants (see [`ZoneOffsets::span`]).
pub(crate) struct OffsetSpan {
    pub(crate) first: i64,
    pub(crate) transitions: Vec<(i64, i64)>,
    /// False when the range left the cached years (then `first` alone is not reliable).
    pub(crate) exact: bool,
}

impl OffsetSpan {
    /// The offset at `t` within the span.
    #[inline]
    pub(crate) fn at(&self, t: i64) -> i64 {
        let mut off = self.first;
        for &(at, o) in &self.transitions {
            if t >= at {
                off = o;
            } else {
                break;
            }
        }
        off
    }
}

struct Bucket {
    start_offset: i64,
    transitions: Box<[(i64, i64)]>,
}

impl ZoneOffsets {
    pub(crate) fn new() -> Self {
        ZoneOffsets((0..BUCKETS).map(|_| OnceLock::new()).collect())
    }

    /// The offsets in force over `[lo, hi]`: the first one and the transitions inside, so a hot
    /// loop over instants in that range resolves offsets without touching the cache.
    pub(crate) fn span(&self, tz: Tz, lo: i64, hi: i64) -> OffsetSpan {
        let first = self.offset_at(tz, lo);
        let mut transitions = Vec::new();
        let mut k = lo >> BUCKET_SHIFT;
        while k <= hi >> BUCKET_SHIFT {
            match usize::try_from(k - FIRST_BUCKET)
                .ok()
                .and_then(|i| self.0.get(i))
            {
                Some(slot) => {
                    let bucket = slot.get_or_init(|| Bucket::compute(tz, k << BUCKET_SHIFT));
                    transitions.extend(
                        bucket
                            .transitions
                            .iter()
                            .filter(|(at, _)| *at > lo && *at <= hi)
                            .copied(),
                    );
                }
                None => {
                    // Outside the cached years: no fast span; callers fall back per instant.
                    return OffsetSpan {
                        first,
                        transitions: Vec::new(),
                        exact: false,
                    };
                }
            }
            k += 1;
        }
        OffsetSpan {
            first,
            transitions,
            exact: true,
        }
    }

    pub(crate) fn offset_at(&self, tz: Tz, t: i64) -> i64 {
        let k = t >> BUCKET_SHIFT;
        let slot = usize::try_from(k - FIRST_BUCKET)
            .ok()
            .and_then(|i| self.0.get(i));
        let Some(slot) = slot else {
            return zone_offset(tz, t);
        };
        let bucket = slot.get_or_init(|| Bucket::compute(tz, k << BUCKET_SHIFT));
        let mut off = bucket.start_offset;
        for &(at, o) in bucket.transitions.iter() {
            if at > t {
                break;
            }
            off = o;
        }
        off
    }
}

impl Bucket {
    fn compute(tz: Tz, start: i64) -> Bucket {
        let end = start + (1 << BUCKET_SHIFT);
        let start_offset = zone_offset(tz, start);
        let mut transitions = Vec::new();
        let mut prev_t = start;
        let mut prev = start_offset;
        // Zones change offset at most a few times a year, never twice within 6 hours.
        let step = 6 * 3600;
        let mut t = start + step;
        while prev_t < end - 1 {
            let probe = t.min(end - 1);
            let off = zone_offset(tz, probe);
            if off != prev {
                let (mut lo, mut hi) = (prev_t, probe);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if zone_offset(tz, mid) == prev {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                transitions.push((hi, off));
                prev = off;
            }
            prev_t = probe;
            t += step;
        }
        Bucket {
            start_offset,
            transitions: transitions.into_boxed_slice(),
        }
    }
}

impl std::fmt::Debug for ZoneOffsets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ZoneOffsets")
    }
}

impl PartialEq for ZoneOffsets {
    fn eq(&self, _: &Self) -> bool {
        // A cache of the zone's own data: calendars are equal whatever it holds.
        true
    }
}

impl Eq for ZoneOffsets {}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date("d", s).unwrap()
    }

    #[test]
    fn gap_midnight_moves_forward() {
        // Santiago springs forward at local midnight: 2024-09-08 00:00 does not exist.
        let tz = parse_timezone("America/Santiago").unwrap();
        let start = local_midnight(tz, d("2024-09-08"));
        assert_eq!(start.to_rfc3339(), "2024-09-08T04:00:00+00:00");
        assert_eq!(
            start.with_timezone(&tz).to_string(),
            "2024-09-08 01:00:00 -03"
        );
    }

    #[test]
    fn months_and_weeks() {
        let m = Period::containing(PeriodKind::Month, d("2024-02-10"));
        assert_eq!((m.start, m.end), (d("2024-02-01"), d("2024-02-29")));
        assert_eq!(m.next().start, d("2024-03-01"));
        let dec = Period::containing(PeriodKind::Month, d("2024-12-31"));
        assert_eq!(dec.next().start, d("2025-01-01"));
        let r = DateRange::new(d("2025-10-30"), d("2025-11-03")).unwrap();
        let weeks = r.periods(PeriodKind::Week);
        assert_eq!(weeks.len(), 2);
        assert_eq!(weeks[1].start, d("2025-11-03"));
    }
}

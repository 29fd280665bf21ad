//! Business calendars: opening hours in an IANA zone, holidays, date-specific overrides, and
//! business-time arithmetic that is correct across DST.
//!
//! Rules (docs/semantics.md):
//! - Intervals are half-open `[open, close)` in local wall time. `("22:00", "06:00")` (close before
//!   open) runs overnight and belongs to its start date (a holiday on that date drops it). `24:00`
//!   is accepted as a closing time; an interval whose close equals its open is an error.
//! - A wall time in a DST gap moves forward by the gap; an ambiguous one takes the earlier instant.
//!   Business time is real elapsed seconds inside the open windows, so a 9–17 day is 8 hours even
//!   on a DST day, and an overnight shift over a fall-back night is 9 hours.
//! - `next_open(t)` is `t` when the calendar is open at `t`.
//! - Adding business time: with [`DeadlineAtClose::Stay`] (default; Chatwoot, Frappe Helpdesk,
//!   businesstimedelta) a deadline that lands exactly on a closing time stays there; with
//!   [`DeadlineAtClose::NextOpen`] (biz, Zammad) it moves to the next opening. In general `Stay`
//!   gives the earliest instant at which the elapsed business time equals the amount, `NextOpen` the
//!   latest; they differ only at closed instants.
//! - A calendar whose weekly hours are empty is rejected (`calendar_never_open`), so no operation
//!   can loop forever. Adding a year of business time costs time proportional to the weeks crossed:
//!   weeks without holidays, overrides or DST changes are skipped whole.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use crate::choice::string_enum;
use crate::error::{Error, Result};
use crate::period::{parse_timezone, resolve_local, ZoneOffsets};

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
/// Days from 0001-01-01 (CE day 1) to 1970-01-01.
const UNIX_EPOCH_CE_DAYS: i64 = 719_163;

string_enum! {
    /// Where a deadline that lands exactly on a closing time goes.
    #[derive(Default)]
    pub enum DeadlineAtClose ("deadline_at_close") {
        /// It stays at the closing time (default).
        #[default]
        Stay = "stay",
        /// It moves to the start of the next open period.
        NextOpen = "next_open" | "next-open",
    }
}

/// One opening interval in seconds from local midnight of its date; `close` > 86 400 for an
/// overnight interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Interval {
    open: i64,
    close: i64,
}

/// Parses `HH:MM` or `HH:MM:SS` into seconds from midnight; `24:00` only when `allow_24`.
pub fn parse_time_of_day(field: &str, text: &str, allow_24: bool) -> Result<i64> {
    let bad = || Error::InvalidTime {
        field: field.to_owned(),
        value: text.to_owned(),
    };
    let parts: Vec<&str> = text.trim().split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let num = |i: usize| -> i64 { parts.get(i).and_then(|p| p.parse().ok()).unwrap_or(0) };
    let (h, m, s) = (num(0), num(1), num(2));
    if m > 59 || s > 59 {
        return Err(bad());
    }
    let total = h * 3600 + m * 60 + s;
    if h < 24 || (allow_24 && total == DAY) {
        Ok(total)
    } else {
        Err(bad())
    }
}

fn format_time(secs: i64) -> String {
    let secs = secs.rem_euclid(DAY);
    if secs % 60 == 0 {
        format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
    } else {
        format!(
            "{:02}:{:02}:{:02}",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

fn interval(field: &str, open: &str, close: &str) -> Result<Interval> {
    let o = parse_time_of_day(field, open, false)?;
    let c = parse_time_of_day(field, close, true)?;
    if o == c {
        return Err(Error::EmptyInterval {
            field: field.to_owned(),
            open: open.to_owned(),
            close: close.to_owned(),
        });
    }
    Ok(Interval {
        open: o,
        close: if c < o { c + DAY } else { c },
    })
}

/// Checks that segments on a circular or straight line do not overlap (touching is fine).
fn check_overlaps(mut segments: Vec<(i64, i64, String)>, what: &str) -> Result<()> {
    segments.sort();
    for pair in segments.windows(2) {
        if let [a, b] = pair {
            if b.0 < a.1 {
                return Err(Error::OverlappingIntervals(format!(
                    "{what}: {} overlaps {}",
                    a.2, b.2
                )));
            }
        }
    }
    Ok(())
}

fn weekday_index(field: &str, name: &str) -> Result<usize> {
    let n = name.trim().to_lowercase();
    let idx = match n.as_str() {
        "mon" | "monday" | "0" => 0,
        "tue" | "tuesday" | "1" => 1,
        "wed" | "wednesday" | "2" => 2,
        "thu" | "thursday" | "3" => 3,
        "fri" | "friday" | "4" => 4,
        "sat" | "saturday" | "5" => 5,
        "sun" | "sunday" | "6" => 6,
        _ => {
            return Err(Error::choice(
                field,
                name,
                "mon tue wed thu fri sat sun (or full names)",
            ))
        }
    };
    Ok(idx)
}

const WEEKDAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A business calendar's definition as data: what bindings and JSON configuration pass in.
///
/// ```
/// let spec: teamkpi::CalendarSpec = serde_json::from_value(serde_json::json!({
///     "timezone": "Europe/Warsaw",
///     "hours": {"mon": [["09:00", "13:00"], ["14:00", "18:00"]], "sat": [["22:00", "06:00"]]},
///     "holidays": ["2025-12-25"],
///     "overrides": {"2025-12-24": [["09:00", "12:00"]]},
///     "deadline_at_close": "stay"
/// })).unwrap();
/// let cal = teamkpi::BusinessCalendar::from_spec(&spec).unwrap();
/// assert_eq!(cal.timezone().name(), "Europe/Warsaw");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    /// IANA zone name.
    pub timezone: String,
    /// Weekday (`mon`…`sun`) to opening intervals `[open, close]` as `HH:MM`.
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<(String, String)>>,
    /// Closed dates.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Dates with their own hours (an empty list closes the date).
    #[serde(default)]
    pub overrides: BTreeMap<NaiveDate, Vec<(String, String)>>,
    /// Where a deadline exactly at closing time goes.
    #[serde(default)]
    pub deadline_at_close: DeadlineAtClose,
    /// Open around the clock (hours, holidays and overrides must then be empty).
    #[serde(default)]
    pub always_open: bool,
}

/// Opening hours in a time zone, with holidays and overrides, and business-time arithmetic.
///
/// ```
/// use teamkpi::BusinessCalendar;
/// use chrono::{TimeZone, Utc};
/// let cal = BusinessCalendar::builder("America/New_York").unwrap()
///     .weekdays("09:00", "17:00").unwrap()
///     .build().unwrap();
/// // Friday 16:00 local + 2 business hours = Monday 10:00 local.
/// let fri = Utc.with_ymd_and_hms(2025, 11, 7, 21, 0, 0).unwrap();
/// let due = cal.add_business_seconds(fri, 7200).unwrap();
/// assert_eq!(due, Utc.with_ymd_and_hms(2025, 11, 10, 15, 0, 0).unwrap());
/// assert_eq!(cal.business_seconds_between(fri, due).unwrap(), 7200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    tz: Tz,
    offsets: ZoneOffsets,
    weekly: [Vec<Interval>; 7],
    holidays: BTreeSet<i64>,
    overrides: BTreeMap<i64, Vec<Interval>>,
    deadline_at_close: DeadlineAtClose,
    always_open: bool,
    week_seconds: i64,
}

/// Builds a [`BusinessCalendar`] step by step.
#[derive(Debug, Clone)]
pub struct CalendarBuilder {
    spec: CalendarSpec,
}

impl CalendarBuilder {
    /// Adds an opening interval on a weekday (`mon`…`sun`).
    pub fn hours(mut self, weekday: &str, open: &str, close: &str) -> Result<Self> {
        let idx = weekday_index("weekday", weekday)?;
        let key = WEEKDAY_KEYS.get(idx).copied().unwrap_or("mon");
        interval(key, open, close)?;
        self.spec
            .hours
            .entry(key.to_owned())
            .or_default()
            .push((open.to_owned(), close.to_owned()));
        Ok(self)
    }

    /// Adds the same interval Monday to Friday.
    pub fn weekdays(mut self, open: &str, close: &str) -> Result<Self> {
        for day in &WEEKDAY_KEYS[..5] {
            self = self.hours(day, open, close)?;
        }
        Ok(self)
    }

    /// Closes a date.
    pub fn holiday(mut self, date: NaiveDate) -> Self {
        self.spec.holidays.push(date);
        self
    }

    /// Gives a date its own hours (an empty list closes it).
    pub fn override_date(mut self, date: NaiveDate, hours: &[(&str, &str)]) -> Self {
        self.spec.overrides.insert(
            date,
            hours
                .iter()
                .map(|(o, c)| ((*o).to_owned(), (*c).to_owned()))
                .collect(),
        );
        self
    }

    /// Sets the convention for a deadline exactly at closing time.
    pub fn deadline_at_close(mut self, rule: DeadlineAtClose) -> Self {
        self.spec.deadline_at_close = rule;
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<BusinessCalendar> {
        BusinessCalendar::from_spec(&self.spec)
    }
}

fn epoch_day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - UNIX_EPOCH_CE_DAYS
}

fn date_of(day: i64) -> NaiveDate {
    i32::try_from(day + UNIX_EPOCH_CE_DAYS)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(NaiveDate::MAX)
}

fn to_utc(t: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(t, 0)
        .ok_or_else(|| Error::argument("instant", "the result is outside the supported date range"))
}

/// The range of instants the calendar handles (years 1000–9000), so day arithmetic never
/// leaves chrono's range.
const MIN_T: i64 = -30_610_224_000;
const MAX_T: i64 = 221_845_392_000;

fn check_instant(field: &str, t: DateTime<Utc>) -> Result<i64> {
    let s = t.timestamp();
    if !(MIN_T..=MAX_T).contains(&s) {
        return Err(Error::argument(field, "instant outside years 1000–9000"));
    }
    Ok(s)
}

impl BusinessCalendar {
    /// Starts a builder for a calendar in `timezone`.
    pub fn builder(timezone: &str) -> Result<CalendarBuilder> {
        parse_timezone(timezone)?;
        Ok(CalendarBuilder {
            spec: CalendarSpec {
                timezone: timezone.to_owned(),
                ..CalendarSpec::default()
            },
        })
    }

    /// A calendar open around the clock (24/7) in `timezone`.
    pub fn always_open(timezone: &str) -> Result<Self> {
        let tz = parse_timezone(timezone)?;
        Ok(BusinessCalendar {
            tz,
            offsets: ZoneOffsets::new(),
            weekly: Default::default(),
            holidays: BTreeSet::new(),
            overrides: BTreeMap::new(),
            deadline_at_close: DeadlineAtClose::Stay,
            always_open: true,
            week_seconds: WEEK,
        })
    }

    /// Validates a [`CalendarSpec`] and builds the calendar.
    pub fn from_spec(spec: &CalendarSpec) -> Result<Self> {
        let tz = parse_timezone(&spec.timezone)?;
        if spec.always_open {
            if !spec.hours.is_empty() || !spec.holidays.is_empty() || !spec.overrides.is_empty() {
                return Err(Error::argument(
                    "always_open",
                    "a 24/7 calendar takes no hours, holidays or overrides",
                ));
            }
            return Self::always_open(&spec.timezone);
        }
        let mut weekly: [Vec<Interval>; 7] = Default::default();
        let mut segments = Vec::new();
        for (day, list) in &spec.hours {
            let idx = weekday_index("hours", day)?;
            let key = WEEKDAY_KEYS.get(idx).copied().unwrap_or("mon");
            for (open, close) in list {
                let iv = interval(key, open, close)?;
                let base = idx as i64 * DAY;
                let label = format!("{key} {open}-{close}");
                let (s, e) = (base + iv.open, base + iv.close);
                if e > WEEK {
                    segments.push((s, WEEK, label.clone()));
                    segments.push((0, e - WEEK, label));
                } else {
                    segments.push((s, e, label));
                }
                if let Some(slot) = weekly.get_mut(idx) {
                    slot.push(iv);
                }
            }
        }
        check_overlaps(segments, "weekly hours")?;
        for list in weekly.iter_mut() {
            list.sort();
        }
        let week_seconds: i64 = weekly.iter().flatten().map(|iv| iv.close - iv.open).sum();
        if week_seconds == 0 {
            return Err(Error::CalendarNeverOpen);
        }
        let mut overrides = BTreeMap::new();
        for (date, list) in &spec.overrides {
            let field = date.to_string();
            let mut ivs = Vec::new();
            let mut segs = Vec::new();
            for (open, close) in list {
                let iv = interval(&field, open, close)?;
                segs.push((iv.open, iv.close, format!("{open}-{close}")));
                ivs.push(iv);
            }
            check_overlaps(segs, &format!("hours of {field}"))?;
            ivs.sort();
            overrides.insert(epoch_day(*date), ivs);
        }
        Ok(BusinessCalendar {
            tz,
            offsets: ZoneOffsets::new(),
            weekly,
            holidays: spec.holidays.iter().map(|d| epoch_day(*d)).collect(),
            overrides,
            deadline_at_close: spec.deadline_at_close,
            always_open: false,
            week_seconds,
        })
    }

    /// The calendar as data (for JSON configuration and bindings).
    pub fn to_spec(&self) -> CalendarSpec {
        let pairs = |ivs: &[Interval]| -> Vec<(String, String)> {
            ivs.iter()
                .map(|iv| {
                    let close = if iv.close == DAY {
                        "24:00".to_owned()
                    } else {
                        format_time(iv.close)
                    };
                    (format_time(iv.open), close)
                })
                .collect()
        };
        CalendarSpec {
            timezone: self.tz.name().to_owned(),
            hours: self
                .weekly
                .iter()
                .enumerate()
                .filter(|(_, ivs)| !ivs.is_empty())
                .map(|(i, ivs)| {
                    (
                        WEEKDAY_KEYS.get(i).copied().unwrap_or("mon").to_owned(),
                        pairs(ivs),
                    )
                })
                .collect(),
            holidays: self.holidays.iter().map(|d| date_of(*d)).collect(),
            overrides: self
                .overrides
                .iter()
                .map(|(d, ivs)| (date_of(*d), pairs(ivs)))
                .collect(),
            deadline_at_close: self.deadline_at_close,
            always_open: self.always_open,
        }
    }

    /// The calendar's time zone.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// True for a 24/7 calendar.
    pub fn is_always_open(&self) -> bool {
        self.always_open
    }

    /// The convention for deadlines at closing time.
    pub fn deadline_rule(&self) -> DeadlineAtClose {
        self.deadline_at_close
    }

    /// Open seconds in a week without holidays, overrides or DST changes.
    pub fn nominal_week_seconds(&self) -> i64 {
        self.week_seconds
    }

    fn offset_at(&self, t: i64) -> i64 {
        self.offsets.offset_at(self.tz, t)
    }

    /// The local epoch day of an instant.
    fn local_day(&self, t: i64) -> i64 {
        (t + self.offset_at(t)).div_euclid(DAY)
    }

    /// The single UTC offset in force over local days `[day − 1, day + span]`, or `None` when the
    /// offset changes there.
    fn steady_offset(&self, day: i64, span: i64) -> Option<i64> {
        let a = self.offset_at(day * DAY - DAY - 14 * 3600);
        let b = self.offset_at((day + span + 1) * DAY + 14 * 3600);
        (a == b).then_some(a)
    }

    fn intervals_of(&self, day: i64) -> &[Interval] {
        if let Some(ivs) = self.overrides.get(&day) {
            return ivs;
        }
        if self.holidays.contains(&day) {
            return &[];
        }
        // 1970-01-01 was a Thursday (index 3 from Monday).
        let idx = (day + 3).rem_euclid(7) as usize;
        self.weekly.get(idx).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Calls `f` with each window `(start, end)` in UTC seconds of the intervals belonging to
    /// local day `day`, in order; stops when `f` returns false. Returns false if stopped.
    fn each_window(&self, day: i64, mut f: impl FnMut(i64, i64) -> bool) -> bool {
        let ivs = self.intervals_of(day);
        if ivs.is_empty() {
            return true;
        }
        let base = day * DAY;
        match self.steady_offset(day, 1) {
            Some(off) => {
                for iv in ivs {
                    if !f(base + iv.open - off, base + iv.close - off) {
                        return false;
                    }
                }
            }
            None => {
                let local = |secs: i64| {
                    DateTime::from_timestamp(secs, 0)
                        .map(|d| resolve_local(self.tz, d.naive_utc()).timestamp())
                        .unwrap_or(secs)
                };
                for iv in ivs {
                    let (s, e) = (local(base + iv.open), local(base + iv.close));
                    if e > s && !f(s, e) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// When `[day − 1, day + 6]` has no holiday, no override and no DST change, the week starting
    /// on `day` holds exactly the nominal open seconds: returns the UTC instant of its local
    /// midnight.
    fn plain_week_start(&self, day: i64) -> Option<i64> {
        if self.holidays.range(day - 1..day + 7).next().is_some()
            || self.overrides.range(day - 1..day + 7).next().is_some()
        {
            return None;
        }
        self.steady_offset(day, 8).map(|off| day * DAY - off)
    }

    /// End of the last window belonging to `day` (for the union clip after a skipped week).
    fn last_end(&self, day: i64) -> Option<i64> {
        let mut end = None;
        self.each_window(day, |_, e| {
            end = Some(e);
            true
        });
        end
    }

    fn day_limit(&self, span_seconds: i64) -> i64 {
        // A safety net far beyond any real walk: the weeks the span needs, plus every holiday
        // and override, plus two years of DST weeks.
        7 * (span_seconds / self.week_seconds.max(1) + 2)
            + 7 * (self.holidays.len() + self.overrides.len()) as i64
            + 800
    }

    /// True when the calendar is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> Result<bool> {
        let t = check_instant("at", at)?;
        if self.always_open {
            return Ok(true);
        }
        let day = self.local_day(t);
        let mut open = false;
        for d in day - 1..=day {
            self.each_window(d, |s, e| {
                if s <= t && t < e {
                    open = true;
                }
                !open
            });
        }
        Ok(open)
    }

    /// The first open instant at or after `at` (`at` itself when open).
    pub fn next_open(&self, at: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let t = check_instant("at", at)?;
        to_utc(self.next_open_secs(t)?)
    }

    fn next_open_secs(&self, t: i64) -> Result<i64> {
        if self.always_open {
            return Ok(t);
        }
        let first = self.local_day(t) - 1;
        let limit = first + self.day_limit(0);
        let mut found = None;
        let mut day = first;
        while found.is_none() && day <= limit {
            self.each_window(day, |s, e| {
                if e > t {
                    found = Some(s.max(t));
                }
                found.is_none()
            });
            day += 1;
        }
        found.ok_or(Error::CalendarNeverOpen)
    }

    /// The instant `seconds` of business time after `start`, following the calendar's
    /// [`DeadlineAtClose`] rule. `seconds` must not be negative.
    pub fn add_business_seconds(
        &self,
        start: DateTime<Utc>,
        seconds: i64,
    ) -> Result<DateTime<Utc>> {
        let t = check_instant("start", start)?;
        to_utc(self.add_secs(t, seconds)?)
    }

    pub(crate) fn add_secs(&self, t: i64, seconds: i64) -> Result<i64> {
        if seconds < 0 {
            return Err(Error::NegativeDuration {
                field: "seconds".into(),
                value: seconds.to_string(),
            });
        }
        if self.always_open {
            return t
                .checked_add(seconds)
                .filter(|r| *r <= MAX_T)
                .ok_or_else(|| {
                    Error::argument("seconds", "the result is outside years 1000–9000")
                });
        }
        if seconds > MAX_T - MIN_T {
            return Err(Error::argument(
                "seconds",
                "the result is outside years 1000–9000",
            ));
        }
        let next_open = self.deadline_at_close == DeadlineAtClose::NextOpen;
        if seconds == 0 {
            return if next_open {
                self.next_open_secs(t)
            } else {
                Ok(t)
            };
        }
        let start_day = self.local_day(t);
        let mut day = start_day - 1;
        let limit = day + self.day_limit(seconds);
        let mut remaining = seconds;
        let mut covered = t;
        let mut want_next_start = false;
        let mut result = None;
        while result.is_none() {
            if day > limit {
                return Err(Error::argument(
                    "seconds",
                    "the result is outside years 1000–9000",
                ));
            }
            if day > start_day
                && remaining > self.week_seconds
                && self
                    .plain_week_start(day)
                    .is_some_and(|midnight| covered <= midnight)
            {
                remaining -= self.week_seconds;
                day += 7;
                covered = covered.max(self.last_end(day - 1).unwrap_or(covered));
                continue;
            }
            self.each_window(day, |s, e| {
                let s = s.max(covered);
                if e <= s {
                    return true;
                }
                if want_next_start {
                    result = Some(s);
                    return false;
                }
                covered = e;
                let len = e - s;
                if remaining < len {
                    result = Some(s + remaining);
                } else if remaining == len {
                    if next_open {
                        want_next_start = true;
                        remaining = 0;
                        return true;
                    }
                    result = Some(e);
                } else {
                    remaining -= len;
                }
                result.is_none()
            });
            day += 1;
        }
        let r = result.unwrap_or(covered);
        if r > MAX_T {
            return Err(Error::argument(
                "seconds",
                "the result is outside years 1000–9000",
            ));
        }
        Ok(r)
    }

    /// Business seconds in `[start, end)`; `invalid_range` when `end` is before `start`.
    pub fn business_seconds_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<i64> {
        let a = check_instant("start", start)?;
        let b = check_instant("end", end)?;
        if b < a {
            return Err(Error::range("business_seconds_between", start, end));
        }
        Ok(self.between_secs(a, b))
    }

    pub(crate) fn between_secs(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        if self.always_open {
            return b - a;
        }
        let start_day = self.local_day(a);
        let end_day = self.local_day(b);
        let mut day = start_day - 1;
        let mut covered = a;
        let mut total = 0;
        while day <= end_day {
            if day > start_day
                && day + 8 < end_day
                && self
                    .plain_week_start(day)
                    .is_some_and(|midnight| covered <= midnight)
            {
                total += self.week_seconds;
                day += 7;
                covered = covered.max(self.last_end(day - 1).unwrap_or(covered));
                continue;
            }
            self.each_window(day, |s, e| {
                let s = s.max(covered);
                let e = e.min(b);
                if e > s {
                    total += e - s;
                    covered = e;
                }
                true
            });
            day += 1;
        }
        total
    }
}

impl Serialize for BusinessCalendar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_spec().serialize(s)
    }
}

impl<'de> Deserialize<'de> for BusinessCalendar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let spec = CalendarSpec::deserialize(d)?;
        BusinessCalendar::from_spec(&spec)
            .map_err(|e| serde::de::Error::custom(crate::error::Coded(e)))
    }
}

/// The weekday of a date, Monday = 0 (for hosts building `hours` maps).
pub fn weekday_key(weekday: Weekday) -> &'static str {
    WEEKDAY_KEYS
        .get(weekday.num_days_from_monday() as usize)
        .copied()
        .unwrap_or("mon")
}

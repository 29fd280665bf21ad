//! Business-time arithmetic against a brute-force reference, over random calendars in DST zones.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use std::collections::BTreeMap;
use teamkpi::*;

const ZONES: &[&str] = &[
    "Europe/Warsaw",
    "America/New_York",
    "UTC",
    "Australia/Lord_Howe",
];

#[derive(Debug, Clone)]
struct Cal {
    zone: &'static str,
    /// (weekday 0..7, open minute, length minutes) — non-overlapping by construction.
    hours: Vec<(usize, i64, i64)>,
    holidays: Vec<i64>,
    rule_next_open: bool,
}

fn hhmm(min: i64) -> String {
    let min = min.rem_euclid(1440);
    format!("{:02}:{:02}", min / 60, min % 60)
}

fn calendar() -> impl Strategy<Value = Cal> {
    let day = (0usize..7, prop::collection::vec((0i64..48, 1i64..20), 1..3));
    (
        0usize..ZONES.len(),
        prop::collection::vec(day, 1..6),
        prop::collection::vec(0i64..400, 0..10),
        any::<bool>(),
    )
        .prop_map(|(z, days, holidays, rule)| {
            // Each weekday gets slots on a 30-minute grid; slots never overlap, and the last one
            // may run past midnight (overnight) only on a day whose next day is empty.
            let mut per_day: BTreeMap<usize, Vec<(i64, i64)>> = BTreeMap::new();
            for (wd, slots) in days {
                let mut t = 0;
                let entry = per_day.entry(wd).or_default();
                if !entry.is_empty() {
                    continue;
                }
                for (gap, len) in slots {
                    let open = t + gap * 30;
                    let len = len * 30;
                    if open >= 1440 {
                        break;
                    }
                    entry.push((open, len));
                    t = open + len;
                    if t >= 1440 {
                        break;
                    }
                }
            }
            let mut hours = Vec::new();
            for (wd, slots) in &per_day {
                let next_empty = !per_day.contains_key(&((wd + 1) % 7));
                for (open, len) in slots {
                    let close = open + len;
                    if close > 1440 && !next_empty {
                        continue;
                    }
                    if close == open + 1440 {
                        continue;
                    }
                    hours.push((*wd, *open, (*len).min(1440 - 1)));
                }
            }
            if hours.is_empty() {
                hours.push((0, 540, 480));
            }
            Cal {
                zone: ZONES[z],
                hours,
                holidays,
                rule_next_open: rule,
            }
        })
}

fn build(c: &Cal) -> BusinessCalendar {
    let keys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut spec = CalendarSpec {
        timezone: c.zone.into(),
        ..CalendarSpec::default()
    };
    for (wd, open, len) in &c.hours {
        let close = if open + len == 1440 {
            "24:00".to_owned()
        } else {
            hhmm(open + len)
        };
        spec.hours
            .entry(keys[*wd].into())
            .or_default()
            .push((hhmm(*open), close));
    }
    let base = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    spec.holidays = c
        .holidays
        .iter()
        .map(|d| base + Duration::days(*d))
        .collect();
    if c.rule_next_open {
        spec.deadline_at_close = DeadlineAtClose::NextOpen;
    }
    BusinessCalendar::from_spec(&spec).expect("generated calendars are valid")
}

/// The reference: every window of every day, converted with chrono directly, merged, summed.
fn reference_between(c: &Cal, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    let tz = parse_timezone(c.zone).unwrap();
    let base = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let holidays: Vec<NaiveDate> = c
        .holidays
        .iter()
        .map(|d| base + Duration::days(*d))
        .collect();
    let mut windows = Vec::new();
    let mut day = local_date(tz, a) - Duration::days(2);
    while day <= local_date(tz, b) + Duration::days(1) {
        if !holidays.contains(&day) {
            let wd = day.weekday_from_monday();
            for (w, open, len) in &c.hours {
                if *w == wd {
                    let midnight = day.and_hms_opt(0, 0, 0).unwrap();
                    let s = resolve_local(tz, midnight + Duration::minutes(*open));
                    let e = resolve_local(tz, midnight + Duration::minutes(open + len));
                    if e > s {
                        windows.push((s, e));
                    }
                }
            }
        }
        day += Duration::days(1);
    }
    windows.sort();
    let mut total = 0;
    let mut covered = a;
    for (s, e) in windows {
        let s = s.max(covered);
        let e = e.min(b);
        if e > s {
            total += (e - s).num_seconds();
            covered = e;
        }
    }
    total
}

trait WeekdayIndex {
    fn weekday_from_monday(&self) -> usize;
}
impl WeekdayIndex for NaiveDate {
    fn weekday_from_monday(&self) -> usize {
        use chrono::Datelike;
        self.weekday().num_days_from_monday() as usize
    }
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2025-01-01 .. 2026-06-01, on a 15-minute grid plus odd seconds.
    (0i64..(517 * 96), 0i64..3).prop_map(|(q, odd)| {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(q * 900 + odd * 7)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn between_matches_reference(c in calendar(), a in instant(), span in 0i64..(40 * 86400)) {
        let cal = build(&c);
        let b = a + Duration::seconds(span);
        prop_assert_eq!(cal.business_seconds_between(a, b).unwrap(), reference_between(&c, a, b));
    }

    #[test]
    fn add_inverts_between(c in calendar(), a in instant(), d in 0i64..(60 * 3600)) {
        let cal = build(&c);
        let due = cal.add_business_seconds(a, d).unwrap();
        prop_assert!(due >= a);
        prop_assert_eq!(cal.business_seconds_between(a, due).unwrap(), d);
        prop_assert_eq!(reference_between(&c, a, due), d);
        if d > 0 {
            let second = Duration::seconds(1);
            if c.rule_next_open {
                // The latest such instant: the calendar is open right at it.
                prop_assert!(cal.is_open(due).unwrap());
            } else {
                // The earliest such instant: the second before it was business time.
                prop_assert_eq!(cal.business_seconds_between(due - second, due).unwrap(), 1);
            }
        }
    }

    #[test]
    fn add_is_monotone(c in calendar(), a in instant(), d1 in 0i64..(30 * 3600), d2 in 0i64..(30 * 3600), shift in 0i64..86400) {
        let cal = build(&c);
        let (lo, hi) = if d1 <= d2 { (d1, d2) } else { (d2, d1) };
        prop_assert!(cal.add_business_seconds(a, lo).unwrap() <= cal.add_business_seconds(a, hi).unwrap());
        let later = a + Duration::seconds(shift);
        prop_assert!(cal.add_business_seconds(a, lo).unwrap() <= cal.add_business_seconds(later, lo).unwrap());
    }

    #[test]
    fn next_open_is_open_and_first(c in calendar(), a in instant()) {
        let cal = build(&c);
        let n = cal.next_open(a).unwrap();
        prop_assert!(n >= a);
        prop_assert!(cal.is_open(n).unwrap());
        prop_assert_eq!(cal.business_seconds_between(a, n).unwrap(), 0);
    }

    #[test]
    fn long_spans_skip_weeks_exactly(c in calendar(), a in instant(), weeks in 1i64..80) {
        // Long additions go through the whole-week skip; they must agree with the reference.
        let cal = build(&c);
        let d = weeks * cal.nominal_week_seconds() + 1234;
        let due = cal.add_business_seconds(a, d).unwrap();
        prop_assert_eq!(reference_between(&c, a, due), d);
    }
}

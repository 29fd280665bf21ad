//! The documented limits on user-sized values, checked where input arrives: beyond one, a call
//! is refused with `out_of_range` before anything is computed or changed (no arithmetic on such
//! a value can overflow, wrap or panic).
//!
//! | value | limit |
//! |---|---|
//! | a range of days (update, periods, analytics, report, windows × count, demo, backfill) | 36 600 days |
//! | durations and hour settings (`re_assign_hours`, `inactive_hours`) | 100 years (876 600 hours) |
//! | loads and capacities | 2^32 |
//! | instants and dates | years 1000–9000 |

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::error::{Error, Result};

/// The longest range of days a call takes.
pub const MAX_DAYS: u64 = 36_600;
/// The longest duration or hour setting, in hours (100 years of 8 766 hours).
pub const MAX_HOURS: u64 = 876_600;
/// The largest load or capacity.
pub const MAX_LOAD: u64 = 1 << 32;
/// The years instants and dates may fall in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1000..=9000;

fn out_of_range(field: &str, reason: String) -> Error {
    Error::OutOfRange {
        field: field.to_owned(),
        reason,
    }
}

/// A number of days at most [`MAX_DAYS`].
pub fn check_days(field: &str, days: u64) -> Result<()> {
    if days > MAX_DAYS {
        return Err(out_of_range(
            field,
            format!("{days} days is more than {MAX_DAYS}"),
        ));
    }
    Ok(())
}

/// The days of `[start, end]` (inclusive) at most [`MAX_DAYS`].
pub fn check_span(field: &str, start: NaiveDate, end: NaiveDate) -> Result<()> {
    let days = (end - start).num_days().unsigned_abs().saturating_add(1);
    check_days(field, days)
}

/// An hour setting between 0 and [`MAX_HOURS`] (a negative one is `negative_duration`).
pub fn check_hours(field: &str, hours: i64) -> Result<()> {
    if hours < 0 {
        return Err(Error::NegativeDuration {
            field: field.to_owned(),
            value: hours.to_string(),
        });
    }
    if hours.unsigned_abs() > MAX_HOURS {
        return Err(out_of_range(
            field,
            format!("{hours} hours is more than 100 years ({MAX_HOURS})"),
        ));
    }
    Ok(())
}

/// A load or capacity at most [`MAX_LOAD`] (a negative one is the caller's `invalid_argument`).
pub fn check_load(field: &str, value: i64) -> Result<()> {
    if value.unsigned_abs() > MAX_LOAD {
        return Err(out_of_range(field, format!("{value} is more than 2^32")));
    }
    Ok(())
}

/// An instant in the years 1000–9000.
pub fn check_instant(field: &str, at: DateTime<Utc>) -> Result<()> {
    if YEARS.contains(&at.year()) {
        Ok(())
    } else {
        Err(out_of_range(
            field,
            format!("{} is outside the years 1000-9000", at.to_rfc3339()),
        ))
    }
}

/// A date in the years 1000–9000.
pub fn check_date(field: &str, d: NaiveDate) -> Result<()> {
    if YEARS.contains(&d.year()) {
        Ok(())
    } else {
        Err(out_of_range(
            field,
            format!("{d} is outside the years 1000-9000"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_with_out_of_range() {
        assert!(check_days("days", MAX_DAYS).is_ok());
        assert_eq!(
            check_days("days", MAX_DAYS + 1).unwrap_err().code(),
            "out_of_range"
        );
        assert_eq!(
            check_hours("h", 2_562_047_788_015_216).unwrap_err().code(),
            "out_of_range"
        );
        assert_eq!(
            check_hours("h", -1).unwrap_err().code(),
            "negative_duration"
        );
        assert_eq!(
            check_load("load", 1 << 62).unwrap_err().code(),
            "out_of_range"
        );
        let d = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        assert_eq!(check_date("d", d).unwrap_err().code(), "out_of_range");
        let far = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        assert_eq!(check_span("r", d, far).unwrap_err().code(), "out_of_range");
    }
}

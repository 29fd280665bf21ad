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
//! | events a transaction of a backfill or a record import holds | 1 000 000 |
//! | ids kept in a store | 2^63 − 1 (a signed 64-bit column); 2^31 − 1 in the KPI tables' `INTEGER` columns on PostgreSQL |

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::error::{Error, Result};

/// The longest range of days a call takes.
pub const MAX_DAYS: u64 = 36_600;
/// The longest duration or hour setting, in hours (100 years of 8 766 hours).
pub const MAX_HOURS: u64 = 876_600;
/// The largest load or capacity.
pub const MAX_LOAD: u64 = 1 << 32;
/// The most events one transaction of a backfill or a record import holds.
pub const MAX_BATCH: u64 = 1_000_000;
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

/// An instant in the years 1000–9000 (UTC). The year is read from the date's packed form, a
/// shift: this check runs on every event.
#[inline]
pub fn check_instant(field: &str, at: DateTime<Utc>) -> Result<()> {
    if YEARS.contains(&at.naive_utc().date().year()) {
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

/// A batch size from 1 to [`MAX_BATCH`] (0 is `invalid_argument`).
pub fn check_batch(field: &str, batch: usize) -> Result<usize> {
    if batch == 0 {
        return Err(Error::argument(field, "a batch holds at least one event"));
    }
    if batch as u64 > MAX_BATCH {
        return Err(out_of_range(
            field,
            format!("{batch} events is more than {MAX_BATCH} a transaction"),
        ));
    }
    Ok(batch)
}

/// An id as a signed 64-bit database integer (SQLite `INTEGER`, PostgreSQL `BIGINT`): ids above
/// 2^63 − 1 are refused instead of wrapping to negative numbers.
pub fn db_id(field: &str, id: u64) -> Result<i64> {
    i64::try_from(id).map_err(|_| out_of_range(field, format!("id {id} is more than 2^63 - 1")))
}

/// [`db_id`] of an optional id.
pub fn db_id_opt(field: &str, id: Option<u64>) -> Result<Option<i64>> {
    id.map(|i| db_id(field, i)).transpose()
}

/// An id in a 32-bit `INTEGER` column (the KPI tables on PostgreSQL keep the desk's schema).
pub fn db_id32(field: &str, id: u64) -> Result<i32> {
    i32::try_from(id).map_err(|_| out_of_range(field, format!("id {id} is more than 2^31 - 1")))
}

/// [`db_id32`] of an optional id.
pub fn db_id32_opt(field: &str, id: Option<u64>) -> Result<Option<i32>> {
    id.map(|i| db_id32(field, i)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instant_bounds_are_the_years_1000_to_9000() {
        use chrono::TimeZone;
        let first = Utc.with_ymd_and_hms(1000, 1, 1, 0, 0, 0).unwrap();
        let after = Utc.with_ymd_and_hms(9001, 1, 1, 0, 0, 0).unwrap();
        assert!(check_instant("at", first).is_ok());
        assert!(check_instant("at", after - chrono::Duration::seconds(1)).is_ok());
        assert!(check_instant("at", after).is_err());
        assert!(check_instant("at", first - chrono::Duration::seconds(1)).is_err());
    }

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

//! UTC offsets of the `tzinfo` objects aware datetimes carry, remembered so that a datetime in
//! any common zone converts as fast as one in `timezone.utc`: a fixed offset
//! (`datetime.timezone(...)`) once per zone, a `zoneinfo.ZoneInfo` (psycopg 3's `Etc/UTC`,
//! Django's zones) once per zone and local minute, always from Python's own `utcoffset()`, so
//! the result is the one Python gives. Other `tzinfo` classes take the general path.

use std::collections::HashMap;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// How many zones are remembered; the oldest is dropped past it.
const ZONES: usize = 16;
/// How many local minutes a zone with rules remembers before it starts again.
const MINUTES: usize = 1 << 18;
/// Transitions before 1970 may fall between minutes (local mean time): not remembered.
const FIRST_YEAR: i32 = 1970;

/// The zone names tzdata links to UTC.
const UTC_NAMES: [&str; 14] = [
    "UTC",
    "Etc/UTC",
    "Etc/UCT",
    "UCT",
    "Etc/Universal",
    "Universal",
    "Etc/Zulu",
    "Zulu",
    "Etc/GMT",
    "GMT",
    "Etc/GMT0",
    "GMT0",
    "Etc/Greenwich",
    "Greenwich",
];

enum Offsets {
    Fixed(i64),
    /// By (local minutes since 0001-01-01, fold).
    Rules(HashMap<(i64, bool), i64>),
    /// A `tzinfo` the cache does not model.
    Unknown,
}

struct Zone {
    // Holding the object keeps its address from being reused by another one.
    tz: Py<PyAny>,
    offsets: Offsets,
}

static CACHE: Mutex<Vec<Zone>> = Mutex::new(Vec::new());
static TIMEZONE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ZONEINFO: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn cache() -> std::sync::MutexGuard<'static, Vec<Zone>> {
    CACHE.lock().unwrap_or_else(|p| p.into_inner())
}

/// A `timedelta`'s whole seconds; `None` when it has microseconds.
fn seconds(delta: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    let days: i64 = delta.getattr("days")?.extract()?;
    let secs: i64 = delta.getattr("seconds")?.extract()?;
    let micros: i64 = delta.getattr("microseconds")?.extract()?;
    Ok((micros == 0).then_some(days * 86_400 + secs))
}

fn classify(tz: &Bound<'_, PyAny>) -> PyResult<Offsets> {
    let py = tz.py();
    let ty = tz.get_type();
    if ty.is(TIMEZONE.import(py, "datetime", "timezone")?) {
        let offset = tz.call_method1("utcoffset", (py.None(),))?;
        return Ok(seconds(&offset)?.map_or(Offsets::Unknown, Offsets::Fixed));
    }
    if ty.is(ZONEINFO.import(py, "zoneinfo", "ZoneInfo")?) {
        let key: Option<String> = tz.getattr("key")?.extract()?;
        // tzdata's names for UTC itself (psycopg 3 gives `Etc/UTC`): one offset, no rules.
        if key.is_some_and(|k| UTC_NAMES.contains(&k.as_str())) {
            return Ok(Offsets::Fixed(0));
        }
        return Ok(Offsets::Rules(HashMap::new()));
    }
    Ok(Offsets::Unknown)
}

enum Lookup {
    Offset(i64),
    /// The general path decides.
    General,
    /// A zone with rules, this local minute not seen yet.
    Missing,
    NewZone,
}

fn lookup(key: *mut pyo3::ffi::PyObject, year: i32, minute: i64, fold: bool) -> Lookup {
    let zones = cache();
    match zones
        .iter()
        .find(|z| z.tz.as_ptr() == key)
        .map(|z| &z.offsets)
    {
        None => Lookup::NewZone,
        Some(Offsets::Fixed(s)) => Lookup::Offset(*s),
        Some(Offsets::Unknown) => Lookup::General,
        Some(Offsets::Rules(_)) if year < FIRST_YEAR => Lookup::General,
        Some(Offsets::Rules(m)) => m
            .get(&(minute, fold))
            .map_or(Lookup::Missing, |s| Lookup::Offset(*s)),
    }
}

/// The UTC offset in seconds of `value`, an aware `datetime` whose `tzinfo` is `tz`, at local
/// minute `minute` (minutes since 0001-01-01) with `fold`, in local year `year`; `None` when
/// the general path must decide. Python is never called with the cache locked (it may switch
/// threads).
pub(crate) fn offset(
    value: &Bound<'_, PyAny>,
    tz: &Bound<'_, PyAny>,
    year: i32,
    minute: i64,
    fold: bool,
) -> PyResult<Option<i64>> {
    let key = tz.as_ptr();
    match lookup(key, year, minute, fold) {
        Lookup::Offset(s) => return Ok(Some(s)),
        Lookup::General => return Ok(None),
        Lookup::Missing => {}
        Lookup::NewZone => {
            let offsets = classify(tz)?;
            let found = match offsets {
                Offsets::Fixed(s) => Some(Some(s)),
                Offsets::Unknown => Some(None),
                Offsets::Rules(_) => None,
            };
            let mut zones = cache();
            if !zones.iter().any(|z| z.tz.as_ptr() == key) {
                if zones.len() == ZONES {
                    zones.remove(0);
                }
                let tz = tz.clone().unbind();
                zones.push(Zone { tz, offsets });
            }
            drop(zones);
            if let Some(found) = found {
                return Ok(found);
            }
            if year < FIRST_YEAR {
                return Ok(None);
            }
        }
    }
    let Some(s) = seconds(&value.call_method0("utcoffset")?)? else {
        return Ok(None);
    };
    let mut zones = cache();
    if let Some(Offsets::Rules(m)) = zones
        .iter_mut()
        .find(|z| z.tz.as_ptr() == key)
        .map(|z| &mut z.offsets)
    {
        if m.len() >= MINUTES {
            m.clear();
        }
        m.insert((minute, fold), s);
    }
    Ok(Some(s))
}

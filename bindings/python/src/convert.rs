//! Python values in and out: aware datetimes, dates, decimals, and the JSON values the core's
//! serde types decode from and encode to.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple, PyType,
};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};
use teamkpi::Error;

/// Any Python object, as the binding's functions take and return them.
pub type PyObj<'py> = Bound<'py, PyAny>;
/// A binding function's result: a Python object or the raised exception.
pub type PyOut<'py> = PyResult<PyObj<'py>>;

use crate::errors::raise;

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ZONEINFO: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

pub fn datetime_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DATETIME.import(py, "datetime", "datetime")
}

pub fn date_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DATE.import(py, "datetime", "date")
}

fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

fn utc(py: Python<'_>) -> PyResult<&PyObj<'_>> {
    UTC.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("datetime")?
                .getattr("timezone")?
                .getattr("utc")?
                .unbind(),
        )
    })
    .map(|u| u.bind(py))
}

/// An aware `datetime` as a UTC instant truncated to whole seconds (docs/semantics.md); a naive one is an
/// error (`naive_datetime`), anything else a `TypeError`.
pub fn instant(obj: &PyObj<'_>, field: &str) -> PyResult<DateTime<Utc>> {
    let py = obj.py();
    if let Some(t) = read_instant(obj)? {
        return Ok(t);
    }
    if !obj.is_instance(datetime_type(py)?)? {
        return Err(PyTypeError::new_err(format!(
            "{field}: expected an aware datetime, got {}",
            obj.get_type().name()?
        )));
    }
    let tz = obj.getattr(pyo3::intern!(py, "tzinfo"))?;
    if tz.is(utc(py)?) {
        return utc_fields_by_attribute(obj, field);
    }
    // `utcoffset()` is None for a naive value and for a tzinfo that declines to answer.
    let aware = !tz.is_none() && !obj.call_method0("utcoffset")?.is_none();
    if !aware {
        return Err(raise(Error::NaiveDatetime {
            field: field.to_owned(),
            value: obj.str()?.to_string(),
        }));
    }
    // Another zone: `astimezone` converts with integer arithmetic (`timestamp()` is a float,
    // a second off near a second's end in far years), and its result is in `timezone.utc`.
    let in_utc = obj
        .call_method1(pyo3::intern!(py, "astimezone"), (utc(py)?,))
        .map_err(|_| raise(Error::argument_error(field, "out of the supported range")))?;
    match read_instant(&in_utc)? {
        Some(t) => Ok(t),
        None => utc_fields_by_attribute(&in_utc, field),
    }
}

/// A `datetime` (or subclass) in `timezone.utc`, from its attributes: `toordinal()` (days since
/// 0001-01-01 = 1, as in chrono) for the date, then hour, minute and second.
fn utc_fields_by_attribute(obj: &PyObj<'_>, field: &str) -> PyResult<DateTime<Utc>> {
    let py = obj.py();
    let get = |name: &Bound<'_, PyString>| -> PyResult<u32> { obj.getattr(name)?.extract() };
    let ordinal: i32 = obj
        .call_method0(pyo3::intern!(py, "toordinal"))?
        .extract()?;
    let t = NaiveDate::from_num_days_from_ce_opt(ordinal).and_then(|d| {
        d.and_hms_opt(
            get(pyo3::intern!(py, "hour")).ok()?,
            get(pyo3::intern!(py, "minute")).ok()?,
            get(pyo3::intern!(py, "second")).ok()?,
        )
    });
    t.map(|t| t.and_utc())
        .ok_or_else(|| raise(Error::argument_error(field, "not a valid instant")))
}

/// The fields of a `datetime`, as CPython stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DatetimeFields {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl DatetimeFields {
    /// CPython's packed form (`_PyDateTime_DATETIME_DATASIZE` bytes): year big-endian in two
    /// bytes, month, day, hour, minute, second, then microseconds in three bytes.
    fn from_packed(d: &[u8; 10]) -> Self {
        DatetimeFields {
            year: i32::from(u16::from_be_bytes([d[0], d[1]])),
            month: u32::from(d[2]),
            day: u32::from(d[3]),
            hour: u32::from(d[4]),
            minute: u32::from(d[5]),
            second: u32::from(d[6]),
        }
    }

    /// Minutes since 0001-01-01 00:00 of the local wall time.
    fn local_minute(self) -> Option<i64> {
        let days = NaiveDate::from_ymd_opt(self.year, self.month, self.day)?.num_days_from_ce();
        Some(i64::from(days) * 1440 + i64::from(self.hour) * 60 + i64::from(self.minute))
    }

    fn to_instant(self) -> Option<DateTime<Utc>> {
        NaiveDate::from_ymd_opt(self.year, self.month, self.day)
            .and_then(|d| d.and_hms_opt(self.hour, self.minute, self.second))
            .map(|t| t.and_utc())
    }
}

/// Where CPython (64-bit, GIL build) keeps a `datetime`'s fields: `PyObject_HEAD` and the
/// cached hash take 24 bytes, then `hastzinfo` (1 byte), the 10 packed bytes, `fold`, and the
/// `tzinfo` pointer at the next 8-byte boundary; the object is 48 bytes.
mod layout {
    pub const HASTZINFO: usize = 24;
    pub const DATA: usize = 25;
    pub const FOLD: usize = 35;
    pub const TZINFO: usize = 40;
    pub const BASICSIZE: usize = 48;
}

/// Whether `datetime` objects have the layout of [`layout`] in this interpreter: checked once
/// against values made for the purpose, so any other layout (a debug build, a future CPython,
/// another implementation) keeps the attribute path.
static DATETIME_LAYOUT_OK: PyOnceLock<bool> = PyOnceLock::new();

fn datetime_layout_ok(py: Python<'_>) -> PyResult<bool> {
    DATETIME_LAYOUT_OK
        .get_or_try_init(py, || probe_datetime_layout(py))
        .copied()
}

/// Reads the packed fields, `fold` and the `tzinfo` pointer (null when the value is naive).
///
/// # Safety
/// `obj` must be an instance of exactly `datetime.datetime` (not a subclass), in an interpreter
/// whose `datetime.__basicsize__` is [`layout::BASICSIZE`], so every offset read lies inside it.
unsafe fn read_datetime(obj: &PyObj<'_>) -> ([u8; 10], bool, *const u8) {
    let p = obj.as_ptr() as *const u8;
    // SAFETY: the caller's contract keeps every read inside the object (48 bytes).
    unsafe {
        let data = std::ptr::read_unaligned(p.add(layout::DATA) as *const [u8; 10]);
        let fold = *p.add(layout::FOLD) != 0;
        let tz = if *p.add(layout::HASTZINFO) == 0 {
            std::ptr::null()
        } else {
            std::ptr::read_unaligned(p.add(layout::TZINFO) as *const *const u8)
        };
        (data, fold, tz)
    }
}

fn probe_datetime_layout(py: Python<'_>) -> PyResult<bool> {
    if !cfg!(target_pointer_width = "64") {
        return Ok(false);
    }
    let ty = datetime_type(py)?;
    let size: usize = ty.getattr("__basicsize__")?.extract()?;
    if size != layout::BASICSIZE {
        return Ok(false);
    }
    let utc = utc(py)?;
    let module = py.import("datetime")?;
    let two_hours = module.getattr("timedelta")?.call1((0, 7200))?;
    let plus2 = module.getattr("timezone")?.call1((two_hours,))?;
    let folded = pyo3::types::PyDict::new(py);
    folded.set_item("fold", 1)?;
    let cases: [(PyObj<'_>, [u8; 10], bool, *const u8); 4] = [
        (
            ty.call1((2345, 6, 7, 8, 9, 10, 123_456, utc))?,
            [9, 41, 6, 7, 8, 9, 10, 1, 226, 64],
            false,
            utc.as_ptr() as *const u8,
        ),
        (
            ty.call1((1999, 12, 31, 23, 59, 58, 999_999, &plus2))?,
            [7, 207, 12, 31, 23, 59, 58, 15, 66, 63],
            false,
            plus2.as_ptr() as *const u8,
        ),
        (
            ty.call((2025, 10, 26, 2, 30, 0, 0, &plus2), Some(&folded))?,
            [7, 233, 10, 26, 2, 30, 0, 0, 0, 0],
            true,
            plus2.as_ptr() as *const u8,
        ),
        (
            ty.call1((1, 1, 1, 0, 0, 0))?,
            [0, 1, 1, 1, 0, 0, 0, 0, 0, 0],
            false,
            std::ptr::null(),
        ),
    ];
    Ok(cases.iter().all(|(value, data, fold, tz)| {
        // SAFETY: `value` was made by `datetime.datetime` itself, whose size was checked above.
        unsafe { read_datetime(value) == (*data, *fold, *tz) }
    }))
}

/// An exact `datetime.datetime` as a UTC instant, read from the object itself (one pointer
/// compare and a few byte reads instead of half a dozen calls under the limited API): in
/// `timezone.utc` directly, in another zone with its offset for that local minute (`zones`);
/// `None` for anything else (a subclass, a naive value, a `tzinfo` the cache does not model, a
/// layout this interpreter does not have), which takes the general path.
fn read_instant(obj: &PyObj<'_>) -> PyResult<Option<DateTime<Utc>>> {
    let py = obj.py();
    if !obj.get_type().is(datetime_type(py)?) || !datetime_layout_ok(py)? {
        return Ok(None);
    }
    // SAFETY: exactly a `datetime.datetime`, and the layout was checked for this interpreter.
    let (data, fold, tz) = unsafe { read_datetime(obj) };
    let fields = DatetimeFields::from_packed(&data);
    if tz == utc(py)?.as_ptr() as *const u8 {
        return Ok(fields.to_instant());
    }
    if tz.is_null() {
        return Ok(None);
    }
    let Some(minute) = fields.local_minute() else {
        return Ok(None);
    };
    // SAFETY: `tz` is the datetime's own strong reference to its `tzinfo`, alive while `obj` is.
    let tzinfo = unsafe { Bound::from_borrowed_ptr(py, tz as *mut pyo3::ffi::PyObject) };
    let offset = crate::zones::offset(obj, &tzinfo, fields.year, minute, fold)?;
    Ok(offset.and_then(|s| {
        fields
            .to_instant()?
            .checked_sub_signed(chrono::Duration::seconds(s))
    }))
}

/// Whether aware UTC datetimes are read from the object (the layout check passed); the tests
/// compare that path with the attribute path.
#[pyfunction]
pub fn _datetime_fast_path(py: Python<'_>) -> PyResult<bool> {
    crate::errors::guard(|| datetime_layout_ok(py))
}

/// `None` or an aware `datetime`.
pub fn opt_instant(obj: Option<&PyObj<'_>>, field: &str) -> PyResult<Option<DateTime<Utc>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => instant(o, field).map(Some),
    }
}

/// A `date` (not a `datetime`) or a `YYYY-MM-DD` string.
pub fn date(obj: &PyObj<'_>, field: &str) -> PyResult<NaiveDate> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return teamkpi::parse_date(field, s.to_str()?).map_err(raise);
    }
    if obj.is_instance(datetime_type(py)?)? || !obj.is_instance(date_type(py)?)? {
        return Err(PyTypeError::new_err(format!(
            "{field}: expected a date, got {}",
            obj.get_type().name()?
        )));
    }
    let y: i32 = obj.getattr("year")?.extract()?;
    let m: u32 = obj.getattr("month")?.extract()?;
    let d: u32 = obj.getattr("day")?.extract()?;
    NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| raise(Error::argument_error(field, "date out of range")))
}

/// A decimal from `Decimal`, `int`, `float` (through its shortest repr) or a numeric string.
pub fn decimal(obj: &PyObj<'_>, field: &str) -> PyResult<Decimal> {
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{field}: expected a number, got bool"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return teamkpi::decimal_from_f64(field, f.value()).map_err(raise);
    }
    if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyString>() {
        return teamkpi::decimal_from_str(field, &obj.str()?.to_cow()?).map_err(raise);
    }
    if obj.is_instance(decimal_type(obj.py())?)? {
        return teamkpi::decimal_from_str(field, &obj.str()?.to_cow()?).map_err(raise);
    }
    Err(PyTypeError::new_err(format!(
        "{field}: expected a Decimal, int, float or numeric string, got {}",
        obj.get_type().name()?
    )))
}

pub fn opt_decimal(obj: Option<&PyObj<'_>>, field: &str) -> PyResult<Option<Decimal>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => decimal(o, field).map(Some),
    }
}

/// A time zone given as an IANA name or a `zoneinfo.ZoneInfo`.
pub fn timezone(obj: &PyObj<'_>) -> PyResult<chrono_tz::Tz> {
    let name = zone_name(obj)?;
    teamkpi::parse_timezone(&name).map_err(raise)
}

fn zone_name(obj: &PyObj<'_>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    if obj.is_instance(ZONEINFO.import(obj.py(), "zoneinfo", "ZoneInfo")?)? {
        return obj.getattr("key")?.extract();
    }
    if obj.is(utc(obj.py())?) {
        return Ok("UTC".to_owned());
    }
    Err(PyTypeError::new_err(format!(
        "timezone: expected an IANA name or a ZoneInfo, got {}",
        obj.get_type().name()?
    )))
}

pub fn format_instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A Python value as JSON for the core's serde types: aware datetimes become RFC 3339 UTC
/// strings, dates `YYYY-MM-DD`, decimals numbers (or exact strings), zones their names.
pub fn to_json(obj: &PyObj<'_>) -> PyResult<Value> {
    to_json_at(obj, "value", 0)
}

const MAX_DEPTH: usize = 64;

fn to_json_at(obj: &PyObj<'_>, field: &str, depth: usize) -> PyResult<Value> {
    let py = obj.py();
    if depth > MAX_DEPTH {
        return Err(raise(Error::argument_error(field, "nested too deeply")));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(raise(Error::InvalidNumber {
            field: field.to_owned(),
            value: obj.str()?.to_string(),
        }));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v).map(Value::Number).ok_or_else(|| {
            raise(Error::InvalidNumber {
                field: field.to_owned(),
                value: v.to_string(),
            })
        });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = key_string(&k)?;
            let value = to_json_at(&v, &key, depth + 1)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            out.push(to_json_at(&item?, field, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    if obj.is_instance(datetime_type(py)?)? {
        return Ok(Value::String(format_instant(instant(obj, field)?)));
    }
    if obj.is_instance(date_type(py)?)? {
        return Ok(Value::String(date(obj, field)?.to_string()));
    }
    if obj.is_instance(decimal_type(py)?)? {
        let d = decimal(obj, field)?;
        // Integral values as JSON integers so integer fields accept them; others as exact text.
        if d.fract().is_zero() {
            if let Ok(i) = i64::try_from(d.trunc()) {
                return Ok(Value::from(i));
            }
        }
        return Ok(Value::String(d.normalize().to_string()));
    }
    if obj.is_instance(ZONEINFO.import(py, "zoneinfo", "ZoneInfo")?)? {
        return Ok(Value::String(zone_name(obj)?));
    }
    // teamkpi's own objects nest as their dict forms (a calendar inside a policy dict).
    if let Ok(c) = obj.cast::<crate::wrappers::PyBusinessCalendar>() {
        return serde_json::to_value(c.get().inner.to_spec())
            .map_err(|e| raise(Error::argument_error(field, e.to_string())));
    }
    if let Ok(p) = obj.cast::<crate::wrappers::PySlaPolicy>() {
        return serde_json::to_value(p.get().inner.spec())
            .map_err(|e| raise(Error::argument_error(field, e.to_string())));
    }
    if obj.is_instance_of::<PySet>() || obj.is_instance_of::<PyFrozenSet>() {
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            out.push(to_json_at(&item?, field, depth + 1)?);
        }
        // Sets have no order; sort so results never depend on hashing.
        out.sort_by_key(|v| v.to_string());
        return Ok(Value::Array(out));
    }
    // Mappings that are not dicts (e.g. `types.MappingProxyType`), then other iterables.
    if obj.hasattr("keys")? && obj.hasattr("__getitem__")? {
        let mut map = Map::new();
        for k in obj.call_method0("keys")?.try_iter()? {
            let k = k?;
            let key = key_string(&k)?;
            let value = to_json_at(&obj.get_item(&k)?, &key, depth + 1)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.hasattr("__iter__")? && !obj.hasattr("decode")? {
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            out.push(to_json_at(&item?, field, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    Err(PyTypeError::new_err(format!(
        "{field}: cannot use a value of type {}",
        obj.get_type().name()?
    )))
}

fn key_string(k: &PyObj<'_>) -> PyResult<String> {
    if let Ok(s) = k.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    let py = k.py();
    if k.is_instance(date_type(py)?)? && !k.is_instance(datetime_type(py)?)? {
        return Ok(date(k, "key")?.to_string());
    }
    if k.is_instance_of::<PyInt>() {
        return Ok(k.str()?.to_string());
    }
    Err(PyTypeError::new_err(format!(
        "mapping keys must be str, int or date, got {}",
        k.get_type().name()?
    )))
}

/// Decodes a Python value into a core type, keeping the core's error codes.
pub fn from_py<T: DeserializeOwned>(obj: &PyObj<'_>) -> PyResult<T> {
    teamkpi::from_json(to_json(obj)?).map_err(raise)
}

/// Decodes each item of a Python iterable (`None` is empty).
pub fn from_py_list<T: DeserializeOwned>(obj: Option<&PyObj<'_>>) -> PyResult<Vec<T>> {
    let mut out = Vec::new();
    if let Some(o) = obj.filter(|o| !o.is_none()) {
        for item in o.try_iter()? {
            out.push(from_py(&item?)?);
        }
    }
    Ok(out)
}

/// A result Python cannot hold (a date outside its years 1–9999) is `out_of_range`, not
/// Python's bare `ValueError`.
fn representable(field: &str, year: i32) -> PyResult<()> {
    if (1..=9999).contains(&year) {
        return Ok(());
    }
    Err(raise(Error::OutOfRange {
        field: field.to_owned(),
        reason: format!("year {year} is outside the years a Python date can hold (1-9999)"),
    }))
}

pub fn date_to_py(py: Python<'_>, d: NaiveDate) -> PyResult<PyObj<'_>> {
    representable("date", d.year())?;
    date_type(py)?.call1((d.year(), d.month(), d.day()))
}

pub fn instant_to_py(py: Python<'_>, t: DateTime<Utc>) -> PyResult<PyObj<'_>> {
    // The constructor with fields is cheaper than `fromtimestamp` under the limited API.
    let n = t.naive_utc();
    representable("datetime", n.year())?;
    datetime_type(py)?.call1((
        n.year(),
        n.month(),
        n.day(),
        n.hour(),
        n.minute(),
        n.second(),
        0,
        utc(py)?,
    ))
}

pub fn decimal_to_py<'py>(py: Python<'py>, text: &str) -> PyOut<'py> {
    decimal_type(py)?.call1((text,))
}

pub fn dec_to_py(py: Python<'_>, d: Decimal) -> PyResult<PyObj<'_>> {
    decimal_to_py(py, &d.normalize().to_string())
}

pub fn opt_dec_to_py(py: Python<'_>, d: Option<Decimal>) -> PyResult<PyObj<'_>> {
    match d {
        Some(d) => dec_to_py(py, d),
        None => Ok(py.None().into_bound(py)),
    }
}

fn wrong_type(obj: &PyObj<'_>, expected: &str) -> PyErr {
    raise(Error::InvalidType {
        field: "argument".into(),
        expected: expected.into(),
        got: obj
            .get_type()
            .name()
            .map_or_else(|_| "?".into(), |n| n.to_string()),
    })
}

/// A whole-number argument as `T`: a Python `int` (not a `bool`, not a `float`, even a whole
/// one), else `invalid_type`; an int `T` cannot hold is `out_of_range` (not Python's
/// `TypeError` / `OverflowError` without a code).
fn whole<T>(obj: &PyObj<'_>, field: &str, range: &str) -> PyResult<T>
where
    for<'py> T: pyo3::conversion::FromPyObjectOwned<'py>,
{
    if !obj.is_instance_of::<pyo3::types::PyInt>() || obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(wrong_type(obj, "int"));
    }
    obj.extract::<T>().map_err(|_| {
        raise(Error::OutOfRange {
            field: field.into(),
            reason: format!("{obj} is not {range}"),
        })
    })
}

/// An id argument (`agent_id`, `assignment_id`): an `int` from 0 to 2^64 − 1.
pub fn id(obj: &PyObj<'_>) -> PyResult<u64> {
    whole(obj, "id", "an id from 0 to 2^64 - 1")
}

/// A signed whole-number argument (a load, a number of seconds): an `int` within 64 bits.
pub fn int(obj: &PyObj<'_>) -> PyResult<i64> {
    whole(obj, "value", "within a 64-bit integer")
}

/// A `str` argument (`invalid_type` for anything else), borrowed from the Python object.
pub fn text<'a>(obj: &'a PyObj<'_>) -> PyResult<&'a str> {
    match obj.cast::<pyo3::types::PyString>() {
        Ok(s) => s.to_str(),
        Err(_) => Err(wrong_type(obj, "str")),
    }
}

/// An optional `str` argument (`None` is absent).
pub fn opt_text<'a>(obj: &'a PyObj<'_>) -> PyResult<Option<&'a str>> {
    if obj.is_none() {
        return Ok(None);
    }
    text(obj).map(Some)
}

/// A `str` argument, owned.
pub fn string(obj: &PyObj<'_>) -> PyResult<String> {
    obj.extract().map_err(|_| wrong_type(obj, "str"))
}

/// An optional `str` argument, owned.
pub fn opt_string(obj: &PyObj<'_>) -> PyResult<Option<String>> {
    if obj.is_none() {
        return Ok(None);
    }
    string(obj).map(Some)
}

/// A `bool` argument: only `True` or `False` (not 0, 1 or a string).
pub fn flag(obj: &PyObj<'_>) -> PyResult<bool> {
    obj.cast::<pyo3::types::PyBool>()
        .map(|b| b.is_true())
        .map_err(|_| wrong_type(obj, "bool"))
}

/// An optional id argument.
pub fn opt_id(obj: &PyObj<'_>) -> PyResult<Option<u64>> {
    if obj.is_none() {
        return Ok(None);
    }
    id(obj).map(Some)
}

/// A count argument (days, a batch size, threads): an `int` from 0 that fits `T`.
pub fn count<T>(obj: &PyObj<'_>) -> PyResult<T>
where
    for<'py> T: pyo3::conversion::FromPyObjectOwned<'py>,
{
    whole(obj, "argument", "a count this argument holds")
}

/// An optional count argument.
pub fn opt_count<T>(obj: &PyObj<'_>) -> PyResult<Option<T>>
where
    for<'py> T: pyo3::conversion::FromPyObjectOwned<'py>,
{
    if obj.is_none() {
        return Ok(None);
    }
    count(obj).map(Some)
}

/// An argument that must be an instance of one of teamkpi's classes (a `Store`, an `Engine`).
pub fn instance<'a, 'py, T: pyo3::PyClass>(obj: &'a PyObj<'py>) -> PyResult<&'a Bound<'py, T>> {
    obj.cast::<T>()
        .map_err(|_| wrong_type(obj, &format!("a teamkpi.{}", T::NAME)))
}

/// An optional instance argument.
pub fn opt_instance<'a, 'py, T: pyo3::PyClass>(
    obj: &'a PyObj<'py>,
) -> PyResult<Option<&'a Bound<'py, T>>> {
    if obj.is_none() {
        return Ok(None);
    }
    instance(obj).map(Some)
}

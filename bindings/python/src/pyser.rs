//! A serde serializer that builds Python objects directly from the core's result types (no JSON
//! text or `serde_json::Value` in between): result conversion is on the hot path of batch calls
//! that return tens of thousands of rows.
//!
//! Native shape (docs/semantics.md): values under date keys become `date`, under instant keys aware UTC
//! `datetime`, under decimal keys `Decimal` (see `teamkpi::fields::is_*_key`); dates are cached per call,
//! since rows share few distinct days.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::convert::{PyObj, PyOut};
use chrono::{DateTime, Datelike, NaiveDate};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde::ser::{self, Serialize};

use crate::convert::{date_to_py, decimal_to_py, instant_to_py};
use teamkpi::fields::{is_date_key, is_decimal_key, is_instant_key};

/// How result dicts carry dates, instants and decimals.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Native Python types: `date`, aware UTC `datetime`, `Decimal` (docs/semantics.md).
    Native,
    /// The hosts' JSON shapes: strings for dates and instants, numbers as `int`/`float`.
    Json,
}

/// A serialisable core value as Python objects.
pub fn to_py<'py, T: Serialize + ?Sized>(py: Python<'py>, value: &T, shape: Shape) -> PyOut<'py> {
    Ctx::new(py, shape).convert(value)
}

/// A conversion failure (a Python error while building objects, or a type serde cannot map).
#[derive(Debug)]
pub struct SerError(pub PyErr);

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerError(pyo3::exceptions::PyValueError::new_err(msg.to_string()))
    }
}

impl From<PyErr> for SerError {
    fn from(e: PyErr) -> Self {
        SerError(e)
    }
}

impl From<std::convert::Infallible> for SerError {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

type R<'py> = Result<PyObj<'py>, SerError>;

/// A multiply-shift hasher for the per-call caches: their keys are a few small integers
/// (field-name addresses, day numbers), where SipHash's flooding resistance buys nothing.
#[derive(Default)]
struct SmallKeyHasher(u64);

impl Hasher for SmallKeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_i32(&mut self, n: i32) {
        self.write_u64(n as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<SmallKeyHasher>>;

/// Conversion state shared across one call's results.
pub struct Ctx<'py> {
    py: Python<'py>,
    shape: Shape,
    /// Dates by day number (rows share few distinct days).
    dates: FastMap<i32, PyObj<'py>>,
    /// Interned field names and their kinds, by the address of their `&'static str`.
    keys: FastMap<usize, (Bound<'py, PyString>, Kind)>,
}

/// What a value under a field name becomes in the native shape.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Decimal,
    Date,
    Instant,
    /// `start` / `end`: a date or an instant, by its text.
    DateOrInstant,
}

fn kind_of(key: &str, shape: Shape) -> Kind {
    if shape == Shape::Json {
        Kind::Plain
    } else if is_decimal_key(key) {
        Kind::Decimal
    } else if is_date_key(key) {
        Kind::Date
    } else if is_instant_key(key) {
        Kind::Instant
    } else if teamkpi::fields::is_date_or_instant_key(key) {
        Kind::DateOrInstant
    } else {
        Kind::Plain
    }
}

impl<'py> Ctx<'py> {
    pub fn new(py: Python<'py>, shape: Shape) -> Self {
        Ctx {
            py,
            shape,
            dates: FastMap::default(),
            keys: FastMap::default(),
        }
    }

    /// Converts one value.
    pub fn convert<T: Serialize + ?Sized>(&mut self, value: &T) -> PyOut<'py> {
        value
            .serialize(Ser {
                ctx: self,
                kind: Kind::Plain,
            })
            .map_err(|e| e.0)
    }

    fn date(&mut self, d: NaiveDate) -> R<'py> {
        let day = d.num_days_from_ce();
        if let Some(o) = self.dates.get(&day) {
            return Ok(o.clone());
        }
        let o = date_to_py(self.py, d)?;
        self.dates.insert(day, o.clone());
        Ok(o)
    }

    fn key(&mut self, k: &'static str) -> (Bound<'py, PyString>, Kind) {
        // Equal names at different addresses only cost a second entry.
        let shape = self.shape;
        let py = self.py;
        let (name, kind) = self
            .keys
            .entry(k.as_ptr() as usize)
            .or_insert_with(|| (PyString::intern(py, k), kind_of(k, shape)));
        (name.clone(), *kind)
    }
}

/// `YYYY-MM-DD` without the general strftime parser (dates are on every result row).
fn parse_day(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &[u8]| -> Option<u32> {
        s.iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let y = num(b.get(0..4)?)?;
    NaiveDate::from_ymd_opt(
        i32::try_from(y).ok()?,
        num(b.get(5..7)?)?,
        num(b.get(8..10)?)?,
    )
}

struct Ser<'a, 'py> {
    ctx: &'a mut Ctx<'py>,
    /// What the field the value sits under makes of it.
    kind: Kind,
}

impl<'py> Ser<'_, 'py> {
    fn decimal_key(&self) -> bool {
        self.kind == Kind::Decimal
    }

    fn number_text(self, text: String) -> R<'py> {
        Ok(decimal_to_py(self.ctx.py, &text)?)
    }
}

macro_rules! int {
    ($name:ident, $t:ty) => {
        fn $name(self, v: $t) -> R<'py> {
            if self.decimal_key() {
                return self.number_text(v.to_string());
            }
            Ok(v.into_pyobject(self.ctx.py)?.into_any())
        }
    };
}

impl<'a, 'py> ser::Serializer for Ser<'a, 'py> {
    type Ok = PyObj<'py>;
    type Error = SerError;
    type SerializeSeq = Seq<'a, 'py>;
    type SerializeTuple = Seq<'a, 'py>;
    type SerializeTupleStruct = Seq<'a, 'py>;
    type SerializeTupleVariant = Seq<'a, 'py>;
    type SerializeMap = Map<'a, 'py>;
    type SerializeStruct = Map<'a, 'py>;
    type SerializeStructVariant = Map<'a, 'py>;

    fn serialize_bool(self, v: bool) -> R<'py> {
        Ok(pyo3::types::PyBool::new(self.ctx.py, v)
            .to_owned()
            .into_any())
    }
    int!(serialize_i8, i8);
    int!(serialize_i16, i16);
    int!(serialize_i32, i32);
    int!(serialize_i64, i64);
    int!(serialize_u8, u8);
    int!(serialize_u16, u16);
    int!(serialize_u32, u32);
    int!(serialize_u64, u64);
    fn serialize_f32(self, v: f32) -> R<'py> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> R<'py> {
        if self.decimal_key() && v.is_finite() {
            // Rust prints the shortest text that reads back as the same f64.
            return self.number_text(v.to_string());
        }
        Ok(v.into_pyobject(self.ctx.py)?.into_any())
    }
    fn serialize_char(self, v: char) -> R<'py> {
        self.serialize_str(&v.to_string())
    }
    fn serialize_str(self, v: &str) -> R<'py> {
        let py = self.ctx.py;
        match self.kind {
            Kind::Plain => {}
            Kind::Decimal => {
                if let Ok(d) = teamkpi::decimal_from_str("value", v) {
                    return Ok(crate::convert::dec_to_py(py, d)?);
                }
            }
            Kind::Date | Kind::DateOrInstant => {
                if let Some(d) = parse_day(v) {
                    return self.ctx.date(d);
                }
                if self.kind == Kind::DateOrInstant {
                    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
                        return Ok(instant_to_py(py, t.to_utc())?);
                    }
                }
            }
            Kind::Instant => {
                if let Ok(t) = DateTime::parse_from_rfc3339(v) {
                    return Ok(instant_to_py(py, t.to_utc())?);
                }
            }
        }
        Ok(PyString::new(py, v).into_any())
    }
    fn serialize_bytes(self, v: &[u8]) -> R<'py> {
        Ok(pyo3::types::PyBytes::new(self.ctx.py, v).into_any())
    }
    fn serialize_none(self) -> R<'py> {
        Ok(self.ctx.py.None().into_bound(self.ctx.py))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R<'py> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R<'py> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R<'py> {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _n: &'static str, _i: u32, variant: &'static str) -> R<'py> {
        Ok(self.ctx.key(variant).0.into_any())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _n: &'static str, v: &T) -> R<'py> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> R<'py> {
        let d = PyDict::new(self.ctx.py);
        let (name, kind) = self.ctx.key(variant);
        let v = value.serialize(Ser {
            ctx: self.ctx,
            kind,
        })?;
        d.set_item(name, v)?;
        Ok(d.into_any())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a, 'py>, SerError> {
        Ok(Seq {
            list: PyList::empty(self.ctx.py),
            ctx: self.ctx,
            kind: self.kind,
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a, 'py>, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _n: &'static str,
        len: usize,
    ) -> Result<Seq<'a, 'py>, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'a, 'py>, SerError> {
        let kind = self.ctx.key(variant).1;
        Ok(Seq {
            list: PyList::empty(self.ctx.py),
            ctx: self.ctx,
            kind,
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'a, 'py>, SerError> {
        Ok(Map {
            dict: PyDict::new(self.ctx.py),
            ctx: self.ctx,
            next_key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _n: &'static str, len: usize) -> Result<Map<'a, 'py>, SerError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Map<'a, 'py>, SerError> {
        Ok(Map {
            dict: PyDict::new(self.ctx.py),
            ctx: self.ctx,
            next_key: None,
            variant: Some(variant),
        })
    }
}

pub struct Seq<'a, 'py> {
    list: Bound<'py, PyList>,
    ctx: &'a mut Ctx<'py>,
    kind: Kind,
    variant: Option<&'static str>,
}

impl<'py> Seq<'_, 'py> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        let v = value.serialize(Ser {
            ctx: self.ctx,
            kind: self.kind,
        })?;
        self.list.append(v)?;
        Ok(())
    }

    fn done(self) -> R<'py> {
        match self.variant {
            Some(variant) => {
                let d = PyDict::new(self.ctx.py);
                d.set_item(self.ctx.key(variant).0, self.list)?;
                Ok(d.into_any())
            }
            None => Ok(self.list.into_any()),
        }
    }
}

// Sequences, tuples and tuple variants all become one list.
macro_rules! seq_like {
    ($($trait:ident :: $method:ident),+) => {$(
        impl<'py> ser::$trait for Seq<'_, 'py> {
            type Ok = PyObj<'py>;
            type Error = SerError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
                self.push(value)
            }
            fn end(self) -> R<'py> {
                self.done()
            }
        }
    )+};
}

seq_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

pub struct Map<'a, 'py> {
    dict: Bound<'py, PyDict>,
    ctx: &'a mut Ctx<'py>,
    next_key: Option<String>,
    variant: Option<&'static str>,
}

impl<'py> Map<'_, 'py> {
    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        let (name, kind) = self.ctx.key(key);
        let v = value.serialize(Ser {
            ctx: self.ctx,
            kind,
        })?;
        self.dict.set_item(name, v)?;
        Ok(())
    }

    fn done(self) -> R<'py> {
        match self.variant {
            Some(variant) => {
                let d = PyDict::new(self.ctx.py);
                d.set_item(self.ctx.key(variant).0, self.dict)?;
                Ok(d.into_any())
            }
            None => Ok(self.dict.into_any()),
        }
    }
}

/// Map keys: serialised to text (maps in results are keyed by strings, dates or numbers).
struct KeyText;

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = SerError;
    type SerializeSeq = ser::Impossible<String, SerError>;
    type SerializeTuple = ser::Impossible<String, SerError>;
    type SerializeTupleStruct = ser::Impossible<String, SerError>;
    type SerializeTupleVariant = ser::Impossible<String, SerError>;
    type SerializeMap = ser::Impossible<String, SerError>;
    type SerializeStruct = ser::Impossible<String, SerError>;
    type SerializeStructVariant = ser::Impossible<String, SerError>;

    fn serialize_str(self, v: &str) -> Result<String, SerError> {
        Ok(v.to_owned())
    }
    fn serialize_bool(self, v: bool) -> Result<String, SerError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, SerError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, SerError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, SerError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<String, SerError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<String, SerError> {
        self.serialize_i64(v.into())
    }
    fn serialize_u8(self, v: u8) -> Result<String, SerError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<String, SerError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<String, SerError> {
        self.serialize_u64(v.into())
    }
    fn serialize_f32(self, v: f32) -> Result<String, SerError> {
        Ok(v.to_string())
    }
    fn serialize_f64(self, v: f64) -> Result<String, SerError> {
        Ok(v.to_string())
    }
    fn serialize_char(self, v: char) -> Result<String, SerError> {
        Ok(v.to_string())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, SerError> {
        Err(ser::Error::custom("bytes as a map key"))
    }
    fn serialize_none(self) -> Result<String, SerError> {
        Ok("null".to_owned())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<String, SerError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, SerError> {
        Ok("null".to_owned())
    }
    fn serialize_unit_struct(self, _n: &'static str) -> Result<String, SerError> {
        Ok("null".to_owned())
    }
    fn serialize_unit_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
    ) -> Result<String, SerError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        v: &T,
    ) -> Result<String, SerError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _value: &T,
    ) -> Result<String, SerError> {
        Err(ser::Error::custom("an enum as a map key"))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, SerError> {
        Err(ser::Error::custom("a sequence as a map key"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, SerError> {
        Err(ser::Error::custom("a tuple as a map key"))
    }
    fn serialize_tuple_struct(
        self,
        _n: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, SerError> {
        Err(ser::Error::custom("a tuple as a map key"))
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        Err(ser::Error::custom("a tuple as a map key"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        Err(ser::Error::custom("a map as a map key"))
    }
    fn serialize_struct(
        self,
        _n: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, SerError> {
        Err(ser::Error::custom("a struct as a map key"))
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        Err(ser::Error::custom("a struct as a map key"))
    }
}

impl<'py> ser::SerializeMap for Map<'_, 'py> {
    type Ok = PyObj<'py>;
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        self.next_key = Some(key.serialize(KeyText)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        let key = self.next_key.take().unwrap_or_default();
        // The key is the context too: flattened structs arrive as maps of their field names.
        let kind = kind_of(&key, self.ctx.shape);
        let v = value.serialize(Ser {
            ctx: &mut *self.ctx,
            kind,
        })?;
        self.dict.set_item(key, v)?;
        Ok(())
    }
    fn end(self) -> R<'py> {
        self.done()
    }
}

impl<'py> ser::SerializeStruct for Map<'_, 'py> {
    type Ok = PyObj<'py>;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        self.field(key, value)
    }
    fn end(self) -> R<'py> {
        self.done()
    }
}

impl<'py> ser::SerializeStructVariant for Map<'_, 'py> {
    type Ok = PyObj<'py>;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        self.field(key, value)
    }
    fn end(self) -> R<'py> {
        self.done()
    }
}

//! The binary form of stored states: LEB128 varints (signed ones zigzag-coded), length-prefixed
//! strings. A live batch reads and rewrites hundreds of stored states; this form is a fraction
//! of JSON's size and decodes without parsing text.

use crate::error::{Error, Result};

/// A value with a binary stored form.
pub(crate) trait Compact: Sized {
    /// Appends the value's form to `w`.
    fn put(&self, w: &mut Vec<u8>);
    /// Reads a value written by [`Compact::put`].
    fn get(r: &mut Reader<'_>) -> Result<Self>;
    /// Reads a value written by an earlier stored-state `version` still read (the same form
    /// unless the type says otherwise).
    fn get_version(r: &mut Reader<'_>, version: u32) -> Result<Self> {
        let _ = version;
        Self::get(r)
    }
}

pub(crate) fn put_u64(w: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        w.push((v as u8) | 0x80);
        v >>= 7;
    }
    w.push(v as u8);
}

pub(crate) fn put_i64(w: &mut Vec<u8>, v: i64) {
    put_u64(w, ((v << 1) ^ (v >> 63)) as u64);
}

pub(crate) fn put_str(w: &mut Vec<u8>, s: &str) {
    put_u64(w, s.len() as u64);
    w.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_opt<T>(w: &mut Vec<u8>, v: &Option<T>, put: impl FnOnce(&mut Vec<u8>, &T)) {
    match v {
        None => w.push(0),
        Some(v) => {
            w.push(1);
            put(w, v);
        }
    }
}

/// Writes `body` prefixed by its length in bytes, so a reader can skip it.
pub(crate) fn put_sized(w: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    body(&mut inner);
    put_u64(w, inner.len() as u64);
    w.extend_from_slice(&inner);
}

/// A cursor over a stored form; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn truncated() -> Error {
    Error::Storage("stored state does not decode: truncated or corrupt".into())
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.pos == self.buf.len()
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(truncated)?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(truncated())
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        u32::try_from(self.u64()?).map_err(|_| truncated())
    }

    pub(crate) fn i64(&mut self) -> Result<i64> {
        let z = self.u64()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    pub(crate) fn len(&mut self) -> Result<usize> {
        let n = usize::try_from(self.u64()?).map_err(|_| truncated())?;
        if n > self.buf.len() - self.pos {
            return Err(truncated());
        }
        Ok(n)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let s = self.buf.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str> {
        let n = self.len()?;
        std::str::from_utf8(self.bytes(n)?).map_err(|_| truncated())
    }

    pub(crate) fn string(&mut self) -> Result<String> {
        self.str().map(str::to_owned)
    }

    pub(crate) fn opt<T>(&mut self, get: impl FnOnce(&mut Self) -> Result<T>) -> Result<Option<T>> {
        match self.u8()? {
            0 => Ok(None),
            1 => get(self).map(Some),
            _ => Err(truncated()),
        }
    }

    /// A part written by [`put_sized`], as a reader of its own.
    pub(crate) fn sized(&mut self) -> Result<Reader<'a>> {
        let n = self.len()?;
        Ok(Reader::new(self.bytes(n)?))
    }

    /// Skips a part written by [`put_sized`].
    pub(crate) fn skip_sized(&mut self) -> Result<()> {
        self.sized().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        let mut w = Vec::new();
        let us = [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        let is = [0, -1, 1, -64, 64, i64::MIN, i64::MAX];
        for u in us {
            put_u64(&mut w, u);
        }
        for i in is {
            put_i64(&mut w, i);
        }
        put_str(&mut w, "ticket:7:créé");
        let mut r = Reader::new(&w);
        for u in us {
            assert_eq!(r.u64().unwrap(), u);
        }
        for i in is {
            assert_eq!(r.i64().unwrap(), i);
        }
        assert_eq!(r.str().unwrap(), "ticket:7:créé");
        assert!(r.is_done());
    }

    #[test]
    fn a_truncated_form_is_an_error_not_a_panic() {
        let mut w = Vec::new();
        put_str(&mut w, "abcdef");
        for cut in 0..w.len() {
            assert_eq!(Reader::new(&w[..cut]).str().unwrap_err().code(), "storage");
        }
        // A length past the end, an endless varint.
        assert!(Reader::new(&[0xff; 12]).u64().is_err());
        assert!(Reader::new(&[200, 1]).str().is_err());
    }
}

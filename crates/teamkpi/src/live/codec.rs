//! The versioned stored form of live states (aggregates, ticket and session states): the bytes
//! `TK`, the version, the kind, then the state in the binary form of [`crate::compact`]. A
//! reader refuses another version or kind with `incompatible_state` instead of misreading it.
//! Version 1 was JSON text, `{"v": 1, "kind": "…", "state": …}`; version 2 aggregates had no
//! paused resolution seconds (they read as 0). Stores written by either are still read.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::compact::{put_str, Compact, Reader};
use crate::error::{Error, Result};
use crate::metrics::TicketAggregate;

/// The version of every stored state form; it changes when any of them does.
pub const STATE_VERSION: u32 = 3;

/// The oldest binary version still read.
const OLDEST_BINARY: u32 = 2;

const MAGIC: &[u8; 2] = b"TK";

/// The kind of a live aggregate row ([`TicketAggregate`]).
pub(crate) const AGGREGATE: &str = "ticket_aggregate";
/// The kind of a live ticket state.
pub(crate) const TICKET: &str = "ticket_events";
/// The kind of a live session state.
pub(crate) const SESSION: &str = "session";

/// Encodes a state of `kind` in the versioned form.
pub(crate) fn encode_state<T: Compact>(kind: &str, state: &T) -> Vec<u8> {
    let mut w = Vec::with_capacity(256);
    w.extend_from_slice(MAGIC);
    w.push(STATE_VERSION as u8);
    put_str(&mut w, kind);
    state.put(&mut w);
    w
}

fn incompatible(kind: &str, v: u32, got: &str) -> Error {
    Error::IncompatibleState(format!(
        "stored state is {got:?} version {v}, expected {kind:?} version {STATE_VERSION}"
    ))
}

fn corrupt(kind: &str, why: impl std::fmt::Display) -> Error {
    Error::Storage(format!("stored {kind} state does not decode: {why}"))
}

/// The state's body after a checked header, or the version-1 text.
enum Body<'a> {
    Binary(Reader<'a>, u32),
    Json(&'a str),
}

fn body<'a>(kind: &str, bytes: &'a [u8]) -> Result<Body<'a>> {
    if bytes.first() == Some(&b'{') {
        let text = std::str::from_utf8(bytes).map_err(|e| corrupt(kind, e))?;
        return Ok(Body::Json(text));
    }
    if bytes.get(..2) != Some(MAGIC.as_slice()) {
        return Err(corrupt(kind, "not a teamkpi state"));
    }
    let mut r = Reader::new(&bytes[2..]);
    let v = u32::from(r.u8()?);
    let got = r.str()?;
    if !(OLDEST_BINARY..=STATE_VERSION).contains(&v) || got != kind {
        return Err(incompatible(kind, v, got));
    }
    Ok(Body::Binary(r, v))
}

#[derive(Deserialize)]
struct In<T> {
    v: u32,
    kind: String,
    state: T,
}

/// Reads the version-1 JSON form.
fn decode_json<T: DeserializeOwned>(kind: &str, text: &str) -> Result<T> {
    match serde_json::from_str::<In<T>>(text) {
        Ok(env) if env.v == 1 && env.kind == kind => Ok(env.state),
        Ok(env) => Err(incompatible(kind, env.v, &env.kind)),
        // Another kind or version may not decode as `T` at all: say so rather than "corrupt".
        Err(e) => match serde_json::from_str::<In<serde::de::IgnoredAny>>(text) {
            Ok(env) if env.v != 1 || env.kind != kind => Err(incompatible(kind, env.v, &env.kind)),
            _ => Err(corrupt(kind, e)),
        },
    }
}

fn finish<T>(kind: &str, r: &Reader<'_>, state: T) -> Result<T> {
    if !r.is_done() {
        return Err(corrupt(kind, "bytes after the state"));
    }
    Ok(state)
}

/// Decodes a state of `kind` written by [`encode_state`] (or by version 1).
pub(crate) fn decode_state<T: Compact + DeserializeOwned>(kind: &str, bytes: &[u8]) -> Result<T> {
    match body(kind, bytes)? {
        Body::Json(text) => decode_json(kind, text),
        Body::Binary(mut r, v) => {
            let state = T::get_version(&mut r, v)?;
            finish(kind, &r, state)
        }
    }
}

/// Decodes a stored aggregate without its quantile sketches and SLA tasks.
pub(crate) fn decode_lite_aggregate(bytes: &[u8]) -> Result<TicketAggregate> {
    match body(AGGREGATE, bytes)? {
        Body::Json(text) => {
            Ok(decode_json::<crate::metrics::LiteAggregate>(AGGREGATE, text)?.into())
        }
        Body::Binary(mut r, v) => {
            let state = TicketAggregate::get_version_form(&mut r, v, true)?;
            finish(AGGREGATE, &r, state)
        }
    }
}

/// Encodes a live aggregate in the stored form (what a store's `live_aggregates` rows hold).
///
/// ```
/// use teamkpi::live::{decode_aggregate, encode_aggregate};
/// use teamkpi::metrics::TicketAggregate;
/// let mut agg = TicketAggregate::new(true);
/// agg.tickets_created = 3;
/// agg.first_response.add(90);
/// let bytes = encode_aggregate(&agg);
/// assert!(bytes.starts_with(b"TK"));
/// assert_eq!(decode_aggregate(&bytes).unwrap(), agg);
/// // Version 1 (JSON text) is still read.
/// let v1 = format!(r#"{{"v":1,"kind":"ticket_aggregate","state":{}}}"#,
///                  serde_json::to_string(&agg).unwrap());
/// assert_eq!(decode_aggregate(v1.as_bytes()).unwrap(), agg);
/// assert_eq!(decode_aggregate(br#"{"v":1,"kind":"session","state":{}}"#).unwrap_err().code(),
///            "incompatible_state");
/// ```
pub fn encode_aggregate(state: &TicketAggregate) -> Vec<u8> {
    encode_state(AGGREGATE, state)
}

/// Decodes a live aggregate written by [`encode_aggregate`] (or by version 1): another kind or
/// version is `incompatible_state`, damaged bytes are `storage`.
pub fn decode_aggregate(bytes: &[u8]) -> Result<TicketAggregate> {
    decode_state(AGGREGATE, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SessionLog;
    use crate::live::state::TicketState;
    use crate::metrics::WindowDetail;

    fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).unwrap()
    }

    /// Every prefix of a form is refused (never a panic, never a wrong state).
    fn every_cut_fails<T: Compact + DeserializeOwned>(kind: &str, bytes: &[u8]) {
        for cut in 0..bytes.len() {
            assert!(
                decode_state::<T>(kind, &bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_version_1_ticket_state_reads_and_its_binary_form_round_trips() {
        let v1 = br#"{"v":1,"kind":"ticket_events","state":{"events":[
            {"i":"t1:0","t":1759332065,"w":{"c":{"a":null,"team":"tier-2","p":"urgent","k":"ticket"}}},
            {"i":"t1:1","t":1759334413,"n":5,"w":{"r":7}},
            {"i":"t1:2","t":1759393546,"w":"m"},
            {"i":"t1:3","t":1759415130,"w":"v"},
            {"i":"t1:4","t":1759415131,"w":{"s":"pending"}},
            {"i":"t1:5","t":1759415132,"w":{"a":3}},
            {"i":"t1:6","t":1759415133,"w":"o"},
            {"i":"t1:7","t":1759300000,"w":"x"}]}}"#;
        let s: TicketState = decode_state(TICKET, v1).unwrap();
        assert_eq!(s.events.len(), 8);
        let bytes = encode_state(TICKET, &s);
        let back: TicketState = decode_state(TICKET, &bytes).unwrap();
        assert_eq!(json(&back), json(&s));
        assert!(bytes.len() * 3 < v1.len(), "{} bytes", bytes.len());
        every_cut_fails::<TicketState>(TICKET, &bytes);
        let err = decode_state::<SessionLog>(SESSION, &bytes).unwrap_err();
        assert_eq!(err.code(), "incompatible_state");
    }

    #[test]
    fn a_version_1_session_state_reads_and_round_trips() {
        let v1 = br#"{"v":1,"kind":"session","state":{"agent_id":4,"kind":"break",
            "start":"2025-10-01T08:00:00.250Z","end":null,"ids":["s:9:end","s:9:start"]}}"#;
        let s: SessionLog = decode_state(SESSION, v1).unwrap();
        assert_eq!((s.agent_id, s.ids.len()), (4, 2));
        let bytes = encode_state(SESSION, &s);
        assert_eq!(
            json(&decode_state::<SessionLog>(SESSION, &bytes).unwrap()),
            json(&s)
        );
        every_cut_fails::<SessionLog>(SESSION, &bytes);
    }

    #[test]
    fn aggregates_round_trip_and_a_lite_read_skips_sketches_and_tasks() {
        let mut agg = TicketAggregate::new(true);
        agg.tickets_assigned = 300;
        agg.agent_messages = u64::MAX;
        agg.first_response.add(0);
        agg.first_response.add(86_400 * 400);
        agg.resolution.add(-5);
        agg.resolution_paused = 7_200;
        agg.resolution_paused_business = -1;
        agg.sla_met = 2;
        agg.window = Some(WindowDetail {
            assignments: [((0, 0), 3), ((2, 1), 1)].into(),
            sla_pending: [((1_759_313_428, 0), 1), ((1_759_313_942, 1), 2)].into(),
            sla_tasks: [
                ((1_759_306_660, 1_759_310_260), (1, 1)),
                ((1_759_306_661, i64::MAX), (2, 0)),
                ((1_759_306_700, 1_759_306_700), (1, 0)),
            ]
            .into(),
        });
        let bytes = encode_aggregate(&agg);
        assert_eq!(decode_aggregate(&bytes).unwrap(), agg);
        every_cut_fails::<TicketAggregate>(AGGREGATE, &bytes);

        let lite = decode_lite_aggregate(&bytes).unwrap();
        let mut expected = agg.clone();
        for d in [
            &mut expected.first_response,
            &mut expected.first_response_business,
            &mut expected.resolution,
            &mut expected.resolution_business,
        ] {
            d.sketch = None;
        }
        if let Some(w) = expected.window.as_mut() {
            w.sla_tasks.clear();
        }
        assert_eq!(lite, expected);
    }

    #[test]
    fn a_version_2_aggregate_reads_with_no_paused_seconds() {
        let mut agg = TicketAggregate::new(true);
        agg.tickets_resolved = 2;
        agg.resolution.add(3_600);
        agg.resolution.add(60);
        agg.sla_breached = 1;
        let v3 = encode_aggregate(&agg);
        // Version 2 is the same form without the two paused sums before the window (here the
        // two zero bytes and the absent window's 0 end the form).
        assert_eq!(&v3[v3.len() - 3..], &[0, 0, 0]);
        let mut v2 = v3[..v3.len() - 2].to_vec();
        v2[2] = 2;
        assert_eq!(decode_aggregate(&v2).unwrap(), agg);
        assert_eq!(decode_lite_aggregate(&v2).unwrap().resolution.sum, 3_660);
        // Ticket and session states did not change form: version 2 reads as it was.
        let s = SessionLog::default();
        let mut b = encode_state(SESSION, &s);
        b[2] = 2;
        assert!(decode_state::<SessionLog>(SESSION, &b).is_ok());
    }

    #[test]
    fn another_version_or_foreign_bytes_are_refused() {
        let mut bytes = encode_aggregate(&TicketAggregate::new(false));
        bytes[2] = 4;
        let err = decode_aggregate(&bytes).unwrap_err();
        assert_eq!(err.code(), "incompatible_state");
        assert!(err.to_string().contains("version 4"), "{err}");
        bytes[2] = 1;
        assert_eq!(
            decode_aggregate(&bytes).unwrap_err().code(),
            "incompatible_state"
        );
        assert_eq!(
            decode_aggregate(b"PK\x03\x04").unwrap_err().code(),
            "storage"
        );
        assert_eq!(decode_aggregate(b"").unwrap_err().code(), "storage");
        let mut trailing = encode_aggregate(&TicketAggregate::new(false));
        trailing.push(0);
        assert_eq!(decode_aggregate(&trailing).unwrap_err().code(), "storage");
    }
}

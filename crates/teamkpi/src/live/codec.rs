//! The versioned serialised form of stored states (live aggregates, ticket and session states,
//! rollup partials): `{"v": 1, "kind": "…", "state": …}`. A reader refuses another version or
//! kind with `incompatible_state` instead of misreading it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The version of every stored state form; it changes when any of them does.
pub const STATE_VERSION: u32 = 1;

/// The kind of a live aggregate row ([`TicketAggregate`](crate::metrics::TicketAggregate)).
pub(crate) const AGGREGATE: &str = "ticket_aggregate";
/// The kind of a live ticket state.
pub(crate) const TICKET: &str = "ticket_events";
/// The kind of a live session state.
pub(crate) const SESSION: &str = "session";

#[derive(Serialize)]
struct Out<'a, T> {
    v: u32,
    kind: &'a str,
    state: &'a T,
}

#[derive(Deserialize)]
struct In<T> {
    v: u32,
    kind: String,
    state: T,
}

/// Encodes a state of `kind` in the versioned form.
///
/// ```
/// use teamkpi::live::{decode_state, encode_state};
/// use teamkpi::metrics::TicketAggregate;
/// let text = encode_state("ticket_aggregate", &TicketAggregate::new(false)).unwrap();
/// assert!(text.starts_with(r#"{"v":1,"kind":"ticket_aggregate""#));
/// let back: TicketAggregate = decode_state("ticket_aggregate", &text).unwrap();
/// assert_eq!(back, TicketAggregate::new(false));
/// assert_eq!(decode_state::<TicketAggregate>("session", &text).unwrap_err().code(),
///            "incompatible_state");
/// ```
pub fn encode_state<T: Serialize>(kind: &str, state: &T) -> Result<String> {
    serde_json::to_string(&Out {
        v: STATE_VERSION,
        kind,
        state,
    })
    .map_err(|e| Error::Storage(format!("{kind} state does not encode: {e}")))
}

/// Decodes a state of `kind` written by [`encode_state`].
pub fn decode_state<T: DeserializeOwned>(kind: &str, text: &str) -> Result<T> {
    let incompatible = |v: u32, got: &str| {
        Error::IncompatibleState(format!(
            "stored state is {got:?} version {v}, expected {kind:?} version {STATE_VERSION}"
        ))
    };
    match serde_json::from_str::<In<T>>(text) {
        Ok(env) if env.v == STATE_VERSION && env.kind == kind => Ok(env.state),
        Ok(env) => Err(incompatible(env.v, &env.kind)),
        // Another kind or version may not decode as `T` at all: say so rather than "corrupt".
        Err(e) => match serde_json::from_str::<In<serde::de::IgnoredAny>>(text) {
            Ok(env) if env.v != STATE_VERSION || env.kind != kind => {
                Err(incompatible(env.v, &env.kind))
            }
            _ => Err(Error::Storage(format!(
                "stored {kind} state does not decode: {e}"
            ))),
        },
    }
}

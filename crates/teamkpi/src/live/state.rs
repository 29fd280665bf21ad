//! The stored states of live tickets and sessions: what a ticket's snapshot reads of each of its
//! events, and a session's log, with their binary stored form.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use crate::compact::{put_i64, put_opt, put_str, put_u64, Compact, Reader};
use crate::engine::{Creation, Event, EventView, SessionLog, What};
use crate::error::{Error, Result};
use crate::metrics::{SessionKind, TicketKind};

/// A ticket's events as stored: what its snapshot reads of each, nothing more.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct TicketState {
    pub(crate) events: Vec<Logged>,
}

/// One stored event: id, instant (Unix seconds and nanoseconds) and what it changes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Logged {
    pub(crate) i: String,
    pub(crate) t: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) n: u32,
    w: Step,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Step {
    #[serde(rename = "c")]
    Created {
        a: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p: Option<String>,
        k: TicketKind,
    },
    #[serde(rename = "a")]
    Assigned(u64),
    #[serde(rename = "r")]
    Replied(Option<u64>),
    #[serde(rename = "s")]
    Status(String),
    #[serde(rename = "v")]
    Resolved,
    #[serde(rename = "o")]
    Reopened,
    #[serde(rename = "x")]
    Closed,
    /// A customer message (the tag of earlier versions' "other" step, which only customer
    /// messages ever were).
    #[serde(rename = "m")]
    CustomerMessage,
}

impl Logged {
    pub(crate) fn of(e: &Event) -> Self {
        let w = match EventView::of(e).what {
            What::Created(c) => Step::Created {
                a: c.agent_id,
                team: c.team.map(str::to_owned),
                p: c.priority.map(str::to_owned),
                k: c.kind,
            },
            What::Assigned(to) => Step::Assigned(to),
            What::AgentReplied(a) => Step::Replied(a),
            What::Status(s) => Step::Status(s.to_owned()),
            What::Resolved => Step::Resolved,
            What::Reopened => Step::Reopened,
            What::Closed => Step::Closed,
            What::CustomerMessage => Step::CustomerMessage,
        };
        Logged {
            i: e.id.clone(),
            t: e.at.timestamp(),
            n: e.at.timestamp_subsec_nanos(),
            w,
        }
    }

    pub(crate) fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.t, self.n).unwrap_or_default()
    }

    pub(crate) fn view(&self, ticket_id: u64) -> EventView<'_> {
        let what = match &self.w {
            Step::Created { a, team, p, k } => What::Created(Creation {
                ticket_id,
                agent_id: *a,
                team: team.as_deref(),
                priority: p.as_deref(),
                kind: *k,
            }),
            Step::Assigned(to) => What::Assigned(*to),
            Step::Replied(a) => What::AgentReplied(*a),
            Step::Status(s) => What::Status(s),
            Step::Resolved => What::Resolved,
            Step::Reopened => What::Reopened,
            Step::Closed => What::Closed,
            Step::CustomerMessage => What::CustomerMessage,
        };
        EventView {
            id: &self.i,
            at: self.at(),
            what,
        }
    }
}

fn corrupt(what: &str) -> Error {
    Error::Storage(format!("stored state does not decode: {what}"))
}

fn put_instant(w: &mut Vec<u8>, t: &DateTime<Utc>) {
    put_i64(w, t.timestamp());
    put_u64(w, u64::from(t.timestamp_subsec_nanos()));
}

fn get_instant(r: &mut Reader<'_>) -> Result<DateTime<Utc>> {
    let (t, n) = (r.i64()?, r.u32()?);
    DateTime::from_timestamp(t, n).ok_or_else(|| corrupt("an instant out of range"))
}

impl Compact for Step {
    /// A tag byte, then the step's fields.
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            Step::Created { a, team, p, k } => {
                w.push(0);
                put_opt(w, a, |w, a| put_u64(w, *a));
                put_opt(w, team, |w, s| put_str(w, s));
                put_opt(w, p, |w, s| put_str(w, s));
                put_str(w, k.as_str());
            }
            Step::Assigned(to) => {
                w.push(1);
                put_u64(w, *to);
            }
            Step::Replied(a) => {
                w.push(2);
                put_opt(w, a, |w, a| put_u64(w, *a));
            }
            Step::Status(s) => {
                w.push(3);
                put_str(w, s);
            }
            Step::Resolved => w.push(4),
            Step::Reopened => w.push(5),
            Step::Closed => w.push(6),
            Step::CustomerMessage => w.push(7),
        }
    }

    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.u8()? {
            0 => Step::Created {
                a: r.opt(Reader::u64)?,
                team: r.opt(Reader::string)?,
                p: r.opt(Reader::string)?,
                k: TicketKind::parse(r.str()?)?,
            },
            1 => Step::Assigned(r.u64()?),
            2 => Step::Replied(r.opt(Reader::u64)?),
            3 => Step::Status(r.string()?),
            4 => Step::Resolved,
            5 => Step::Reopened,
            6 => Step::Closed,
            7 => Step::CustomerMessage,
            _ => return Err(corrupt("an unknown ticket step")),
        })
    }
}

impl Compact for TicketState {
    /// The events in order, each instant as the difference from the one before.
    fn put(&self, w: &mut Vec<u8>) {
        put_u64(w, self.events.len() as u64);
        let mut last = 0i64;
        for l in &self.events {
            put_str(w, &l.i);
            put_i64(w, l.t.wrapping_sub(last));
            put_u64(w, u64::from(l.n));
            l.w.put(w);
            last = l.t;
        }
    }

    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let n = r.len()?;
        let mut events = Vec::with_capacity(n);
        let mut last = 0i64;
        for _ in 0..n {
            let i = r.string()?;
            let t = last
                .checked_add(r.i64()?)
                .ok_or_else(|| corrupt("an instant out of range"))?;
            let n = r.u32()?;
            events.push(Logged {
                i,
                t,
                n,
                w: Step::get(r)?,
            });
            last = t;
        }
        Ok(TicketState { events })
    }
}

impl Compact for SessionLog {
    fn put(&self, w: &mut Vec<u8>) {
        put_u64(w, self.agent_id);
        put_opt(w, &self.kind, |w, k| put_str(w, k.as_str()));
        put_opt(w, &self.start, put_instant);
        put_opt(w, &self.end, put_instant);
        put_u64(w, self.ids.len() as u64);
        for id in &self.ids {
            put_str(w, id);
        }
    }

    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let agent_id = r.u64()?;
        let kind = match r.opt(|r| r.str().map(str::to_owned))? {
            Some(k) => Some(SessionKind::parse(&k)?),
            None => None,
        };
        let start = r.opt(get_instant)?;
        let end = r.opt(get_instant)?;
        let n = r.len()?;
        let mut ids = BTreeSet::new();
        for _ in 0..n {
            ids.insert(r.string()?);
        }
        Ok(SessionLog {
            agent_id,
            kind,
            start,
            end,
            ids,
        })
    }
}

//! The planner of live metrics: what a batch of events changes in a store's live state.

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::codec::{self, decode_state, encode_state};
use super::state::{Logged, TicketState};
use super::{
    settings_fingerprint, AggregateWrite, LiveChanges, LiveMeta, LiveReads, RowKey, SessionWrite,
    TicketWrite,
};
use crate::engine::{
    multiset_difference, snapshot_from_views, validate_batch, Applied, BatchReport, EngineOptions,
    Event, EventKind, SessionLog, KINDS,
};
use crate::error::{Error, Result};
use crate::metrics::{
    Contribution, GroupBy, GroupKey, Keyed, MetricsOptions, Ticket, TicketAggregate,
};
use crate::period::{PeriodKind, ZoneOffsets};
use crate::sla::{SlaEvaluation, SlaPolicy, TicketTimeline};

/// One ticket's work in a batch.
#[derive(Debug, Default)]
struct Work {
    /// The events held before the batch.
    before: usize,
    evicted: bool,
    events: Vec<Logged>,
    /// Indexes of the batch's events accepted for it.
    accepted: Vec<usize>,
}

impl Work {
    /// The latest instant of the first `upto` events.
    fn latest(&self, upto: usize) -> DateTime<Utc> {
        let t = self.events[..upto].iter().map(|l| (l.t, l.n)).max();
        t.and_then(|(t, n)| DateTime::from_timestamp(t, n))
            .unwrap_or_default()
    }

    fn snapshot(&self, tenant: Option<&str>, id: u64, upto: usize) -> Result<Option<Ticket>> {
        snapshot_from_views(tenant, self.events[..upto].iter().map(|l| l.view(id)))
    }
}

/// Plans a batch: reads what it needs through `reads` and returns what to write and the report.
/// Nothing is written by the planner, so a store that writes the changes in the transaction it
/// read in applies the batch atomically. The rules are the engine's
/// ([`Engine::apply_batch`](crate::engine::Engine::apply_batch)).
pub fn plan(
    options: &EngineOptions,
    events: &[Event],
    reads: &mut dyn LiveReads,
) -> Result<(LiveChanges, BatchReport)> {
    let tenant = options.tenant.as_deref();
    validate_batch(tenant, events)?;
    let settings = settings_fingerprint(options)?;
    let mut changes = LiveChanges::default();
    let watermark = match reads.meta()? {
        Some(m) if m.settings != settings => {
            return Err(Error::IncompatibleState(format!(
                "live state of this tenant was built with other settings ({}, now {settings}): \
                 reset it and backfill to rebuild",
                m.settings
            )))
        }
        Some(m) => m.watermark,
        None => {
            changes.meta = Some(LiveMeta {
                settings,
                watermark: None,
            });
            None
        }
    };

    let (mut ticket_ids, mut call_ids, mut session_ids) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for e in events {
        match &e.kind {
            EventKind::CallEnded { call } => call_ids.insert(call.id),
            EventKind::SessionStarted { session_id, .. }
            | EventKind::SessionEnded { session_id } => session_ids.insert(*session_id),
            k => ticket_ids.insert(k.ticket_id().unwrap_or_default()),
        };
    }
    let mut works: BTreeMap<u64, Work> = BTreeMap::new();
    if !ticket_ids.is_empty() {
        let ids: Vec<u64> = ticket_ids.iter().copied().collect();
        for (id, state) in reads.tickets(&ids)? {
            let w = works.entry(id).or_default();
            match state {
                Some(text) => {
                    let s: TicketState = decode_state(codec::TICKET, &text)?;
                    w.before = s.events.len();
                    w.events = s.events;
                }
                None => w.evicted = true,
            }
        }
    }
    let mut held_calls: HashSet<u64> = HashSet::new();
    if !call_ids.is_empty() {
        let ids: Vec<u64> = call_ids.iter().copied().collect();
        held_calls.extend(reads.calls(&ids)?);
    }
    let mut sessions: BTreeMap<u64, (SessionLog, bool)> = BTreeMap::new();
    if !session_ids.is_empty() {
        let ids: Vec<u64> = session_ids.iter().copied().collect();
        for (id, text) in reads.sessions(&ids)? {
            sessions.insert(id, (decode_state(codec::SESSION, &text)?, false));
        }
    }

    let mut outcomes: Vec<Result<Applied>> = Vec::with_capacity(events.len());
    let mut calls: BTreeMap<u64, crate::metrics::Call> = BTreeMap::new();
    for (index, e) in events.iter().enumerate() {
        let outcome = match &e.kind {
            EventKind::CallEnded { call } => {
                let duplicate = !held_calls.insert(call.id);
                calls.insert(call.id, call.clone());
                Ok(Applied {
                    duplicate,
                    ..Applied::default()
                })
            }
            EventKind::SessionStarted { session_id, .. }
            | EventKind::SessionEnded { session_id } => {
                let (s, dirty) = sessions.entry(*session_id).or_default();
                let new = s.record(e);
                *dirty |= new;
                Ok(Applied {
                    duplicate: !new,
                    ..Applied::default()
                })
            }
            k => {
                let id = k.ticket_id().unwrap_or_default();
                let w = works.entry(id).or_default();
                ticket_step(options, watermark, w, id, index, e)
            }
        };
        outcomes.push(outcome);
    }

    // What each changed ticket contributes now against before, in every period and grouping.
    let sets: Vec<(PeriodKind, MetricsOptions)> = KINDS
        .iter()
        .map(|k| (*k, options.metrics_by(*k, GroupBy::Agent)))
        .collect();
    let mut offsets = ZoneOffsets::new();
    let mut deltas: BTreeMap<RowKey, (NaiveDate, Vec<(Contribution, i64)>)> = BTreeMap::new();
    let mut touched = Vec::new();
    for (id, w) in &works {
        if w.accepted.is_empty() {
            continue;
        }
        match ticket_deltas(tenant, options.sla.as_ref(), &sets, &mut offsets, *id, w) {
            Ok(TicketDelta {
                contributions,
                breach_at,
                snapshot,
            }) => {
                // A ticket's contributions to one row are adjacent (each list is sorted by
                // row): one map lookup per run instead of one per contribution.
                let mut run: Vec<(Contribution, i64)> = Vec::new();
                let mut it = contributions.into_iter().peekable();
                while let Some((kind, (group, (start, end), c), sign)) = it.next() {
                    run.push((c, sign));
                    while let Some((_, (_, _, c), sign)) = it
                        .next_if(|(k, (g, (s, _), _), _)| *k == kind && *g == group && *s == start)
                    {
                        run.push((c, sign));
                    }
                    // An open SLA target's due day changes no figure until it is read as of
                    // a later instant.
                    let visible = run.iter().any(|(c, _)| {
                        !matches!(
                            c,
                            Contribution::SlaPending { .. } | Contribution::SlaTask { .. }
                        )
                    });
                    if let (PeriodKind::Day, GroupKey::Agent(a), true) = (kind, &group, visible) {
                        touched.push(crate::engine::Touched {
                            agent_id: *a,
                            day: start,
                        });
                    }
                    let key = RowKey {
                        period: kind,
                        group,
                        start,
                    };
                    deltas
                        .entry(key)
                        .or_insert((end, Vec::new()))
                        .1
                        .append(&mut run);
                }
                changes.tickets.push(TicketWrite {
                    id: *id,
                    state: encode_state(
                        codec::TICKET,
                        &TicketState {
                            events: w.events.clone(),
                        },
                    ),
                    finished: snapshot
                        .as_ref()
                        .is_some_and(|t| t.resolved_at.is_some() || t.closed_at.is_some()),
                    last_at: w.events.iter().map(|l| l.t).max().unwrap_or_default(),
                    breach_at,
                    agent_id: snapshot.as_ref().and_then(|t| t.agent_id),
                    kind: snapshot.as_ref().map(|t| t.kind).unwrap_or_default(),
                });
            }
            // A snapshot the metrics refuse: the ticket's events of this batch are refused
            // with its code and the ticket stays as it was.
            Err(err) => {
                for i in &w.accepted {
                    if let Some(o) = outcomes.get_mut(*i) {
                        *o = Err(err.clone());
                    }
                }
            }
        }
    }

    if !deltas.is_empty() {
        let keys: Vec<RowKey> = deltas.keys().cloned().collect();
        let mut stored: BTreeMap<RowKey, TicketAggregate> = BTreeMap::new();
        for (key, text) in reads.aggregates(&keys)? {
            stored.insert(key, decode_state(codec::AGGREGATE, &text)?);
        }
        for (key, (end, list)) in deltas {
            let existed = stored.contains_key(&key);
            let mut agg = stored
                .remove(&key)
                // Quantile sketches live in day rows only: a week's or month's are merged from
                // its days when read, so an event rewrites no week- or month-long sketch.
                .unwrap_or_else(|| {
                    TicketAggregate::new(options.quantiles && key.period == PeriodKind::Day)
                });
            // Additions first: a retraction always finds what it retracts.
            for (c, sign) in list.iter().filter(|(_, s)| *s > 0) {
                c.apply(&mut agg, *sign);
            }
            for (c, sign) in list.iter().filter(|(_, s)| *s < 0) {
                c.apply(&mut agg, *sign);
            }
            let state = if agg.is_empty() {
                if !existed {
                    continue;
                }
                None
            } else {
                Some(encode_state(codec::AGGREGATE, &agg))
            };
            changes.aggregates.push(AggregateWrite { key, end, state });
        }
    }
    changes.calls = calls.into_values().collect();
    for (id, (s, dirty)) in sessions {
        if dirty {
            changes.sessions.push(SessionWrite {
                id,
                agent_id: s.agent_id,
                start: s.start.map(|t| t.timestamp()),
                end: s.end.map(|t| t.timestamp()),
                state: encode_state(codec::SESSION, &s),
            });
        }
    }

    let mut report = BatchReport::default();
    for (index, (e, outcome)) in events.iter().zip(outcomes).enumerate() {
        report.count(index, &e.id, outcome);
    }
    report.touched = touched;
    Ok((changes, report.finish()))
}

fn duplicate() -> Applied {
    Applied {
        duplicate: true,
        ..Applied::default()
    }
}

/// One ticket event against the ticket's work: the engine's rules, in the same order.
fn ticket_step(
    options: &EngineOptions,
    watermark: Option<i64>,
    w: &mut Work,
    ticket_id: u64,
    index: usize,
    e: &Event,
) -> Result<Applied> {
    let late = || Error::LateEvent {
        ticket_id,
        event_id: e.id.clone(),
    };
    if w.evicted {
        return Err(late());
    }
    if w.events.is_empty() {
        if watermark.is_some_and(|m| e.at.timestamp() < m) {
            return Err(late());
        }
        if options.require_created_first && !matches!(e.kind, EventKind::TicketCreated { .. }) {
            return Err(Error::UnknownTicket(ticket_id));
        }
    } else if w.events.iter().any(|l| l.i == e.id) {
        return Ok(duplicate());
    }
    w.events.push(Logged::of(e));
    match w.snapshot(options.tenant.as_deref(), ticket_id, w.events.len()) {
        Ok(s) => {
            w.accepted.push(index);
            Ok(Applied {
                pending: s.is_none(),
                ..Applied::default()
            })
        }
        Err(err) => {
            w.events.pop();
            Err(err)
        }
    }
}

type Signed = (PeriodKind, Keyed, i64);

/// What a ticket's batch changes: its contributions after minus before, the instant its SLA
/// counts as breached from, and its snapshot after the batch.
struct TicketDelta {
    contributions: Vec<Signed>,
    breach_at: Option<i64>,
    snapshot: Option<Ticket>,
}

/// What a ticket's snapshot contributes after the batch minus before it, per period kind, to
/// its agents' rows and its team's row.
fn ticket_deltas(
    tenant: Option<&str>,
    sla: Option<&SlaPolicy>,
    sets: &[(PeriodKind, MetricsOptions)],
    offsets: &mut ZoneOffsets,
    id: u64,
    w: &Work,
) -> Result<TicketDelta> {
    let old = w.snapshot(tenant, id, w.before)?;
    let new = w.snapshot(tenant, id, w.events.len())?;
    let task = |t: &Option<Ticket>, upto: usize| match (sla, t) {
        (Some(p), Some(t)) => sla_task(p, t, w.latest(upto)),
        _ => Ok(None),
    };
    let tasks = [task(&old, w.before)?, task(&new, w.events.len())?];
    let breach_at = match tasks[1] {
        Some(Contribution::SlaTask { breach, .. }) if breach != i64::MAX => Some(breach),
        _ => None,
    };
    let mut out = Vec::new();
    for (kind, m) in sets {
        let mut lists = [Vec::new(), Vec::new()];
        for ((list, t), task) in lists.iter_mut().zip([&old, &new]).zip(&tasks) {
            if let Some(t) = t {
                // Window detail in day rows only (windows and as-of reads are built from days).
                let agents = m.contributions_as(offsets, t, *kind == PeriodKind::Day)?;
                *list = with_team_rows(agents, &t.team);
                // The SLA task, in the creation day's rows of the current assignee and team.
                if let (PeriodKind::Day, Some(task), Some(b)) =
                    (kind, task, m.bucket_at(offsets, t.created_at))
                {
                    list.push((GroupKey::Agent(t.agent_id), b, *task));
                    list.push((GroupKey::Team(t.team.clone()), b, *task));
                }
                list.sort_unstable();
            }
        }
        let (gone, added) = multiset_difference(&lists[0], &lists[1]);
        out.extend(gone.into_iter().map(|k| (*kind, k.clone(), -1)));
        out.extend(added.into_iter().map(|k| (*kind, k.clone(), 1)));
    }
    Ok(TicketDelta {
        contributions: out,
        breach_at,
        snapshot: new,
    })
}

/// A ticket's agent contributions (in the order computed) followed by its team's: the same
/// contributions under the team's key, except that the ticket counts as assigned to its team
/// once per period — the first assignment in it, which is the first one listed (assignments are
/// listed in time order) — as a team-grouped computation counts it. The `Window` detail that
/// follows each counted assignment is the team's: its `back` is the team's previous period with
/// an assignment, its `gap` that of the first assignment.
fn with_team_rows(mut agents: Vec<Keyed>, team: &Option<String>) -> Vec<Keyed> {
    let mut seen: Vec<NaiveDate> = Vec::new();
    let mut teams = Vec::with_capacity(agents.len());
    // Whether the last assignment listed was counted for the team (its detail follows it).
    let mut counted = false;
    for (_, bucket, c) in &agents {
        let c = match c {
            Contribution::Assigned { .. } => {
                counted = !seen.contains(&bucket.0);
                if !counted {
                    continue;
                }
                seen.push(bucket.0);
                *c
            }
            Contribution::Window { gap, .. } => {
                if !std::mem::take(&mut counted) {
                    continue;
                }
                let back = match seen.len().checked_sub(2).and_then(|i| seen.get(i)) {
                    Some(prev) => u32::try_from((bucket.0 - *prev).num_days()).unwrap_or(0),
                    None => 0,
                };
                Contribution::Window { back, gap: *gap }
            }
            c => *c,
        };
        teams.push((GroupKey::Team(team.clone()), *bucket, c));
    }
    agents.extend(teams);
    agents
}

/// The snapshot a stored ticket state describes (`None` until its creation is known).
pub(crate) fn ticket_snapshot(
    tenant: Option<&str>,
    id: u64,
    state: &[u8],
) -> Result<Option<Ticket>> {
    let s: TicketState = decode_state(codec::TICKET, state)?;
    snapshot_from_views(tenant, s.events.iter().map(|l| l.view(id)))
}

/// A ticket's SLA task as of its latest event: the task's contribution to its creation day
/// (creation instant, the instant after which it counts as breached — the earliest due instant
/// of a target missed or still open, `i64::MAX` when none — and whether it is resolved), as
/// `SlaPolicy::evaluate` judges it from the snapshot's timeline at any later instant; `None`
/// when the policy sets no target for its priority.
fn sla_task(policy: &SlaPolicy, t: &Ticket, latest: DateTime<Utc>) -> Result<Option<Contribution>> {
    let timeline = TicketTimeline::from_ticket(t);
    let eval = policy.evaluate(&timeline, latest.max(t.created_at))?;
    if !eval.has_sla {
        return Ok(None);
    }
    Ok(Some(Contribution::SlaTask {
        created: t.created_at.timestamp(),
        breach: breach_instant(&eval).unwrap_or(i64::MAX),
        resolved: eval.resolved,
    }))
}

/// The earliest due instant of a target missed or still open: after it the ticket counts as
/// breached (an open target is breached at any instant past its due).
pub(crate) fn breach_instant(eval: &SlaEvaluation) -> Option<i64> {
    eval.targets
        .iter()
        .filter_map(|x| match (x.stopped_at, x.due_at) {
            (Some(s), Some(d)) if s > d => Some(d.timestamp()),
            (None, Some(d)) => Some(d.timestamp()),
            _ => None,
        })
        .min()
}

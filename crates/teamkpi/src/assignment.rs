//! Least-busy and round-robin assignment, backlog draining and re-assignment of stale work.
//!
//! An [`Assigner`] holds the agents of one tenant and ordered indexes of the agents that can take
//! work (allowed status, below total capacity), one per team and one for everybody, sorted by the
//! strategy's key. A pick walks its pool from the best key and returns the first agent that also
//! passes the per-item checks (per-kind capacity, skills, working hours, exclusions): O(log n) when
//! the best agent fits, which is the common case. Rules (docs/semantics.md):
//! - least-busy: fewest open items (weighted per kind when weights are given); round-robin: the
//!   agent assigned longest ago. Ties: longest since last assignment (never assigned first), then
//!   the lowest id — numerically, the same on every platform.
//! - Allowed statuses default to `online` only.
//! - Backlog order: urgent > high > normal > low (unknown priorities last), then oldest, then id.
//! - Re-assignment never hands an item back to the agent it is taken from, and every move is an
//!   audit event (the CRM assignment's ClientEvent).

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use crate::calendar::BusinessCalendar;
use crate::choice::string_enum;
use crate::error::{Error, Result};

string_enum! {
    /// An agent's presence.
    pub enum AgentStatus ("status") {
        /// Available for work.
        Online = "online" | "available" | "active",
        /// Working but not taking new work by default.
        Busy = "busy",
        /// On a break.
        Break = "break" | "away" | "pause",
        /// Not logged in.
        Offline = "offline",
    }
}

string_enum! {
    /// How an agent is chosen.
    pub enum StrategyKind ("strategy") {
        /// Fewest open items (weighted per kind when weights are given).
        LeastBusy = "least_busy" | "least-busy" | "balanced" | "load_balancing",
        /// The agent assigned longest ago.
        RoundRobin = "round_robin" | "round-robin",
    }
}

/// An agent as the assigner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The agent's id.
    pub id: u64,
    /// Presence.
    pub status: AgentStatus,
    /// Open items per work kind (`ticket`, `dispute`, `order`, `client`, …).
    #[serde(default)]
    pub open_load: BTreeMap<String, i64>,
    /// Most open items in total; `None` for no limit.
    #[serde(default)]
    pub capacity: Option<i64>,
    /// Most open items per kind (a per-agent override of the policy's).
    #[serde(default)]
    pub capacity_per_kind: BTreeMap<String, i64>,
    /// Teams the agent belongs to.
    #[serde(default)]
    pub teams: BTreeSet<String>,
    /// Skills the agent has.
    #[serde(default)]
    pub skills: BTreeSet<String>,
    /// Working hours; closed hours make the agent ineligible.
    #[serde(default)]
    pub calendar: Option<BusinessCalendar>,
    /// When the agent was last given an item.
    #[serde(default)]
    pub last_assigned_at: Option<DateTime<Utc>>,
    /// When the agent was last active (the support automation's inactivity rule).
    #[serde(default)]
    pub last_active_at: Option<DateTime<Utc>>,
}

impl AgentState {
    /// An online agent with no load, limits, teams or skills.
    pub fn online(id: u64) -> Self {
        AgentState {
            tenant: None,
            id,
            status: AgentStatus::Online,
            open_load: BTreeMap::new(),
            capacity: None,
            capacity_per_kind: BTreeMap::new(),
            teams: BTreeSet::new(),
            skills: BTreeSet::new(),
            calendar: None,
            last_assigned_at: None,
            last_active_at: None,
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |what: &str, v: i64| {
            Err(Error::argument(
                "agent",
                format!("agent {}: {what} must not be negative, got {v}", self.id),
            ))
        };
        if let Some(c) = self.capacity {
            if c < 0 {
                return bad("capacity", c);
            }
            crate::limits::check_load("capacity", c)?;
        }
        for (k, c) in &self.capacity_per_kind {
            if *c < 0 {
                return bad(&format!("capacity for {k}"), *c);
            }
            crate::limits::check_load("capacity_per_kind", *c)?;
        }
        for (k, l) in &self.open_load {
            if *l < 0 {
                return bad(&format!("open load of {k}"), *l);
            }
            crate::limits::check_load("open_load", *l)?;
        }
        Ok(())
    }

    /// Open items in total (each load is at most 2^32, so a sum of any number of kinds a host
    /// can hold saturates rather than wraps).
    pub fn total_load(&self) -> i64 {
        self.open_load
            .values()
            .fold(0i64, |acc, l| acc.saturating_add(*l))
    }
}

/// How the assigner chooses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentPolicy {
    /// Least-busy or round-robin.
    #[serde(default = "least_busy")]
    pub strategy: StrategyKind,
    /// Statuses that may take work (default: online only).
    #[serde(default = "online_only")]
    pub allowed_statuses: BTreeSet<AgentStatus>,
    /// Weight of one open item per kind in the least-busy load (default 1).
    #[serde(default)]
    pub kind_weights: BTreeMap<String, Decimal>,
    /// Default per-kind capacity (agents may override).
    #[serde(default)]
    pub capacity_per_kind: BTreeMap<String, i64>,
}

fn least_busy() -> StrategyKind {
    StrategyKind::LeastBusy
}

fn online_only() -> BTreeSet<AgentStatus> {
    [AgentStatus::Online].into()
}

impl Default for AssignmentPolicy {
    fn default() -> Self {
        AssignmentPolicy {
            strategy: StrategyKind::LeastBusy,
            allowed_statuses: online_only(),
            kind_weights: BTreeMap::new(),
            capacity_per_kind: BTreeMap::new(),
        }
    }
}

/// The CRM assignment's per-company settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentSettings {
    /// Assign new items automatically.
    pub auto_assign_enabled: bool,
    /// Re-assign items nobody contacted in time.
    pub re_assign_enabled: bool,
    /// Hours after which an uncontacted item moves (the CRM assignment's `re_assign_hours`, e.g. 24).
    pub re_assign_hours: i64,
}

impl Default for AssignmentSettings {
    fn default() -> Self {
        AssignmentSettings {
            auto_assign_enabled: true,
            re_assign_enabled: false,
            re_assign_hours: 24,
        }
    }
}

/// A piece of work to assign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    /// The item's id.
    pub id: u64,
    /// Work kind (`ticket`, `dispute`, `order`, `client`, …).
    #[serde(default = "ticket_kind")]
    pub kind: String,
    /// Priority label (`urgent`, `high`, `normal`, `low`).
    #[serde(default)]
    pub priority: Option<String>,
    /// Creation instant (backlog order).
    pub created_at: DateTime<Utc>,
    /// Only agents of this team.
    #[serde(default)]
    pub team: Option<String>,
    /// Only agents with all these skills.
    #[serde(default)]
    pub skills: BTreeSet<String>,
}

fn ticket_kind() -> String {
    "ticket".into()
}

/// The rank of a priority label in the backlog: urgent 0, high 1, normal 2, low 3, others 4.
pub fn priority_rank(priority: Option<&str>) -> u8 {
    let Some(p) = priority.map(str::trim) else {
        return 4;
    };
    let is = |label: &str| p.eq_ignore_ascii_case(label);
    if is("urgent") || is("critical") {
        0
    } else if is("high") {
        1
    } else if is("normal") || is("medium") {
        2
    } else if is("low") {
        3
    } else {
        4
    }
}

/// Backlog order: priority rank, creation, id.
type BacklogKey = (u8, DateTime<Utc>, u64);

/// The backlog order key of an item.
fn backlog_key(item: &WorkItem) -> BacklogKey {
    (
        priority_rank(item.priority.as_deref()),
        item.created_at,
        item.id,
    )
}

/// Why no agent could take an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoAgentReason {
    /// No agent has an allowed status and open working hours.
    NobodyAvailable,
    /// Everyone available is at capacity.
    AllAtCapacity,
    /// Nobody available has the team and skills the item needs.
    NoSkillMatch,
    /// The only fitting agents were excluded (e.g. the current assignee).
    AllExcluded,
    /// The company disabled automatic assignment.
    AutoAssignDisabled,
}

impl From<NoAgentReason> for Error {
    fn from(r: NoAgentReason) -> Self {
        Error::NoEligibleAgent {
            reason: r.as_str().to_owned(),
        }
    }
}

impl NoAgentReason {
    /// The reason as a stable string.
    pub fn as_str(self) -> &'static str {
        match self {
            NoAgentReason::NobodyAvailable => "nobody_available",
            NoAgentReason::AllAtCapacity => "all_at_capacity",
            NoAgentReason::NoSkillMatch => "no_skill_match",
            NoAgentReason::AllExcluded => "all_excluded",
            NoAgentReason::AutoAssignDisabled => "auto_assign_disabled",
        }
    }
}

string_enum! {
    /// Why an item moved.
    pub enum AssignmentReason ("reason") {
        /// Assigned on creation (the CRM assignment's auto-assign).
        AutoAssign = "auto_assign",
        /// Assigned while draining a backlog.
        Backlog = "backlog",
        /// Nobody contacted the customer in time (the CRM assignment's re-assign).
        NotContacted = "not_contacted",
        /// The agent was inactive too long (the support automation).
        AgentInactive = "agent_inactive",
        /// Assigned by a person or another rule of the host.
        Manual = "manual",
    }
}

/// One move of an item (the CRM assignment's ClientEvent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentEvent {
    /// The item.
    pub item_id: u64,
    /// The previous assignee.
    pub from: Option<u64>,
    /// The new assignee.
    pub to: u64,
    /// Why it moved.
    pub reason: AssignmentReason,
    /// When.
    pub at: DateTime<Utc>,
}

/// An item that could not be assigned, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unassigned {
    /// The item.
    pub item_id: u64,
    /// Why.
    pub reason: NoAgentReason,
}

/// The result of draining a backlog or re-assigning stale work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentBatch {
    /// The moves made, in order.
    pub events: Vec<AssignmentEvent>,
    /// Items left where they were.
    pub unassigned: Vec<Unassigned>,
    /// Items refused: a second copy of an item id in the batch (`duplicate_record`; the first
    /// copy counts).
    #[serde(default)]
    pub rejected: Vec<RejectedItem>,
}

/// An item of a batch that was not considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedItem {
    /// The item.
    pub item_id: u64,
    /// The stable code.
    pub code: String,
    /// Why.
    pub reason: String,
}

impl RejectedItem {
    fn duplicate(item_id: u64) -> Self {
        let e = Error::DuplicateRecord {
            what: "item".into(),
            id: item_id,
        };
        RejectedItem {
            item_id,
            code: e.code().to_owned(),
            reason: e.to_string(),
        }
    }
}

/// An item already assigned, for re-assignment scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenItem {
    /// The item.
    #[serde(flatten)]
    pub item: WorkItem,
    /// The current assignee.
    pub agent_id: u64,
    /// When it was assigned (the CRM assignment's `assigned_at`).
    pub assigned_at: DateTime<Utc>,
    /// When the agent last contacted the customer (the CRM assignment's `last_contacted_at`).
    #[serde(default)]
    pub last_contacted_at: Option<DateTime<Utc>>,
}

/// The order of agents in a pool: strategy key, then last assignment (never first), then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PoolKey {
    /// Weighted load in millionths of an item (integer compares keep the index cheap).
    load: i64,
    last_assigned: Option<i64>,
    id: u64,
    /// Where the agent lives in `slots` (after the unique id, so it never changes the order).
    slot: usize,
}

/// Agents of one tenant and the indexes that make picking O(log n).
///
/// ```
/// use teamkpi::{Assigner, AgentState, AssignmentPolicy, WorkItem};
/// use chrono::{TimeZone, Utc};
/// let now = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
/// let mut a = AgentState::online(1);
/// a.open_load.insert("client".into(), 3);
/// let b = AgentState::online(2);
/// let mut assigner = Assigner::new(vec![a, b], AssignmentPolicy::default()).unwrap();
/// let item = WorkItem { id: 10, kind: "client".into(), priority: None, created_at: now,
///                       team: None, skills: Default::default() };
/// let event = assigner.assign(&item, now, teamkpi::AssignmentReason::AutoAssign).unwrap();
/// assert_eq!(event.to, 2); // the least busy
/// ```
#[derive(Debug, Clone)]
pub struct Assigner {
    tenant: Option<String>,
    policy: AssignmentPolicy,
    /// The policy's kind weights in millionths.
    weights: BTreeMap<String, i64>,
    /// Agents by slot; a removed agent leaves `None`.
    slots: Vec<Option<AgentState>>,
    by_id: BTreeMap<u64, usize>,
    /// Each slot's key in the pools, while it can take work.
    keys: Vec<Option<PoolKey>>,
    /// Everybody who can take work.
    all: BTreeSet<PoolKey>,
    /// The same, per team.
    teams: BTreeMap<String, BTreeSet<PoolKey>>,
}

impl Assigner {
    /// An assigner over `agents` (one tenant, distinct ids, at least one agent).
    pub fn new(agents: Vec<AgentState>, policy: AssignmentPolicy) -> Result<Self> {
        let Some(first) = agents.first() else {
            return Err(Error::EmptyAgentList);
        };
        for (k, w) in &policy.kind_weights {
            if *w < Decimal::ZERO {
                return Err(Error::argument(
                    "kind_weights",
                    format!("weight of {k} must not be negative"),
                ));
            }
        }
        let mut weights = BTreeMap::new();
        for (k, w) in &policy.kind_weights {
            let micro = (*w * Decimal::from(1_000_000))
                .round()
                .to_string()
                .parse::<i64>()
                .map_err(|_| {
                    Error::argument("kind_weights", format!("weight of {k} is too large"))
                })?;
            weights.insert(k.clone(), micro);
        }
        let mut s = Assigner {
            tenant: first.tenant.clone(),
            weights,
            policy,
            slots: Vec::new(),
            by_id: BTreeMap::new(),
            keys: Vec::new(),
            all: BTreeSet::new(),
            teams: BTreeMap::new(),
        };
        for a in agents {
            s.add_agent(a)?;
        }
        Ok(s)
    }

    /// Adds an agent (`duplicate_agent` if the id exists).
    pub fn add_agent(&mut self, agent: AgentState) -> Result<()> {
        agent.validate()?;
        if agent.tenant != self.tenant {
            return Err(Error::TenantMismatch {
                expected: self.tenant.clone(),
                got: agent.tenant.clone(),
            });
        }
        if self.by_id.contains_key(&agent.id) {
            return Err(Error::DuplicateAgent(agent.id));
        }
        let slot = self.slots.len();
        self.by_id.insert(agent.id, slot);
        self.slots.push(Some(agent));
        self.keys.push(None);
        self.reindex(slot);
        Ok(())
    }

    /// Removes an agent.
    pub fn remove_agent(&mut self, id: u64) -> Result<AgentState> {
        let slot = self.by_id.remove(&id).ok_or(Error::UnknownAgent(id))?;
        self.unindex(slot);
        self.slots
            .get_mut(slot)
            .and_then(Option::take)
            .ok_or(Error::UnknownAgent(id))
    }

    fn at(&self, slot: usize) -> Option<&AgentState> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    /// One agent's state.
    pub fn agent(&self, id: u64) -> Option<&AgentState> {
        self.by_id.get(&id).and_then(|s| self.at(*s))
    }

    /// All agents, by id.
    pub fn agents(&self) -> impl Iterator<Item = &AgentState> {
        self.by_id.values().filter_map(|s| self.at(*s))
    }

    /// The policy.
    pub fn policy(&self) -> &AssignmentPolicy {
        &self.policy
    }

    /// Changes an agent's status.
    pub fn set_status(&mut self, id: u64, status: AgentStatus) -> Result<()> {
        self.update(id, |a| a.status = status)
    }

    /// Records an agent's activity (for the inactivity rule).
    pub fn touch(&mut self, id: u64, at: DateTime<Utc>) -> Result<()> {
        self.update(id, |a| a.last_active_at = Some(at))
    }

    /// Sets an agent's open load of a kind.
    pub fn set_load(&mut self, id: u64, kind: &str, load: i64) -> Result<()> {
        if load < 0 {
            return Err(Error::argument("load", "must not be negative"));
        }
        crate::limits::check_load("load", load)?;
        self.update(id, |a| {
            a.open_load.insert(kind.to_owned(), load);
        })
    }

    /// One item of `kind` was closed or taken away from the agent.
    pub fn release(&mut self, id: u64, kind: &str) -> Result<()> {
        self.update(id, |a| {
            if let Some(l) = a.open_load.get_mut(kind) {
                *l = (*l - 1).max(0);
            }
        })
    }

    /// Applies an infallible change to an agent and re-indexes it (inputs are checked by the
    /// callers before, so a failed call changes nothing).
    fn update(&mut self, id: u64, f: impl FnOnce(&mut AgentState)) -> Result<()> {
        let slot = *self.by_id.get(&id).ok_or(Error::UnknownAgent(id))?;
        self.update_slot(slot, f);
        Ok(())
    }

    fn update_slot(&mut self, slot: usize, f: impl FnOnce(&mut AgentState)) {
        self.unindex(slot);
        if let Some(a) = self.slots.get_mut(slot).and_then(Option::as_mut) {
            f(a);
        }
        self.reindex(slot);
    }

    fn weighted_load(&self, a: &AgentState) -> i64 {
        a.open_load
            .iter()
            .map(|(k, n)| {
                let w = if self.weights.is_empty() {
                    1_000_000
                } else {
                    self.weights.get(k).copied().unwrap_or(1_000_000)
                };
                w.saturating_mul(*n)
            })
            .fold(0i64, i64::saturating_add)
    }

    fn key_of(&self, a: &AgentState, slot: usize) -> PoolKey {
        PoolKey {
            load: match self.policy.strategy {
                StrategyKind::LeastBusy => self.weighted_load(a),
                StrategyKind::RoundRobin => 0,
            },
            last_assigned: a.last_assigned_at.map(|t| t.timestamp()),
            id: a.id,
            slot,
        }
    }

    fn can_take_work(&self, a: &AgentState) -> bool {
        self.policy.allowed_statuses.contains(&a.status)
            && a.capacity.is_none_or(|c| a.total_load() < c)
    }

    fn unindex(&mut self, slot: usize) {
        let Some(key) = self.keys.get_mut(slot).and_then(Option::take) else {
            return;
        };
        self.all.remove(&key);
        if let Some(agent) = self.slots.get(slot).and_then(Option::as_ref) {
            for t in &agent.teams {
                if let Some(pool) = self.teams.get_mut(t) {
                    pool.remove(&key);
                }
            }
        }
    }

    fn reindex(&mut self, slot: usize) {
        let Some(agent) = self.slots.get(slot).and_then(Option::as_ref) else {
            return;
        };
        if !self.can_take_work(agent) {
            return;
        }
        let key = self.key_of(agent, slot);
        for t in &agent.teams {
            match self.teams.get_mut(t) {
                Some(pool) => {
                    pool.insert(key.clone());
                }
                None => {
                    self.teams.insert(t.clone(), [key.clone()].into());
                }
            }
        }
        self.all.insert(key.clone());
        if let Some(k) = self.keys.get_mut(slot) {
            *k = Some(key);
        }
    }

    fn kind_capacity(&self, a: &AgentState, kind: &str) -> Option<i64> {
        a.capacity_per_kind
            .get(kind)
            .or_else(|| self.policy.capacity_per_kind.get(kind))
            .copied()
    }

    fn fits(&self, a: &AgentState, item: &WorkItem, now: DateTime<Utc>) -> bool {
        let kind_ok = self
            .kind_capacity(a, &item.kind)
            .is_none_or(|c| a.open_load.get(&item.kind).copied().unwrap_or(0) < c);
        kind_ok
            && item.skills.is_subset(&a.skills)
            && item.team.as_ref().is_none_or(|t| a.teams.contains(t))
            && a.calendar
                .as_ref()
                .is_none_or(|c| c.is_open(now).unwrap_or(false))
    }

    /// The agent that would get `item` at `now`, excluding `exclude`; the reason when nobody can.
    pub fn pick(
        &self,
        item: &WorkItem,
        now: DateTime<Utc>,
        exclude: &[u64],
    ) -> std::result::Result<u64, NoAgentReason> {
        self.pick_slot(item, now, exclude)
            .map(|slot| self.at(slot).map_or(0, |a| a.id))
    }

    fn pick_slot(
        &self,
        item: &WorkItem,
        now: DateTime<Utc>,
        exclude: &[u64],
    ) -> std::result::Result<usize, NoAgentReason> {
        let pool = match &item.team {
            None => Some(&self.all),
            Some(t) => self.teams.get(t),
        };
        for key in pool.into_iter().flatten() {
            if exclude.contains(&key.id) {
                continue;
            }
            if let Some(a) = self.at(key.slot) {
                if self.fits(a, item, now) {
                    return Ok(key.slot);
                }
            }
        }
        Err(self.why_not(item, now, exclude))
    }

    /// Explains a failed pick (a scan, run only on failure).
    fn why_not(&self, item: &WorkItem, now: DateTime<Utc>, exclude: &[u64]) -> NoAgentReason {
        let present: Vec<&AgentState> = self
            .agents()
            .filter(|a| self.policy.allowed_statuses.contains(&a.status))
            .filter(|a| {
                a.calendar
                    .as_ref()
                    .is_none_or(|c| c.is_open(now).unwrap_or(false))
            })
            .collect();
        if present.is_empty() {
            return NoAgentReason::NobodyAvailable;
        }
        let matching: Vec<&&AgentState> = present
            .iter()
            .filter(|a| item.skills.is_subset(&a.skills))
            .filter(|a| item.team.as_ref().is_none_or(|t| a.teams.contains(t)))
            .collect();
        if matching.is_empty() {
            return NoAgentReason::NoSkillMatch;
        }
        if matching.iter().all(|a| exclude.contains(&a.id)) {
            return NoAgentReason::AllExcluded;
        }
        NoAgentReason::AllAtCapacity
    }

    /// Assigns `item` to the picked agent: its load and last assignment are updated.
    pub fn assign(
        &mut self,
        item: &WorkItem,
        now: DateTime<Utc>,
        reason: AssignmentReason,
    ) -> std::result::Result<AssignmentEvent, NoAgentReason> {
        let slot = self.pick_slot(item, now, &[])?;
        let to = self.at(slot).map_or(0, |a| a.id);
        self.give(slot, &item.kind, now);
        Ok(AssignmentEvent {
            item_id: item.id,
            from: None,
            to,
            reason,
            at: now,
        })
    }

    /// The CRM assignment's auto-assign on creation, honouring the company's setting.
    pub fn auto_assign(
        &mut self,
        item: &WorkItem,
        settings: &AssignmentSettings,
        now: DateTime<Utc>,
    ) -> std::result::Result<AssignmentEvent, NoAgentReason> {
        if !settings.auto_assign_enabled {
            return Err(NoAgentReason::AutoAssignDisabled);
        }
        self.assign(item, now, AssignmentReason::AutoAssign)
    }

    fn give(&mut self, slot: usize, kind: &str, now: DateTime<Utc>) {
        self.update_slot(slot, |a| {
            match a.open_load.get_mut(kind) {
                // Loads start at most 2^32 and grow one an assignment: saturating, never wrapping.
                Some(l) => *l = l.saturating_add(1),
                None => {
                    a.open_load.insert(kind.to_owned(), 1);
                }
            }
            a.last_assigned_at = Some(now);
        });
    }

    /// Assigns a backlog in the documented backlog order (urgent > high > normal > low, then oldest, then
    /// id), respecting capacity; items nobody can take stay unassigned with the reason.
    pub fn drain(&mut self, backlog: &[WorkItem], now: DateTime<Utc>) -> AssignmentBatch {
        let mut batch = AssignmentBatch::default();
        // A repeated id is one item: its first copy (in the batch's order) counts.
        let mut seen = std::collections::HashSet::new();
        let mut order: Vec<(BacklogKey, &WorkItem)> = Vec::with_capacity(backlog.len());
        for i in backlog {
            if seen.insert(i.id) {
                order.push((backlog_key(i), i));
            } else {
                batch.rejected.push(RejectedItem::duplicate(i.id));
            }
        }
        order.sort_unstable_by_key(|(k, _)| *k);
        for (_, item) in order {
            match self.assign(item, now, AssignmentReason::Backlog) {
                Ok(e) => batch.events.push(e),
                Err(reason) => batch.unassigned.push(Unassigned {
                    item_id: item.id,
                    reason,
                }),
            }
        }
        batch
    }

    /// Moves stale work to the least-busy other eligible agent:
    /// - with re-assignment enabled, items assigned more than `re_assign_hours` ago and not
    ///   contacted for that long (or never) — the CRM assignment, reason `not_contacted`;
    /// - with `inactive_hours`, open items of agents inactive for longer — the support automation (6 hours),
    ///   reason `agent_inactive`.
    ///
    /// Items are taken in backlog order; an item never goes back to its agent, and inactive
    /// agents receive nothing. Loads are updated as items move, so later picks see earlier moves.
    pub fn reassign_stale(
        &mut self,
        items: &[OpenItem],
        settings: &AssignmentSettings,
        inactive_hours: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<AssignmentBatch> {
        crate::limits::check_hours("re_assign_hours", settings.re_assign_hours)?;
        if let Some(h) = inactive_hours {
            crate::limits::check_hours("inactive_hours", h)?;
        }
        let stale_after = Duration::hours(settings.re_assign_hours);
        let is_inactive = |a: &AgentState| {
            inactive_hours.is_some_and(|h| {
                a.last_active_at
                    .is_none_or(|t| now - t > Duration::hours(h))
            })
        };
        // Inactive agents give work away; they never receive it.
        let inactive_agents: Vec<u64> = self
            .agents()
            .filter(|a| is_inactive(a))
            .map(|a| a.id)
            .collect();
        let mut candidates: Vec<(&OpenItem, AssignmentReason)> = Vec::new();
        let mut batch = AssignmentBatch::default();
        let mut seen = std::collections::HashSet::new();
        for it in items {
            if !seen.insert(it.item.id) {
                batch.rejected.push(RejectedItem::duplicate(it.item.id));
                continue;
            }
            let inactive = inactive_agents.contains(&it.agent_id);
            let not_contacted = settings.re_assign_enabled
                && now - it.assigned_at > stale_after
                && it.last_contacted_at.is_none_or(|t| now - t > stale_after);
            if not_contacted {
                candidates.push((it, AssignmentReason::NotContacted));
            } else if inactive {
                candidates.push((it, AssignmentReason::AgentInactive));
            }
        }
        candidates.sort_by_cached_key(|(it, _)| backlog_key(&it.item));
        for (it, reason) in candidates {
            let mut exclude = inactive_agents.clone();
            exclude.push(it.agent_id);
            match self.pick_slot(&it.item, now, &exclude) {
                Ok(slot) => {
                    if self.by_id.contains_key(&it.agent_id) {
                        self.release(it.agent_id, &it.item.kind)?;
                    }
                    let to = self.at(slot).map_or(0, |a| a.id);
                    self.give(slot, &it.item.kind, now);
                    batch.events.push(AssignmentEvent {
                        item_id: it.item.id,
                        from: Some(it.agent_id),
                        to,
                        reason,
                        at: now,
                    });
                }
                Err(reason) => batch.unassigned.push(Unassigned {
                    item_id: it.item.id,
                    reason,
                }),
            }
        }
        Ok(batch)
    }

    /// Open items per agent and kind (the support automation's workload tracker), by agent id.
    pub fn workload(&self) -> Vec<(u64, BTreeMap<String, i64>)> {
        self.agents().map(|a| (a.id, a.open_load.clone())).collect()
    }
}

//! Storage traits and the in-memory store.
//!
//! The core never does I/O: `update_kpis` and the engine are written against these traits, and the
//! SQLite and PostgreSQL adapter crates implement them. Every call is scoped to one tenant
//! (`None` is the single-tenant scope, not "all tenants"), so no query mixes companies.
//!
//! Stored values follow one rule on every backend: `actual` and `achievement` are rounded to 2
//! places (half away from zero) when written — see [`Measurement::rounded_for_storage`].

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::kpi::{KpiAssignment, KpiDefinition, ManualValue, Measurement, NewKpiAssignment};
use crate::metrics::{AgentSession, Call, Mergeable, Ticket};
use crate::num::round2;
use crate::period::Timestamp;

/// Which assignments to list. `tenant` is always applied (`None` = the single-tenant scope).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AssignmentFilter {
    /// The company.
    pub tenant: Option<String>,
    /// Only this agent.
    pub agent_id: Option<u64>,
    /// Only this definition key.
    pub definition: Option<String>,
    /// Only assignments in effect on some day of `[start, end]` (active ones only).
    pub applies_between: Option<(NaiveDate, NaiveDate)>,
    /// Include inactive assignments (ignored when `applies_between` is set).
    pub include_inactive: bool,
}

impl AssignmentFilter {
    /// The active assignments of a tenant.
    pub fn tenant(tenant: Option<&str>) -> Self {
        AssignmentFilter {
            tenant: tenant.map(str::to_owned),
            ..Self::default()
        }
    }

    /// The active assignments a new one could conflict with: the same tenant, agent and KPI
    /// (what [`check_new_assignment`] is given by every store).
    pub fn same_kpi(new: &NewKpiAssignment) -> Self {
        AssignmentFilter {
            tenant: new.tenant.clone(),
            agent_id: Some(new.agent_id),
            definition: Some(new.definition.clone()),
            ..Self::default()
        }
    }

    /// Every assignment of a tenant, inactive ones included.
    pub fn all(tenant: Option<&str>) -> Self {
        AssignmentFilter {
            include_inactive: true,
            ..Self::tenant(tenant)
        }
    }

    /// True when `a` passes the filter.
    pub fn matches(&self, a: &KpiAssignment) -> bool {
        a.tenant == self.tenant
            && self.agent_id.is_none_or(|id| a.agent_id == id)
            && self.definition.as_deref().is_none_or(|d| a.definition == d)
            && match self.applies_between {
                Some((start, end)) => a.applies_between(start, end),
                None => self.include_inactive || a.active,
            }
    }
}

/// Identifies one rollup: a named aggregate for a group (e.g. `agent:12`) and period.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RollupKey {
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// What is aggregated, e.g. `tickets_daily`.
    pub name: String,
    /// The group, e.g. `agent:12` or `team:3`.
    pub group: String,
    /// First day of the period.
    pub period_start: NaiveDate,
}

/// KPI definitions, unique per (tenant, key).
pub trait DefinitionStore {
    /// Inserts or replaces a definition.
    fn upsert_definition(&self, definition: &KpiDefinition) -> Result<()>;
    /// One definition.
    fn definition(&self, tenant: Option<&str>, key: &str) -> Result<Option<KpiDefinition>>;
    /// All definitions of a tenant, active or not, ordered by key.
    fn definitions(&self, tenant: Option<&str>) -> Result<Vec<KpiDefinition>>;
}

/// KPI assignments (the KPI tables' `user_kpis`).
pub trait AssignmentStore {
    /// Validates and inserts an assignment, giving it an id. The definition must exist in the
    /// same tenant; at most one active assignment per (tenant, agent, definition, start).
    fn insert_assignment(&self, assignment: NewKpiAssignment) -> Result<KpiAssignment>;
    /// Replaces an existing assignment (same id), with the same checks.
    fn update_assignment(&self, assignment: &KpiAssignment) -> Result<()>;
    /// One assignment by id, within a tenant.
    fn assignment(&self, tenant: Option<&str>, id: u64) -> Result<Option<KpiAssignment>>;
    /// Assignments passing `filter`, ordered by id.
    fn assignments(&self, filter: &AssignmentFilter) -> Result<Vec<KpiAssignment>>;
}

/// KPI measurements, unique per (assignment, period start, period end, ad hoc).
pub trait MeasurementStore {
    /// Inserts or replaces the measurement of its (assignment, period), rounding stored values;
    /// returns the row's id, stable across replacements.
    fn upsert_measurement(&self, measurement: &Measurement) -> Result<u64>;
    /// Several upserts in one transaction: all are written or none.
    fn upsert_measurements(&self, measurements: &[Measurement]) -> Result<Vec<u64>>;
    /// An assignment's measurements, ad-hoc ones included, ordered by period start, period
    /// end, then natural before ad hoc.
    fn measurements(&self, tenant: Option<&str>, assignment_id: u64) -> Result<Vec<Measurement>>;
    /// An assignment's natural-period measurement with the latest period start (ad-hoc
    /// measurements of requested ranges never are the latest).
    fn latest_measurement(
        &self,
        tenant: Option<&str>,
        assignment_id: u64,
    ) -> Result<Option<Measurement>> {
        Ok(self
            .measurements(tenant, assignment_id)?
            .into_iter()
            .rev()
            .find(|m| !m.ad_hoc))
    }
}

/// Values managers record for manual KPIs, unique per (assignment, period).
pub trait ManualValueStore {
    /// Inserts or replaces a value.
    fn record_manual_value(&self, tenant: Option<&str>, value: &ManualValue) -> Result<()>;
    /// The value recorded for an assignment and period, if any.
    fn manual_value(
        &self,
        tenant: Option<&str>,
        assignment_id: u64,
        period_start: NaiveDate,
        period_end: NaiveDate,
    ) -> Result<Option<ManualValue>>;
}

/// Mergeable rollups. Each writer stores its partial under its own partial id; writing the same
/// partial id again replaces it, so retries change nothing and concurrent writers of distinct
/// partials give exact totals.
pub trait RollupStore {
    /// Stores (or replaces) one partial of a rollup.
    fn merge_rollup(
        &self,
        key: &RollupKey,
        partial_id: &str,
        state: &serde_json::Value,
    ) -> Result<()>;
    /// All partials of a rollup, ordered by partial id.
    fn rollup_partials(&self, key: &RollupKey) -> Result<Vec<(String, serde_json::Value)>>;
}

/// Activity records a store holds (the host's tickets, calls and sessions), read by time window.
pub trait ActivitySource {
    /// Tickets created before `to` with any activity (creation, response, resolution, transfer,
    /// message, reopening, closing) at or after `from`.
    fn tickets(&self, tenant: Option<&str>, from: Timestamp, to: Timestamp) -> Result<Vec<Ticket>>;
    /// Calls started in `[from, to)`.
    fn calls(&self, tenant: Option<&str>, from: Timestamp, to: Timestamp) -> Result<Vec<Call>>;
    /// Session intervals overlapping `[from, to)` (open ones included).
    fn sessions(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<AgentSession>>;
}

/// The key a tenant is stored under in every store: `None` (one company) is the empty string.
pub fn tenant_key(tenant: Option<&str>) -> &str {
    tenant.unwrap_or("")
}

/// The tenant a stored key stands for (the inverse of [`tenant_key`]).
pub fn tenant_of_key(key: String) -> Option<String> {
    (!key.is_empty()).then_some(key)
}

/// The first rule every store applies to a measurement or a manual value: its period must not end
/// before it starts (`invalid_range`). Checked before any read, so a bad input costs no query.
pub fn check_period(start: NaiveDate, end: NaiveDate) -> Result<()> {
    if end < start {
        return Err(Error::range("period", start, end));
    }
    Ok(())
}

/// The second rule: the assignment it refers to exists in the tenant in scope. `owner` is the
/// tenant key the assignment is stored under ([`tenant_key`]; `None`: no such assignment). Another
/// tenant's assignment is as unknown as a missing one (`unknown_assignment`), so ids of other
/// companies cannot be probed.
pub fn check_owner(owner: Option<&str>, tenant: Option<&str>, assignment_id: u64) -> Result<()> {
    if owner != Some(tenant_key(tenant)) {
        return Err(Error::UnknownAssignment(assignment_id));
    }
    Ok(())
}

/// Refuses a window that ends before it starts (`invalid_range`): an activity read never answers
/// an impossible window with nothing.
pub fn check_window(
    what: &str,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if to < from {
        return Err(Error::range(what, from.to_rfc3339(), to.to_rfc3339()));
    }
    Ok(())
}

/// Everything `update_kpis` needs from a store.
pub trait KpiStore:
    DefinitionStore + AssignmentStore + MeasurementStore + ManualValueStore
{
}
impl<T: DefinitionStore + AssignmentStore + MeasurementStore + ManualValueStore> KpiStore for T {}

/// Reads a rollup and merges its partials (in partial-id order) into one state.
pub fn merged_rollup<S, R>(store: &R, key: &RollupKey) -> Result<Option<S>>
where
    S: Mergeable + DeserializeOwned,
    R: RollupStore + ?Sized,
{
    let mut merged: Option<S> = None;
    for (partial_id, value) in store.rollup_partials(key)? {
        let state: S = serde_json::from_value(value).map_err(|e| {
            Error::Storage(format!(
                "rollup partial {partial_id:?} does not decode: {e}"
            ))
        })?;
        match merged.as_mut() {
            Some(m) => m.merge(&state),
            None => merged = Some(state),
        }
    }
    Ok(merged)
}

impl Measurement {
    /// The measurement as every store writes it: `actual` and `achievement` rounded to 2 places.
    pub fn rounded_for_storage(&self) -> Measurement {
        let stored = |d: Decimal| {
            let mut r = round2(d);
            r.rescale(2);
            r
        };
        let mut m = self.clone();
        m.actual = stored(m.actual);
        m.target = stored(m.target);
        m.achievement = stored(m.achievement);
        m
    }
}

/// Checks shared by every store before an assignment is written.
pub fn check_new_assignment<'a>(
    assignment: &NewKpiAssignment,
    definition: Option<&KpiDefinition>,
    existing: impl IntoIterator<Item = &'a KpiAssignment>,
    replacing: Option<u64>,
) -> Result<()> {
    assignment.validate()?;
    if definition.is_none() {
        return Err(Error::UnknownDefinition(assignment.definition.clone()));
    }
    if assignment.active {
        let clash = existing.into_iter().any(|a| {
            Some(a.id) != replacing
                && a.active
                && a.tenant == assignment.tenant
                && a.agent_id == assignment.agent_id
                && a.definition == assignment.definition
                && a.valid_from == assignment.valid_from
        });
        if clash {
            return Err(Error::DuplicateAssignment {
                agent_id: assignment.agent_id,
                definition: assignment.definition.clone(),
                start: assignment.valid_from.to_string(),
            });
        }
    }
    Ok(())
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    definitions: BTreeMap<(Option<String>, String), KpiDefinition>,
    assignments: BTreeMap<u64, KpiAssignment>,
    next_assignment: u64,
    measurements: BTreeMap<(u64, NaiveDate, NaiveDate, bool), (u64, Measurement)>,
    next_measurement: u64,
    manual: BTreeMap<(Option<String>, u64, NaiveDate, NaiveDate), ManualValue>,
    rollups: BTreeMap<RollupKey, BTreeMap<String, serde_json::Value>>,
    /// Live metrics state per tenant.
    pub(crate) live: BTreeMap<Option<String>, crate::live::MemoryTables>,
}

/// A store in memory, for tests, examples and hosts that persist elsewhere. Thread-safe.
///
/// ```
/// use teamkpi::{InMemoryStore, DefinitionStore, AssignmentStore, KpiDefinition, KpiSource,
///               NewKpiAssignment, Unit, Direction, PeriodKind};
/// use chrono::NaiveDate;
/// use rust_decimal::Decimal;
/// let store = InMemoryStore::new();
/// store.upsert_definition(&KpiDefinition {
///     tenant: None, key: "resolved".into(), name: "Cases Resolved".into(),
///     description: None, category: Some("customer_support".into()), unit: Unit::Count,
///     direction: Direction::HigherBetter, period: PeriodKind::Week,
///     source: KpiSource::Metric { metric: "cases_resolved_count".into() }, active: true,
/// }).unwrap();
/// let a = store.insert_assignment(NewKpiAssignment {
///     tenant: None, agent_id: 1, definition: "resolved".into(), target: Decimal::from(40),
///     weight: Decimal::from(100), valid_from: NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
///     valid_to: None, active: true, assigned_by: None,
/// }).unwrap();
/// assert_eq!(a.id, 1);
/// ```
#[derive(Debug, Default)]
pub struct InMemoryStore {
    inner: Mutex<Inner>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Inner>> {
        self.inner
            .lock()
            .map_err(|_| Error::Storage("in-memory store lock poisoned".into()))
    }
}

fn same_tenant(tenant: Option<&str>, other: &Option<String>) -> bool {
    tenant == other.as_deref()
}

impl DefinitionStore for InMemoryStore {
    fn upsert_definition(&self, definition: &KpiDefinition) -> Result<()> {
        if definition.key.trim().is_empty() {
            return Err(Error::argument("key", "must not be empty"));
        }
        let mut inner = self.lock()?;
        inner.definitions.insert(
            (definition.tenant.clone(), definition.key.clone()),
            definition.clone(),
        );
        Ok(())
    }

    fn definition(&self, tenant: Option<&str>, key: &str) -> Result<Option<KpiDefinition>> {
        let inner = self.lock()?;
        Ok(inner
            .definitions
            .get(&(tenant.map(str::to_owned), key.to_owned()))
            .cloned())
    }

    fn definitions(&self, tenant: Option<&str>) -> Result<Vec<KpiDefinition>> {
        let inner = self.lock()?;
        Ok(inner
            .definitions
            .values()
            .filter(|d| same_tenant(tenant, &d.tenant))
            .cloned()
            .collect())
    }
}

impl AssignmentStore for InMemoryStore {
    fn insert_assignment(&self, assignment: NewKpiAssignment) -> Result<KpiAssignment> {
        let mut inner = self.lock()?;
        let def = inner
            .definitions
            .get(&(assignment.tenant.clone(), assignment.definition.clone()));
        check_new_assignment(&assignment, def, inner.assignments.values(), None)?;
        inner.next_assignment += 1;
        let stored = assignment.with_id(inner.next_assignment);
        inner.assignments.insert(stored.id, stored.clone());
        Ok(stored)
    }

    fn update_assignment(&self, assignment: &KpiAssignment) -> Result<()> {
        let mut inner = self.lock()?;
        match inner.assignments.get(&assignment.id) {
            Some(old) if old.tenant == assignment.tenant => {}
            _ => return Err(Error::UnknownAssignment(assignment.id)),
        }
        let new = assignment.to_new();
        let def = inner
            .definitions
            .get(&(new.tenant.clone(), new.definition.clone()));
        check_new_assignment(&new, def, inner.assignments.values(), Some(assignment.id))?;
        inner.assignments.insert(assignment.id, assignment.clone());
        Ok(())
    }

    fn assignment(&self, tenant: Option<&str>, id: u64) -> Result<Option<KpiAssignment>> {
        let inner = self.lock()?;
        Ok(inner
            .assignments
            .get(&id)
            .filter(|a| same_tenant(tenant, &a.tenant))
            .cloned())
    }

    fn assignments(&self, filter: &AssignmentFilter) -> Result<Vec<KpiAssignment>> {
        let inner = self.lock()?;
        Ok(inner
            .assignments
            .values()
            .filter(|a| filter.matches(a))
            .cloned()
            .collect())
    }
}

/// The rules of a measurement against the assignments held.
fn check_measurement(inner: &Inner, m: &Measurement) -> Result<()> {
    check_period(m.period_start, m.period_end)?;
    let owner = inner.assignments.get(&m.assignment_id);
    check_owner(
        owner.map(|a| tenant_key(a.tenant.as_deref())),
        m.tenant.as_deref(),
        m.assignment_id,
    )
}

fn upsert_locked(inner: &mut Inner, m: &Measurement) -> Result<u64> {
    check_measurement(inner, m)?;
    let key = (m.assignment_id, m.period_start, m.period_end, m.ad_hoc);
    let id = match inner.measurements.get(&key) {
        Some((id, _)) => *id,
        None => {
            inner.next_measurement += 1;
            inner.next_measurement
        }
    };
    inner
        .measurements
        .insert(key, (id, m.rounded_for_storage()));
    Ok(id)
}

impl MeasurementStore for InMemoryStore {
    fn upsert_measurement(&self, measurement: &Measurement) -> Result<u64> {
        let mut inner = self.lock()?;
        upsert_locked(&mut inner, measurement)
    }

    fn upsert_measurements(&self, measurements: &[Measurement]) -> Result<Vec<u64>> {
        let mut inner = self.lock()?;
        // Validate all first so a bad row leaves nothing half-written.
        for m in measurements {
            check_measurement(&inner, m)?;
        }
        measurements
            .iter()
            .map(|m| upsert_locked(&mut inner, m))
            .collect()
    }

    fn measurements(&self, tenant: Option<&str>, assignment_id: u64) -> Result<Vec<Measurement>> {
        let inner = self.lock()?;
        Ok(inner
            .measurements
            .range(
                (assignment_id, NaiveDate::MIN, NaiveDate::MIN, false)
                    ..=(assignment_id, NaiveDate::MAX, NaiveDate::MAX, true),
            )
            .map(|(_, (_, m))| m)
            .filter(|m| same_tenant(tenant, &m.tenant))
            .cloned()
            .collect())
    }
}

impl ManualValueStore for InMemoryStore {
    fn record_manual_value(&self, tenant: Option<&str>, value: &ManualValue) -> Result<()> {
        check_period(value.period_start, value.period_end)?;
        let mut inner = self.lock()?;
        let owner = inner.assignments.get(&value.assignment_id);
        check_owner(
            owner.map(|a| tenant_key(a.tenant.as_deref())),
            tenant,
            value.assignment_id,
        )?;
        inner.manual.insert(
            (
                tenant.map(str::to_owned),
                value.assignment_id,
                value.period_start,
                value.period_end,
            ),
            value.clone(),
        );
        Ok(())
    }

    fn manual_value(
        &self,
        tenant: Option<&str>,
        assignment_id: u64,
        period_start: NaiveDate,
        period_end: NaiveDate,
    ) -> Result<Option<ManualValue>> {
        let inner = self.lock()?;
        Ok(inner
            .manual
            .get(&(
                tenant.map(str::to_owned),
                assignment_id,
                period_start,
                period_end,
            ))
            .cloned())
    }
}

impl RollupStore for InMemoryStore {
    fn merge_rollup(
        &self,
        key: &RollupKey,
        partial_id: &str,
        state: &serde_json::Value,
    ) -> Result<()> {
        let mut inner = self.lock()?;
        inner
            .rollups
            .entry(key.clone())
            .or_default()
            .insert(partial_id.to_owned(), state.clone());
        Ok(())
    }

    fn rollup_partials(&self, key: &RollupKey) -> Result<Vec<(String, serde_json::Value)>> {
        let inner = self.lock()?;
        Ok(inner
            .rollups
            .get(key)
            .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }
}

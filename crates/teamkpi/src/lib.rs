//! # teamkpi
//!
//! The rules of support and call-center team performance, as a pure library: KPI definitions and
//! targets, achievement formulas, weighted scores, per-agent metrics, SLA timing on business
//! calendars and assignment. The core does no I/O and reads no clock — every function that needs
//! the current time takes `now` — so the same inputs give the same outputs on every platform and in
//! every binding (Python, Node).
//!
//! ## Quick start
//!
//! ```
//! use teamkpi::{achievement, overall_score, AchievementPolicy, Direction, WeightedAchievement};
//! use rust_decimal::Decimal;
//!
//! let policy = AchievementPolicy::capped(Decimal::from(120));
//! // The KPI tables' first KPI: average resolution time, lower is better, target 3 h, actual 2 h.
//! let resolution = achievement(Decimal::from(2), Decimal::from(3), Direction::LowerBetter, &policy)?;
//! assert_eq!(resolution, Decimal::from(120)); // 150 %, capped at 120 %
//! let resolved = achievement(Decimal::from(30), Decimal::from(40), Direction::HigherBetter, &policy)?;
//! assert_eq!(resolved, Decimal::from(75));
//! let score = overall_score(&[
//!     WeightedAchievement { weight: Decimal::from(50), achievement: Some(resolution) },
//!     WeightedAchievement { weight: Decimal::from(50), achievement: Some(resolved) },
//! ], &policy)?;
//! assert_eq!(score, Some(Decimal::new(975, 1)));
//! # Ok::<(), teamkpi::Error>(())
//! ```
//!
//! ## Modules
//!
//! - [`kpi`]: definitions, assignments, measurements, manual and external values, units.
//! - [`score`]: achievement, overall score, weights validation, performance score, bands.
//! - [`formula`]: the formula language of formula KPIs.
//! - [`calendar`]: business calendars and business-time arithmetic.
//! - [`sla`]: SLA policies, timeline evaluation, breach scans, SLA analytics.
//! - [`assignment`]: least-busy and round-robin assignment, backlog draining, re-assignment.
//! - [`engine`]: the incremental engine over lifecycle events.
//! - [`live`]: live metrics whose state lives in a store, shared by every process.
//! - [`period`]: days, ISO weeks and months in a time zone; `update_kpis` period helpers.
//! - [`metrics`]: the metric catalogue and mergeable aggregate states.
//! - [`update`]: `update_kpis` and the support desk's AgentKPI.
//! - [`store`]: storage traits and the in-memory store.
//!
//! ## Numbers
//!
//! Targets, weights, achievements and scores are [`rust_decimal::Decimal`]s and exact; rounding to
//! 2 places, half away from zero ([`round2`]), happens only where a value is stored or shown.
//! Durations are integer seconds; instants are `chrono::DateTime<Utc>` truncated to whole seconds.
//!
//! ## Error codes
//!
//! Every [`Error`] has a stable [`Error::code`], carried unchanged by Python exceptions (`.code`)
//! and JavaScript errors (`error.code`). The codes and their meanings are in [`ERROR_TABLE`] (the
//! same table as the README's, generated with `code()` from one list in `error.rs`).
//!
//! A JSON input that does not decode ([`from_json`]) carries the code of the underlying problem
//! (`invalid_choice`, `invalid_number`, …), or `invalid_argument` for a missing or mistyped field.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

// The README's Rust snippets run as doc tests, so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

pub mod assignment;
pub mod calendar;
pub mod catalog;
mod choice;
mod compact;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod engine;
pub mod error;
pub mod fields;
pub mod formula;
mod hashing;
pub mod kpi;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod num;
pub mod period;
pub mod request;
pub mod score;
pub mod settings;
pub mod sla;
pub mod store;
pub mod update;

pub use assignment::{
    priority_rank, AgentState, AgentStatus, Assigner, AssignmentBatch, AssignmentEvent,
    AssignmentPolicy, AssignmentReason, AssignmentSettings, NoAgentReason, OpenItem, RejectedItem,
    StrategyKind, Unassigned, WorkItem,
};
pub use calendar::{BusinessCalendar, CalendarBuilder, CalendarSpec, DeadlineAtClose};
pub use error::{from_json, from_json_ref, Error, EventIssue, Result, ERROR_CODES, ERROR_TABLE};
pub use formula::Formula;
pub use kpi::{
    Direction, ExternalValueProvider, KpiAssignment, KpiDefinition, KpiSource, ManualValue,
    Measurement, NewKpiAssignment, StaticValues, Unit,
};
pub use metrics::{Mergeable, MetricCatalog, MetricInfo};
pub use num::{decimal_from_f64, decimal_from_str, round2};
pub use period::{
    last_full_week, last_month, last_n_days, local_date, local_midnight, parse_date,
    parse_timezone, resolve_local, today, DateRange, Period, PeriodKind, Timestamp,
};
pub use score::{
    achievement, overall_score, performance_score, validate_weights, AchievementPolicy, Band,
    PerformanceInputs, PerformanceWeights, ScoreBands, WeightIssue, WeightedAchievement,
    ZeroTarget,
};
pub use sla::{
    alert_key, sla_analytics, sla_analytics_of, AtRiskThreshold, BreachScan, PriorityTargets,
    RejectedTicket, SlaAlert, SlaAnalytics, SlaEvaluation, SlaGroupBy, SlaPolicy, SlaPolicySpec,
    SlaState, SlaTarget, TargetEvaluation, TicketTimeline, TimelineEvent, TimelineEventKind,
};
pub use store::{
    ActivitySource, AssignmentFilter, AssignmentStore, DefinitionStore, InMemoryStore, KpiStore,
    ManualValueStore, MeasurementStore, RollupKey, RollupStore,
};

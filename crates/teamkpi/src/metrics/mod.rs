//! Metrics from activity: input records, the metric catalogue, mergeable aggregate states,
//! batch computation per agent / team / tenant and period, the call-center dashboard and the
//! analytics shapes of the support automation.

mod aggregate;
pub mod analytics;
mod batch;

mod columnar;
mod dashboard;
mod records;
mod repeats;
mod rows;
mod sketch;

pub use crate::catalog::{MetricCatalog, MetricInfo};
pub(crate) use aggregate::LiteAggregate;
pub use aggregate::{DurationStats, TicketAggregate, WindowDetail};
pub use batch::{
    Bucketing, GroupBy, GroupKey, MetricsOptions, RejectedRecord, TicketMetricsAggregator,
    TicketMetricsReport, TicketMetricsState,
};
pub(crate) use batch::{Contribution, Keyed};
pub use columnar::{
    ticket_metrics_columns, ticket_metrics_columns_parallel, ColumnarAggregator, TicketColumns,
    NULL_INSTANT,
};
pub use dashboard::{
    call_center_dashboard, day_bounds, CallFigures, DashboardRequest, DashboardStats,
};
pub use records::{
    AgentMessage, AgentSession, Call, CallOutcome, Campaign, Contact, ContactReason,
    CustomerMessage, SessionKind, StatusChange, Ticket, TicketKind, Transfer,
};
pub use rows::{rows_of, TicketMetrics};
pub use sketch::{QuantileSketch, SKETCH_RELATIVE_ERROR};

/// A partial aggregate that merges with another of its kind. Merging is associative and
/// commutative, so partials computed on any split of the input, merged in any order, equal one
/// pass over all of it.
pub trait Mergeable {
    /// Folds `other` into `self`.
    fn merge(&mut self, other: &Self);
}

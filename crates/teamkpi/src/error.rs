//! The error type of the core crate and its stable codes.
//!
//! Every variant has a stable, snake_case [`Error::code`]. The Python binding raises an exception
//! whose `.code` is that string and the Node binding throws an `Error` whose `code` is that string,
//! so hosts can branch on codes without parsing messages.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the core crate returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A number was NaN, infinite, or cannot be represented as a decimal.
    #[error("{field}: {value} is not a finite number")]
    InvalidNumber {
        /// The argument or field name.
        field: String,
        /// The offending value as text.
        value: String,
    },
    /// A target was negative.
    #[error("target must not be negative, got {0}")]
    NegativeTarget(String),
    /// A duration was negative.
    #[error("{field}: duration must not be negative, got {value}")]
    NegativeDuration {
        /// The argument or field name.
        field: String,
        /// The offending value as text.
        value: String,
    },
    /// A range ends before it starts.
    #[error("{field}: end {end} is before start {start}")]
    InvalidRange {
        /// The argument or field name.
        field: String,
        /// Start of the range as text.
        start: String,
        /// End of the range as text.
        end: String,
    },
    /// An IANA time zone name was not recognised.
    #[error("unknown time zone {0:?}")]
    UnknownTimezone(String),
    /// A metric name is not in the catalogue.
    #[error("unknown metric {name:?}{}", at_position(*position))]
    UnknownMetric {
        /// The metric name.
        name: String,
        /// Character offset in a formula, when the name came from one.
        position: Option<usize>,
    },
    /// A KPI definition key or id does not exist.
    #[error("unknown KPI definition {0:?}")]
    UnknownDefinition(String),
    /// A KPI assignment id does not exist.
    #[error("unknown KPI assignment {0}")]
    UnknownAssignment(u64),
    /// A weight is outside 0..=100.
    #[error("weight must be between 0 and 100, got {0}")]
    WeightOutOfRange(String),
    /// A rate (fraction) is outside 0..=1.
    #[error("{field}: rate must be a fraction between 0 and 1, got {value}")]
    RateOutOfRange {
        /// The argument or field name.
        field: String,
        /// The offending value as text.
        value: String,
    },
    /// A string is not one of the accepted choices (direction, unit, period, …).
    #[error("{field}: {value:?} is not one of {expected}")]
    InvalidChoice {
        /// The argument or field name.
        field: String,
        /// The offending value.
        value: String,
        /// The accepted spellings.
        expected: String,
    },
    /// A date or time string could not be parsed.
    #[error("{field}: cannot parse {value:?} ({expected})")]
    InvalidDate {
        /// The argument or field name.
        field: String,
        /// The offending value.
        value: String,
        /// The expected format.
        expected: String,
    },
    /// A general invalid argument not covered by a more specific code.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The argument or field name.
        field: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A formula did not parse.
    #[error("formula syntax error at {position}: {message}")]
    FormulaSyntax {
        /// Character offset (0-based) where the problem was found.
        position: usize,
        /// What was expected or found.
        message: String,
    },
    /// A formula mixes numbers and conditions.
    #[error("formula type error at {position}: {message}")]
    FormulaType {
        /// Character offset (0-based) of the offending expression.
        position: usize,
        /// What was expected.
        message: String,
    },
    /// A formula is longer or has more nodes than allowed.
    #[error("formula too large: {0}")]
    FormulaTooLarge(String),
    /// A formula nests deeper than allowed.
    #[error("formula nests deeper than {0} levels")]
    FormulaTooDeep(usize),
    /// Decimal arithmetic overflowed.
    #[error("arithmetic overflow in {0}")]
    ArithmeticOverflow(String),
    /// An active assignment already exists for (agent, definition, start).
    #[error("an active assignment already exists for agent {agent_id}, KPI {definition:?}, start {start}")]
    DuplicateAssignment {
        /// The agent.
        agent_id: u64,
        /// The definition key.
        definition: String,
        /// The start date.
        start: String,
    },
    /// A metric's unit cannot be converted to a KPI definition's unit.
    #[error("cannot convert {from} to {to}")]
    UnitMismatch {
        /// The metric's unit.
        from: String,
        /// The definition's unit.
        to: String,
    },
    /// Score band thresholds are invalid.
    #[error("invalid score bands: {0}")]
    InvalidBands(String),
    /// An achievement policy is inconsistent (e.g. floor above cap).
    #[error("invalid achievement policy: {0}")]
    InvalidPolicy(String),
    /// A JSON (or dict) input did not decode; `code` is the code of the underlying problem
    /// (`invalid_choice` for a bad direction, `invalid_number` for a bad decimal, …) or
    /// `invalid_argument` for a missing or mistyped field.
    #[error("{message}")]
    Decode {
        /// The stable code of the underlying problem.
        code: &'static str,
        /// What did not decode, and where.
        message: String,
    },
    /// A time of day did not parse or is out of range (e.g. `25:00`).
    #[error("{field}: {value:?} is not a time of day (HH:MM or HH:MM:SS, 00:00 to 24:00)")]
    InvalidTime {
        /// The argument or field name.
        field: String,
        /// The offending value.
        value: String,
    },
    /// An interval whose end equals its start.
    #[error("{field}: interval {open}-{close} is empty (use 00:00-24:00 for a whole day)")]
    EmptyInterval {
        /// The day or date.
        field: String,
        /// Opening time.
        open: String,
        /// Closing time.
        close: String,
    },
    /// Two opening intervals overlap.
    #[error("{0}")]
    OverlappingIntervals(String),
    /// A business calendar with no open time in its weekly hours.
    #[error("the calendar is never open: its weekly hours have no interval")]
    CalendarNeverOpen,
    /// An SLA target of zero or below.
    #[error("{field}: an SLA target must be positive, got {value} seconds")]
    InvalidSlaTarget {
        /// Priority and target, e.g. `high.first_response`.
        field: String,
        /// The offending value.
        value: i64,
    },
    /// Timeline events not in time order, or before the ticket's creation.
    #[error("event {index} at {at} is {problem}")]
    EventsOutOfOrder {
        /// Position of the event in the list.
        index: usize,
        /// The event's instant.
        at: String,
        /// What is wrong.
        problem: String,
    },
    /// A record or request of another tenant than the one in scope.
    #[error("tenant mismatch: expected {expected:?}, got {got:?}")]
    TenantMismatch {
        /// The tenant in scope.
        expected: Option<String>,
        /// The tenant found.
        got: Option<String>,
    },
    /// An assigner was given no agents.
    #[error("the agent list is empty")]
    EmptyAgentList,
    /// Two agents with the same id.
    #[error("agent {0} appears twice")]
    DuplicateAgent(u64),
    /// An agent id the assigner does not know.
    #[error("unknown agent {0}")]
    UnknownAgent(u64),
    /// No agent can take an item; `reason` is `nobody_available`, `all_at_capacity`,
    /// `no_skill_match`, `all_excluded` or `auto_assign_disabled`.
    #[error("no eligible agent: {reason}")]
    NoEligibleAgent {
        /// Why.
        reason: String,
    },
    /// An event for a ticket the engine evicted, or dated before its eviction horizon.
    #[error("late event {event_id:?} for ticket {ticket_id}: the ticket was evicted or the event is older than the engine's horizon")]
    LateEvent {
        /// The ticket.
        ticket_id: u64,
        /// The event.
        event_id: String,
    },
    /// An event for a ticket whose creation was not seen (strict engines).
    #[error("unknown ticket {0}: its creation event has not been seen")]
    UnknownTicket(u64),
    /// An instant without a UTC offset (a naive `datetime` in Python, a string without `Z` or an
    /// offset): which instant it means is unknowable, so it is refused rather than guessed.
    #[error("{field}: naive datetime {value:?} has no time zone; pass an aware one")]
    NaiveDatetime {
        /// The argument or field name.
        field: String,
        /// The value as text.
        value: String,
    },
    /// A storage backend failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// Events of a batch that do not decode or validate: nothing of the batch was applied.
    #[error("{} bad event(s), nothing applied: {}", errors.len(), describe_issues(errors))]
    InvalidEvents {
        /// Each bad event: its index in the batch, its code and why.
        errors: Vec<EventIssue>,
    },
    /// Stored state built with other settings (zone, calendar, SLA policy, quantiles) or by
    /// another version: it cannot be combined with the settings in use without a rebuild.
    #[error("incompatible state: {0}")]
    IncompatibleState(String),
    /// A value beyond the documented limits (a year outside 1000–9000, a range too long).
    #[error("{field}: {reason}")]
    OutOfRange {
        /// The argument or field name.
        field: String,
        /// What the limit is.
        reason: String,
    },
    /// A bug caught at a language boundary (a panic in the library): the call fails with this
    /// error and the object it was called on stays usable.
    #[error("internal error (a bug in teamkpi; please report it): {0}")]
    Internal(String),
    /// A value of the wrong type from a host language (a string where a number is expected).
    #[error("{field}: expected {expected}, got {got}")]
    InvalidType {
        /// The argument or field name.
        field: String,
        /// The accepted type(s).
        expected: String,
        /// The type given.
        got: String,
    },
    /// A second record with the same id in one batch: the first copy counts, this one is
    /// reported.
    #[error("{what} {id} appears more than once in the batch; the first copy counts")]
    DuplicateRecord {
        /// The kind of record.
        what: String,
        /// Its id.
        id: u64,
    },
}

/// One bad event of a batch ([`Error::InvalidEvents`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventIssue {
    /// The event's position in the batch (0-based).
    pub index: usize,
    /// The stable code of the problem.
    pub code: String,
    /// Why.
    pub message: String,
}

impl EventIssue {
    /// The issue of the event at `index` failing with `error`.
    pub fn of(index: usize, error: &Error) -> Self {
        EventIssue {
            index,
            code: error.code().to_owned(),
            message: error.to_string(),
        }
    }
}

fn describe_issues(errors: &[EventIssue]) -> String {
    let mut shown: Vec<String> = errors
        .iter()
        .take(5)
        .map(|e| format!("#{} {}: {}", e.index, e.code, e.message))
        .collect();
    if errors.len() > 5 {
        shown.push(format!("and {} more", errors.len() - 5));
    }
    shown.join("; ")
}

fn at_position(position: Option<usize>) -> String {
    match position {
        Some(p) => format!(" at {p}"),
        None => String::new(),
    }
}

impl Error {
    /// The stable machine-readable code of this error.
    ///
    /// Codes never change between releases; bindings expose them unchanged.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidNumber { .. } => "invalid_number",
            Error::NegativeTarget(_) => "negative_target",
            Error::NegativeDuration { .. } => "negative_duration",
            Error::InvalidRange { .. } => "invalid_range",
            Error::UnknownTimezone(_) => "unknown_timezone",
            Error::UnknownMetric { .. } => "unknown_metric",
            Error::UnknownDefinition(_) => "unknown_definition",
            Error::UnknownAssignment(_) => "unknown_assignment",
            Error::WeightOutOfRange(_) => "weight_out_of_range",
            Error::RateOutOfRange { .. } => "rate_out_of_range",
            Error::InvalidChoice { .. } => "invalid_choice",
            Error::InvalidDate { .. } => "invalid_date",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::FormulaSyntax { .. } => "formula_syntax",
            Error::FormulaType { .. } => "formula_type",
            Error::FormulaTooLarge(_) => "formula_too_large",
            Error::FormulaTooDeep(_) => "formula_too_deep",
            Error::ArithmeticOverflow(_) => "arithmetic_overflow",
            Error::DuplicateAssignment { .. } => "duplicate_assignment",
            Error::UnitMismatch { .. } => "unit_mismatch",
            Error::InvalidBands(_) => "invalid_bands",
            Error::InvalidPolicy(_) => "invalid_policy",
            Error::Decode { code, .. } => code,
            Error::InvalidTime { .. } => "invalid_time",
            Error::EmptyInterval { .. } => "empty_interval",
            Error::OverlappingIntervals(_) => "overlapping_intervals",
            Error::CalendarNeverOpen => "calendar_never_open",
            Error::InvalidSlaTarget { .. } => "invalid_sla_target",
            Error::EventsOutOfOrder { .. } => "events_out_of_order",
            Error::TenantMismatch { .. } => "tenant_mismatch",
            Error::EmptyAgentList => "empty_agent_list",
            Error::DuplicateAgent(_) => "duplicate_agent",
            Error::UnknownAgent(_) => "unknown_agent",
            Error::NoEligibleAgent { .. } => "no_eligible_agent",
            Error::LateEvent { .. } => "late_event",
            Error::UnknownTicket(_) => "unknown_ticket",
            Error::NaiveDatetime { .. } => "naive_datetime",
            Error::Storage(_) => "storage",
            Error::InvalidEvents { .. } => "invalid_events",
            Error::IncompatibleState(_) => "incompatible_state",
            Error::OutOfRange { .. } => "out_of_range",
            Error::DuplicateRecord { .. } => "duplicate_record",
            Error::Internal(_) => "internal",
            Error::InvalidType { .. } => "invalid_type",
        }
    }

    /// True when the error was caused by the caller's input (bindings map these to `ValueError`).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, Error::Storage(_) | Error::ArithmeticOverflow(_))
    }

    pub(crate) fn choice(field: &str, value: &str, expected: &str) -> Self {
        Error::InvalidChoice {
            field: field.to_owned(),
            value: value.to_owned(),
            expected: expected.to_owned(),
        }
    }

    pub(crate) fn range(field: &str, start: impl fmt::Display, end: impl fmt::Display) -> Self {
        Error::InvalidRange {
            field: field.to_owned(),
            start: start.to_string(),
            end: end.to_string(),
        }
    }

    /// An `invalid_argument` error for `field`.
    pub fn argument_error(field: &str, reason: impl Into<String>) -> Self {
        Self::argument(field, reason)
    }

    pub(crate) fn argument(field: &str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// An error whose text starts with its code. Serde keeps only an error's text; [`from_json`]
/// reads the code back from it.
#[derive(Debug)]
pub struct Coded(pub Error);

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code(), self.0)
    }
}

/// Decodes a JSON value into a teamkpi input type (definition, assignment, policy, …), keeping the
/// stable code of whatever did not decode.
///
/// ```
/// let bad = serde_json::json!({"key": "k", "name": "K", "unit": "count", "direction": "up",
///                              "period": "weekly", "source": {"type": "manual"}});
/// let e = teamkpi::from_json::<teamkpi::KpiDefinition>(bad).unwrap_err();
/// assert_eq!(e.code(), "invalid_choice");
/// ```
pub fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| {
        let message = e.to_string();
        let code = ERROR_CODES
            .iter()
            .find(|c| {
                message
                    .strip_prefix(**c)
                    .is_some_and(|rest| rest.starts_with(": "))
            })
            .copied()
            .unwrap_or_else(|| serde_code(&message));
        Error::Decode { code, message }
    })
}

/// The code of serde's own message for a number that does not fit an integer field: a fraction
/// (or NaN) is `invalid_number`, a negative or too large integer `out_of_range`; any other
/// problem `invalid_argument`.
fn serde_code(message: &str) -> &'static str {
    const INTEGERS: [&str; 10] = [
        "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize",
    ];
    let expects_integer = message
        .split("expected ")
        .nth(1)
        .is_some_and(|rest| INTEGERS.iter().any(|t| rest.starts_with(t)));
    if !expects_integer {
        "invalid_argument"
    } else if message.starts_with("invalid type: floating point") {
        "invalid_number"
    } else if message.starts_with("invalid value: integer") {
        "out_of_range"
    } else {
        "invalid_argument"
    }
}

/// Every code [`Error::code`] can return, in the order of the table in the crate docs.
pub const ERROR_CODES: &[&str] = &[
    "invalid_number",
    "negative_target",
    "negative_duration",
    "invalid_range",
    "unknown_timezone",
    "unknown_metric",
    "unknown_definition",
    "unknown_assignment",
    "weight_out_of_range",
    "rate_out_of_range",
    "invalid_choice",
    "invalid_date",
    "invalid_argument",
    "formula_syntax",
    "formula_type",
    "formula_too_large",
    "formula_too_deep",
    "arithmetic_overflow",
    "duplicate_assignment",
    "unit_mismatch",
    "invalid_bands",
    "invalid_policy",
    "invalid_time",
    "empty_interval",
    "overlapping_intervals",
    "calendar_never_open",
    "invalid_sla_target",
    "events_out_of_order",
    "tenant_mismatch",
    "empty_agent_list",
    "duplicate_agent",
    "unknown_agent",
    "no_eligible_agent",
    "late_event",
    "unknown_ticket",
    "naive_datetime",
    "storage",
    "invalid_events",
    "incompatible_state",
    "out_of_range",
    "duplicate_record",
    "internal",
    "invalid_type",
];

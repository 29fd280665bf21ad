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
    /// The `internal` error for a panic caught at a language boundary, with the panic's text.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        Error::Internal(message)
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
    serde_json::from_value(value).map_err(decode_error)
}

/// [`from_json`] without taking the value: options read out of a larger object (the rest of
/// it is skipped, not copied).
pub fn from_json_ref<'a, T: serde::Deserialize<'a>>(value: &'a serde_json::Value) -> Result<T> {
    T::deserialize(value).map_err(decode_error)
}

fn decode_error(e: serde_json::Error) -> Error {
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

/// One table of codes: each variant's stable code and what it means. It generates
/// [`Error::code`], [`ERROR_CODES`] and [`ERROR_TABLE`] (the table the crate docs and the README
/// show), so the three cannot drift.
macro_rules! error_table {
    ($($variant:ident => $code:literal: $meaning:literal,)*) => {
        impl Error {
            /// The stable machine-readable code of this error.
            ///
            /// Codes never change between releases; bindings expose them unchanged.
            pub fn code(&self) -> &'static str {
                match self {
                    // A JSON input that did not decode keeps the code of its underlying problem.
                    Error::Decode { code, .. } => code,
                    $(Error::$variant { .. } => $code,)*
                }
            }
        }

        /// Every code [`Error::code`] can return, in the order of [`ERROR_TABLE`].
        pub const ERROR_CODES: &[&str] = &[$($code),*];

        #[doc = concat!(
            "Every code with what it means:\n\n| code | meaning |\n|---|---|\n",
            $("| `", $code, "` | ", $meaning, " |\n",)*
        )]
        pub const ERROR_TABLE: &[(&str, &str)] = &[$(($code, $meaning)),*];
    };
}

error_table! {
    InvalidNumber => "invalid_number": "NaN, infinity, or a number beyond the decimal range",
    NegativeTarget => "negative_target": "a target below 0",
    NegativeDuration => "negative_duration": "a duration below 0",
    InvalidRange => "invalid_range": "an end before its start",
    UnknownTimezone => "unknown_timezone": "not an IANA time zone name",
    UnknownMetric => "unknown_metric": "a metric name not in the catalogue (with its position in a formula)",
    UnknownDefinition => "unknown_definition": "no KPI definition with that key in the tenant",
    UnknownAssignment => "unknown_assignment": "no KPI assignment with that id in the tenant",
    WeightOutOfRange => "weight_out_of_range": "a weight outside 0–100",
    RateOutOfRange => "rate_out_of_range": "a rate (fraction) outside 0–1",
    InvalidChoice => "invalid_choice": "a string that is not one of the accepted choices (direction, unit, …)",
    InvalidDate => "invalid_date": "a date that does not parse as `YYYY-MM-DD`",
    InvalidArgument => "invalid_argument": "any other invalid argument (empty key, zero days, …)",
    FormulaSyntax => "formula_syntax": "a formula that does not parse (with position)",
    FormulaType => "formula_type": "a number where a condition is needed, or the reverse (with position)",
    FormulaTooLarge => "formula_too_large": "a formula over 4 096 characters or 256 nodes",
    FormulaTooDeep => "formula_too_deep": "a formula nested over 32 levels",
    ArithmeticOverflow => "arithmetic_overflow": "decimal arithmetic beyond its range",
    DuplicateAssignment => "duplicate_assignment": "a second active assignment for (agent, KPI, start)",
    UnitMismatch => "unit_mismatch": "a metric unit that does not convert to the KPI's unit",
    InvalidBands => "invalid_bands": "score band thresholds repeated, or none",
    InvalidPolicy => "invalid_policy": "an achievement floor above its cap",
    InvalidTime => "invalid_time": "a time of day that does not parse or is out of range (`25:00`)",
    EmptyInterval => "empty_interval": "an opening interval whose end equals its start",
    OverlappingIntervals => "overlapping_intervals": "opening intervals that overlap",
    CalendarNeverOpen => "calendar_never_open": "a business calendar with no weekly open time",
    InvalidSlaTarget => "invalid_sla_target": "an SLA target of zero or below",
    EventsOutOfOrder => "events_out_of_order": "timeline events not in time order, or before creation",
    TenantMismatch => "tenant_mismatch": "a record of another tenant than the one in scope",
    EmptyAgentList => "empty_agent_list": "an assigner without agents",
    DuplicateAgent => "duplicate_agent": "two agents with the same id",
    UnknownAgent => "unknown_agent": "an agent id the assigner does not know",
    NoEligibleAgent => "no_eligible_agent": "nobody can take an item (with the reason)",
    LateEvent => "late_event": "an event for an evicted ticket, or older than the engine's horizon",
    UnknownTicket => "unknown_ticket": "an event for a ticket whose creation was not seen (strict engines)",
    NaiveDatetime => "naive_datetime": "an instant without a UTC offset (a naive Python `datetime`)",
    Storage => "storage": "a storage backend failed",
    InvalidEvents => "invalid_events": "a batch with events that do not decode or validate (each one's index and code listed); nothing applied",
    IncompatibleState => "incompatible_state": "stored live state built with other settings (zone, calendar, SLA policy) or by another version",
    OutOfRange => "out_of_range": "a value beyond the documented limits (an instant outside the years 1000–9000)",
    DuplicateRecord => "duplicate_record": "a second record with the same id in one batch (the first copy counts; the others are reported)",
    Internal => "internal": "a bug caught at a language boundary (a panic): the call fails, the object stays usable",
    InvalidType => "invalid_type": "a host value of the wrong type (Python `InvalidTypeError`, also a `TypeError`)",
}

//! What the snake_case keys of result objects hold, for bindings that turn results into their
//! language's types: Python makes `date`, `datetime` and `Decimal` of them, Node makes `Date`s of
//! instants and rounds decimals to 2 places for display. One list, so the bindings agree.

/// Keys whose string values are local dates (`YYYY-MM-DD`).
pub fn is_date_key(key: &str) -> bool {
    matches!(
        key,
        "date"
            | "day"
            | "kpi_date"
            | "period_start"
            | "period_end"
            | "valid_from"
            | "valid_to"
            | "week_start"
            | "week_end"
            | "holidays"
            | "start_date"
            | "end_date"
    )
}

/// Keys whose string values are instants (RFC 3339, UTC).
pub fn is_instant_key(key: &str) -> bool {
    key.ends_with("_at") || matches!(key, "at" | "now" | "as_of")
}

/// Keys that hold a date or an instant depending on the record (`start`, `end`): the text tells.
pub fn is_date_or_instant_key(key: &str) -> bool {
    matches!(key, "start" | "end")
}

/// Keys whose numbers are decimals in the core (targets, weights, achievements, scores, rates,
/// averages): exact `Decimal`s in Python, numbers rounded to 2 places in Node.
pub fn is_decimal_key(key: &str) -> bool {
    key.ends_with("_percent")
        || key.ends_with("_rate")
        || key.ends_with("_hours")
        || key.starts_with("avg_")
        || key.starts_with("average_")
        || matches!(
            key,
            "weight"
                | "target"
                | "actual"
                | "value"
                | "achievement"
                | "total"
                | "cap"
                | "floor"
                | "min"
                | "score"
                | "overall_kpi_score"
                | "performance_score"
                | "sla_compliance"
                | "response"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_the_main_results() {
        assert!(is_date_key("period_start") && is_date_key("kpi_date"));
        assert!(is_instant_key("created_at") && is_instant_key("due_at") && is_instant_key("at"));
        assert!(
            is_decimal_key("resolution_rate_percent") && is_decimal_key("avg_resolution_seconds")
        );
        assert!(is_decimal_key("overall_kpi_score") && is_decimal_key("sla_compliance_rate"));
        assert!(
            !is_decimal_key("tickets_assigned") && !is_decimal_key("first_response_seconds_sum")
        );
        assert!(is_date_or_instant_key("start") && !is_date_key("start"));
    }
}

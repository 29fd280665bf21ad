//! Tickets read from the host's own tables ([`ActivityTables`]): the tickets table under its
//! column names and, optionally, a table of status changes and one of customer messages, so
//! that SLA pauses and next-response cycles take effect on the host's data.

use chrono::NaiveDateTime;
use postgres::Client;
use std::collections::HashMap;
use teamkpi::metrics::{CustomerMessage, StatusChange, Ticket};
use teamkpi::Timestamp;

use crate::{corrupt, pg, Result};

/// Where activity lives in the host's database, and under which column names.
///
/// Instants are read as `TIMESTAMP` in UTC (a `TIMESTAMPTZ` column is cast in the session's
/// zone, UTC unless the server says otherwise).
///
/// ```
/// use teamkpi_postgres::{ActivityTables, StatusHistoryTable};
/// let tables = ActivityTables {
///     status_history: Some(StatusHistoryTable {
///         table: "support_case_status_changes".into(),
///         ticket: "case_id".into(),
///         status: "status".into(),
///         at: "changed_at".into(),
///     }),
///     ..ActivityTables::support_cases()
/// };
/// assert_eq!(tables.tickets, "support_cases");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTables {
    /// The tickets table (e.g. `support_cases`).
    pub tickets: String,
    /// Id column.
    pub id: String,
    /// Assignee column (the KPI tables' `assigned_to`).
    pub agent: String,
    /// Creation column.
    pub created_at: String,
    /// Resolution column.
    pub resolved_at: String,
    /// First-response column, if the table has one.
    pub first_response_at: Option<String>,
    /// Priority column, if any.
    pub priority: Option<String>,
    /// Status column, if any.
    pub status: Option<String>,
    /// Only rows with this status count as resolved (the KPI tables' `status = 'resolved'`).
    pub resolved_status: Option<String>,
    /// Tenant column, if the table holds several companies.
    pub tenant: Option<String>,
    /// The tickets' status changes, if the host records them: each ticket's
    /// `status_history` (pause statuses stop the SLA clocks and leave the time out of the active
    /// resolution time).
    pub status_history: Option<StatusHistoryTable>,
    /// The customers' messages, if the host records them: each ticket's `customer_messages`
    /// (each opens a next-response cycle after an agent's reply).
    pub customer_messages: Option<CustomerMessagesTable>,
}

/// A host table of ticket status changes: one row per change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusHistoryTable {
    /// The table (e.g. `support_case_status_changes`).
    pub table: String,
    /// The column holding the ticket's id.
    pub ticket: String,
    /// The column holding the status entered.
    pub status: String,
    /// The column holding when it was entered.
    pub at: String,
}

/// A host table of messages from customers: one row per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerMessagesTable {
    /// The table (e.g. `support_case_messages`, filtered by `filter`).
    pub table: String,
    /// The column holding the ticket's id.
    pub ticket: String,
    /// The column holding when the message arrived.
    pub at: String,
    /// A boolean column true for the customer's messages, when the table holds the agents'
    /// messages too (e.g. `from_customer`); `None`: every row is the customer's.
    pub filter: Option<String>,
}

impl ActivityTables {
    /// The KPI tables' `support_cases` (`assigned_to`, `status`, `created_at`, `resolved_at`).
    pub fn support_cases() -> Self {
        ActivityTables {
            tickets: "support_cases".into(),
            id: "id".into(),
            agent: "assigned_to".into(),
            created_at: "created_at".into(),
            resolved_at: "resolved_at".into(),
            first_response_at: None,
            priority: None,
            status: Some("status".into()),
            resolved_status: Some("resolved".into()),
            tenant: None,
            status_history: None,
            customer_messages: None,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let h = self.status_history.as_ref();
        let m = self.customer_messages.as_ref();
        let names = [
            Some(&self.tickets),
            Some(&self.id),
            Some(&self.agent),
            Some(&self.created_at),
            Some(&self.resolved_at),
            self.first_response_at.as_ref(),
            self.priority.as_ref(),
            self.status.as_ref(),
            self.tenant.as_ref(),
            h.map(|h| &h.table),
            h.map(|h| &h.ticket),
            h.map(|h| &h.status),
            h.map(|h| &h.at),
            m.map(|m| &m.table),
            m.map(|m| &m.ticket),
            m.map(|m| &m.at),
            m.and_then(|m| m.filter.as_ref()),
        ];
        for n in names.into_iter().flatten() {
            let ok = !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !ok {
                return Err(teamkpi::Error::argument_error(
                    "activity tables",
                    format!("{n:?} is not a plain identifier"),
                )
                .into());
            }
        }
        Ok(())
    }
}

/// The tickets of the host's tables with activity in `[from, to)`, with their status changes
/// and customer messages when the mapping names those tables.
pub(crate) fn host_tickets(
    c: &mut Client,
    a: &ActivityTables,
    tenant: Option<&str>,
    from: Timestamp,
    to: Timestamp,
) -> teamkpi::Result<Vec<Ticket>> {
    let col = |c: &Option<String>| c.clone().unwrap_or_else(|| "NULL".into());
    // Column names are checked identifiers (ActivityTables::validate); values are bound.
    let sql = format!(
        "SELECT {id}::BIGINT, {agent}::BIGINT, {created}::TIMESTAMP, {resolved}::TIMESTAMP,
                {fr}::TIMESTAMP, {prio}::TEXT, {status}::TEXT
         FROM {table}
         WHERE {created} < $2 AND ({created} >= $1 OR {resolved} >= $1 {fr_clause})
           AND ($3::TEXT IS NULL OR {tenant_col}::TEXT = $3)
         ORDER BY {id}",
        id = a.id,
        agent = a.agent,
        created = a.created_at,
        resolved = a.resolved_at,
        fr = col(&a.first_response_at),
        prio = col(&a.priority),
        status = col(&a.status),
        table = a.tickets,
        fr_clause = a
            .first_response_at
            .as_ref()
            .map(|f| format!("OR {f} >= $1"))
            .unwrap_or_default(),
        tenant_col = a.tenant.clone().unwrap_or_else(|| "NULL".into()),
    );
    let tenant_param: Option<String> = match (&a.tenant, tenant) {
        (Some(_), Some(t)) => Some(t.to_owned()),
        _ => None,
    };
    let rows = c
        .query(&sql, &[&from.naive_utc(), &to.naive_utc(), &tenant_param])
        .map_err(pg)?;
    let mut out = Vec::new();
    for r in &rows {
        let status: Option<String> = r.get(6);
        let resolved_ok = match (&a.resolved_status, &status) {
            (Some(want), Some(s)) => want == s,
            (Some(_), None) => false,
            (None, _) => true,
        };
        let at = |i: usize| r.get::<_, Option<NaiveDateTime>>(i).map(|d| d.and_utc());
        let created = at(2).ok_or_else(|| corrupt("tickets", "created_at is null"))?;
        out.push(Ticket {
            tenant: tenant.map(str::to_owned),
            id: r.get::<_, i64>(0) as u64,
            agent_id: r.get::<_, Option<i64>>(1).map(|x| x as u64),
            created_at: created,
            resolved_at: at(3).filter(|_| resolved_ok),
            first_response_at: at(4),
            priority: r.get(5),
            status,
            ..Ticket::default()
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = out.iter().map(|t| t.id as i64).collect();
    let index: HashMap<u64, usize> = out.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    if let Some(h) = &a.status_history {
        // In time order per ticket; the status text orders changes at one instant, so that
        // the same rows always give the same history.
        let sql = format!(
            "SELECT {ticket}::BIGINT, {status}::TEXT, {at}::TIMESTAMP FROM {table}
             WHERE {ticket} = ANY($1::BIGINT[]) AND {at} IS NOT NULL ORDER BY 1, 3, 2",
            ticket = h.ticket,
            status = h.status,
            at = h.at,
            table = h.table,
        );
        for r in c.query(&sql, &[&ids]).map_err(pg)? {
            let (ticket, status): (i64, Option<String>) = (r.get(0), r.get(1));
            let Some(status) = status else { continue };
            if let Some(&i) = index.get(&(ticket as u64)) {
                out[i].status_history.push(StatusChange {
                    at: r.get::<_, NaiveDateTime>(2).and_utc(),
                    status,
                    id: None,
                });
            }
        }
    }
    if let Some(m) = &a.customer_messages {
        let sql = format!(
            "SELECT {ticket}::BIGINT, {at}::TIMESTAMP FROM {table}
             WHERE {ticket} = ANY($1::BIGINT[]) AND {at} IS NOT NULL {filter} ORDER BY 1, 2",
            ticket = m.ticket,
            at = m.at,
            table = m.table,
            filter = m
                .filter
                .as_ref()
                .map(|f| format!("AND {f}"))
                .unwrap_or_default(),
        );
        for r in c.query(&sql, &[&ids]).map_err(pg)? {
            if let Some(&i) = index.get(&(r.get::<_, i64>(0) as u64)) {
                out[i].customer_messages.push(CustomerMessage {
                    at: r.get::<_, NaiveDateTime>(1).and_utc(),
                    id: None,
                });
            }
        }
    }
    Ok(out)
}

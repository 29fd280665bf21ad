//! `teamkpi import`: tickets, calls or sessions from CSV or JSON Lines. Every row is checked
//! first; if any is rejected, the report lists them (line, reason) and nothing is imported.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::path::Path;

use teamkpi::metrics::{AgentSession, Call, Ticket};

use crate::{CliResult, Ctx, Failure};

/// Columns whose CSV cells are numbers.
const NUMERIC: &[&str] = &[
    "id",
    "agent_id",
    "duration_seconds",
    "duration",
    "contact_id",
    "campaign_id",
];

fn rows(path: &Path) -> CliResult<Vec<(usize, Value)>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            "invalid_argument",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    match ext.as_str() {
        "jsonl" | "ndjson" | "json" => {
            let mut out = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| Value::String(format!("line is not JSON: {e}")));
                out.push((i + 1, v));
            }
            Ok(out)
        }
        "csv" => {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let headers = reader
                .headers()
                .map_err(|e| Failure::new("invalid_argument", format!("bad CSV header: {e}")))?
                .clone();
            let mut out = Vec::new();
            for (i, rec) in reader.records().enumerate() {
                let line = i + 2;
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        out.push((line, Value::String(format!("bad CSV row: {e}"))));
                        continue;
                    }
                };
                let mut obj = Map::new();
                for (h, cell) in headers.iter().zip(rec.iter()) {
                    let cell = cell.trim();
                    if cell.is_empty() {
                        continue;
                    }
                    let v = if NUMERIC.contains(&h) {
                        cell.parse::<i64>()
                            .map(Value::from)
                            .unwrap_or_else(|_| Value::String(cell.to_owned()))
                    } else {
                        Value::String(cell.to_owned())
                    };
                    obj.insert(h.to_owned(), v);
                }
                out.push((line, Value::Object(obj)));
            }
            Ok(out)
        }
        other => Err(Failure::new(
            "invalid_argument",
            format!("unknown file type {other:?}: use .csv, .jsonl or .ndjson"),
        )),
    }
}

/// Decoded rows, rows refused (line, reason), and later copies of an id already seen (line,
/// reason: `duplicate_record` — the first copy counts).
type Decoded<T> = (Vec<T>, Lines, Lines);

/// Line numbers with a reason.
type Lines = Vec<(usize, String)>;

/// What the importer needs of a record kind.
trait Row: DeserializeOwned {
    fn tenant(&self) -> &Option<String>;
    fn validate(&self) -> teamkpi::Result<()>;
    /// The id repeated rows are recognised by, if the kind has one.
    fn id(&self) -> Option<u64>;
}

macro_rules! row {
    ($t:ty, $id:expr) => {
        impl Row for $t {
            fn tenant(&self) -> &Option<String> {
                &self.tenant
            }
            fn validate(&self) -> teamkpi::Result<()> {
                <$t>::validate(self)
            }
            fn id(&self) -> Option<u64> {
                $id(self)
            }
        }
    };
}

row!(Ticket, |t: &Ticket| Some(t.id));
row!(Call, |c: &Call| Some(c.id));
row!(AgentSession, |_: &AgentSession| None);

/// An instant column holding a date and time without a UTC offset (`2025-11-10T09:00:00`):
/// `naive_datetime`, naming the column, instead of the parser's "premature end of input".
fn naive_instant(v: &Value) -> Option<teamkpi::Error> {
    let Value::Object(m) = v else { return None };
    m.iter().find_map(|(key, value)| {
        let instant =
            teamkpi::fields::is_instant_key(key) || teamkpi::fields::is_date_or_instant_key(key);
        let text = value.as_str().filter(|_| instant)?;
        let naive = chrono::DateTime::parse_from_rfc3339(text).is_err()
            && ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"]
                .iter()
                .any(|f| chrono::NaiveDateTime::parse_from_str(text, f).is_ok());
        naive.then(|| teamkpi::Error::NaiveDatetime {
            field: key.clone(),
            value: text.to_owned(),
        })
    })
}

fn decode<T: Row>(rows: Vec<(usize, Value)>, tenant: Option<&str>) -> Decoded<T> {
    let check = |r: &T| {
        if r.tenant().as_deref() != tenant {
            return Err(teamkpi::Error::TenantMismatch {
                expected: tenant.map(str::to_owned),
                got: r.tenant().clone(),
            });
        }
        r.validate()
    };
    let mut ok = Vec::new();
    let mut rejected = Vec::new();
    let mut duplicates = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (line, mut v) in rows {
        if let Value::String(reason) = v {
            rejected.push((line, reason));
            continue;
        }
        if let (Some(t), Value::Object(m)) = (tenant, &mut v) {
            m.entry("tenant")
                .or_insert_with(|| Value::String(t.to_owned()));
        }
        let decoded = naive_instant(&v).map_or_else(|| teamkpi::from_json::<T>(v), Err);
        match decoded.and_then(|r| check(&r).map(|()| r)) {
            Ok(r) => match r.id() {
                Some(i) if !seen.insert(i) => {
                    let e = teamkpi::Error::DuplicateRecord {
                        what: "row".into(),
                        id: i,
                    };
                    duplicates.push((line, format!("[{}] {e}", e.code())));
                }
                _ => ok.push(r),
            },
            Err(e) => rejected.push((line, format!("[{}] {e}", e.code()))),
        }
    }
    (ok, rejected, duplicates)
}

/// Imports one file.
pub fn run(ctx: &Ctx, kind: &str, file: &Path) -> CliResult {
    let rows = rows(file)?;
    let total = rows.len();
    let tenant = ctx.tenant();
    // Nothing is written unless every row decodes and validates.
    fn all_or_nothing<T: Row>(
        rows: Vec<(usize, Value)>,
        tenant: Option<&str>,
        write: impl FnOnce(&[T]) -> teamkpi::Result<usize>,
    ) -> CliResult<(usize, Lines, Lines)> {
        let (ok, rej, dup) = decode::<T>(rows, tenant);
        if rej.is_empty() {
            write(&ok)?;
        }
        Ok((ok.len(), rej, dup))
    }
    // Rows are checked, then written in one transaction: a spinner while that runs.
    let bar = crate::working(&format!("importing {total} {kind}"));
    let imported = match kind {
        "tickets" => all_or_nothing(rows, tenant, |x| ctx.store.put_tickets(x)),
        "calls" => all_or_nothing(rows, tenant, |x| ctx.store.put_calls(x)),
        _ => all_or_nothing(rows, tenant, |x| ctx.store.put_sessions(x)),
    };
    bar.finish_and_clear();
    let (count, rejected, duplicates) = imported?;
    if !rejected.is_empty() {
        for (line, reason) in &rejected {
            eprintln!("line {line}: {reason}");
        }
        return Err(Failure::new(
            "invalid_argument",
            format!(
                "{} of {total} rows rejected; nothing imported from {}",
                rejected.len(),
                file.display()
            ),
        ));
    }
    for (line, reason) in &duplicates {
        eprintln!("line {line}: {reason}");
    }
    if duplicates.is_empty() {
        out!("imported {count} {kind} from {}", file.display());
    } else {
        out!(
            "imported {count} {kind} from {} ({} repeated rows skipped: the first copy counts)",
            file.display(),
            duplicates.len()
        );
    }
    Ok(())
}

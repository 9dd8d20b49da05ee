//! `ketaudit search --index DIR [QUERY] [filters]`.

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use ketaudit::index::query::{Filters, GroupBy, Hit, NoteSearcher, SearchError, SortBy};
use ketaudit::index::IndexError;
use serde::Serialize;

use super::{CmdResult, EXIT_INDEX, EXIT_INPUT, EXIT_OK, EXIT_USAGE};

/// Output format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for the terminal.
    Table,
    /// One JSON object per line.
    Json,
    /// CSV with a header row (a worklist).
    Csv,
}

/// Arguments of `ketaudit search`.
#[derive(Args)]
pub struct SearchArgs {
    /// Query over the note text, tantivy syntax: words (all required unless
    /// OR is written), "exact phrases", AND/OR/NOT, +word/-word, field:value.
    #[arg(value_name = "QUERY")]
    query: Option<String>,
    /// Index folder written by `ketaudit scan` (OUT/index by default there).
    #[arg(long, value_name = "DIR")]
    index: PathBuf,
    /// Only encounters where this rule fired (repeatable: all of them fired).
    #[arg(long = "rule", value_name = "ID")]
    rules: Vec<String>,
    /// Only encounters where this rule did not fire (repeatable).
    #[arg(long = "no-rule", value_name = "ID")]
    no_rules: Vec<String>,
    /// Risk level low|medium|high|critical (repeatable: any of them).
    #[arg(long = "risk-level", value_name = "LEVEL")]
    risk_levels: Vec<String>,
    /// Risk score at least N (0-100).
    #[arg(long, value_name = "N")]
    min_risk: Option<f64>,
    /// Payer, canonical name or alias, any letter case (repeatable: any of them).
    #[arg(long = "payer", value_name = "PAYER")]
    payers: Vec<String>,
    /// Track esketamine|iv_ketamine|oral_ketamine|none (repeatable: any of them).
    #[arg(long = "track", value_name = "TRACK")]
    tracks: Vec<String>,
    /// Provider id (repeatable: any of them).
    #[arg(long = "provider", value_name = "ID")]
    providers: Vec<String>,
    /// Note type (repeatable: any of them).
    #[arg(long = "note-type", value_name = "TYPE")]
    note_types: Vec<String>,
    /// Date of service on or after (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    from: Option<NaiveDate>,
    /// Date of service on or before (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    to: Option<NaiveDate>,
    /// Most notes to list.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    limit: u64,
    /// Order of the listed notes (default: relevance with a query, else risk).
    #[arg(long, value_enum)]
    sort: Option<SortBy>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Leave note text out of the output entirely (minimum-necessary exports).
    #[arg(long)]
    no_snippets: bool,
    /// Longest snippet in characters (at most 400).
    #[arg(long, default_value_t = 160, value_parser = clap::value_parser!(u64).range(20..=400))]
    snippet_chars: u64,
    /// Print only the number of matching notes and encounters.
    #[arg(long, conflicts_with = "group_by")]
    count: bool,
    /// Print the number of matching notes and encounters per group.
    #[arg(long, value_enum)]
    group_by: Option<GroupBy>,
    /// Threads for searching (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| format!("'{s}' is not a date (YYYY-MM-DD)"))
}

#[derive(Serialize)]
struct JsonHit<'a> {
    note_id: &'a str,
    encounter_id: &'a str,
    date_of_service: Option<String>,
    payer: Option<&'a str>,
    track: &'a str,
    risk_score: f64,
    risk_level: &'a str,
    rules: &'a [String],
    score: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<&'a str>,
}

fn index_err(e: IndexError) -> (i32, String) {
    let code = match e {
        IndexError::Missing(_) => EXIT_INPUT,
        _ => EXIT_INDEX,
    };
    (code, e.to_string())
}

fn search_err(e: SearchError) -> (i32, String) {
    match e {
        SearchError::Index(e) => index_err(e),
        e => (EXIT_USAGE, e.to_string()),
    }
}

fn io_err(e: std::io::Error) -> (i32, String) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return (EXIT_OK, String::new());
    }
    (super::EXIT_INTERNAL, format!("writing output: {e}"))
}

/// Run.
pub fn run(a: SearchArgs) -> CmdResult {
    let mut s = NoteSearcher::open(&a.index).map_err(index_err)?;
    let threads = if a.threads == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) } else { a.threads };
    s.set_threads(threads.min(8)).map_err(index_err)?;
    let flt = Filters {
        rules: a.rules,
        no_rules: a.no_rules,
        risk_levels: a.risk_levels,
        min_risk: a.min_risk,
        payers: a.payers,
        tracks: a.tracks,
        providers: a.providers,
        note_types: a.note_types,
        from: a.from,
        to: a.to,
    };
    let p = s.prepare(a.query.as_deref(), &flt).map_err(search_err)?;
    for w in &p.warnings {
        eprintln!("ketaudit: warning: {w}");
    }
    let res = match (a.count, a.group_by) {
        (true, _) => print_count(&s, &p, a.format),
        (false, Some(g)) => print_groups(&s, &p, g, a.format),
        (false, None) => {
            let has_query = a.query.as_deref().is_some_and(|q| !q.trim().is_empty());
            let sort = match a.sort {
                Some(s) => s,
                None if has_query => SortBy::Relevance,
                None => SortBy::Risk,
            };
            let snippets = (!a.no_snippets).then_some(a.snippet_chars as usize);
            let hits = s.search(&p, sort, a.limit as usize, snippets).map_err(search_err)?;
            print_hits(&hits, a.format, snippets.is_some())
        }
    };
    match res {
        Ok(()) => Ok(EXIT_OK),
        Err(e) => {
            let (code, msg) = io_err(e);
            if msg.is_empty() {
                Ok(code)
            } else {
                Err((code, msg))
            }
        }
    }
}

fn print_count(s: &NoteSearcher, p: &ketaudit::index::query::Prepared, format: Format) -> std::io::Result<()> {
    let (notes, encounters) = s.count(p).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Table => writeln!(out, "notes: {notes}\nencounters: {encounters}"),
        Format::Json => writeln!(out, "{}", serde_json::json!({"notes": notes, "encounters": encounters})),
        Format::Csv => writeln!(out, "notes,encounters\n{notes},{encounters}"),
    }
}

fn print_groups(s: &NoteSearcher, p: &ketaudit::index::query::Prepared, g: GroupBy, format: Format) -> std::io::Result<()> {
    let groups = s.group(p, Some(g)).map_err(|e| std::io::Error::other(e.to_string()))?;
    let name = g.to_possible_value().map(|v| v.get_name().replace('-', "_")).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Table => {
            let w = groups.iter().map(|g| g.group.chars().count()).max().unwrap_or(0).max(name.len());
            writeln!(out, "{name:<w$}  {:>8}  {:>10}", "notes", "encounters")?;
            for x in &groups {
                writeln!(out, "{:<w$}  {:>8}  {:>10}", x.group, x.notes, x.encounters)?;
            }
            Ok(())
        }
        Format::Json => {
            for x in &groups {
                writeln!(out, "{}", serde_json::json!({"group": x.group, "notes": x.notes, "encounters": x.encounters}))?;
            }
            Ok(())
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([name.as_str(), "notes", "encounters"])?;
            for x in &groups {
                w.write_record([x.group.clone(), x.notes.to_string(), x.encounters.to_string()])?;
            }
            w.flush()
        }
    }
}

fn date(h: &Hit) -> String {
    h.date_of_service.map(|d| d.to_string()).unwrap_or_default()
}

fn print_hits(hits: &[Hit], format: Format, snippets: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            for h in hits {
                let j = JsonHit {
                    note_id: &h.note_id,
                    encounter_id: &h.encounter_id,
                    date_of_service: h.date_of_service.map(|d| d.to_string()),
                    payer: h.payer.as_deref(),
                    track: &h.track,
                    risk_score: h.risk_score,
                    risk_level: &h.risk_level,
                    rules: &h.rules,
                    score: h.score,
                    snippet: h.snippet.as_deref(),
                };
                serde_json::to_writer(&mut out, &j)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            let mut head =
                vec!["note_id", "encounter_id", "date_of_service", "payer", "track", "risk_score", "risk_level", "rules", "score"];
            if snippets {
                head.push("snippet");
            }
            w.write_record(&head)?;
            for h in hits {
                let mut row = vec![
                    h.note_id.clone(),
                    h.encounter_id.clone(),
                    date(h),
                    h.payer.clone().unwrap_or_default(),
                    h.track.clone(),
                    format!("{:.1}", h.risk_score),
                    h.risk_level.clone(),
                    h.rules.join(";"),
                    format!("{:.3}", h.score),
                ];
                if snippets {
                    row.push(h.snippet.clone().unwrap_or_default());
                }
                w.write_record(&row)?;
            }
            w.flush()
        }
        Format::Table => {
            if hits.is_empty() {
                eprintln!("ketaudit: no matching notes");
                return Ok(());
            }
            let rows: Vec<[String; 5]> = hits
                .iter()
                .map(|h| {
                    let rules = if h.rules.is_empty() { "-".to_string() } else { h.rules.join(",") };
                    [
                        h.encounter_id.clone(),
                        date(h),
                        h.payer.clone().unwrap_or_else(|| "-".into()),
                        format!("{:.0} {}", h.risk_score, h.risk_level),
                        rules,
                    ]
                })
                .collect();
            let heads = ["encounter", "date", "payer", "risk", "rules"];
            let mut w = [0usize; 5];
            for (i, hd) in heads.iter().enumerate() {
                w[i] = rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(hd.len());
            }
            let line = |out: &mut std::io::StdoutLock<'_>, c: &[&str; 5]| -> std::io::Result<()> {
                writeln!(
                    out,
                    "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
                    c[0],
                    c[1],
                    c[2],
                    c[3],
                    c[4],
                    w0 = w[0],
                    w1 = w[1],
                    w2 = w[2],
                    w3 = w[3]
                )
            };
            line(&mut out, &heads)?;
            for (r, h) in rows.iter().zip(hits) {
                line(&mut out, &[&r[0], &r[1], &r[2], &r[3], &r[4]])?;
                // The snippet goes on its own indented line, so long rule
                // lists and snippets both stay readable.
                if let Some(s) = &h.snippet {
                    writeln!(out, "    {s}")?;
                }
            }
            Ok(())
        }
    }
}

//! `ketaudit explain`: everything behind one encounter's findings, for the
//! compliance officer who must agree with them before acting.
//!
//! The findings and the report row come from the scan's Parquet files (what
//! was reported); the evidence items are recomputed from the note text stored
//! in the scan's index with the same extractor, so every item can be shown
//! with its byte span and the matched text marked in context.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;
use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term};

use crate::extract::{assertion_label, Extractor};

/// One evidence item for display.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceItem {
    /// Note id.
    pub note_id: String,
    /// Evidence kind.
    pub kind: &'static str,
    /// Dictionary entry / pattern id.
    pub entry_id: String,
    /// Normalized value.
    pub value: String,
    /// affirmed, negated, hypothetical, family, possible, historical.
    pub assertion: &'static str,
    /// Whether it counted toward the report columns.
    pub counts: bool,
    /// Byte offsets in the note text.
    pub start: usize,
    /// End offset.
    pub end: usize,
    /// Context with the match marked as «…».
    pub snippet: String,
}

/// One finding as reported.
#[derive(Debug, Clone, Serialize)]
pub struct FindingItem {
    /// Rule id.
    pub rule_id: String,
    /// Severity.
    pub severity: String,
    /// Message.
    pub message: String,
    /// Note id.
    pub note_id: Option<String>,
    /// Evidence text.
    pub evidence: Option<String>,
    /// Start offset.
    pub start: Option<u32>,
    /// End offset.
    pub end: Option<u32>,
}

/// Everything about one encounter.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Encounter id.
    pub encounter_id: String,
    /// The encounter report row, column by column.
    pub row: serde_json::Map<String, serde_json::Value>,
    /// Findings.
    pub findings: Vec<FindingItem>,
    /// Notes (id, type) found in the index.
    pub notes: Vec<(String, String)>,
    /// Evidence items.
    pub evidence: Vec<EvidenceItem>,
}

/// Mark `text[start..end]` in up to `ctx` bytes of context on each side.
pub fn marked(text: &str, start: usize, end: usize, ctx: usize) -> String {
    use crate::extract::text::{floor_char, sub};
    let a = floor_char(text, start.saturating_sub(ctx));
    let b = floor_char(text, (end + ctx).min(text.len()));
    // Collapse whitespace runs (line breaks included) but keep a space at the edges.
    let fold = |s: &str| {
        let mut o = String::with_capacity(s.len());
        let mut ws = false;
        for ch in s.chars() {
            if ch.is_whitespace() {
                if !ws {
                    o.push(' ');
                }
                ws = true;
            } else {
                o.push(ch);
                ws = false;
            }
        }
        o
    };
    format!(
        "{}{}«{}»{}{}",
        if a > 0 { "…" } else { "" },
        fold(sub(text, a..start)),
        fold(sub(text, start..end)),
        fold(sub(text, end..b)),
        if b < text.len() { "…" } else { "" }
    )
}

fn cell(df: &polars::prelude::DataFrame, col: &str, i: usize) -> serde_json::Value {
    use polars::prelude::AnyValue;
    let Ok(c) = df.column(col) else { return serde_json::Value::Null };
    match c.get(i) {
        Ok(AnyValue::Null) | Err(_) => serde_json::Value::Null,
        Ok(AnyValue::Boolean(b)) => b.into(),
        Ok(AnyValue::UInt32(v)) => v.into(),
        Ok(AnyValue::Float64(v)) => v.into(),
        Ok(AnyValue::String(s)) => s.into(),
        Ok(AnyValue::StringOwned(s)) => s.as_str().into(),
        Ok(AnyValue::List(s)) => serde_json::Value::Array(
            (0..s.len())
                .filter_map(|k| s.get(k).ok())
                .map(|v| match v {
                    AnyValue::String(x) => serde_json::Value::from(x),
                    AnyValue::StringOwned(x) => serde_json::Value::from(x.as_str()),
                    other => serde_json::Value::from(other.to_string()),
                })
                .collect(),
        ),
        Ok(other) => other.to_string().into(),
    }
}

/// Build the explanation for an encounter from a scan's output folder.
pub fn explain(out: &Path, index_dir: &Path, encounter_id: &str) -> Result<Option<Explanation>, String> {
    let enc = crate::report::read_parquet(&out.join("encounters.parquet"))
        .map_err(|e| format!("{}: {e}", out.join("encounters.parquet").display()))?;
    let ids = enc.column("encounter_id").map_err(|e| e.to_string())?.str().map_err(|e| e.to_string())?.clone();
    let Some(row_i) = (0..enc.height()).find(|&i| ids.get(i) == Some(encounter_id)) else { return Ok(None) };
    let mut row = serde_json::Map::new();
    for c in enc.get_column_names() {
        row.insert(c.to_string(), cell(&enc, c, row_i));
    }
    let fin = crate::report::read_parquet(&out.join("findings.parquet"))
        .map_err(|e| format!("{}: {e}", out.join("findings.parquet").display()))?;
    let mut findings = Vec::new();
    let s = |c: &str, i: usize| cell(&fin, c, i).as_str().map(String::from);
    let u = |c: &str, i: usize| cell(&fin, c, i).as_u64().map(|v| v as u32);
    for i in 0..fin.height() {
        if s("encounter_id", i).as_deref() == Some(encounter_id) {
            findings.push(FindingItem {
                rule_id: s("rule_id", i).unwrap_or_default(),
                severity: s("severity", i).unwrap_or_default(),
                message: s("message", i).unwrap_or_default(),
                note_id: s("note_id", i),
                evidence: s("evidence", i),
                start: u("start", i),
                end: u("end", i),
            });
        }
    }
    // Notes from the index (stored text).
    let mut notes = Vec::new();
    let mut evidence = Vec::new();
    if index_dir.join("meta.json").exists() {
        // open_existing also refuses an index of another format version.
        let (index, f) = crate::index::open_existing(index_dir).map_err(|e| e.to_string())?;
        let reader = index.reader().map_err(|e| e.to_string())?;
        let searcher = reader.searcher();
        let q = TermQuery::new(Term::from_field_text(f.encounter_id, encounter_id), IndexRecordOption::Basic);
        let docs = searcher.search(&q, &DocSetCollector).map_err(|e| e.to_string())?;
        let mut got: Vec<(String, String, String)> = Vec::new();
        let mut seen = BTreeSet::new();
        for addr in docs {
            let d: TantivyDocument = searcher.doc(addr).map_err(|e| e.to_string())?;
            let get = |fld| d.get_first(fld).and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            let id = get(f.note_id);
            if seen.insert(id.clone()) {
                got.push((id, get(f.note_type), get(f.text)));
            }
        }
        got.sort();
        let ex = Extractor::builtin();
        for (id, nt, text) in got {
            let facts = ex.extract_text(&text, Some(nt.as_str()).filter(|s| !s.is_empty()));
            for e in &facts.evidence {
                evidence.push(EvidenceItem {
                    note_id: id.clone(),
                    kind: e.kind.as_str(),
                    entry_id: e.entry_id.clone(),
                    value: e.value.clone(),
                    assertion: assertion_label(&e.assertion),
                    counts: e.counts,
                    start: e.span.start,
                    end: e.span.end,
                    snippet: marked(&text, e.span.start, e.span.end, 50),
                });
            }
            notes.push((id, nt));
        }
    }
    Ok(Some(Explanation { encounter_id: encounter_id.to_string(), row, findings, notes, evidence }))
}

#[cfg(test)]
mod tests {
    use super::marked;

    #[test]
    fn marks_in_context() {
        let t = "Vitals: BP 128/82, HR 72. Tolerated well.";
        assert_eq!(marked(t, 11, 17, 8), "…als: BP «128/82», HR 72.…");
        assert_eq!(marked("éé BP 1", 5, 7, 100), "éé «BP» 1");
    }
}

//! Searching the note index (`ketaudit search`).
//!
//! A search is an optional text query in tantivy's query syntax over the note
//! text (words, `"phrases"`, `AND`/`OR`/`NOT`, `+`/`-`, `field:value`)
//! combined with filters on the encounter fields. Filters are exact matches
//! on raw fields (`TermQuery`) and ranges on the date and risk fast fields
//! (`RangeQuery`), joined with the text query in one `BooleanQuery`; they are
//! wrapped in `ConstScoreQuery(0)` so relevance comes from the text alone.
//!
//! Words in the text query are joined with AND unless `OR` is written. A
//! clause that only excludes (`a AND NOT b`, which the stock parser turns
//! into a must-match clause with nothing to match) is rewritten to "all
//! notes except", so `a AND NOT b`, `a -b` and `+a -b` agree.
//!
//! Phrase matching works on tokens: the text is split at every character
//! that is not a letter or digit and lowercased, so `"post-dose BP"` matches
//! "post dose bp", "Post-Dose B.P." does not match (`b`, `p` are two tokens),
//! and `"120/80"` matches "120 / 80" (tokens over 40 bytes are dropped).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use tantivy::collector::{Collector, SegmentCollector, TopDocs};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, QueryParser, QueryParserError, RangeQuery, TermQuery};
use tantivy::query_grammar::{UserInputAst, UserInputLeaf};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, DocId, Index, IndexReader, ReloadPolicy, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument, Term};

use super::{Fields, IndexError};

/// Risk levels as the reports write them.
pub const RISK_LEVELS: [&str; 4] = ["low", "medium", "high", "critical"];
/// Tracks as the reports write them.
pub const TRACKS: [&str; 4] = ["esketamine", "iv_ketamine", "oral_ketamine", "none"];

/// Filters on encounter and note fields. Empty means "no filter".
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Rule ids that must all have fired on the note's encounter.
    pub rules: Vec<String>,
    /// Rule ids none of which may have fired.
    pub no_rules: Vec<String>,
    /// Any of these risk levels.
    pub risk_levels: Vec<String>,
    /// Risk score at least this.
    pub min_risk: Option<f64>,
    /// Any of these payers (canonical name, alias, or any letter case).
    pub payers: Vec<String>,
    /// Any of these tracks.
    pub tracks: Vec<String>,
    /// Any of these provider ids (any letter case).
    pub providers: Vec<String>,
    /// Any of these note types (any letter case).
    pub note_types: Vec<String>,
    /// Date of service on or after.
    pub from: Option<NaiveDate>,
    /// Date of service on or before.
    pub to: Option<NaiveDate>,
}

/// Result order (also the CLI's `--sort` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    /// Text relevance (BM25), best first.
    Relevance,
    /// Risk score, highest first; then latest date.
    Risk,
    /// Date of service, latest first; then highest risk.
    Date,
}

/// What `--group-by` counts by (also the CLI's `--group-by` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    /// Canonical payer.
    Payer,
    /// Provider id.
    Provider,
    /// Track.
    Track,
    /// Rule id (a note counts once under each rule that fired on its encounter).
    Rule,
    /// Month of the date of service (`YYYY-MM`).
    Month,
    /// Risk level.
    RiskLevel,
    /// Note type.
    NoteType,
}

impl GroupBy {
    fn field_name(self) -> Option<&'static str> {
        Some(match self {
            GroupBy::Payer => "payer",
            GroupBy::Provider => "provider_id",
            GroupBy::Track => "track",
            GroupBy::Rule => "rules",
            GroupBy::RiskLevel => "risk_level",
            GroupBy::NoteType => "note_type",
            GroupBy::Month => return None,
        })
    }
}

/// Label for notes without a value in the grouped field.
pub const NO_VALUE: &str = "(none)";

/// A search that cannot run.
#[derive(Debug)]
pub enum SearchError {
    /// The text query is invalid; `pos` is a byte offset into `query`.
    Query {
        /// The query as given.
        query: String,
        /// What is wrong.
        message: String,
        /// Where (byte offset), when known.
        pos: Option<usize>,
    },
    /// A filter value is invalid.
    Usage(String),
    /// The index cannot be opened or read.
    Index(IndexError),
}

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchError::Query { query, message, pos } => {
                write!(f, "invalid query: {message}")?;
                if let Some(p) = pos {
                    let p = (*p).min(query.len());
                    let col = query.get(..p).map(|s| s.chars().count()).unwrap_or(0);
                    write!(f, " (at character {})\n  {query}\n  {}^", col + 1, " ".repeat(col))?;
                }
                Ok(())
            }
            SearchError::Usage(s) => f.write_str(s),
            SearchError::Index(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SearchError {}

impl From<IndexError> for SearchError {
    fn from(e: IndexError) -> Self {
        SearchError::Index(e)
    }
}

/// One matching note.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Note id.
    pub note_id: String,
    /// Encounter id.
    pub encounter_id: String,
    /// Date of service.
    pub date_of_service: Option<NaiveDate>,
    /// Provider id.
    pub provider_id: Option<String>,
    /// Canonical payer.
    pub payer: Option<String>,
    /// Note type.
    pub note_type: Option<String>,
    /// Track.
    pub track: String,
    /// Risk score.
    pub risk_score: f64,
    /// Risk level.
    pub risk_level: String,
    /// Rule ids that fired on the encounter.
    pub rules: Vec<String>,
    /// Text relevance (BM25; 0 without a text query).
    pub score: f32,
    /// Snippet with hits marked, when asked for.
    pub snippet: Option<String>,
}

/// Counts per group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCount {
    /// Group value ([`NO_VALUE`] when the note has none).
    pub group: String,
    /// Matching notes.
    pub notes: u64,
    /// Distinct encounters among them.
    pub encounters: u64,
}

/// A prepared search: the combined query and any warnings (e.g. a payer no
/// note in the index has).
pub struct Prepared {
    query: Box<dyn Query>,
    text: Option<Box<dyn Query>>,
    /// Warnings for the user (not errors).
    pub warnings: Vec<String>,
}

/// An open index for searching (read-only; never takes the writer lock, and
/// sees the last committed state).
pub struct NoteSearcher {
    index: Index,
    reader: IndexReader,
    f: Fields,
}

fn other(dir: &str) -> impl Fn(tantivy::TantivyError) -> IndexError + '_ {
    move |e| IndexError::Other(format!("{dir}: {e}"))
}

fn date_term(field: Field, d: NaiveDate) -> Term {
    let secs = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()).unwrap_or(0);
    Term::from_field_date(field, tantivy::DateTime::from_timestamp_secs(secs))
}

fn term_query(field: Field, v: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic))
}

fn any_of(field: Field, values: &[String]) -> Box<dyn Query> {
    if values.len() == 1 {
        return term_query(field, &values[0]);
    }
    Box::new(BooleanQuery::new(values.iter().map(|v| (Occur::Should, term_query(field, v))).collect()))
}

fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

/// Make clauses that only exclude match "everything except": the stock
/// parser turns `a AND NOT b` into `+a +(-b)`, and a boolean query with only
/// must-not clauses matches nothing.
fn fix_negations(ast: UserInputAst) -> UserInputAst {
    match ast {
        UserInputAst::Clause(cs) => {
            let mut cs: Vec<_> = cs.into_iter().map(|(o, a)| (o, fix_negations(a))).collect();
            if !cs.is_empty() && cs.iter().all(|(o, _)| *o == Some(Occur::MustNot)) {
                cs.push((Some(Occur::Must), UserInputAst::Leaf(Box::new(UserInputLeaf::All))));
            }
            UserInputAst::Clause(cs)
        }
        UserInputAst::Boost(a, b) => UserInputAst::Boost(Box::new(fix_negations(*a)), b),
        leaf => leaf,
    }
}

/// Works around a tantivy 0.27 `debug_assert!` in `PhraseScorer::seek_danger`
/// ("target should be greater than or equal to doc") that fires when a phrase
/// is excluded or intersected (`"a b" AND NOT "c d"`): after a lower-bound
/// answer the scorer may legitimately sit past the next target. Release
/// builds skip the assertion and return correct results (the postings'
/// `seek` returns the current doc when it is already past the target), so
/// this wrapper, which answers `seek_danger` through the always-safe `seek`,
/// is only applied in debug builds.
struct SafeSeek(Box<dyn Query>);

impl Clone for SafeSeek {
    fn clone(&self) -> Self {
        SafeSeek(self.0.box_clone())
    }
}

impl std::fmt::Debug for SafeSeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SafeSeek({:?})", self.0)
    }
}

impl Query for SafeSeek {
    fn weight(&self, es: tantivy::query::EnableScoring<'_>) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        Ok(Box::new(SafeSeekWeight(self.0.weight(es)?)))
    }
    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.0.query_terms(visitor)
    }
}

struct SafeSeekWeight(Box<dyn tantivy::query::Weight>);

impl tantivy::query::Weight for SafeSeekWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn tantivy::query::Scorer>> {
        Ok(Box::new(SafeSeekScorer(self.0.scorer(reader, boost)?)))
    }
    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<tantivy::query::Explanation> {
        self.0.explain(reader, doc)
    }
}

struct SafeSeekScorer(Box<dyn tantivy::query::Scorer>);

impl tantivy::DocSet for SafeSeekScorer {
    fn advance(&mut self) -> DocId {
        self.0.advance()
    }
    fn seek(&mut self, target: DocId) -> DocId {
        if self.0.doc() >= target {
            return self.0.doc();
        }
        self.0.seek(target)
    }
    fn doc(&self) -> DocId {
        self.0.doc()
    }
    fn size_hint(&self) -> u32 {
        self.0.size_hint()
    }
    fn cost(&self) -> u64 {
        self.0.cost()
    }
}

impl tantivy::query::Scorer for SafeSeekScorer {
    fn score(&mut self) -> Score {
        self.0.score()
    }
}

/// Wrap every phrase in `q` in [`SafeSeek`] (debug builds only).
fn guard_phrases(q: Box<dyn Query>) -> Box<dyn Query> {
    if !cfg!(debug_assertions) {
        return q;
    }
    if let Some(b) = q.downcast_ref::<BooleanQuery>() {
        let cs = b.clauses().iter().map(|(o, c)| (*o, guard_phrases(c.box_clone()))).collect();
        return Box::new(BooleanQuery::new(cs));
    }
    if q.downcast_ref::<tantivy::query::PhraseQuery>().is_some() {
        return Box::new(SafeSeek(q));
    }
    q
}

/// Byte offset of `field:` in the query, for pointing at a bad field.
fn find_field(query: &str, field: &str) -> Option<usize> {
    let pat = format!("{field}:");
    query.match_indices(&pat).map(|(i, _)| i).find(|&i| i == 0 || !query[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
}

impl NoteSearcher {
    /// Open the index in `dir` for searching.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        let (index, f) = super::open_existing(dir)?;
        let d = dir.display().to_string();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(other(&d))?;
        Ok(NoteSearcher { index, reader, f })
    }

    /// Use `n` threads to search segments in parallel.
    pub fn set_threads(&mut self, n: usize) -> Result<(), IndexError> {
        if n > 1 {
            self.index.set_multithread_executor(n).map_err(other("index"))?;
            self.reader = self.index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(other("index"))?;
        }
        Ok(())
    }

    /// Field handles.
    pub fn fields(&self) -> Fields {
        self.f
    }

    /// Number of notes in the index.
    pub fn num_notes(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The distinct values of a raw field in the index.
    pub fn values(&self, field: Field) -> Result<Vec<String>, IndexError> {
        let searcher = self.reader.searcher();
        let mut out = std::collections::BTreeSet::new();
        for seg in searcher.segment_readers() {
            let inv = seg.inverted_index(field).map_err(other("index"))?;
            let mut s = inv.terms().stream().map_err(|e| IndexError::Other(e.to_string()))?;
            while s.advance() {
                if let Ok(k) = std::str::from_utf8(s.key()) {
                    out.insert(k.to_string());
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Values of `field` in the index equal to `arg` ignoring letter case
    /// (and, for `alias`, equal to its canonical form).
    fn resolve(
        &self,
        field: Field,
        what: &str,
        args: &[String],
        canonical: impl Fn(&str) -> String,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<String>, SearchError> {
        let known = self.values(field)?;
        let mut out = Vec::new();
        for a in args {
            let c = canonical(a).to_lowercase();
            let al = a.trim().to_lowercase();
            let hits: Vec<&String> = known.iter().filter(|k| k.to_lowercase() == al || k.to_lowercase() == c).collect();
            if hits.is_empty() {
                warnings.push(format!("no note in the index has {what} '{a}'"));
                out.push(a.clone());
            }
            out.extend(hits.into_iter().cloned());
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Parse a text query (tantivy syntax, AND between words by default).
    pub fn parse_text(&self, query: &str) -> Result<Box<dyn Query>, SearchError> {
        let qerr = |message: String, pos: Option<usize>| SearchError::Query { query: query.to_string(), message, pos };
        let (ast, errs) = tantivy::query_grammar::parse_query_lenient(query);
        if let Some(e) = errs.first() {
            return Err(qerr(e.message.clone(), Some(e.pos)));
        }
        if tantivy::query_grammar::parse_query(query).is_err() {
            return Err(qerr("syntax error".into(), None));
        }
        let mut parser = QueryParser::for_index(&self.index, vec![self.f.text]);
        parser.set_conjunction_by_default();
        let schema = self.index.schema();
        let q = parser.build_query_from_user_input_ast(fix_negations(ast)).map_err(|e| match e {
            QueryParserError::FieldDoesNotExist(name) => {
                let names: Vec<&str> = schema.fields().map(|(_, e)| e.name()).collect();
                qerr(format!("unknown field '{name}' (fields: {})", names.join(", ")), find_field(query, &name))
            }
            QueryParserError::AllButQueryForbidden => qerr("the query only excludes; add something to match".into(), None),
            QueryParserError::ExpectedFloat(_) | QueryParserError::ExpectedInt(_) => qerr("risk_score takes a number, e.g. risk_score:[45 TO 100]".into(), find_field(query, "risk_score")),
            QueryParserError::DateFormatError(_) => qerr(
                "date_of_service takes RFC 3339 dates, e.g. date_of_service:[2025-07-01T00:00:00Z TO 2025-09-30T00:00:00Z] (or use --from/--to)".into(),
                find_field(query, "date_of_service"),
            ),
            e => {
                // Point at the first field the message names, if any.
                let msg = e.to_string();
                let pos = schema.fields().map(|(_, fe)| fe.name()).filter(|n| msg.contains(n)).find_map(|n| find_field(query, n));
                qerr(msg, pos)
            }
        })?;
        Ok(guard_phrases(q))
    }

    /// Build the combined query for a text query and filters.
    pub fn prepare(&self, text: Option<&str>, flt: &Filters) -> Result<Prepared, SearchError> {
        let f = &self.f;
        let mut warnings = Vec::new();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let text = match text.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => {
                let q = self.parse_text(t)?;
                clauses.push((Occur::Must, q.box_clone()));
                Some(q)
            }
            None => None,
        };
        let known_rule = |r: &str| crate::rules::ALL.iter().any(|x| x.id == r);
        for r in flt.rules.iter().chain(&flt.no_rules) {
            if !known_rule(r) {
                return Err(SearchError::Usage(format!("unknown rule '{r}'; `ketaudit rules` lists the rule ids")));
            }
        }
        for r in &flt.rules {
            clauses.push(filter(term_query(f.rules, r)));
        }
        for r in &flt.no_rules {
            clauses.push((Occur::MustNot, term_query(f.rules, r)));
        }
        if !flt.risk_levels.is_empty() {
            let mut v = Vec::new();
            for l in &flt.risk_levels {
                let l = l.trim().to_lowercase();
                if !RISK_LEVELS.contains(&l.as_str()) {
                    return Err(SearchError::Usage(format!("unknown risk level '{l}' (one of {})", RISK_LEVELS.join(", "))));
                }
                v.push(l);
            }
            clauses.push(filter(any_of(f.risk_level, &v)));
        }
        if let Some(m) = flt.min_risk {
            if !m.is_finite() {
                return Err(SearchError::Usage(format!("--min-risk {m} is not a number")));
            }
            clauses.push(filter(Box::new(RangeQuery::new(Bound::Included(Term::from_field_f64(f.risk_score, m)), Bound::Unbounded))));
        }
        if !flt.tracks.is_empty() {
            let mut v = Vec::new();
            for t in &flt.tracks {
                let t = t.trim().to_lowercase().replace('-', "_");
                if !TRACKS.contains(&t.as_str()) {
                    return Err(SearchError::Usage(format!("unknown track '{t}' (one of {})", TRACKS.join(", "))));
                }
                v.push(t);
            }
            clauses.push(filter(any_of(f.track, &v)));
        }
        if !flt.payers.is_empty() {
            let dict = crate::dict::Dictionaries::builtin();
            let v = self.resolve(f.payer, "payer", &flt.payers, |a| dict.payers.normalize(a).name, &mut warnings)?;
            clauses.push(filter(any_of(f.payer, &v)));
        }
        if !flt.providers.is_empty() {
            let v = self.resolve(f.provider_id, "provider", &flt.providers, |a| a.trim().to_string(), &mut warnings)?;
            clauses.push(filter(any_of(f.provider_id, &v)));
        }
        if !flt.note_types.is_empty() {
            let v = self.resolve(f.note_type, "note type", &flt.note_types, |a| a.trim().to_string(), &mut warnings)?;
            clauses.push(filter(any_of(f.note_type, &v)));
        }
        if let (Some(a), Some(b)) = (flt.from, flt.to) {
            if a > b {
                return Err(SearchError::Usage(format!("--from {a} is after --to {b}")));
            }
        }
        if flt.from.is_some() || flt.to.is_some() {
            let lo = flt.from.map_or(Bound::Unbounded, |d| Bound::Included(date_term(f.date_of_service, d)));
            let hi = flt.to.map_or(Bound::Unbounded, |d| Bound::Included(date_term(f.date_of_service, d)));
            clauses.push(filter(Box::new(RangeQuery::new(lo, hi))));
        }
        if !clauses.iter().any(|(o, _)| *o == Occur::Must) {
            clauses.push(filter(Box::new(AllQuery)));
        }
        let query: Box<dyn Query> = if clauses.len() == 1 && clauses[0].0 == Occur::Must {
            clauses.pop().map(|c| c.1).unwrap_or_else(|| Box::new(AllQuery))
        } else {
            Box::new(BooleanQuery::new(clauses))
        };
        Ok(Prepared { query, text, warnings })
    }

    /// The top `limit` notes in `sort` order, with snippets of at most
    /// `snippet_chars` characters when given.
    pub fn search(&self, p: &Prepared, sort: SortBy, limit: usize, snippet_chars: Option<usize>) -> Result<Vec<Hit>, SearchError> {
        let searcher = self.reader.searcher();
        let err = other("index");
        let limit = limit.max(1);
        let has_text = p.text.is_some();
        let addrs: Vec<(f32, DocAddress)> = match (sort, has_text) {
            (SortBy::Relevance, true) => searcher.search(&*p.query, &TopDocs::with_limit(limit).order_by_score()).map_err(err)?,
            (SortBy::Relevance, false) | (SortBy::Risk, _) | (SortBy::Date, _) => {
                let by_date = sort == SortBy::Date;
                let keyed: Vec<((f64, f64, f32), DocAddress)> = if has_text {
                    searcher
                        .search(
                            &*p.query,
                            &TopDocs::with_limit(limit).tweak_score(move |seg: &SegmentReader| {
                                let (risk, date) = sort_columns(seg);
                                move |doc: DocId, score: Score| sort_key(&risk, &date, by_date, doc, score)
                            }),
                        )
                        .map_err(err)?
                } else {
                    searcher
                        .search(
                            &*p.query,
                            &TopDocs::with_limit(limit).order_by(move |seg: &SegmentReader| {
                                let (risk, date) = sort_columns(seg);
                                move |doc: DocId| sort_key(&risk, &date, by_date, doc, 0.0)
                            }),
                        )
                        .map_err(err)?
                };
                keyed.into_iter().map(|((_, _, s), a)| (s, a)).collect()
            }
        };
        let gen = match (snippet_chars, &p.text) {
            (Some(n), Some(q)) => {
                let mut g = SnippetGenerator::create(&searcher, &**q, self.f.text).map_err(other("index"))?;
                g.set_max_num_chars(n.max(20));
                Some(g)
            }
            _ => None,
        };
        let mut out = Vec::with_capacity(addrs.len());
        for (score, addr) in addrs {
            let doc: TantivyDocument = searcher.doc(addr).map_err(other("index"))?;
            out.push(self.hit(&doc, score, snippet_chars.map(|n| (gen.as_ref(), n))));
        }
        Ok(out)
    }

    fn hit(&self, d: &TantivyDocument, score: f32, snippet: Option<(Option<&SnippetGenerator>, usize)>) -> Hit {
        let f = &self.f;
        let s = |fld: Field| d.get_first(fld).and_then(|v| v.as_str()).map(str::to_string);
        let date = d
            .get_first(f.date_of_service)
            .and_then(|v| v.as_datetime())
            .and_then(|t| chrono::DateTime::from_timestamp(t.into_timestamp_secs(), 0))
            .map(|t| t.date_naive());
        let snippet = snippet.map(|(g, n)| {
            let text = s(f.text).unwrap_or_default();
            let sn = g.map(|g| g.snippet(&text));
            super::snippet::render(&text, sn.as_ref(), n)
        });
        Hit {
            note_id: s(f.note_id).unwrap_or_default(),
            encounter_id: s(f.encounter_id).unwrap_or_default(),
            date_of_service: date,
            provider_id: s(f.provider_id),
            payer: s(f.payer),
            note_type: s(f.note_type),
            track: s(f.track).unwrap_or_default(),
            risk_score: d.get_first(f.risk_score).and_then(|v| v.as_f64()).unwrap_or(0.0),
            risk_level: s(f.risk_level).unwrap_or_default(),
            rules: d.get_all(f.rules).filter_map(|v| v.as_str().map(str::to_string)).collect(),
            score,
            snippet,
        }
    }

    /// Matching notes and distinct encounters.
    pub fn count(&self, p: &Prepared) -> Result<(u64, u64), SearchError> {
        let g = self.group(p, None)?;
        Ok(g.first().map(|g| (g.notes, g.encounters)).unwrap_or((0, 0)))
    }

    /// Counts per group (most notes first), or one total when `by` is None.
    pub fn group(&self, p: &Prepared, by: Option<GroupBy>) -> Result<Vec<GroupCount>, SearchError> {
        let searcher: Searcher = self.reader.searcher();
        let fruit = searcher.search(&*p.query, &GroupCollector { by }).map_err(other("index"))?;
        let mut out: Vec<GroupCount> =
            fruit.into_iter().map(|(group, (notes, encs))| GroupCount { group, notes, encounters: encs.len() as u64 }).collect();
        if by.is_none() && out.is_empty() {
            out.push(GroupCount { group: String::new(), notes: 0, encounters: 0 });
        }
        if by == Some(GroupBy::Month) {
            out.sort_by(|a, b| a.group.cmp(&b.group));
        } else {
            out.sort_by(|a, b| b.notes.cmp(&a.notes).then(a.group.cmp(&b.group)));
        }
        Ok(out)
    }
}

type RiskCol = std::sync::Arc<dyn tantivy::columnar::ColumnValues<f64>>;
type DateCol = std::sync::Arc<dyn tantivy::columnar::ColumnValues<tantivy::DateTime>>;

fn sort_columns(seg: &SegmentReader) -> (Option<RiskCol>, Option<DateCol>) {
    let ff = seg.fast_fields();
    (
        ff.f64("risk_score").ok().map(|c| c.first_or_default_col(0.0)),
        ff.date("date_of_service").ok().map(|c| c.first_or_default_col(tantivy::DateTime::MIN)),
    )
}

#[inline]
fn sort_key(risk: &Option<RiskCol>, date: &Option<DateCol>, by_date: bool, doc: DocId, score: Score) -> (f64, f64, f32) {
    let r = risk.as_ref().map_or(0.0, |c| c.get_val(doc));
    let d = date.as_ref().map_or(0.0, |c| c.get_val(doc).into_timestamp_secs() as f64);
    if by_date {
        (d, r, score)
    } else {
        (r, d, score)
    }
}

/// Counts notes and distinct encounters per group.
struct GroupCollector {
    by: Option<GroupBy>,
}

enum SegKey {
    All,
    Str(Option<StrColumn>),
    Month(Column<tantivy::DateTime>),
}

struct GroupSeg {
    key: SegKey,
    enc: Option<StrColumn>,
    /// group ord (u64::MAX = no value) -> (notes, encounter ords)
    counts: HashMap<u64, (u64, Vec<u64>)>,
}

/// group -> (notes, hashes of the distinct encounter ids). A 64-bit hash of
/// the id stands for the id: merging segments needs no strings, and a
/// collision among a million encounters has a chance of about 1 in 10^7.
type GroupFruit = BTreeMap<String, (u64, HashSet<u64>)>;

fn id_hash(b: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

impl Collector for GroupCollector {
    type Fruit = GroupFruit;
    type Child = GroupSeg;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<GroupSeg> {
        let ff = seg.fast_fields();
        let key = match self.by {
            None => SegKey::All,
            Some(GroupBy::Month) => SegKey::Month(ff.date("date_of_service")?),
            Some(g) => SegKey::Str(ff.str(g.field_name().unwrap_or("payer"))?),
        };
        Ok(GroupSeg { key, enc: ff.str("encounter_id")?, counts: HashMap::new() })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<GroupFruit>) -> tantivy::Result<GroupFruit> {
        let mut out = GroupFruit::new();
        for fr in fruits {
            for (k, (n, e)) in fr {
                let slot = out.entry(k).or_default();
                slot.0 += n;
                if slot.1.is_empty() {
                    slot.1 = e;
                } else {
                    slot.1.extend(e);
                }
            }
        }
        Ok(out)
    }
}

impl GroupSeg {
    fn bump(&mut self, key: u64, enc: u64) {
        let slot = self.counts.entry(key).or_default();
        slot.0 += 1;
        slot.1.push(enc);
    }
}

impl SegmentCollector for GroupSeg {
    type Fruit = GroupFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        let enc = self.enc.as_ref().and_then(|c| c.term_ords(doc).next()).unwrap_or(u64::MAX);
        match &self.key {
            SegKey::All => self.bump(0, enc),
            SegKey::Str(c) => {
                let ords: Vec<u64> = c.as_ref().map(|c| c.term_ords(doc).collect()).unwrap_or_default();
                if ords.is_empty() {
                    self.bump(u64::MAX, enc);
                }
                for o in ords {
                    self.bump(o, enc);
                }
            }
            SegKey::Month(c) => {
                let k = c
                    .first(doc)
                    .and_then(|t| chrono::DateTime::from_timestamp(t.into_timestamp_secs(), 0))
                    .map(|t| t.year() as u64 * 100 + t.month() as u64)
                    .unwrap_or(u64::MAX);
                self.bump(k, enc);
            }
        }
    }

    fn harvest(mut self) -> GroupFruit {
        // Every distinct encounter ordinal of the segment, sorted, turned
        // into id hashes in one pass over the dictionary.
        let mut all: Vec<u64> = Vec::new();
        for (_, e) in self.counts.values_mut() {
            e.sort_unstable();
            e.dedup();
            all.extend(e.iter().copied().filter(|&o| o != u64::MAX));
        }
        all.sort_unstable();
        all.dedup();
        let mut hashes = Vec::with_capacity(all.len());
        if let Some(c) = &self.enc {
            let _ = c.dictionary().sorted_ords_to_term_cb(&all, |b| hashes.push(id_hash(b)));
        }
        let enc_hash = |o: u64| match all.binary_search(&o) {
            Ok(i) if i < hashes.len() => hashes[i],
            _ => id_hash(b""),
        };
        let mut buf = String::new();
        let name = |c: &Option<StrColumn>, o: u64, buf: &mut String| -> String {
            if o == u64::MAX {
                return NO_VALUE.to_string();
            }
            match c {
                Some(c) if c.ord_to_str(o, buf).unwrap_or(false) => buf.clone(),
                _ => NO_VALUE.to_string(),
            }
        };
        let mut out = GroupFruit::new();
        for (k, (n, encs)) in std::mem::take(&mut self.counts) {
            let key = match &self.key {
                SegKey::All => String::new(),
                SegKey::Str(c) => name(c, k, &mut buf),
                SegKey::Month(_) if k == u64::MAX => NO_VALUE.to_string(),
                SegKey::Month(_) => format!("{:04}-{:02}", k / 100, k % 100),
            };
            let slot = out.entry(key).or_default();
            slot.0 += n;
            slot.1.extend(encs.into_iter().map(enc_hash));
        }
        out
    }
}

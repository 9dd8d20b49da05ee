//! ConText / NegEx-style assertion layer.
//!
//! Extractors find a *mention* ("sertraline", "suicidal ideation", "Spravato
//! 56 mg"); a payer auditor needs to know whether the note *asserts* it. A
//! mention inside "denies SI", "will consider esketamine if no response",
//! "mother with bipolar disorder" or "history of alcohol use" must not count as
//! a current, affirmed fact about the patient. This module implements the
//! ConText algorithm (Harkema et al., J Biomed Inform 2009;42:839), itself an
//! extension of NegEx (Chapman et al. 2001):
//!
//! * lexical **cues** with a category (negated, hypothetical, historical,
//!   family, possible) and a direction (forward, backward, bidirectional);
//! * **pseudo-cues** ("no change", "gram negative", "no response") that
//!   contain a cue but do not assert it, and block it;
//! * **termination cues** ("but", "however", "which", "secondary to") that end
//!   a cue's scope;
//! * scope also ends at segment boundaries (sentences, list items, table
//!   rows, section headers), at table-cell borders, inline "Label:" starts and
//!   semicolons, and is capped at a configurable number of word tokens;
//! * section headers ("PAST PSYCHIATRIC HISTORY", "Family History:") can set a
//!   category for the text under them.
//!
//! The cue lists are data (`dictionaries/context.toml`). [`ContextRules`] is
//! compiled once; [`ContextRules::analyze`] makes one pass over a note (one
//! Aho-Corasick scan over a case- and whitespace-normalised copy, plus a
//! linear segmentation pass) and returns a [`NoteContext`] that answers
//! [`NoteContext::assess`] for any number of target spans cheaply.
//!
//! [`eval_negex`] scores the rules on the public NegEx test set
//! (`Annotations-1-120-random.txt` or `rsAnnotations-1-120-random.txt`).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;

/// The assertion categories of ConText.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// The finding is denied / absent ("no", "denies", "ruled out").
    Negated,
    /// Planned, conditional or proposed ("if", "consider", "plan to").
    Hypothetical,
    /// In the patient's past ("history of", "previously").
    Historical,
    /// Experienced by someone other than the patient ("mother", "FHx").
    Family,
    /// Uncertain ("possible", "rule out", "questionable").
    Possible,
}

/// Which side of a cue its scope extends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The cue governs text after it ("no fever").
    Forward,
    /// The cue governs text before it ("fever: negative").
    Backward,
    /// Both sides ("ruled out").
    Bidirectional,
}

impl Direction {
    fn forward(self) -> bool {
        matches!(self, Direction::Forward | Direction::Bidirectional)
    }
    fn backward(self) -> bool {
        matches!(self, Direction::Backward | Direction::Bidirectional)
    }
}

/// The assertion status of one target mention. Several flags may be set at
/// once ("no family history of X" is negated and family).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Assertion {
    /// Denied or absent.
    pub negated: bool,
    /// Planned, conditional, proposed.
    pub hypothetical: bool,
    /// In the past.
    pub historical: bool,
    /// About a family member or other person, not the patient.
    pub family: bool,
    /// Uncertain.
    pub possible: bool,
}

impl Assertion {
    /// True when no modifier applies: a plain, current, certain statement
    /// about the patient.
    pub fn is_affirmed(&self) -> bool {
        !(self.negated || self.hypothetical || self.historical || self.family || self.possible)
    }

    /// True when the mention states something that did happen / is present
    /// for the patient, now or in the past: not negated, hypothetical,
    /// family or possible (historical is allowed). This is what most audit
    /// checks want ("was sertraline tried?").
    pub fn is_patient_fact(&self) -> bool {
        !(self.negated || self.hypothetical || self.family || self.possible)
    }

    fn set(&mut self, cat: Category) {
        match cat {
            Category::Negated => self.negated = true,
            Category::Hypothetical => self.hypothetical = true,
            Category::Historical => self.historical = true,
            Category::Family => self.family = true,
            Category::Possible => self.possible = true,
        }
    }

    fn union(self, o: Assertion) -> Assertion {
        Assertion {
            negated: self.negated || o.negated,
            hypothetical: self.hypothetical || o.hypothetical,
            historical: self.historical || o.historical,
            family: self.family || o.family,
            possible: self.possible || o.possible,
        }
    }
}

// ---------------------------------------------------------------------------
// TOML schema
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    settings: RawSettings,
    #[serde(default)]
    negated: RawCategory,
    #[serde(default)]
    hypothetical: RawCategory,
    #[serde(default)]
    historical: RawCategory,
    #[serde(default)]
    family: RawCategory,
    #[serde(default)]
    possible: RawCategory,
    #[serde(default)]
    pseudo: RawPhrases,
    #[serde(default)]
    termination: RawPhrases,
    #[serde(default)]
    sections: RawSections,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    max_forward_tokens: usize,
    max_backward_tokens: usize,
    #[serde(default = "yes")]
    semicolon_ends_scope: bool,
    #[serde(default = "yes")]
    comma_new_cue_ends_scope: bool,
    #[serde(default)]
    ignore_before_number: Vec<String>,
    #[serde(default)]
    abbreviations: Vec<String>,
    #[serde(default)]
    unit_abbreviations: Vec<String>,
    #[serde(default)]
    continuation_words: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    #[serde(default)]
    forward: Vec<String>,
    #[serde(default)]
    backward: Vec<String>,
    #[serde(default)]
    bidirectional: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPhrases {
    #[serde(default)]
    phrases: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSections {
    #[serde(default)]
    historical: Vec<String>,
    #[serde(default)]
    family: Vec<String>,
    #[serde(default)]
    hypothetical: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    known_headers: Vec<String>,
}

// ---------------------------------------------------------------------------
// Compiled rules
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatKind {
    Cue { cat: Category, dir: Direction, no_number: bool },
    Pseudo,
    Terminate,
}

/// Loaded, compiled cue set. Build once, share across threads.
pub struct ContextRules {
    ac: AhoCorasick,
    kinds: Vec<PatKind>,
    /// Whether the pattern starts / ends with a word byte (boundary checked).
    edges: Vec<(bool, bool)>,
    max_forward: usize,
    max_backward: usize,
    semicolon_ends_scope: bool,
    comma_new_cue_ends_scope: bool,
    abbreviations: FxHashSet<String>,
    unit_abbreviations: FxHashSet<String>,
    continuation: FxHashSet<String>,
    /// The four section lists' labels in one automaton (see
    /// [`ContextRules::section_flags`]), with the lists each pattern is in
    /// (bits: family 1, exclude 2, historical 4, hypothetical 8).
    section_ac: AhoCorasick,
    section_lists: Vec<u8>,
    known_headers: FxHashSet<String>,
}

impl std::fmt::Debug for ContextRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextRules")
            .field("patterns", &self.kinds.len())
            .field("max_forward", &self.max_forward)
            .field("max_backward", &self.max_backward)
            .finish_non_exhaustive()
    }
}

/// Lowercase (ASCII) and collapse whitespace runs to one space; trim.
fn norm_phrase(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for w in p.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w.to_ascii_lowercase());
    }
    out
}

/// Normalise a section label for whole-word containment tests: lowercase,
/// every non-alphanumeric run becomes one space, padded with spaces.
fn norm_label(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 2);
    out.push(' ');
    let mut last_space = true;
    for c in p.chars() {
        if c.is_ascii() {
            // ASCII fast path of the same rule.
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
                last_space = false;
            } else if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    if !last_space {
        out.push(' ');
    }
    out
}

#[inline]
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

impl ContextRules {
    /// Parse and compile rules from TOML text (the schema of
    /// `dictionaries/context.toml`). Unknown keys are errors that name the
    /// key; empty or duplicated phrases are errors too.
    pub fn from_toml(src: &str) -> Result<Self, String> {
        let raw: RawRules = toml::from_str(src).map_err(|e| format!("context rules: {e}"))?;
        let mut by_phrase: HashMap<String, PatKind> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let no_number: HashSet<String> = raw.settings.ignore_before_number.iter().map(|s| norm_phrase(s)).collect();

        let mut add = |phrase: &str, kind: PatKind| -> Result<(), String> {
            let p = norm_phrase(phrase);
            if p.is_empty() {
                return Err("context rules: empty phrase".to_string());
            }
            match by_phrase.get_mut(&p) {
                None => {
                    by_phrase.insert(p.clone(), kind);
                    order.push(p);
                    Ok(())
                }
                Some(existing) => match (*existing, kind) {
                    // Same category listed forward and backward: bidirectional.
                    (PatKind::Cue { cat: c1, dir: d1, no_number }, PatKind::Cue { cat: c2, dir: d2, .. }) if c1 == c2 && d1 != d2 => {
                        *existing = PatKind::Cue { cat: c1, dir: Direction::Bidirectional, no_number };
                        Ok(())
                    }
                    _ => Err(format!("context rules: phrase {p:?} listed twice")),
                },
            }
        };

        let cats = [
            (Category::Negated, &raw.negated),
            (Category::Hypothetical, &raw.hypothetical),
            (Category::Historical, &raw.historical),
            (Category::Family, &raw.family),
            (Category::Possible, &raw.possible),
        ];
        for (cat, rc) in cats {
            for (dir, list) in
                [(Direction::Forward, &rc.forward), (Direction::Backward, &rc.backward), (Direction::Bidirectional, &rc.bidirectional)]
            {
                for p in list {
                    let nn = no_number.contains(&norm_phrase(p));
                    add(p, PatKind::Cue { cat, dir, no_number: nn })?;
                }
            }
        }
        for p in &raw.pseudo.phrases {
            add(p, PatKind::Pseudo)?;
        }
        for p in &raw.termination.phrases {
            add(p, PatKind::Terminate)?;
        }

        let kinds: Vec<PatKind> = order.iter().map(|p| by_phrase[p]).collect();
        let edges = order
            .iter()
            .map(|p| {
                let b = p.as_bytes();
                (is_word_byte(b[0]), is_word_byte(b[b.len() - 1]))
            })
            .collect();
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&order)
            .map_err(|e| format!("context rules: cannot build automaton: {e}"))?;

        let lower_set =
            |v: &[String]| -> FxHashSet<String> { v.iter().map(|s| s.trim().trim_end_matches('.').to_ascii_lowercase()).collect() };
        let labels = |v: &[String]| -> Vec<String> { v.iter().map(|s| norm_label(s)).collect() };
        let mut section_pats: Vec<String> = Vec::new();
        let mut section_lists: Vec<u8> = Vec::new();
        for (bit, list) in
            [(1u8, &raw.sections.family), (2, &raw.sections.exclude), (4, &raw.sections.historical), (8, &raw.sections.hypothetical)]
        {
            for l in labels(list) {
                match section_pats.iter().position(|p| *p == l) {
                    Some(i) => section_lists[i] |= bit,
                    None => {
                        section_pats.push(l);
                        section_lists.push(bit);
                    }
                }
            }
        }
        let section_ac = AhoCorasick::new(&section_pats).map_err(|e| format!("context rules: cannot build section automaton: {e}"))?;
        Ok(ContextRules {
            ac,
            kinds,
            edges,
            max_forward: raw.settings.max_forward_tokens,
            max_backward: raw.settings.max_backward_tokens,
            semicolon_ends_scope: raw.settings.semicolon_ends_scope,
            comma_new_cue_ends_scope: raw.settings.comma_new_cue_ends_scope,
            abbreviations: lower_set(&raw.settings.abbreviations),
            unit_abbreviations: lower_set(&raw.settings.unit_abbreviations),
            continuation: lower_set(&raw.settings.continuation_words),
            section_ac,
            section_lists,
            known_headers: raw.sections.known_headers.iter().map(|h| norm_label(h)).collect(),
        })
    }

    /// The rules shipped in `dictionaries/context.toml`, compiled once.
    pub fn builtin() -> &'static ContextRules {
        static RULES: OnceLock<ContextRules> = OnceLock::new();
        RULES.get_or_init(|| {
            ContextRules::from_toml(include_str!("../../dictionaries/context.toml"))
                .expect("built-in dictionaries/context.toml must be valid")
        })
    }

    /// Forward scope cap (word tokens between cue and target).
    pub fn max_forward_tokens(&self) -> usize {
        self.max_forward
    }

    /// Override the forward scope cap (for measurement).
    pub fn set_max_forward_tokens(&mut self, n: usize) {
        self.max_forward = n;
    }

    /// Override the backward scope cap (for measurement).
    pub fn set_max_backward_tokens(&mut self, n: usize) {
        self.max_backward = n;
    }

    /// Section flags for a header / label text; `None` when the header is
    /// not in any section list (not even `exclude`).
    fn section_flags(&self, label: &str) -> Option<Assertion> {
        let l = norm_label(label);
        // Which lists have a label contained in `l`: one overlapping
        // automaton pass instead of a substring search per list entry.
        let lists = self.section_ac.find_overlapping_iter(&l).fold(0u8, |m, h| m | self.section_lists[h.pattern().as_usize()]);
        let has = |bit: u8| lists & bit != 0;
        let mut a = Assertion::default();
        if has(1) {
            a.family = true;
            return Some(a);
        }
        if has(2) {
            return Some(a);
        }
        if has(4) {
            a.historical = true;
            return Some(a);
        }
        if has(8) {
            a.hypothetical = true;
            return Some(a);
        }
        None
    }

    /// Find every cue, terminator, segment and section header in a note in
    /// one pass. The result answers [`NoteContext::assess`] for any target.
    pub fn analyze<'a>(&'a self, text: &'a str) -> NoteContext<'a> {
        let bytes = text.as_bytes();

        // 1. Normalised copy: ASCII-lowercase, whitespace runs -> one space.
        // `shifts` records (normalised index, bytes dropped before it) after
        // every collapsed run, so offsets map back by binary search.
        let n = bytes.len();
        let mut norm: Vec<u8> = Vec::with_capacity(n);
        let mut shifts: Vec<(usize, usize)> = Vec::new();
        let mut dropped = 0usize;
        let mut i = 0usize;
        while i < n {
            let start = i;
            while i < n && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            norm.extend_from_slice(&bytes[start..i]);
            if i < n {
                let ws = i;
                while i < n && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                norm.push(b' ');
                if i - ws > 1 {
                    dropped += i - ws - 1;
                    shifts.push((norm.len(), dropped));
                }
            }
        }
        norm.make_ascii_lowercase();
        let to_orig = |j: usize| -> usize {
            let k = shifts.partition_point(|&(at, _)| at <= j);
            j + if k == 0 { 0 } else { shifts[k - 1].1 }
        };

        // 2. Word-token starts.
        let mut token_starts = Vec::with_capacity(bytes.len() / 5);
        let mut in_word = false;
        let mut i = 0usize;
        while i < n {
            let b = bytes[i];
            let (w, len) = if b < 0x80 {
                (b.is_ascii_alphanumeric(), 1)
            } else {
                let c = text[i..].chars().next().unwrap_or(' ');
                (c.is_alphanumeric(), c.len_utf8())
            };
            if w && !in_word {
                token_starts.push(i);
            }
            in_word = w;
            i += len;
        }

        // 3. Segments, line headers, inline labels and punctuation stops.
        let mut seg = Segmenter::new(self, text);
        seg.run();
        let Segmenter { seg_starts, mut stops, mut cell_stops, line_headers, labels, .. } = seg;

        // 4. Cue scan (overlapping, then leftmost-longest resolution).
        let mut cands: Vec<(usize, usize, usize)> = Vec::new(); // (nstart, nend, pid)
        for m in self.ac.find_overlapping_iter(&norm) {
            let (s, e) = (m.start(), m.end());
            let (ws, we) = self.edges[m.pattern().as_usize()];
            if ws && s > 0 && is_word_byte(norm[s - 1]) {
                continue;
            }
            if we && e < norm.len() && is_word_byte(norm[e]) {
                continue;
            }
            cands.push((s, e, m.pattern().as_usize()));
        }
        cands.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut cues: Vec<CueHit> = Vec::new();
        let mut terms: Vec<Range<usize>> = Vec::new();
        let mut last_end = 0usize;
        // The last pseudo-cue (normalised range, original range) and the
        // start of the last cue it shadowed.
        let mut last_pseudo: Option<(usize, usize, usize, usize)> = None;
        let mut last_shadowed = usize::MAX;
        for (s, e, pid) in cands {
            if s < last_end {
                // A cue inside a pseudo-cue still applies to a target that
                // overlaps the pseudo-cue itself ("no CHANGE IN VISION",
                // "no RESPONSE to sertraline").
                if let (Some((ps, pe, ops, ope)), PatKind::Cue { cat, dir, .. }) = (last_pseudo, self.kinds[pid]) {
                    if s >= ps && e <= pe && s != last_shadowed {
                        last_shadowed = s;
                        cues.push(CueHit {
                            start: to_orig(s),
                            end: to_orig(e - 1) + 1,
                            cat,
                            dir,
                            comma_before: false,
                            pseudo: Some((ops, ope)),
                        });
                    }
                }
                continue;
            }
            let ostart = to_orig(s);
            let oend = to_orig(e - 1) + 1;
            match self.kinds[pid] {
                PatKind::Pseudo => {
                    last_end = e;
                    last_pseudo = Some((s, e, ostart, oend));
                }
                PatKind::Terminate => {
                    last_end = e;
                    terms.push(ostart..oend);
                }
                PatKind::Cue { cat, dir, no_number } => {
                    if no_number {
                        let rest = text[oend..].trim_start();
                        if rest.as_bytes().first().is_some_and(|b| b.is_ascii_digit()) {
                            continue;
                        }
                    }
                    last_end = e;
                    let comma_before = text[..ostart].trim_end().ends_with(',');
                    cues.push(CueHit { start: ostart, end: oend, cat, dir, comma_before, pseudo: None });
                }
            }
        }
        stops.sort_unstable();
        stops.dedup();
        cell_stops.sort_unstable();

        let max_cue_len = cues.iter().map(|c| c.end - c.start).max().unwrap_or(0);
        NoteContext { rules: self, text, cues, stops, cell_stops, terms, token_starts, seg_starts, line_headers, labels, max_cue_len }
    }
}

// ---------------------------------------------------------------------------
// Segmentation
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Blank,
    Table,
    Bullet,
    Text,
}

#[derive(Debug, Clone)]
struct Section {
    range: Range<usize>,
    /// `None`: header not in any section list.
    flags: Option<Assertion>,
}

struct Segmenter<'r, 't> {
    rules: &'r ContextRules,
    text: &'t str,
    seg_starts: Vec<usize>,
    stops: Vec<usize>,
    /// Table-cell borders: they end forward scopes only, so "| SI | denied |"
    /// still works backward while "| none | Bupropion |" does not leak.
    cell_stops: Vec<usize>,
    line_headers: Vec<Section>,
    labels: Vec<Section>,
}

/// Byte range of a line's content (without the line terminator) and the
/// trimmed content range.
struct Line {
    start: usize,
    end: usize,
    tstart: usize,
    tend: usize,
}

const TITLE_SMALL_WORDS: &[&str] = &["of", "and", "for", "the", "to", "in", "on", "&", "/", "or", "a", "with"];

impl<'r, 't> Segmenter<'r, 't> {
    fn new(rules: &'r ContextRules, text: &'t str) -> Self {
        Segmenter {
            rules,
            text,
            seg_starts: vec![0],
            stops: Vec::new(),
            cell_stops: Vec::new(),
            line_headers: Vec::new(),
            labels: Vec::new(),
        }
    }

    fn cut(&mut self, pos: usize) {
        if pos < self.text.len() && *self.seg_starts.last().unwrap_or(&0) < pos {
            self.seg_starts.push(pos);
        }
    }

    fn classify(&self, l: &Line) -> LineKind {
        let t = &self.text[l.tstart..l.tend];
        if t.is_empty() {
            return LineKind::Blank;
        }
        if t.contains('|') || t.contains('\t') {
            return LineKind::Table;
        }
        if is_bullet(t) {
            return LineKind::Bullet;
        }
        LineKind::Text
    }

    /// Hard-wrapped prose: the break between `prev` and `cur` is not a
    /// boundary.
    fn is_soft_wrap(&self, prev: &Line, cur: &Line) -> bool {
        let p = &self.text[prev.tstart..prev.tend];
        let c = &self.text[cur.tstart..cur.tend];
        if p.ends_with(['.', '!', '?', ':', ';']) {
            return false;
        }
        if p.ends_with(',') || p.ends_with('-') {
            return true;
        }
        // A line led by a label ("REMS - certified site", "d/c 1132: stable")
        // starts a new entry, whatever the line before ends with.
        if leads_with_label(c) {
            return false;
        }
        if c.chars().next().is_some_and(|ch| ch.is_lowercase()) {
            return true;
        }
        // "SUD: No" closing a row of label: value fields is an answer, not a
        // sentence running on ("no" is also a continuation word).
        if p.rsplit_once(':').is_some_and(|(_, v)| !v.trim().is_empty() && !v.trim().contains(char::is_whitespace)) {
            return false;
        }
        let lw = last_word(p);
        !lw.is_empty() && with_lowercase(lw, |lw| self.rules.continuation.contains(lw))
    }

    /// A stand-alone header line: short, no sentence punctuation, ALL CAPS
    /// or Title Case or ending with a colon.
    fn is_header_line(&self, t: &str) -> bool {
        let body = t.trim_end_matches(':').trim_end();
        let colon = body.len() != t.len();
        if body.is_empty() || body.len() > 60 || body.ends_with(['.', '!', '?', ';', ',']) {
            return false;
        }
        let words = body.split_whitespace();
        let n_words = words.clone().take(7).count();
        if n_words == 0 || n_words > 6 {
            return false;
        }
        if !body.chars().any(|c| c.is_alphabetic()) {
            return false;
        }
        if colon {
            return body.chars().next().is_some_and(|c| c.is_alphabetic());
        }
        let mut letters = body.chars().filter(|c| c.is_alphabetic());
        if letters.clone().nth(1).is_some() && letters.all(|c| c.is_uppercase()) {
            return true;
        }
        if n_words > 4 {
            return false;
        }
        words.clone().all(|w| {
            let first = w.chars().find(|c| c.is_alphanumeric());
            match first {
                None => true,
                Some(c) => c.is_uppercase() || TITLE_SMALL_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)),
            }
        }) && words.into_iter().next().and_then(|w| w.chars().next()).is_some_and(|c| c.is_uppercase())
    }

    fn run(&mut self) {
        let text = self.text;
        let bytes = text.as_bytes();
        // Lines.
        let mut lines: Vec<Line> = Vec::new();
        let mut pos = 0;
        while pos <= bytes.len() {
            let nl = text[pos..].find('\n').map(|i| pos + i);
            let raw_end = nl.unwrap_or(bytes.len());
            let end = if raw_end > pos && bytes[raw_end - 1] == b'\r' { raw_end - 1 } else { raw_end };
            let content = &text[pos..end];
            let lead = content.len() - content.trim_start().len();
            let tstart = pos + lead;
            let tend = tstart + content.trim().len();
            lines.push(Line { start: pos, end, tstart, tend });
            match nl {
                Some(i) => pos = i + 1,
                None => break,
            }
        }

        let mut prev_kind = LineKind::Blank;
        let mut prev_header = false;
        for i in 0..lines.len() {
            let kind = self.classify(&lines[i]);
            let mut header = false;
            if kind != LineKind::Blank {
                let t = &text[lines[i].tstart..lines[i].tend];
                let known =
                    kind == LineKind::Text && t.len() <= 60 && self.rules.known_headers.contains(&norm_label(t.trim_end_matches(':')));
                let soft = !known
                    && i > 0
                    && kind == LineKind::Text
                    && prev_kind == LineKind::Text
                    && !prev_header
                    && self.is_soft_wrap(&lines[i - 1], &lines[i]);
                if !soft {
                    self.cut(lines[i].start);
                    if known || (kind == LineKind::Text && self.is_header_line(t)) {
                        header = true;
                        let flags = self.rules.section_flags(t);
                        self.line_headers.push(Section { range: lines[i].tstart..lines[i].tend, flags });
                    }
                }
                if kind == LineKind::Table {
                    for (j, b) in bytes[lines[i].tstart..lines[i].tend].iter().enumerate() {
                        if *b == b'|' || *b == b'\t' {
                            self.cell_stops.push(lines[i].tstart + j);
                        }
                    }
                }
                self.flattened_runs(lines[i].tstart, lines[i].tend);
                self.split_sentences(lines[i].tstart, lines[i].tend);
                if header {
                    // Text after a header line starts a new segment.
                    self.cut(lines[i].end);
                }
            }
            prev_kind = kind;
            prev_header = header;
        }
    }

    /// A long line whose pieces are joined by runs of spaces is a flattened
    /// note ("... no concerns  Cigna PA approved ...  REMS: ..."): a run of
    /// two or more spaces before a capitalized word or a number starts a new
    /// piece, which ends forward scopes (like a table cell border), so "no
    /// concerns" does not reach the next piece. Short lines (aligned vitals,
    /// "Nausea   No") are left alone, and backward scope is not cut.
    fn flattened_runs(&mut self, start: usize, end: usize) {
        const MIN_LEN: usize = 200;
        const MIN_RUNS: usize = 3;
        if end - start < MIN_LEN {
            return;
        }
        let bytes = self.text.as_bytes();
        let mut runs = Vec::new();
        let mut i = start;
        while i + 1 < end {
            if bytes[i] == b' ' && bytes[i + 1] == b' ' {
                let mut j = i + 2;
                while j < end && bytes[j] == b' ' {
                    j += 1;
                }
                let before = if i > start { bytes[i - 1] } else { b':' };
                if j < end && before != b':' && (bytes[j].is_ascii_uppercase() || bytes[j].is_ascii_digit()) {
                    runs.push(i);
                }
                i = j;
            } else {
                i += 1;
            }
        }
        if runs.len() >= MIN_RUNS {
            self.cell_stops.extend(runs);
        }
    }

    /// Sentence / list-marker boundaries and inline labels inside one line.
    fn split_sentences(&mut self, start: usize, end: usize) {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut i = start;
        while i < end {
            let b = bytes[i];
            match b {
                b'.' | b'!' | b'?' => {
                    let next = if i + 1 < end { bytes[i + 1] } else { b' ' };
                    let next_ok = next.is_ascii_whitespace() || next == b'"' || next == b')';
                    // A "?" standing alone ("| ? 2025 |", "dose ?") marks an
                    // unknown value, not the end of a question.
                    let lone_mark = b == b'?' && (i == start || matches!(bytes[i - 1], b' ' | b'\t' | b'|' | b'('));
                    if next_ok && !lone_mark && !(b == b'.' && self.is_abbreviation(start, i) && !self.unit_ends_sentence(start, i, end)) {
                        let mut j = i + 1;
                        while j < end && (bytes[j] == b'"' || bytes[j] == b')') {
                            j += 1;
                        }
                        self.cut(j);
                    }
                }
                b';' if self.rules.semicolon_ends_scope => self.stops.push(i),
                // A diagnosis code in parentheses closes the diagnosis name
                // it follows: "MDD w/o psychotic features (F33.2), treatment
                // resistant after nortriptyline" does not negate the drug.
                b')' if paren_icd_code(&bytes[start..=i]) => self.stops.push(i + 1),
                b':' => {
                    let next = if i + 1 < end { bytes[i + 1] } else { b' ' };
                    if next.is_ascii_whitespace() {
                        self.inline_label(start, i);
                    }
                }
                b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                    // List markers "1.", "2)", "A." preceded by line start,
                    // two spaces or a colon: boundary before the marker.
                    let word_start = i == 0 || !is_word_byte(bytes[i - 1]);
                    if let Some(len) = list_marker_len(&bytes[i..end]).filter(|_| word_start) {
                        let before = &text[start..i];
                        let marker_pos =
                            before.is_empty() || before.ends_with("  ") || before.trim_end().ends_with(':') || before.ends_with('\t');
                        if marker_pos {
                            self.cut(i);
                            i += len;
                            continue;
                        }
                    }
                    // Skip the rest of the word.
                    i += 1;
                    while i < end && bytes[i].is_ascii_alphanumeric() {
                        i += 1;
                    }
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// A unit abbreviation after a number ends the sentence when the next
    /// word is capitalized: "observed x 90 min. Mild dissociation".
    fn unit_ends_sentence(&self, line_start: usize, dot: usize, end: usize) -> bool {
        let bytes = self.text.as_bytes();
        let mut s = dot;
        while s > line_start && bytes[s - 1].is_ascii_alphabetic() {
            s -= 1;
        }
        if !with_lowercase(&self.text[s..dot], |w| self.rules.unit_abbreviations.contains(w)) {
            return false;
        }
        let mut k = s;
        while k > line_start && bytes[k - 1] == b' ' {
            k -= 1;
        }
        let after_number = k > line_start && bytes[k - 1].is_ascii_digit();
        let mut n = dot + 1;
        while n < end && bytes[n].is_ascii_whitespace() {
            n += 1;
        }
        after_number && n < end && bytes[n].is_ascii_uppercase()
    }

    fn is_abbreviation(&self, line_start: usize, dot: usize) -> bool {
        let bytes = self.text.as_bytes();
        let mut s = dot;
        while s > line_start && (bytes[s - 1].is_ascii_alphanumeric() || bytes[s - 1] == b'.') {
            s -= 1;
        }
        let w = &self.text[s..dot];
        if w.is_empty() {
            return false;
        }
        if w.contains('.') {
            // dotted abbreviation: p.o. b.i.d. e.g.
            return w.split('.').all(|p| p.len() <= 3 && p.chars().all(|c| c.is_ascii_alphabetic()));
        }
        with_lowercase(w, |w| self.rules.abbreviations.contains(w))
    }

    /// "Label:" inside a line: records a section label and a scope stop.
    fn inline_label(&mut self, line_start: usize, colon: usize) {
        let text = self.text;
        let seg_start = *self.seg_starts.last().unwrap_or(&0);
        // Labels are at most 50 bytes: look back a bounded distance only, or
        // a one-line note with many colons makes this quadratic.
        let mut from = line_start.max(seg_start).max(colon.saturating_sub(64)).min(colon);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let before = &text[from..colon];
        let mut ls = from;
        if let Some(p) = before.rfind("  ") {
            ls = from + p + 2;
        }
        // "MDD without psychosis, TRD: duloxetine ...": the label is the
        // words after the comma.
        if let Some(p) = text[ls..colon].rfind(['\t', '|', '.', ';', ',']) {
            ls = ls + p + 1;
        }
        let label = text[ls..colon].trim();
        if label.is_empty() || label.len() > 50 {
            return;
        }
        let lstart = colon - text[ls..colon].trim_start().len();
        let words = label.split_whitespace().count();
        if words > 6 || !label.chars().next().is_some_and(|c| c.is_uppercase()) {
            return;
        }
        if self.line_headers.last().is_some_and(|h| h.range.start == lstart) {
            return;
        }
        if lstart > seg_start {
            self.stops.push(lstart);
        }
        let flags = self.rules.section_flags(label);
        self.labels.push(Section { range: lstart..colon + 1, flags });
    }
}

/// The last word of `t`: letters, digits, '/' and "'".
fn last_word(t: &str) -> &str {
    t.rsplit(|c: char| !c.is_alphanumeric() && c != '/' && c != '\'').find(|w| !w.is_empty()).unwrap_or("")
}

/// `f` of `w` ASCII-lowercased, without allocating for a word of up to 32
/// bytes (the sentence splitter asks for every word before a period).
fn with_lowercase<R>(w: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 32];
    match buf.get_mut(..w.len()) {
        Some(b) => {
            b.copy_from_slice(w.as_bytes());
            b.make_ascii_lowercase();
            f(std::str::from_utf8(b).expect("ASCII lowercasing keeps UTF-8 valid"))
        }
        None => f(&w.to_ascii_lowercase()),
    }
}

/// Whether `s` ends with an ICD-10-CM code in parentheses: "(F33.2)",
/// "(R45.851)", "(F3181)". Looks back a bounded distance only, so a run of
/// nested parentheses stays linear.
fn paren_icd_code(s: &[u8]) -> bool {
    let s = &s[s.len().saturating_sub(12)..];
    let Some(open) = s.iter().rposition(|&b| b == b'(') else { return false };
    let code = &s[open + 1..s.len() - 1];
    let code = code.trim_ascii();
    code.len() >= 3
        && code.len() <= 8
        && code[0].is_ascii_uppercase()
        && code[1].is_ascii_digit()
        && code[2].is_ascii_alphanumeric()
        && code[3..].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'.')
}

/// The line starts with a short label and its separator: one to four words
/// (letters first; digits, '/', '#', '&', '.', "'" and parentheses allowed)
/// then ':' or " - " ("REMS - certified site", "d/c 1132: stable", "Current
/// AD: sertraline"). Wrapped prose ("of depression: ...") starts with a
/// function word and is not a label.
fn leads_with_label(c: &str) -> bool {
    let cut = (0..=c.len().min(48)).rev().find(|&i| c.is_char_boundary(i)).unwrap_or(0);
    let head = &c[..cut];
    let colon = head.find(':');
    let dash = head.find(" - ");
    let Some(end) = [colon, dash].into_iter().flatten().min() else { return false };
    let label = head[..end].trim();
    let Some(first) = label.split_whitespace().next() else { return false };
    const FUNCTION_WORDS: &[&str] =
        &["of", "and", "or", "the", "to", "with", "for", "in", "on", "a", "an", "at", "as", "but", "by", "from"];
    label.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && label.split_whitespace().count() <= 4
        && label.chars().all(|ch| ch.is_alphanumeric() || " /#&'.()".contains(ch))
        && !FUNCTION_WORDS.contains(&first.to_ascii_lowercase().as_str())
}

fn is_bullet(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'-' | b'*' | b'+' | b'>') && b[1] == b' ' {
        return true;
    }
    if ['•', '◦', '▪', '○', '‣', '·', '▫'].iter().any(|c| t.starts_with(*c)) {
        return true;
    }
    // A word processor's sub-bullet typed as a letter o ("   o Zoloft -
    // a few months"): "o", a space, then a capital or a digit.
    if b.len() >= 3 && b[0] == b'o' && matches!(b[1], b' ' | b'\t') {
        let rest = t[2..].trim_start();
        if rest.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return true;
        }
    }
    list_marker_len(b).is_some()
}

/// Length of a list marker at the start of `b`: 1-2 digits or one letter,
/// then '.' or ')', then whitespace.
fn list_marker_len(b: &[u8]) -> Option<usize> {
    let mut n = 0;
    while n < b.len() && n < 2 && b[n].is_ascii_digit() {
        n += 1;
    }
    if n == 0 {
        if !b.first().is_some_and(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        n = 1;
    }
    if n + 1 < b.len() && matches!(b[n], b'.' | b')') && b[n + 1].is_ascii_whitespace() {
        // A single letter followed by "." is only a marker when uppercase
        // ("A.") -- "a." is usually the end of a word in shorthand.
        if b[0].is_ascii_alphabetic() && !(b[0].is_ascii_uppercase() || b[n] == b')') {
            return None;
        }
        Some(n + 1)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Per-note context
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct CueHit {
    start: usize,
    end: usize,
    cat: Category,
    dir: Direction,
    comma_before: bool,
    /// Set when the cue lies inside a pseudo-cue (original byte range): it
    /// then applies only to targets overlapping that pseudo-cue.
    pseudo: Option<(usize, usize)>,
}

/// All cues, segments and section headers found in one note. Cheap to query.
pub struct NoteContext<'a> {
    rules: &'a ContextRules,
    text: &'a str,
    cues: Vec<CueHit>,
    stops: Vec<usize>,
    cell_stops: Vec<usize>,
    /// Termination cues, in text order.
    terms: Vec<Range<usize>>,
    token_starts: Vec<usize>,
    seg_starts: Vec<usize>,
    line_headers: Vec<Section>,
    labels: Vec<Section>,
    /// Longest cue in bytes (bounds which cues can still reach a target).
    max_cue_len: usize,
}

/// One cue found in a note (for debugging and evidence display).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CueInfo {
    /// Byte range of the cue in the note.
    pub range: Range<usize>,
    /// Its category.
    pub category: Category,
    /// Its direction.
    pub direction: Direction,
}

const PRIORITY: [Category; 5] = [Category::Negated, Category::Hypothetical, Category::Possible, Category::Family, Category::Historical];

impl NoteContext<'_> {
    /// Number of assertion cues found in the note.
    pub fn cue_count(&self) -> usize {
        self.cues.len()
    }

    /// Assertion for the target phrase at byte range `target` of the note.
    pub fn assess(&self, target: Range<usize>) -> Assertion {
        self.assess_with_cue(target).0
    }

    /// Assertion plus the byte range of the cue (or section header) that
    /// governs it: the nearest in-scope cue of the highest-priority category
    /// set (negated, hypothetical, possible, family, historical).
    pub fn assess_with_cue(&self, target: Range<usize>) -> (Assertion, Option<Range<usize>>) {
        let len = self.text.len();
        let s = target.start.min(len);
        let e = target.end.clamp(s, len);
        let seg = self.segment_bounds(s);

        let mut a = Assertion::default();
        // Best (distance, range) per category.
        let mut best: [Option<(usize, Range<usize>)>; 5] = Default::default();
        let lo = self.cues.partition_point(|c| c.start < seg.start);
        let hi = self.cues.partition_point(|c| c.start < seg.end);
        let in_seg = &self.cues[lo..hi];
        // Only cues within token reach can govern the target: one before it
        // ending more than max_forward tokens away, or one after it starting
        // more than max_backward tokens away, never does. Skipping them
        // up front keeps a segment with thousands of cues (one endless
        // sentence) linear instead of quadratic.
        let ti = self.token_starts.partition_point(|&p| p < s);
        let first = match ti.checked_sub(self.rules.max_forward + 1) {
            // tokens_in(end, s) > max_forward exactly when end <= p.
            Some(i) => {
                let p = self.token_starts[i];
                in_seg.partition_point(|c| c.start + self.max_cue_len <= p)
            }
            None => 0,
        };
        let tj = self.token_starts.partition_point(|&p| p < e);
        let last = match self.token_starts.get(tj + self.rules.max_backward) {
            // tokens_in(e, start) > max_backward exactly when start > q.
            Some(&q) => in_seg.partition_point(|c| c.start <= q),
            None => in_seg.len(),
        };
        for (k, c) in in_seg.iter().enumerate().take(last).skip(first) {
            if c.start < e && c.end > s {
                continue; // the cue is part of the target phrase
            }
            if let Some((ps, pe)) = c.pseudo {
                if !(ps < e.max(s + 1) && pe > s) {
                    continue; // blocked by its pseudo-cue
                }
            }
            let mut dist = None;
            if c.end <= s && c.dir.forward() && self.forward_reaches(in_seg, k, s) {
                dist = Some(s - c.end);
            } else if c.start >= e
                && c.dir.backward()
                && !self.stop_in(e, c.start)
                && !self.term_between(e, c.start, false)
                && self.tokens_in(e, c.start) <= self.rules.max_backward
            {
                dist = Some(c.start - e);
            }
            if let Some(d) = dist {
                a.set(c.cat);
                let slot = &mut best[c.cat as usize];
                if slot.as_ref().is_none_or(|(bd, _)| d < *bd) {
                    *slot = Some((d, c.start..c.end));
                }
            }
        }
        let mut cue = PRIORITY.iter().find_map(|cat| best[*cat as usize].as_ref().map(|(_, r)| r.clone()));

        if let Some(sec) = self.section_at(s) {
            if let Some(flags) = sec.flags {
                if cue.is_none() && !flags.is_affirmed() {
                    cue = Some(sec.range.clone());
                }
                a = a.union(flags);
            }
        }
        (a, cue)
    }

    fn forward_reaches(&self, in_seg: &[CueHit], k: usize, s: usize) -> bool {
        let c = &in_seg[k];
        if self.stop_in(c.end, s)
            || in_sorted(&self.cell_stops, c.end, s)
            || self.term_between(c.end, s, true)
            || self.term_starts_target(c.end, s)
            || self.tokens_in(c.end, s) > self.rules.max_forward
            || self.fronted_clause_closed(c.start, c.end, s)
        {
            return false;
        }
        if self.rules.comma_new_cue_ends_scope {
            for o in &in_seg[k + 1..] {
                if o.start >= s {
                    break;
                }
                if o.cat == c.cat || o.pseudo.is_some() {
                    continue;
                }
                // "denies SI, history of depression": a comma-led cue of
                // another category starts a new assertion.
                if o.comma_before {
                    return false;
                }
                // "history of deafness and denies nausea": a negation cue
                // that is not adjacent to this cue starts a new assertion
                // ("not previously tried X" stays one chain).
                if o.cat == Category::Negated && c.cat != Category::Negated && self.tokens_in(c.end, o.start) > 0 {
                    return false;
                }
            }
        }
        true
    }

    /// Whether the cue at `[cs, ce)` sits in a fronted subordinate clause
    /// that a comma closes before `s`: "Because she cannot come on
    /// Saturday, 1 device was given to use at home"; "If no response by
    /// week 8, ..." The sentence opens with the conjunction, at most 80
    /// bytes before the cue.
    fn fronted_clause_closed(&self, cs: usize, ce: usize, s: usize) -> bool {
        let text = self.text.as_bytes();
        let Some(gap) = text.get(ce..s) else { return false };
        if !gap.contains(&b',') {
            return false;
        }
        let i = self.seg_starts.partition_point(|&b| b <= cs).saturating_sub(1);
        let start = self.seg_starts.get(i).copied().unwrap_or(0);
        if cs - start > 80 {
            return false;
        }
        let lead = text[start..cs].trim_ascii_start();
        let first = lead.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let word = lead[..first].to_ascii_lowercase();
        let opens = matches!(
            word.as_slice(),
            b"because" | b"since" | b"although" | b"though" | b"as" | b"when" | b"whenever" | b"while" | b"if" | b"unless"
        ) && lead.get(first).is_some_and(|b| b.is_ascii_whitespace())
            && !text[start..cs].contains(&b',');
        // The comma closes the clause only when a new predicate follows it
        // ("..., 1 device was given"); "When asked she denied nausea,
        // vomiting or dizziness" is one list.
        opens && {
            let comma = ce + gap.iter().position(|&c| c == b',').unwrap_or(0);
            let end = self.segment_bounds(cs).end.min(comma + 120).min(text.len()).max(comma);
            text[comma..end].split(|c| !c.is_ascii_alphabetic()).any(|w| {
                let w = w.to_ascii_lowercase();
                matches!(
                    w.as_slice(),
                    b"was"
                        | b"were"
                        | b"is"
                        | b"are"
                        | b"has"
                        | b"have"
                        | b"had"
                        | b"will"
                        | b"did"
                        | b"does"
                        | b"given"
                        | b"gave"
                        | b"sent"
                        | b"took"
                        | b"received"
                        | b"proceeded"
                        | b"signed"
                        | b"administered"
                        | b"dispensed"
                )
            })
        }
    }

    /// A termination cue inside `[a, b)` that is not adjacent to the cue
    /// ("no reported side effects": "reported" right after "no" does not
    /// terminate). `forward`: the cue sits at `a`; otherwise at `b`.
    fn term_between(&self, a: usize, b: usize, forward: bool) -> bool {
        let i = self.terms.partition_point(|t| t.start < a);
        self.terms[i..].iter().take_while(|t| t.end <= b).any(|t| {
            if forward {
                self.tokens_in(a, t.start) > 0
            } else {
                self.tokens_in(t.end, b) > 0
            }
        })
    }

    /// A target that itself begins with a termination cue starts a new
    /// clause ("no dissociation, discharged with friend"), unless it directly
    /// follows the cue ("not discharged with ...").
    ///
    /// Only a `,` or `;` between the cue and the target marks that new
    /// clause: without one the action is still inside the cue's scope ("could
    /// not be discharged with spouse", "should be discharged with a
    /// responsible adult"). A sentence end needs no check here, since forward
    /// scope never leaves its segment.
    fn term_starts_target(&self, cue_end: usize, s: usize) -> bool {
        let i = self.terms.partition_point(|t| t.start < s);
        self.terms.get(i).is_some_and(|t| t.start == s)
            && self.tokens_in(cue_end, s) > 0
            && self.text.as_bytes().get(cue_end..s).is_some_and(|gap| gap.iter().any(|&b| b == b',' || b == b';'))
    }

    fn stop_in(&self, a: usize, b: usize) -> bool {
        in_sorted(&self.stops, a, b)
    }

    fn tokens_in(&self, a: usize, b: usize) -> usize {
        if b <= a {
            return 0;
        }
        self.token_starts.partition_point(|&p| p < b) - self.token_starts.partition_point(|&p| p < a)
    }

    /// The section (line header, or inline label under it) governing `pos`.
    fn section_at(&self, pos: usize) -> Option<&Section> {
        let hi = self.line_headers.partition_point(|h| h.range.start <= pos);
        let base = hi.checked_sub(1).map(|i| &self.line_headers[i]);
        let base_start = base.map_or(0, |h| h.range.end);
        let li = self.labels.partition_point(|l| l.range.start <= pos);
        if let Some(l) = li.checked_sub(1).map(|i| &self.labels[i]) {
            if l.range.start >= base_start && l.flags.is_some() {
                return Some(l);
            }
        }
        base
    }

    fn segment_bounds(&self, pos: usize) -> Range<usize> {
        let i = self.seg_starts.partition_point(|&b| b <= pos).saturating_sub(1);
        let start = self.seg_starts.get(i).copied().unwrap_or(0);
        let end = self.seg_starts.get(i + 1).copied().unwrap_or(self.text.len());
        start..end
    }

    /// Byte range of the segment (sentence, list item, table row or header
    /// line) containing `pos`, with surrounding whitespace trimmed (but always
    /// containing `pos` when `pos` is inside the text). Always on char
    /// boundaries.
    pub fn segment_of(&self, pos: usize) -> Range<usize> {
        let mut pos = pos.min(self.text.len());
        while !self.text.is_char_boundary(pos) {
            pos -= 1;
        }
        let r = self.segment_bounds(pos);
        let piece = &self.text[r.clone()];
        let ts = r.start + (piece.len() - piece.trim_start().len());
        let te = r.start + piece.trim_end().len();
        if ts >= te {
            return r;
        }
        ts.min(pos)..te.max(pos)
    }

    /// Every cue found in the note, in text order.
    pub fn cues(&self) -> Vec<CueInfo> {
        self.cues.iter().map(|c| CueInfo { range: c.start..c.end, category: c.cat, direction: c.dir }).collect()
    }

    /// Number of segments the note was split into.
    pub fn segment_count(&self) -> usize {
        self.seg_starts.len()
    }
}

/// Whether sorted `v` has an element in `[a, b)`.
fn in_sorted(v: &[usize], a: usize, b: usize) -> bool {
    let i = v.partition_point(|&p| p < a);
    i < v.len() && v[i] < b
}

// ---------------------------------------------------------------------------
// NegEx test-set scoring
// ---------------------------------------------------------------------------

/// Counts for one binary label (e.g. "historical") on the rs file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct BinaryStats {
    /// Gold yes, predicted yes.
    pub tp: usize,
    /// Gold no, predicted yes.
    pub fp: usize,
    /// Gold yes, predicted no.
    pub fn_: usize,
    /// Gold no, predicted no.
    pub tn: usize,
    /// Precision of "yes".
    pub precision: f64,
    /// Recall of "yes".
    pub recall: f64,
    /// F1 of "yes".
    pub f1: f64,
}

impl BinaryStats {
    fn add(&mut self, gold: bool, pred: bool) {
        match (gold, pred) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn finish(&mut self) {
        let (p, r, f) = prf(self.tp, self.fp, self.fn_);
        self.precision = p;
        self.recall = r;
        self.f1 = f;
    }
}

fn prf(tp: usize, fp: usize, fn_: usize) -> (f64, f64, f64) {
    let p = if tp + fp == 0 { 0.0 } else { tp as f64 / (tp + fp) as f64 };
    let r = if tp + fn_ == 0 { 0.0 } else { tp as f64 / (tp + fn_) as f64 };
    let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
    (p, r, f)
}

/// Result of [`eval_negex`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NegexReport {
    /// Annotated rows scored.
    pub rows: usize,
    /// Rows whose concept could not be placed in the sentence (scored as
    /// predicted "not negated").
    pub unplaced: usize,
    /// Gold negated, predicted negated.
    pub tp: usize,
    /// Gold affirmed, predicted negated.
    pub fp: usize,
    /// Gold negated, predicted not negated.
    pub fn_: usize,
    /// Gold affirmed, predicted not negated.
    pub tn: usize,
    /// (tp + tn) / rows.
    pub accuracy: f64,
    /// tp / (tp + fp).
    pub negated_precision: f64,
    /// tp / (tp + fn).
    pub negated_recall: f64,
    /// Harmonic mean of precision and recall.
    pub negated_f1: f64,
    /// rs file only: gold temporality "Historical" vs predicted historical.
    pub historical: Option<BinaryStats>,
    /// rs file only: gold temporality "Not particular" vs predicted hypothetical.
    pub hypothetical: Option<BinaryStats>,
    /// rs file only: gold experiencer not "Patient" vs predicted family.
    pub family: Option<BinaryStats>,
    /// Row numbers (first column) of the errors: false positives.
    pub fp_rows: Vec<String>,
    /// Row numbers of false negatives.
    pub fn_rows: Vec<String>,
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t[1..t.len() - 1].replace("\"\"", "\"")
    } else {
        t.to_string()
    }
}

/// Locate `words` (in order, separated by any whitespace) in `sentence`:
/// first as an exact UPPER-CASE occurrence, then case-insensitively.
fn find_words(sentence: &str, words: &[&str]) -> Option<Range<usize>> {
    if words.is_empty() {
        return None;
    }
    let pat: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    let body = pat.join(r"\s+");
    let upper: Vec<String> = words.iter().map(|w| regex::escape(&w.to_uppercase())).collect();
    let upper_body = upper.join(r"\s+");
    let bounded = |m: &regex::Match| {
        let b = sentence.as_bytes();
        let first_word = sentence[m.start()..].chars().next().is_some_and(|c| c.is_alphanumeric());
        let last_word = sentence[..m.end()].chars().next_back().is_some_and(|c| c.is_alphanumeric());
        (!first_word || m.start() == 0 || !is_word_byte(b[m.start() - 1]))
            && (!last_word || m.end() == b.len() || !is_word_byte(b[m.end()]))
    };
    for (src, ci) in [(&upper_body, false), (&body, true)] {
        let re = super::re::build(src, ci).ok()?;
        let found = re.find_iter(sentence).find(|m| bounded(m)).map(|m| m.start()..m.end());
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Place a concept in its sentence: the whole phrase, else the longest
/// leading run of its words.
fn place_concept(sentence: &str, concept: &str) -> Option<Range<usize>> {
    let words: Vec<&str> = concept.split_whitespace().collect();
    (1..=words.len()).rev().find_map(|n| find_words(sentence, &words[..n]))
}

/// Score `rules` on the NegEx test set. Accepts either
/// `Annotations-1-120-random.txt` (no header: number, concept, sentence,
/// Negated|Affirmed) or `rsAnnotations-1-120-random.txt` (header line; adds
/// temporality and experiencer columns, scored informationally).
pub fn eval_negex(rules: &ContextRules, file_contents: &str) -> Result<NegexReport, String> {
    let mut rep = NegexReport::default();
    let mut lines = file_contents.lines().peekable();
    let rs = lines.peek().is_some_and(|l| l.to_ascii_lowercase().contains("negation_status") || l.starts_with("line number"));
    if rs {
        lines.next();
    }
    let (mut hist, mut hyp, mut fam) = (BinaryStats::default(), BinaryStats::default(), BinaryStats::default());
    for (ln, line) in lines.enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let need = if rs { 6 } else { 4 };
        if cols.len() < need {
            return Err(format!("negex file line {}: expected {need} tab-separated columns, got {}", ln + 1, cols.len()));
        }
        let concept = unquote(cols[1]);
        let sentence = unquote(cols[2]);
        let gold = match cols[3].trim() {
            "Negated" => true,
            "Affirmed" => false,
            other => return Err(format!("negex file line {}: unknown label {other:?}", ln + 1)),
        };
        rep.rows += 1;
        let assertion = match place_concept(&sentence, &concept) {
            Some(r) => rules.analyze(&sentence).assess(r),
            None => {
                rep.unplaced += 1;
                Assertion::default()
            }
        };
        let pred = assertion.negated;
        match (gold, pred) {
            (true, true) => rep.tp += 1,
            (false, true) => {
                rep.fp += 1;
                rep.fp_rows.push(cols[0].trim().to_string());
            }
            (true, false) => {
                rep.fn_ += 1;
                rep.fn_rows.push(cols[0].trim().to_string());
            }
            (false, false) => rep.tn += 1,
        }
        if rs {
            hist.add(cols[4].trim() == "Historical", assertion.historical);
            hyp.add(cols[4].trim() == "Not particular", assertion.hypothetical);
            fam.add(cols[5].trim() != "Patient", assertion.family);
        }
    }
    if rep.rows == 0 {
        return Err("negex file: no rows".to_string());
    }
    rep.accuracy = (rep.tp + rep.tn) as f64 / rep.rows as f64;
    let (p, r, f) = prf(rep.tp, rep.fp, rep.fn_);
    rep.negated_precision = p;
    rep.negated_recall = r;
    rep.negated_f1 = f;
    if rs {
        for s in [&mut hist, &mut hyp, &mut fam] {
            s.finish();
        }
        rep.historical = Some(hist);
        rep.hypothetical = Some(hyp);
        rep.family = Some(fam);
    }
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_lowercase_equals_to_ascii_lowercase() {
        // Both sides of the 32-byte stack buffer, and non-ASCII text.
        for n in 0..40 {
            let w: String = "AbCdÉé".chars().cycle().take(n).collect();
            assert_eq!(with_lowercase(&w, str::to_string), w.to_ascii_lowercase(), "{w:?}");
        }
        assert_eq!(last_word("stayed on SERTRALINE, "), "SERTRALINE");
        assert_eq!(last_word("h/o d/c'd"), "d/c'd");
        assert_eq!(last_word(" ,. "), "");
    }

    #[test]
    fn header_lines() {
        let r = ContextRules::builtin();
        let seg = Segmenter::new(r, "");
        for (t, want) in [
            ("FAMILY HISTORY", true),
            ("Plan of Care", true),
            ("Assessment and Plan:", true),
            ("Current medications:", true),
            ("patient tolerated well", false),
            ("Plan of care for the next visit today", false),
            ("BP 128/82.", false),
            ("a", false),
            ("12:30", false),
            ("Plan Of care", false),
        ] {
            assert_eq!(seg.is_header_line(t), want, "{t:?}");
        }
    }

    #[test]
    fn section_flags_equal_per_list_containment() {
        let raw: RawRules = toml::from_str(include_str!("../../dictionaries/context.toml")).unwrap();
        let r = ContextRules::builtin();
        let lists: Vec<Vec<String>> = [&raw.sections.family, &raw.sections.exclude, &raw.sections.historical, &raw.sections.hypothetical]
            .iter()
            .map(|v| v.iter().map(|s| norm_label(s)).collect())
            .collect();
        let old = |label: &str| -> Option<Assertion> {
            let l = norm_label(label);
            let has = |v: &[String]| v.iter().any(|p| l.contains(p.as_str()));
            let mut a = Assertion::default();
            if has(&lists[0]) {
                a.family = true;
                return Some(a);
            }
            if has(&lists[1]) {
                return Some(a);
            }
            if has(&lists[2]) {
                a.historical = true;
                return Some(a);
            }
            if has(&lists[3]) {
                a.hypothetical = true;
                return Some(a);
            }
            None
        };
        let mut labels: Vec<String> = raw.sections.known_headers.clone();
        for v in [&raw.sections.family, &raw.sections.exclude, &raw.sections.historical, &raw.sections.hypothetical] {
            labels.extend(v.iter().cloned());
            labels.extend(v.iter().map(|s| format!("Past {s} and Plan")));
            labels.extend(v.iter().map(|s| s.to_uppercase()));
        }
        labels
            .extend(["", "BP", "Family Hx / Social", "PLAN", "Prior Medication Trials", "HPI", "Café Ünit", "ÉTAT", "x"].map(String::from));
        for l in &labels {
            assert_eq!(
                r.section_flags(l).map(|a| (a.family, a.historical, a.hypothetical)),
                old(l).map(|a| (a.family, a.historical, a.hypothetical)),
                "{l}"
            );
        }
    }

    fn rules() -> &'static ContextRules {
        ContextRules::builtin()
    }

    /// Assess the first occurrence of `target` in `text`.
    fn assess(text: &str, target: &str) -> Assertion {
        let s = text.find(target).expect("target in text");
        rules().analyze(text).assess(s..s + target.len())
    }

    #[test]
    fn unit_abbreviation_before_a_capital_ends_the_sentence() {
        let t = "Observed x 90 min. Mild dissociation, resolved.";
        assert!(!rules().analyze(t).assess(0..17).negated);
        // Still an abbreviation mid-sentence.
        let t = "Vitals q15 min. until discharge, no hypotension";
        assert!(rules().analyze(t).assess(t.find("hypotension").unwrap()..t.len()).negated);
    }

    #[test]
    fn builtin_loads_and_is_send_sync() {
        fn check<T: Send + Sync>(_: &T) {}
        check(rules());
        assert!(rules().max_forward_tokens() > 0);
    }

    #[test]
    fn negation_cues() {
        assert!(assess("Patient denies suicidal ideation.", "suicidal ideation").negated);
        assert!(assess("No SI or HI today.", "HI").negated);
        assert!(assess("Denies fever, chills, or night sweats.", "night sweats").negated);
        assert!(assess("Never tried sertraline.", "sertraline").negated);
        assert!(assess("She declined esketamine.", "esketamine").negated);
        assert!(assess("Pregnancy test not obtained.", "Pregnancy test").negated);
        assert!(assess("SI: denied", "SI").negated);
        assert!(assess("Urine drug screen negative.", "Urine drug screen").negated);
        assert!(assess("Bipolar disorder was ruled out.", "Bipolar disorder").negated);
        assert!(assess("Free of psychotic features.", "psychotic features").negated);
        assert!(assess("NO KNOWN DRUG ALLERGIES.", "DRUG ALLERGIES").negated);
        let a = assess("Sertraline 100 mg daily, tolerating well.", "Sertraline");
        assert!(a.is_affirmed());
    }

    #[test]
    fn other_categories() {
        let a = assess("Will consider esketamine if no response to augmentation.", "esketamine");
        assert!(a.hypothetical && !a.negated);
        assert!(assess("Plan to start Spravato 56 mg next week.", "Spravato").hypothetical);
        assert!(assess("Patient is a candidate for ketamine infusion.", "ketamine").hypothetical);
        let f = assess("Mother has bipolar disorder.", "bipolar disorder");
        assert!(f.family && !f.negated);
        assert!(assess("Family history of schizophrenia.", "schizophrenia").family);
        assert!(assess("History of alcohol use disorder.", "alcohol use disorder").historical);
        assert!(assess("Previously tried bupropion.", "bupropion").historical);
        assert!(assess("Possible bipolar II disorder.", "bipolar II disorder").possible);
        assert!(assess("R/O psychotic depression.", "psychotic depression").possible);
        let both = assess("Denies family history of suicide.", "suicide");
        assert!(both.negated && both.family);
        assert!(assess("Session held via remote video.", "video").is_affirmed());
        assert!(!assess("Relative contraindication: uncontrolled HTN.", "uncontrolled HTN").family);
        // "May" the month is not a hypothetical cue.
        assert!(!assess("Started sertraline May 2023.", "sertraline").hypothetical);
        // A duration ("two-day history of") is not a past history.
        assert!(!assess("Two-day history of nausea.", "nausea").historical);
    }

    #[test]
    fn pseudo_cues_block() {
        assert!(!assess("No change in mood since last visit.", "mood").negated);
        assert!(!assess("Not only anxious but also depressed.", "anxious").negated);
        assert!(!assess("Culture grew gram negative rods.", "rods").negated);
        assert!(!assess("No increase in anxiety.", "anxiety").negated);
        // Treatment failure: the trial happened; only the response is absent.
        let t = "No response to sertraline 200 mg x 8 weeks.";
        assert!(!assess(t, "sertraline").negated);
        assert!(assess(t, "response").negated);
        // A pseudo-cue overlapping the target does not block: "no CHANGE IN VISION".
        assert!(assess("Denies headache, no change in vision.", "change in vision").negated);
    }

    #[test]
    fn a_fronted_clause_keeps_its_negation() {
        let t = "Because she cannot come on Saturday, 1 additional device was given to the patient to use at home.";
        assert!(!assess(t, "device was given").negated);
        // Inside the clause the cue still negates.
        assert!(assess(t, "come on Saturday").negated);
        assert!(assess("If no response by week 8, consider augmentation.", "response").negated);
        // A list inside the fronted clause stays negated.
        assert!(assess("When asked about side effects she denied nausea, vomiting or dizziness.", "dizziness").negated);
        assert!(assess("Since the last session no SI, HI, or dissociation.", "dissociation").negated);
        // Without the opening conjunction the scope runs past the comma.
        assert!(assess("Denies nausea, vomiting, dizziness.", "dizziness").negated);
    }

    #[test]
    fn termination_cues() {
        let t = "Denies SI but endorses passive death wish.";
        assert!(assess(t, "SI").negated);
        assert!(!assess(t, "passive death wish").negated);
        assert!(!assess("No fever however reports cough.", "cough").negated);
        assert!(!assess("No SI; anhedonia present.", "anhedonia").negated);
        // A new assertion after a comma ends the scope of another category.
        // A terminator right after the cue does not cut it.
        assert!(assess("No reported side effects.", "side effects").negated);
        assert!(assess("No findings consistent with mania.", "mania").negated);
        let t = "Denies SI, history of depression.";
        assert!(!assess(t, "depression").negated);
        assert!(assess(t, "depression").historical);
    }

    #[test]
    fn comma_list_sequence() {
        let t = "No response to sertraline, then tried bupropion with partial benefit.";
        assert!(!assess(t, "sertraline").negated);
        assert!(!assess(t, "bupropion").negated);
        let t = "Never tried lithium, then started bupropion.";
        assert!(assess(t, "lithium").negated);
        assert!(!assess(t, "bupropion").negated);
        // The forward cap keeps a cue from reaching far down a long sentence.
        let t = "No acute distress and the patient was calm and cooperative throughout the visit with good eye contact and euthymic mood.";
        assert!(!assess(t, "euthymic mood").negated);
    }

    #[test]
    fn table_rows_do_not_leak() {
        let t = "| Drug | Dose | Duration | Outcome |\n\
                 | Sertraline | 100 mg | 8 wk | no response |\n\
                 | Bupropion | 300 mg | 12 wk | partial |\n\
                 | Lithium | none | | |\n\
                 | Venlafaxine | 150 mg | 10 wk | not tolerated |";
        assert!(!assess(t, "Bupropion").negated);
        assert!(!assess(t, "Sertraline").negated);
        assert!(!assess(t, "Venlafaxine").negated);
        // A value cell still applies backward within its own row.
        assert!(assess(t, "Lithium").negated);
        // Cell borders stop forward scope inside a row.
        let t = "Trial\tnone\tBupropion 300 mg";
        assert!(!assess(t, "Bupropion").negated);
        // Each table row is its own segment.
        let ctx = rules().analyze("| a | no b |\n| c | d |");
        let p = "| a | no b |\n| c".len() - 1;
        assert_eq!(ctx.segment_of(p), 13..22);
    }

    #[test]
    fn a_line_led_by_a_label_is_no_soft_wrap() {
        // "history" at a line's end usually wraps ("history\nof MDD"), but a
        // next line led by a label starts a new entry.
        let t = "Safety - no AVM, no SUD history\nREMS - certified setting, pt enrolled (Jun 2025)";
        assert!(!assess(t, "pt enrolled").negated);
        let t = "A&Ox3, resp unlabored, no sedation\nd/c 1132: MD eval - clinically stable, d/c criteria met";
        assert!(!assess(t, "d/c criteria met").negated);
        // Wrapped prose still carries the cue.
        let t = "Patient denies any history\nof suicidal ideation: none reported.";
        assert!(assess(t, "suicidal ideation").negated);
        assert!(leads_with_label("Current AD: sertraline"));
        assert!(!leads_with_label("of depression: none"));
        assert!(!leads_with_label("she said that she was tired of it all: no plan"));
    }

    #[test]
    fn section_headers_end_scope() {
        // Header without colon, Title-Case, after a line ending in a cue word.
        let t = "Patient denies\nAssessment\nMajor depressive disorder, recurrent, severe.";
        assert!(!assess(t, "Major depressive disorder").negated);
        // ALL-CAPS header line.
        let t = "No suicidal ideation or\nPLAN\nStart esketamine 56 mg.";
        let a = assess(t, "esketamine");
        assert!(!a.negated);
        // Hard-wrapped prose continues across the line break.
        let t = "Patient denies suicidal ideation,\nhomicidal ideation, or psychosis.";
        assert!(assess(t, "psychosis").negated);
        // Section categories.
        let t = "PAST PSYCHIATRIC HISTORY\nSertraline, bupropion, venlafaxine.\n\nMEDICATIONS\nEscitalopram 20 mg.";
        assert!(assess(t, "bupropion").historical);
        assert!(!assess(t, "Escitalopram").historical);
        // An episode that ended in a past admission.
        let t = "Course started after discharge (admitted in July for the SI that led to admission). Denies SI today.";
        assert!(assess(t, "SI").historical);
        let t = "Family History: Mother with bipolar disorder.\nHPI: Depressed mood for months.";
        assert!(assess(t, "bipolar disorder").family);
        assert!(!assess(t, "Depressed mood").family);
        // Inline label after two spaces in flattened text stops a forward cue.
        let t = "Denies chest pain  MEDICATIONS: sertraline 100 mg";
        assert!(!assess(t, "sertraline").negated);
        // A long flattened line: a piece after a run of spaces is out of
        // the previous piece's forward scope; short aligned lines are not cut.
        let t = "CLINIC NOTE 5/5/26  Seen for week 3 of treatment, tolerating it  Denies any new complaints  Sertraline 100 mg continued  BP 120/80 before dosing, 128/82 after  Discharged home with a friend at 11:40 after monitoring";
        assert!(!assess(t, "Sertraline").negated);
        assert!(assess("Denies  nausea or dizziness", "nausea").negated);
        // A row of "Label: No" answers ends at its line.
        let t = "Psychosis: No   Bipolar: No   SUD: No\nREMS site certified: Yes    Patient REMS enrolled: Yes";
        assert!(!assess(t, "Patient REMS enrolled").negated);
        // A sentence wrapped after "no" still runs on.
        let t = "The patient reports no\nsuicidal ideation today.";
        assert!(assess(t, "suicidal ideation").negated);
    }

    #[test]
    fn crlf_caps_and_shorthand() {
        let t = "Denies SI\r\nSertraline 100 mg daily\r\n";
        assert!(assess(t, "SI").negated);
        assert!(!assess(t, "Sertraline").negated);
        let t = "PATIENT DENIES SUICIDAL IDEATION. HISTORY OF MDD.";
        assert!(assess(t, "SUICIDAL IDEATION").negated);
        assert!(!assess(t, "MDD").negated);
        assert!(assess(t, "MDD").historical);
        let t = "pt c/o anxiety, denies si/hi, no avh.";
        assert!(!assess(t, "anxiety").negated);
        assert!(assess(t, "si/hi").negated);
        assert!(assess(t, "avh").negated);
        let t = "BP 120/80.  Dr. Smith reviewed. No dissociation.";
        assert!(!assess(t, "Smith").negated);
        assert!(assess(t, "dissociation").negated);
    }

    #[test]
    fn evidence_cue_is_reported() {
        let t = "Patient denies SI.";
        let ctx = rules().analyze(t);
        let s = t.find("SI").unwrap();
        let (a, cue) = ctx.assess_with_cue(s..s + 2);
        assert!(a.negated);
        assert_eq!(&t[cue.unwrap()], "denies");
        let t = "FAMILY HISTORY\nDepression.";
        let ctx = rules().analyze(t);
        let s = t.find("Depression").unwrap();
        let (a, cue) = ctx.assess_with_cue(s..s + 10);
        assert!(a.family);
        assert_eq!(&t[cue.unwrap()], "FAMILY HISTORY");
    }

    #[test]
    fn non_ascii_and_char_boundaries() {
        let t = "Café visit — patiënt denies ñausea; “no” SI…\nDépression sévère, no ideación suicida. 日本語 no 痛み.";
        let ctx = rules().analyze(t);
        assert!(assess(t, "ñausea").negated);
        assert!(assess(t, "痛み").negated);
        assert!(!assess(t, "Dépression").negated);
        for pos in 0..=t.len() + 3 {
            let r = ctx.segment_of(pos);
            assert!(t.is_char_boundary(r.start) && t.is_char_boundary(r.end), "pos {pos}: {r:?}");
            assert!(r.start <= r.end && r.end <= t.len());
            let _ = ctx.assess(pos..pos + 3);
            let _ = ctx.assess(pos + 3..pos); // reversed range must not panic
        }
        for c in ctx.cues() {
            assert!(t.is_char_boundary(c.range.start) && t.is_char_boundary(c.range.end));
        }
    }

    #[test]
    fn action_after_a_comma_leaves_the_cue_but_not_without_one() {
        // The termination verb starts a new clause after a comma or semicolon.
        let t = "A&O x4, no dissociation, discharged with wife at 10:55.";
        assert!(assess(t, "discharged with wife").is_affirmed());
        let t = "Denies nausea; discharged with husband.";
        assert!(assess(t, "discharged with husband").is_affirmed());
        let t = "No adverse events, left with daughter.";
        assert!(assess(t, "left with daughter").is_affirmed());
        // Without punctuation the action stays inside the cue's scope.
        assert!(assess("Pt could not be discharged with spouse.", "discharged with spouse").negated);
        assert!(assess("Not yet discharged with escort.", "discharged with escort").negated);
        assert!(!assess("Pt should be discharged with a responsible adult.", "discharged with a responsible adult").is_affirmed());
        assert!(!assess("Pt may be escorted by staff to the lobby.", "escorted by staff").is_affirmed());
    }

    #[test]
    fn fuzz_random_positions() {
        // Tiny xorshift PRNG: no dependency, deterministic.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let pieces = [
            "no ",
            "Denies ",
            "SI",
            ", ",
            ". ",
            "\n",
            "\r\n",
            "| ",
            "\t",
            "PLAN\n",
            "é",
            "—",
            "history of ",
            "if ",
            "but ",
            "mother ",
            "r/o ",
            "sertraline ",
            "No change ",
            "gram negative ",
            "May 2",
            ": ",
            "1. ",
            "A) ",
            ";",
            "  ",
            "\"",
        ];
        for _ in 0..300 {
            let n = (next() % 40) as usize;
            let text: String = (0..n).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect();
            let ctx = rules().analyze(&text);
            for _ in 0..20 {
                let a = (next() % (text.len() as u64 + 4)) as usize;
                let b = (next() % (text.len() as u64 + 4)) as usize;
                let _ = ctx.assess_with_cue(a.min(b)..a.max(b));
                let r = ctx.segment_of(a);
                assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            }
        }
    }

    #[test]
    fn toml_errors() {
        let base = "[settings]\nmax_forward_tokens = 8\nmax_backward_tokens = 5\n";
        let err = ContextRules::from_toml(&format!("{base}bogus_key = 1\n")).unwrap_err();
        assert!(err.contains("bogus_key"), "{err}");
        let err = ContextRules::from_toml(&format!("{base}[negated]\nforwards = [\"no\"]\n")).unwrap_err();
        assert!(err.contains("forwards"), "{err}");
        let err = ContextRules::from_toml(&format!("{base}[negated]\nforward = [\"no\"]\n[pseudo]\nphrases = [\"NO\"]\n")).unwrap_err();
        assert!(err.contains("twice"), "{err}");
        let ok = ContextRules::from_toml(&format!("{base}[negated]\nforward = [\"no\"]\n")).unwrap();
        let t = "no fever";
        assert!(ok.analyze(t).assess(3..8).negated);
    }

    #[test]
    fn negex_scoring_parses_both_formats() {
        let plain = "1\tfever\tNo FEVER.\tNegated\r\n2\tcough\t\"Has COUGH, no fever.\"\tAffirmed\r\n\
                     3\tneck pain\tNECK:  Supple.\tNegated\r\n4\tedema\tNo cyanosis.\tNegated\r\n";
        let r = eval_negex(rules(), plain).unwrap();
        // Row 3 is truncated: "NECK" (leading run) is placed, not negated.
        // Row 4 cannot be placed at all: scored "not negated".
        assert_eq!((r.rows, r.tp, r.fp, r.fn_, r.tn, r.unplaced), (4, 1, 0, 2, 1, 1));
        let rs = "line number\tCondition\tsentence\tnegation_status\ttemporality\texperiencer\n\
                  1\tdepression\tHistory of DEPRESSION.\tAffirmed\tHistorical\tPatient\n\
                  2\tcancer\tMother with CANCER.\tAffirmed\tHistorical\tFamily member\n";
        let r = eval_negex(rules(), rs).unwrap();
        assert_eq!(r.rows, 2);
        assert_eq!(r.historical.unwrap().tp, 1);
        assert_eq!(r.family.unwrap().tp, 1);
        assert!(eval_negex(rules(), "1\tx\n").is_err());
    }
}

//! Text utilities shared by the extractors: section headers, clock times,
//! number words, and safe snippet cutting.
//!
//! Exports flatten flowsheets and templates into plain text, so structure has
//! to be recovered from the text itself: a header is a short label at the
//! start of a line ("Current Medications:", "PLAN", "Post-dose vitals -").

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

/// The `memmem::Finder` of a constant needle, built once per call site:
/// `memmem::find` builds a searcher per call (on haystacks of 64 bytes or
/// more), and the layout checks made a dozen a note (0.1% of a scan's
/// instructions, callgrind).
macro_rules! finder {
    ($needle:expr) => {{
        static F: ::std::sync::OnceLock<memchr::memmem::Finder<'static>> = ::std::sync::OnceLock::new();
        F.get_or_init(|| memchr::memmem::Finder::new($needle))
    }};
}
pub(crate) use finder;

/// What a section header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    /// Current / active medication list.
    MedCurrent,
    /// Prior medication trials / treatment history.
    MedHistory,
    /// Before dosing (pre-treatment vitals, baseline).
    PreDose,
    /// After dosing (monitoring, post-dose vitals, recovery).
    PostDose,
    /// Discharge section.
    Discharge,
    /// History / HPI / subjective / interval history.
    History,
    /// Assessment / impression / MDM.
    Assessment,
    /// Plan.
    Plan,
    /// Exam / mental status / objective.
    Exam,
    /// Psychotherapy section.
    Psychotherapy,
    /// An explicitly separate E/M section.
    EmSection,
    /// Family history.
    FamilyHistory,
    /// Any other header.
    Other,
}

/// A section: header span and body range (up to the next header).
#[derive(Debug, Clone)]
pub struct Section {
    /// Kind of section.
    pub kind: SectionKind,
    /// Byte range of the header label.
    pub header: Range<usize>,
    /// Byte range of the body (after the header to the next header).
    pub body: Range<usize>,
}

fn header_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        // A label at the start of a line, followed by ':' or ' - ' or end of line.
        super::re::cs(r"(?m)^[ \t>*#•\-]*(?:\d{1,2}[.)]\s+)?([A-Za-z][A-Za-z0-9 /&(),'’+-]{1,60}?)[ \t]*(?::|[ \t]-[ \t]|[ \t]*$)")
    })
}

/// Labels that are attributes, not sections: a line starting with one of
/// these continues the current section ("BP: 128/82" inside "Vitals").
fn attribute_label_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        super::re::ci(
            r"^(?:bp|b/p|blood pressure|sbp|dbp|hr|pulse|heart rate|spo2|sp02|o2 sat\w*|sat\w*|rr|resp\w*|temp\w*|weight|wt|height|ht|bmi|dose|dosage|duration|length|response|outcome|result|reason\b.*|stopped|start\w*|stop\w*|end\w*|dates?|time|max dose|side effects?|tolerability|comments?|notes?|device.*|t\s*\+?\s*\d+.*|\d+\s*min.*|cadss|moaa/?s|rass|sedation|dissociation|pain|gait|route|rate|ndc|lot|mg/kg|total dose|rems.*|pa|auth.*|payer|dx|icd.*|cpt|code|units?)$",
        )
    })
}

/// A heading over a list of other visits ("Previous Encounters"), shared by
/// the section classifier and the vitals reader.
pub const PRIOR_VISITS_HEADING: &str =
    r"(?:previous|prior|past|earlier|recent|other)\s+(?:encounters?|visits?|sessions?|appointments?|appts?)";

/// The section kind a heading label names: the first row of the table
/// whose pattern matches. The rows are searched as one `RegexSet` (one pass
/// over the label, where a loop of `is_match` calls was one pass per row;
/// every header candidate of every note is classified, once).
fn classify(label: &str) -> Option<SectionKind> {
    static R: OnceLock<(regex::RegexSet, Vec<SectionKind>)> = OnceLock::new();
    let (set, kinds) = R.get_or_init(|| {
        let k = |p: &str, s| (p.to_string(), s);
        let table: Vec<(String, SectionKind)> = vec![
            k(r"\b(?:family|fhx|fh)\b", SectionKind::FamilyHistory),
            k(
                r"(?:past|prior|previous|failed|historical|tried|trial|history|hx)\b.*\b(?:med|medication|antidepressant|pharmaco|treatment|trial|rx|drug)s?|(?:medication|antidepressant|treatment|pharmacologic)\s+(?:trials?|history|failures?)|^trials?$|treatment[- ]resistan|\btrd\b.*hist|^(?:prior|past)\s+trials",
                SectionKind::MedHistory,
            ),
            k(
                r"^(?:current|active|home|outpatient|present|concurrent|discharge|today'?s)?\s*(?:med(?:ication)?s?|med\s*list|medication\s+list|rx|prescriptions)(?:\s+list)?(?:\s*\(.*\))?$|^(?:current|active|home|concurrent|present)\s+(?:oral\s+)?(?:psychiatric\s+|psych\s+)?(?:med|medication|antidepressant|rx|regimen|ads?\b)",
                SectionKind::MedCurrent,
            ),
            k(r"\bpsychotherapy\b|\btherapy\s+(?:note|session)\b|\bcbt\b", SectionKind::Psychotherapy),
            k(r"\be\s*/?\s*&?\s*m\b|evaluation\s+(?:and|&)\s+management|separate(?:ly)?\s+identifiable", SectionKind::EmSection),
            k(
                r"^(?:pre|before|prior|baseline)\b|pre[- ]?(?:dose|treatment|procedure|infusion|administration|session)|\bbaseline\b|\barrival\b|\bintake vitals\b",
                SectionKind::PreDose,
            ),
            k(
                r"^post\b|post[- ]?(?:dose|treatment|procedure|infusion|administration)|\bmonitoring\b|\bobservation\b|\brecovery\b|\bintra[- ]?(?:infusion|procedure)\b|\bduring\b",
                SectionKind::PostDose,
            ),
            k(r"\bdischarge\b|\bdisposition\b|\bdeparture\b", SectionKind::Discharge),
            k(r"\bplan\b|\brecommendation", SectionKind::Plan),
            k(r"\bassessment\b|\bimpression\b|\bmdm\b|medical decision|\ba\s*/\s*p\b|\bformulation\b|\bdiagnos[ie]s\b", SectionKind::Assessment),
            k(
                r"\bhpi\b|history of present|interval history|\bsubjective\b|chief complaint|\bcc\b|reason for visit|\bhistory\b|\bsince last visit\b",
                SectionKind::History,
            ),
            k(r"\bexam\b|mental status|\bmse\b|\bobjective\b|\bros\b|review of systems", SectionKind::Exam),
            // A list of other visits ("Previous Encounters" on an encounter
            // summary): a heading whose values are those visits'.
            k(&format!("^{PRIOR_VISITS_HEADING}$"), SectionKind::Other),
        ];
        let set = super::re::ci_set(table.iter().map(|(p, _)| p.as_str()));
        (set, table.into_iter().map(|(_, k)| k).collect())
    });
    // Set matches iterate in pattern order: the first is the first row.
    set.matches(label).iter().next().map(|i| kinds[i])
}

/// Find section headers and their bodies.
///
/// A header is a short label at the start of a line that ends in a colon,
/// " - ", or the end of the line (ALL-CAPS or Title Case words only when
/// nothing follows). Attribute labels ("BP:", "Dose:") and drug names do not
/// start a section. A section runs to the next header.
pub fn sections(text: &str, is_drug: &dyn Fn(&str) -> bool) -> Vec<Section> {
    let mut heads: Vec<(SectionKind, Range<usize>)> = Vec::new();
    for (whole, m) in (HeaderMatches { text, at: 0 }) {
        let (whole, m) = (Span::new(text, whole), Span::new(text, m));
        let label = m.as_str().trim();
        let rest_of_line_empty = whole.as_str().trim_end().ends_with(label) || {
            let after = &text[whole.end()..];
            after.split('\n').next().is_none_or(|l| l.trim().is_empty())
        };
        let words = label.split_whitespace().count();
        if words == 0 || words > 7 {
            continue;
        }
        let ends_colon = whole.as_str().trim_end().ends_with(':') || whole.as_str().contains(" - ");
        // The label's kind, classified at most once (a bare line needs it
        // to qualify as a heading, and every heading needs it for its kind).
        let mut class: Option<Option<SectionKind>> = None;
        if !ends_colon {
            // Bare line: must be the whole line and look like a heading.
            if !rest_of_line_empty {
                continue;
            }
            let caps = label.chars().filter(|c| c.is_ascii_alphabetic()).all(|c| c.is_ascii_uppercase());
            if !(caps || class.get_or_insert_with(|| classify(label)).is_some()) || words > 5 {
                continue;
            }
        }
        if attribute_label_re().is_match(label) || is_drug(label) {
            continue;
        }
        // "Question: Assessment and plan?" (a one-letter "Q:" is no header
        // label; `question_lines` reads those).
        if is_question_label(label) {
            if let Some(kind) = question_heading(text, whole.end()) {
                heads.push((kind, m.start()..m.end()));
            }
            continue;
        }
        let kind =
            class.unwrap_or_else(|| classify(label)).or_else(|| enumerated_heading(text, label, whole.end())).unwrap_or(SectionKind::Other);
        heads.push((kind, m.start()..m.end()));
    }
    em_lead_lines(text, &mut heads);
    question_lines(text, &mut heads);
    let mut out = Vec::with_capacity(heads.len());
    for i in 0..heads.len() {
        let (kind, ref h) = heads[i];
        let end = heads.get(i + 1).map(|n| line_start(text, n.1.start)).unwrap_or(text.len());
        let body_start = h.end.min(end);
        out.push(Section { kind, header: h.clone(), body: body_start..end.max(body_start) });
    }
    out
}

/// A line that starts with "E/M" (after a bullet or list number) and has no
/// header of its own ("1) E/M, 8.40-8.58, separate problem: GAD") opens the
/// E/M part of a combined note, whatever punctuation follows. Found from the
/// note's "/" bytes, so notes without "E/M" cost one byte search.
fn em_lead_lines(text: &str, heads: &mut Vec<(SectionKind, Range<usize>)>) {
    let b = text.as_bytes();
    let mut added: Vec<(SectionKind, Range<usize>, usize)> = Vec::new();
    for slash in memchr::memchr_iter(b'/', b) {
        if slash == 0 || !matches!(b[slash - 1], b'e' | b'E') || !matches!(b.get(slash + 1), Some(b'm' | b'M')) {
            continue;
        }
        if b.get(slash + 2).is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        // Only bullets and a list number before it on its line (looked at
        // for 12 bytes at most, so a long line costs nothing).
        let marker = |c: u8| matches!(c, b' ' | b'\t' | b'>' | b'*' | b'#' | b'-' | b'.' | b')' | b'(') || c.is_ascii_digit();
        let mut ls = slash - 1;
        while ls > 0 && slash - 1 - ls < 12 && marker(b[ls - 1]) {
            ls -= 1;
        }
        if ls > 0 && b[ls - 1] != b'\n' {
            continue;
        }
        added.push((SectionKind::EmSection, slash - 1..slash + 2, ls));
    }
    merge_line_heads(b, heads, added);
}

/// Add headers found by a line pass (`(kind, label, line start)`), each
/// only where its line has no header yet, keeping `heads` in order.
fn merge_line_heads(b: &[u8], heads: &mut Vec<(SectionKind, Range<usize>)>, found: Vec<(SectionKind, Range<usize>, usize)>) {
    if found.is_empty() {
        return;
    }
    let mut add = Vec::with_capacity(found.len());
    for (kind, label, ls) in found {
        // `heads` is in line order: the first header at or after the line
        // start tells whether the line has one.
        let line_end = memchr::memchr(b'\n', &b[label.start..]).map_or(b.len(), |i| label.start + i);
        let k = heads.partition_point(|(_, h)| h.start < ls);
        if heads.get(k).is_none_or(|(_, h)| h.start >= line_end) {
            add.push((kind, label));
        }
    }
    heads.extend(add);
    heads.sort_by_key(|(_, h)| h.start);
}

/// A questionnaire's "Q: Assessment and plan?" / "Q3. Pre-dose BP?" heads
/// the section its question names; a question naming none ("Q: What
/// problem was addressed?") stays part of the section it is in.
fn question_lines(text: &str, heads: &mut Vec<(SectionKind, Range<usize>)>) {
    let b = text.as_bytes();
    let mut added: Vec<(SectionKind, Range<usize>, usize)> = Vec::new();
    let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', b).map(|i| i + 1));
    for ls in starts {
        let mut p = ls;
        while p < b.len() && matches!(b[p], b' ' | b'\t') && p - ls < 8 {
            p += 1;
        }
        if !matches!(b.get(p), Some(b'Q' | b'q')) {
            continue;
        }
        let mut q = p + 1;
        while q < b.len() && b[q].is_ascii_digit() && q - p < 3 {
            q += 1;
        }
        if !matches!(b.get(q), Some(b':' | b'.' | b')')) || b.get(q + 1).is_some_and(|c| !matches!(c, b' ' | b'\t')) {
            continue;
        }
        if let Some(kind) = question_heading(text, q + 1) {
            added.push((kind, p..q + 1, ls));
        }
    }
    merge_line_heads(b, heads, added);
}

fn is_question_label(label: &str) -> bool {
    let l = label.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ');
    l.eq_ignore_ascii_case("q") || l.eq_ignore_ascii_case("question")
}

/// The section a questionnaire line's question names ("Q: Exam / MSE?",
/// "Q: Pre-dose BP?"), read up to its question mark on the same line.
fn question_heading(text: &str, after: usize) -> Option<SectionKind> {
    let rest = &text[after.min(text.len())..];
    let line = rest.split('\n').next().unwrap_or("");
    let q = line.split('?').next().unwrap_or("").trim();
    let words = q.split_whitespace().count();
    if words == 0 || words > 6 {
        return None;
    }
    classify(q)
}

/// "PART B - SEPARATE E/M (new problem: insomnia)", "Section 2: Evaluation
/// and management": a label that only numbers the part names no section;
/// the words after its separator, up to a parenthesis, comma or colon on the
/// same line, do.
fn enumerated_heading(text: &str, label: &str, after: usize) -> Option<SectionKind> {
    static R: OnceLock<Regex> = OnceLock::new();
    let enumerator = R.get_or_init(|| super::re::ci(r"^(?:part|section|component|step|service|item)\s*(?:[a-z]|\d{1,2}|[ivx]{1,4})$"));
    if !enumerator.is_match(label) {
        return None;
    }
    let rest = &text[after.min(text.len())..];
    let line = rest.split('\n').next().unwrap_or("");
    let name = line.split(['(', ',', ':', ';']).next().unwrap_or("").trim_start_matches([' ', '-', '\t']).trim();
    let words = name.split_whitespace().count();
    (1..=6).contains(&words).then(|| classify(name)).flatten()
}

/// The matches of [`header_re`] (whole match, label group), found without
/// the capture engine.
///
/// Why: nearly every short line matches the header pattern, and asking the
/// regex for the label group ran its backtracker on each (a tenth of all
/// extraction instructions). The pattern is simple enough to follow by hand:
/// at each line start, skip the bullet run, an optional "12." / "3)" list
/// number, then take the shortest label (1 letter + 1 to 60 label
/// characters) that the ending (`[ \t]*` then ':', " - " or end of line)
/// follows. Where the pattern's Unicode classes (`\d`, `\s`) could see a
/// non-ASCII character, the regex itself answers, so the matches are the
/// regex's. `header_matches_equal_the_regex` checks this.
struct HeaderMatches<'t> {
    text: &'t str,
    at: usize,
}

enum HeaderAt {
    Match(Range<usize>, Range<usize>),
    NoMatch,
    /// Let the regex decide (non-ASCII where a Unicode class applies).
    Regex,
}

fn header_at(b: &[u8], line: usize) -> HeaderAt {
    let n = b.len();
    let mut p = line;
    // [ \t>*#•\-]*
    loop {
        match b.get(p) {
            Some(b' ' | b'\t' | b'>' | b'*' | b'#' | b'-') => p += 1,
            Some(0xE2) if b.get(p + 1) == Some(&0x80) && b.get(p + 2) == Some(&0xA2) => p += 3,
            _ => break,
        }
    }
    // (?:\d{1,2}[.)]\s+)?
    let start = match b.get(p) {
        None => return HeaderAt::NoMatch,
        Some(c) if c.is_ascii_alphabetic() => p,
        Some(c) if c.is_ascii_digit() => {
            let mut q = p + 1;
            match b.get(q) {
                Some(c) if c.is_ascii_digit() => q += 1,
                Some(c) if *c >= 0x80 => return HeaderAt::Regex,
                _ => {}
            }
            match b.get(q) {
                Some(b'.' | b')') => q += 1,
                Some(c) if *c >= 0x80 => return HeaderAt::Regex,
                _ => return HeaderAt::NoMatch,
            }
            let ws = q;
            while q < n && matches!(b[q], b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r') {
                q += 1;
            }
            match b.get(q) {
                Some(c) if *c >= 0x80 => return HeaderAt::Regex,
                Some(c) if q > ws && c.is_ascii_alphabetic() => q,
                _ => return HeaderAt::NoMatch,
            }
        }
        Some(c) if *c >= 0x80 => return HeaderAt::Regex,
        _ => return HeaderAt::NoMatch,
    };
    // ([A-Za-z][A-Za-z0-9 /&(),'’+-]{1,60}?)[ \t]*(?::|[ \t]-[ \t]|[ \t]*$)
    let mut g = start + 1;
    for _ in 0..60 {
        match b.get(g) {
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b' ' | b'/' | b'&' | b'(' | b')' | b',' | b'\'' | b'+' | b'-') => g += 1,
            Some(0xE2) if b.get(g + 1) == Some(&0x80) && b.get(g + 2) == Some(&0x99) => g += 3,
            _ => return HeaderAt::NoMatch,
        }
        let mut t = g;
        while t < n && matches!(b[t], b' ' | b'\t') {
            t += 1;
        }
        let end = match b.get(t) {
            Some(b':') => Some(t + 1),
            None | Some(b'\n') => Some(t),
            Some(b'-') if t > g && matches!(b.get(t + 1), Some(b' ' | b'\t')) => Some(t + 2),
            _ => None,
        };
        if let Some(e) = end {
            return HeaderAt::Match(line..e, start..g);
        }
    }
    HeaderAt::NoMatch
}

impl Iterator for HeaderMatches<'_> {
    type Item = (Range<usize>, Range<usize>);
    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let b = text.as_bytes();
        // Line starts at or after `at` (`^` in multi-line mode).
        let mut line = if self.at == 0 || b[self.at - 1] == b'\n' {
            self.at
        } else {
            memchr::memchr(b'\n', &b[self.at..]).map(|i| self.at + i + 1)?
        };
        loop {
            if line > b.len() {
                return None;
            }
            match header_at(b, line) {
                HeaderAt::Match(whole, label) => {
                    self.at = whole.end;
                    return Some((whole, label));
                }
                HeaderAt::Regex => {
                    let c = header_re().captures_at(text, line)?;
                    let (whole, label) = (c.get(0).unwrap().range(), c.get(1).unwrap().range());
                    self.at = whole.end;
                    return Some((whole, label));
                }
                HeaderAt::NoMatch => {}
            }
            line = memchr::memchr(b'\n', &b[line..]).map(|i| line + i + 1)?;
        }
    }
}

fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0)
}

/// The section containing `pos` (body or header), if any.
pub fn section_at(sections: &[Section], pos: usize) -> Option<&Section> {
    sections.iter().rev().find(|s| s.header.start <= pos && pos < s.body.end.max(s.header.end + 1))
}

/// A clock time, minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Clock(pub u32);

/// A clock time found in text.
#[derive(Debug, Clone)]
pub struct TimeMention {
    /// Minutes after midnight (12 h times without am/pm resolved to clinic hours).
    pub clock: Clock,
    /// Byte range in the note.
    pub span: Range<usize>,
    /// Whether am/pm or 24 h form made the time unambiguous.
    pub explicit: bool,
}

/// The clock-time pattern and the indices of its named groups, looked up
/// once: `Captures::name` hashes the name (SipHash) on every call, and
/// [`clock_times`] made 1.5 million such calls on 20,000 notes.
struct TimeRe {
    re: Regex,
    pre: usize,
    h: usize,
    m: usize,
    ap: usize,
    h2: usize,
    ap2: usize,
    h3: usize,
    m3: usize,
    ap4: usize,
    hh: usize,
    mm: usize,
    ap3: usize,
    post: usize,
}

fn time_re() -> &'static TimeRe {
    static R: OnceLock<TimeRe> = OnceLock::new();
    R.get_or_init(|| {
        let re = super::re::ci(
            r"(?x)
            (?P<pre>^|[^0-9/:.])
            (?:
              (?P<h>[01]?[0-9]|2[0-3]) [\ \t]? [:.h] [\ \t]? (?P<m>[0-5][0-9]) (?::[0-5][0-9])? [\ \t]* (?P<ap>[ap]\.?\s?m\.?\b|[ap]\b)?
            | (?P<h2>1[0-2]|0?[1-9]) [\ \t]* (?P<ap2>[ap]\.?\s?m\.?\b)
            | (?P<h3>1[0-2]|[1-9])(?P<m3>[0-5][0-9])(?-i:(?P<ap4>[ap]))\b
            | (?P<hh>[01][0-9]|2[0-3])(?P<mm>[0-5][0-9]) [\ \t]* (?:h(?:rs|ours)?\b|(?P<ap3>[ap]\.?m\.?\b))?
            )
            (?P<post>[^0-9/:]|:(?:[^0-9]|$)|$|/)",
        );
        let g = |name| super::re::group_index(&re, name);
        TimeRe {
            pre: g("pre"),
            h: g("h"),
            m: g("m"),
            ap: g("ap"),
            h2: g("h2"),
            ap2: g("ap2"),
            h3: g("h3"),
            m3: g("m3"),
            ap4: g("ap4"),
            hh: g("hh"),
            mm: g("mm"),
            ap3: g("ap3"),
            post: g("post"),
            re,
        }
    })
}

/// Words that make a bare four-digit number ("1415") a time.
fn hhmm_context_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        super::re::ci(r"(?:\bat|@|\btimes?|\bstart(?:ed)?|\bend(?:ed)?|\bstop(?:ped)?|\bbegan|\bfrom|\bto|\buntil|\btill?|\bthru|\bthrough|\bdischarged?|\bdispo(?:sition)?|\bleft|\bgiven|\badministered|\bdose[ds]?|\bdosing|\bdevices?\s*(?:x\s*|#\s*)?\d?|\bdevs?|\barrived?|\bmonitor(?:ing|ed)?|\bobserv(?:ation|ed)|\bobs|\bleaving|\b\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})|\b(?:d/c|dc|discharged?)\s+home|\bcompleted?|\bcheck(?:ed)?[- ]?(?:in|out)|[-–]|~|\bbp|\bvitals?|\bdc|\bd/c|\bpre|\bpost|\(|\b[0-2]\d[0-5]\d\s*(?:[,/+&;]|and|then)|\b(?:[01]?\d|2[0-3])[.:][0-5]\d\s*(?:[,;&]|and|then)|\b[0-2]\d[0-5]\d\s*(?:[,/+&;]|and|then)\s*[0-2]\d[0-5]\d\s*(?:[,/+&;]|and|then))\W{0,3}$")
    })
}

/// Weaker cues for a bare four-digit time: a phase or log label before it
/// ("pre-treatment 0921", "d1 0928", "T+40 1008") or a vital sign / patient
/// entry after it ("1008 BP 129/72"), or the reading itself ("1010
/// 138/84"). These never turn a year into a time.
fn hhmm_weak_context_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        super::re::ci(r"(?:\b(?:pre|post)(?:[- ]?(?:dose|dosing|treatment|tx|procedure|infusion|admin\w*|session|discharge|d/c|vitals?))?|\bbaseline|\barrival|\bcriteria\s+met|\bd(?:ev)?\s?#?[1-3]|(?:^|[\s,;(])#\s?[1-3]|\bt\s*\+\s*\d{1,3}|\bd/c|\bvs|\bv/s|\btime\?\s*a\s*:)\W{0,3}$")
    })
}

fn hhmm_weak_after_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        super::re::ci(
            r"^[ \t]*(?:(?:bp|b/p|nibp|sbp|vs|v/s|vitals?|hr|pt|patient|devices?|d[1-3]|dis?charge[ds]?|d/c|dispo\w*|pump|infusion)\b|[ \t]*[,+&][ \t]*[0-2]\d[0-5]\d[ \t]*(?:[,+&]|and\b)|[-–][ \t]*(?:[01]?[0-9]|2[0-3])[.:][0-5][0-9]\b|(?:[7-9]\d|1\d\d|2[0-4]\d)[ \t]*/[ \t]*(?:[3-9]\d|1[0-4]\d)(?:[^/\d]|$))",
        )
    })
}

/// "0912/0917", "1:02/1:07": a second time a few minutes after the first,
/// right after a slash, is a list of event times (devices), not a ratio or a
/// date. Returns the minutes between them and the second time's length.
fn slash_time_list(text: &str, end: usize, first: u32) -> Option<(u32, usize)> {
    let rest = text.get(end + 1..)?.as_bytes();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (h, m, len) = if digits == 4 {
        let n = |i: usize| (rest[i] - b'0') as u32;
        (n(0) * 10 + n(1), n(2) * 10 + n(3), 4)
    } else if (1..=2).contains(&digits) && rest.get(digits) == Some(&b':') && rest.len() >= digits + 3 {
        let mm = &rest[digits + 1..digits + 3];
        if !mm.iter().all(u8::is_ascii_digit) || rest.get(digits + 3).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let h: u32 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
        (h, ((mm[0] - b'0') * 10 + (mm[1] - b'0')) as u32, digits + 3)
    } else {
        return None;
    };
    let second = h * 60 + m;
    (h < 24 && m < 60 && second > first && second - first <= 30).then_some((second - first, len))
}

/// Whether `start..end` is a middle or last group of a hyphenated digit
/// code: five or more digits and a hyphen right before it, or a hyphen and
/// one or two digits (not a third) right after it.
fn code_segment(b: &[u8], start: usize, end: usize) -> bool {
    let long_before = start >= 6 && b[start - 1] == b'-' && b[start - 6..start - 1].iter().all(u8::is_ascii_digit);
    let digits = b.get(end + 1..).map_or(0, |r| r.iter().take(3).take_while(|c| c.is_ascii_digit()).count());
    let short_after = b.get(end) == Some(&b'-')
        && (1..=2).contains(&digits)
        && b.get(end + 1 + digits).is_none_or(|c| !matches!(c, b':' | b'.' | b'h' | b'H'));
    long_before || short_after
}

/// All clock times in `text`. 12-hour times without am/pm are read in clinic
/// hours (1-6 o'clock is afternoon). A bare four-digit number counts only
/// after a time word ("at 1415", "start 0930") or at the start of a log line.
pub fn clock_times(text: &str) -> Vec<TimeMention> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    let t = time_re();
    while let Some(c) = t.re.captures_at(text, at) {
        let pre_len = c.get(t.pre).map(|m| m.len()).unwrap_or(0);
        let post_len = c.get(t.post).map(|m| m.len()).unwrap_or(0);
        let whole = c.get(0).unwrap();
        let start = whole.start() + pre_len;
        // The span stops at the time itself (not a trailing line break), and
        // the search resumes there: the delimiter after one time can be the
        // one before the next ("1529\n1614 discharged").
        let end = start + text[start..whole.end() - post_len].trim_end().len();
        at = end.max(whole.start() + 1);
        // "Device 1: 08:50 AM": a numbered label, a space, then the time; the
        // "1: 08" with "08:50" read as seconds is not a clock.
        if let (Some(h), Some(mm)) = (c.get(t.h), c.get(t.m)) {
            let spaced = text[h.end()..mm.start()].contains([' ', '\t']);
            let rest = &bytes[mm.end()..];
            if spaced && rest.len() > 1 && rest[0] == b':' && rest[1].is_ascii_digit() {
                at = if bytes[mm.start() - 1].is_ascii_whitespace() { mm.start() - 1 } else { mm.start() };
                continue;
            }
        }
        // "blood pressure 1:38 over 84": a reading transcribed with a colon.
        if c.get(t.h).is_some() && {
            let a = &text.as_bytes()[end..];
            a.len() > 6 && a[..6].eq_ignore_ascii_case(b" over ") && a[6].is_ascii_digit()
        } {
            continue;
        }
        // "PHQ-9: 17", "GAD-7:12": a scale's name and its score, not 9:17.
        if start >= 2 && bytes[start - 1] == b'-' && bytes[start - 2].is_ascii_alphabetic() && c.get(t.ap).is_none() {
            continue;
        }
        // A segment of a hyphenated product code ("NDC 99999-1201-02",
        // "50458-0028-02"): a five-digit group before it or a one- or
        // two-digit group after it. A time range ("0900-0905") has four
        // digits on both sides.
        if c.get(t.hh).is_some() && c.get(t.ap3).is_none() && code_segment(bytes, start, end) {
            continue;
        }
        let (h, m, ap, explicit_24, bare) = if let Some(h) = c.get(t.h) {
            let ap = c.get(t.ap).map(|a| a.as_str().to_ascii_lowercase());
            let hs = h.as_str();
            let hn: u32 = hs.parse().unwrap();
            let zero_padded = hs.len() == 2 && hs.starts_with('0');
            (hn, c[t.m].parse::<u32>().unwrap(), ap, zero_padded || hn >= 13, false)
        } else if let Some(h) = c.get(t.h2) {
            (h.as_str().parse().unwrap(), 0, c.get(t.ap2).map(|a| a.as_str().to_ascii_lowercase()), false, false)
        } else if let Some(h) = c.get(t.h3) {
            // A nurse's compact "850a", "1015a", "205p".
            (h.as_str().parse().unwrap(), c[t.m3].parse::<u32>().unwrap(), c.get(t.ap4).map(|a| a.as_str().to_string()), false, false)
        } else {
            let hh: u32 = c[t.hh].parse().unwrap();
            let mm: u32 = c[t.mm].parse().unwrap();
            (hh, mm, c.get(t.ap3).map(|a| a.as_str().to_ascii_lowercase()), true, true)
        };
        // "1415" or "9.15": needs a time word before it, a time label or
        // range after it, or a log-line start.
        // Bounded look-back: scanning the whole prefix per candidate was quadratic.
        // A label set off by a wide gap (dotted leaders, a tab-aligned
        // column: "Discharge:            1020") reads as if the gap were
        // one space.
        let clock_context = || {
            let gap = text.as_bytes()[..start].iter().rev().take_while(|b| **b == b' ' || **b == b'\t').count();
            let ctx_end = if gap >= 4 { start - gap + 1 } else { start };
            let before = &text[floor_char(text, ctx_end.saturating_sub(48))..ctx_end];
            let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
            let at_line_start = before[line_start..].trim().is_empty();
            // A log entry's time label ("1424: BP 150/99") is a context too.
            let label_colon = text[end..].starts_with(':');
            // "T0915": a clock time written with a T, as in a terse note
            // ("dev1 T0910", "d/c T1115"); not inside a word or code.
            let t_prefix =
                start >= 1 && matches!(bytes[start - 1], b'T' | b't') && (start < 2 || !bytes[start - 2].is_ascii_alphanumeric());
            let has_ctx = hhmm_context_re().is_match(before)
                || label_colon
                || t_prefix
                || hhmm_weak_context_re().is_match(before)
                || hhmm_weak_after_re().is_match(&text[end..]);
            (has_ctx || at_line_start, before)
        };
        if bare {
            // Never a year.
            let (has_ctx, before) = clock_context();
            let weak_ctx =
                before.trim_end().to_ascii_lowercase().ends_with("pre") || before.trim_end().to_ascii_lowercase().ends_with("post");
            // "Pre 2020" is a year: pre/post make a time only of non-year numbers.
            // "(2023)" closed right after, or a span of years "2023-2024",
            // is a year whatever comes before it.
            let closed_year = {
                let a = text[end..].trim_start();
                // "(2022, stopped for weight gain)": a year opening an aside.
                a.starts_with(')')
                    || a.starts_with(',') && text[..start].trim_end().ends_with('(')
                    || ((a.starts_with('-') || a.starts_with('–'))
                        && a.trim_start_matches(['-', '–', ' ']).get(..2).is_some_and(|y| y == "19" || y == "20"))
            };
            let looks_year = (1900..=2099).contains(&(h * 100 + m)) && (!hhmm_context_re().is_match(before) || weak_ctx || closed_year);
            // An ISO date's year ("through 2026-06-30").
            let iso_date = {
                let a = &bytes[end..];
                a.len() >= 6 && a[0] == b'-' && a[1].is_ascii_digit() && a[2].is_ascii_digit() && a[3] == b'-' && a[4].is_ascii_digit()
            };
            if !has_ctx || looks_year || iso_date {
                continue;
            }
            // A year right after ("1415 2025") or a unit ("1415 mg") is not a time.
            // ("1300/1400" is a ratio, but "1300 / 1305" is a list of times.)
            let after = text[end..].trim_start();
            if after.starts_with("mg")
                || after.starts_with("units")
                || (text[end..].starts_with('/') && slash_time_list(text, end, h * 60 + m).is_none())
            {
                continue;
            }
        } else if c.get(t.h).is_some() {
            // "10.5 mg" is not a time: a dot separator needs a clock-ish context.
            // Without am/pm it is a time only where a bare "0915" would be
            // ("9.15 pre-dose BP", "devices 9.22, 9.27", "10.25-10.55"),
            // never a dotted date ("9.30.2026") or a measure ("37.20 C").
            let sep_dot = text[start..end].contains('.') && !text[start..end].contains(':');
            if sep_dot {
                let after = text[end..].trim_start().to_ascii_lowercase();
                if after.starts_with("mg") || after.starts_with("kg") || after.starts_with('%') {
                    continue;
                }
                if ap.is_none() {
                    let b = &bytes[end..];
                    let date = b.first() == Some(&b'.') && b.get(1).is_some_and(|c| c.is_ascii_digit());
                    let unit = ["mcg", "ml", "mmhg", "mm", "cm", "lb", "c ", "c\n", "f ", "°", "units", "points", "pts"]
                        .iter()
                        .any(|u| after.starts_with(u));
                    if date || unit || after == "c" || after == "f" || !clock_context().0 {
                        continue;
                    }
                }
            }
            // Ratios and scores like "18:27"? Real times have minutes < 60 (checked);
            // keep them, callers look for context.
            if text[end..].starts_with('/') && slash_time_list(text, end, h * 60 + m).is_none() {
                continue;
            }
        } else if text[end..].starts_with('/') {
            continue;
        }
        let is_pm = ap.as_deref().is_some_and(|a| a.starts_with('p'));
        let is_am = ap.as_deref().is_some_and(|a| a.starts_with('a'));
        let mut hour = h;
        if is_pm && hour < 12 {
            hour += 12;
        }
        if is_am && hour == 12 {
            hour = 0;
        }
        let explicit = ap.is_some() || explicit_24 || hour >= 13;
        if !explicit && (1..=6).contains(&hour) {
            hour += 12;
        }
        if hour > 23 {
            continue;
        }
        let _ = bytes;
        out.push(TimeMention { clock: Clock(hour * 60 + m), span: start..end, explicit });
        // "0912/0917": the time after the slash is the next item of the list.
        if text[end..].starts_with('/') {
            if let Some((delta, len)) = slash_time_list(text, end, h * 60 + m) {
                let s2 = end + 1;
                out.push(TimeMention { clock: Clock(hour * 60 + m + delta), span: s2..s2 + len, explicit });
                at = s2 + len;
            }
        }
    }
    out
}

/// The same-length rewrites `normalize_layout` applies after its character
/// pass, each found by a cheap byte search first.
struct InPlace {
    key_values: bool,
    snake: bool,
    spoken: bool,
    milligrams: bool,
    spelled: bool,
    unchecked: bool,
    yamlish: bool,
    ocr_zeros: bool,
    smartlists: bool,
    /// A comma-separated block pasted into the note (a device export).
    csv: bool,
    /// One-field-per-line records closed by a "Time:" line.
    records: bool,
    /// The column where a two-column page's right column starts.
    columns: Option<usize>,
    markup: Markup,
}

impl InPlace {
    fn of(b: &[u8]) -> Self {
        InPlace {
            key_values: memchr::memchr_iter(b'=', b).any(|p| kv_key_start(b, p).is_some()),
            snake: memchr::memchr(b'_', b).is_some() && (snake_keys(b).next().is_some() || quoted_snake_keys(b).next().is_some()),
            spoken: spoken_punctuation_style(b),
            milligrams: finder!(b"illigram").find(b).is_some(),
            spelled: super::spelled::has_spelled(b),
            unchecked: {
                static F: OnceLock<Vec<memchr::memmem::Finder<'static>>> = OnceLock::new();
                F.get_or_init(|| UNCHECKED.iter().map(memchr::memmem::Finder::new).collect()).iter().any(|f| f.find(b).is_some())
            },
            yamlish: super::yamlish::is_yamlish(b),
            ocr_zeros: ocr_zero_words(b).nth(2).is_some(),
            smartlists: finder!(b"::\"").find(b).is_some(),
            csv: memchr::memchr(b',', b).is_some() && csv_blocks(b).next().is_some(),
            records: memchr::memchr_iter(b'\n', b).any(|p| b.get(p + 1..p + 5).is_some_and(|w| w.eq_ignore_ascii_case(b"time")))
                && !record_breaks(b).is_empty(),
            columns: if finder!(b"      ").find(b).is_some() { right_column(b) } else { None },
            markup: markup_style(b),
        }
    }

    fn any(&self) -> bool {
        self.key_values
            || self.snake
            || self.spoken
            || self.milligrams
            || self.spelled
            || self.unchecked
            || self.yamlish
            || self.ocr_zeros
            || self.smartlists
            || self.csv
            || self.records
            || self.columns.is_some()
            || self.markup != Markup::None
    }

    fn apply(&self, out: &mut [u8]) {
        if self.ocr_zeros {
            let at: Vec<usize> = ocr_zero_words(out).collect();
            for i in at {
                let next = out.get(i + 1).copied().unwrap_or(b' ');
                let upper = next.is_ascii_uppercase() || i > 0 && out[i - 1].is_ascii_uppercase() && !next.is_ascii_lowercase();
                out[i] = if upper { b'O' } else { b'o' };
            }
            ocr_letters_in_numbers(out);
            ocr_ones_in_words(out);
        }
        // Before the snake-case pass: a key naming its unit ("total_mg: 84")
        // is read with its underscores.
        if self.yamlish {
            super::yamlish::rewrite(out);
        }
        if self.key_values {
            label_key_values(out);
        }
        if self.snake {
            label_snake_keys(out);
        }
        if self.spoken {
            spoken_punctuation(out);
            dictated_numbers(out);
        }
        if self.milligrams {
            spelled_milligrams(out);
        }
        if self.spelled {
            super::spelled::rewrite(out);
        }
        if self.smartlists {
            blank_smartlists(out);
        }
        if self.records {
            for i in record_breaks(out) {
                out[i] = b' ';
            }
        }
        if self.csv {
            let blocks: Vec<std::ops::Range<usize>> = csv_blocks(out).collect();
            for r in blocks {
                for c in &mut out[r] {
                    if *c == b',' {
                        *c = b'|';
                    }
                }
            }
        }
        if let Some(col) = self.columns {
            split_columns(out, col);
        }
        if self.unchecked {
            blank_unchecked(out);
        }
        if self.markup != Markup::None {
            unmark(out, self.markup);
        }
    }
}

/// The line breaks inside one-field-per-line records that a "Time:" line
/// closes (a flowsheet printed one field per line: "Pre-dose\nBP systolic:
/// 124\nBP diastolic: 80\nSpO2: 98\nTime: 0902", "Device 1 (28 mg)\nTime:
/// 0912"): each record reads as one line, so its readings and events have
/// their time. A record runs back from the "Time:" line over at most 8
/// short lines (40 bytes or less), to a blank line or the previous "Time:"
/// line.
fn record_breaks(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    // Line starts, bounded to the lines that matter.
    let mut starts: Vec<usize> = vec![0];
    starts.extend(memchr::memchr_iter(b'\n', b).map(|p| p + 1));
    let line = |k: usize| {
        let s = starts[k];
        let e = starts.get(k + 1).map_or(b.len(), |n| n - 1);
        &b[s..e.max(s)]
    };
    let is_time = |l: &[u8]| {
        let l = l.trim_ascii();
        l.len() <= 14 && l.len() > 5 && l[..4].eq_ignore_ascii_case(b"time") && {
            let v = l[4..].trim_ascii_start();
            let v = v.strip_prefix(b":").unwrap_or(v).trim_ascii_start();
            (3..=5).contains(&v.len())
                && v.iter().all(|c| c.is_ascii_digit() || *c == b':')
                && v.iter().filter(|c| c.is_ascii_digit()).count() >= 3
        }
    };
    // A layout that puts "Time:" first ("Time: 0902\nBP 128/80\nHR 72") has
    // its records after the time: joining back would give each reading the
    // next record's time.
    if (0..starts.len()).any(|k| is_time(line(k)) && (k == 0 || line(k - 1).trim_ascii().is_empty())) {
        return Vec::new();
    }
    let mut last_time: Option<usize> = None;
    for k in 0..starts.len() {
        if !is_time(line(k)) {
            continue;
        }
        let mut first = k;
        while first > 0 && k - first < 8 {
            let prev = line(first - 1);
            if prev.trim_ascii().is_empty() || prev.len() > 40 || last_time == Some(first - 1) {
                break;
            }
            first -= 1;
        }
        if first < k {
            // The breaks from the record's first line to the "Time:" line.
            out.extend((first + 1..=k).map(|j| starts[j] - 1));
        }
        last_time = Some(k);
    }
    out
}

/// The comma-separated blocks pasted into a note ("time,bp,hr,spo2" then
/// "09:30,128/80,72,98,alert - pre-dose" rows): a header of at least four
/// short cells that start with a letter and no blank after any comma, then
/// at least two rows with the same number of commas and a number in at
/// least half their cells. `normalize_layout` reads their commas as table
/// bars, so each cell is a column of a table. A comma list in prose
/// ("negative for nausea, vomiting, headache") has blanks after its commas.
fn csv_blocks(b: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let line_end = |i: usize| memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p);
    let commas = |l: &[u8]| l.iter().filter(|&&c| c == b',').count();
    let header = move |l: &[u8]| {
        // A header is written "time,bp,hr": no blank after a comma. Checked
        // on every line of a note with a comma, so cheapest test first and
        // no allocation.
        commas(l) >= 3
            && !l.windows(2).any(|w| w == b", ")
            && l.split(|&c| c == b',').all(|c| {
                let c = c.trim_ascii();
                !c.is_empty()
                    && c.len() <= 24
                    && c[0].is_ascii_alphabetic()
                    && c.iter().all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b' ' | b'/' | b'-' | b'(' | b')' | b'%'))
            })
    };
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            let e = line_end(i);
            let l = &b[i..e];
            let start = i;
            i = e + 1;
            if l.len() > 200 || !header(l.trim_ascii_end()) {
                continue;
            }
            let n = commas(l);
            let mut end = e;
            let mut rows = 0;
            let mut j = e + 1;
            while j < b.len() {
                let je = line_end(j);
                let row = &b[j..je];
                // A data row: half its cells or more hold a number.
                let numeric = row.split(|&c| c == b',').filter(|c| c.iter().any(u8::is_ascii_digit)).count();
                if row.len() > 200 || commas(row) != n || numeric * 2 < n + 1 {
                    break;
                }
                rows += 1;
                end = je;
                j = je + 1;
            }
            if rows >= 2 {
                i = end + 1;
                return Some(start..end);
            }
        }
        None
    })
}

/// The gap between a two-column page's columns on one line, when the text
/// after it starts within `col..col + 4`: (gap start, right text start).
fn column_gap(line: &[u8], col: Option<usize>) -> Option<(usize, usize)> {
    let mut i = 0;
    let mut found = None;
    while i < line.len() {
        if line[i] == b' ' {
            let n = line[i..].iter().take_while(|c| **c == b' ').count();
            if n >= 3 && i > 0 && i + n < line.len() {
                let r = i + n;
                let fits = match col {
                    Some(c) => (c..c + 5).contains(&r),
                    None => n >= 6,
                };
                if fits {
                    if found.is_some() {
                        return None;
                    }
                    found = Some((i, r));
                }
            }
            i += n;
        } else {
            i += 1;
        }
    }
    let (g, r) = found?;
    // A question or label and its answer ("Q: Any devices sent home?     A:
    // N") is one row of a form, not two columns.
    if line[..g].trim_ascii_end().last().is_some_and(|c| matches!(c, b'?' | b':')) {
        return None;
    }
    let words = |s: &[u8]| s.split(|c| !c.is_ascii_alphabetic()).filter(|w| w.len() >= 2).count();
    // Finding the columns takes two words on each side, far enough right
    // that the left is a column of its own, not a log's time-and-type field
    // ("11:20:05  SIGN       G. Adeyemi MD"); a line of a page already
    // found to have columns splits with one word on its left ("Vitals").
    let left_words = if col.is_some() { 1 } else { 2 };
    (r >= 30 && words(&line[..g]) >= left_words && words(&line[r..]) >= 2).then_some((g, r))
}

/// A page printed in two columns and glued line by line (PDF to text of an
/// encounter summary: "9:41 AM  BP 132/84  ...          levothyroxine 75
/// mcg tablet"): the column where the right column starts, when at least four
/// lines put one wide gap before text at that column.
fn right_column(b: &[u8]) -> Option<usize> {
    // Per column: lines with the gap, and those whose left part starts with
    // a word. A log or table whose every row starts with a time or number
    // ("10:55:30  DISCHARGE  A. Lutz RN      Left at ...") is no page of
    // columns, nor is one whose lines run past a printed page's width.
    let mut counts: std::collections::HashMap<usize, (usize, usize)> = std::collections::HashMap::new();
    // A line finds a gap only at a run of six spaces (`column_gap`): a line
    // without one is skipped after a vector search, instead of going
    // through `column_gap`'s byte loop.
    let six = finder!(b"      ");
    for line in b.split(|c| *c == b'\n') {
        if line.len() > 120 || six.find(line).is_none() || line.contains(&b'\t') || line.contains(&b'|') {
            continue;
        }
        if let Some((_, r)) = column_gap(line, None) {
            let e = counts.entry(r).or_default();
            e.0 += 1;
            e.1 += usize::from(line.trim_ascii_start().first().is_some_and(u8::is_ascii_alphabetic));
        }
    }
    let (&col, &(n, worded)) = counts.iter().max_by_key(|(c, (n, _))| (*n, usize::MAX - **c))?;
    (n >= 4 && worded >= 2).then_some(col)
}

/// Break each glued line of a two-column page at its gap, so each column's
/// text is a line of its own and no statement reads across the columns.
fn split_columns(out: &mut [u8], col: usize) {
    let mut start = 0;
    while start < out.len() {
        let end = memchr::memchr(b'\n', &out[start..]).map_or(out.len(), |i| start + i);
        if let Some((g, _)) = column_gap(&out[start..end], Some(col)) {
            out[start + g] = b'\n';
        }
        start = end + 1;
    }
}

/// An Epic SmartList left in the exported text with its chosen value
/// ("Take-home devices dispensed: {Yes/No:18832::\"No\"}") reads as the
/// value alone: the braces, the list's name and id, and the quotes become
/// spaces, so the answer sits after its label as if typed.
fn blank_smartlists(out: &mut [u8]) {
    let at: Vec<usize> = memchr::memmem::find_iter(out, b"::\"").collect();
    for p in at {
        let lo = p.saturating_sub(100);
        let Some(open) = out[lo..p].iter().rposition(|&c| matches!(c, b'{' | b'}' | b'\n')).map(|i| lo + i) else { continue };
        // The list's id: digits right before the "::".
        let id = out[open..p].iter().rev().take_while(|c| c.is_ascii_digit()).count();
        if out[open] != b'{' || id == 0 || out[p - id - 1] != b':' {
            continue;
        }
        let from = p + 3;
        let hi = (from + 300).min(out.len());
        let Some(close) = out[from..hi].iter().position(|&c| matches!(c, b'}' | b'\n' | b'{')).map(|i| from + i) else { continue };
        if out[close] != b'}' || out[close - 1] != b'"' {
            continue;
        }
        out[open..from].fill(b' ');
        out[close - 1..=close].fill(b' ');
    }
}

/// Replace, byte for byte, the characters exports use for layout with the
/// ASCII the dictionaries are written in, so every byte offset into the
/// result is an offset into `text`: CR of a CRLF line end becomes a space and
/// a lone CR a newline; no-break, thin and figure spaces become spaces; the
/// en and em dash and the minus sign become " - "; registered and trademark
/// signs become spaces; a subscript or superscript two becomes "2" (SpO₂);
/// a word hyphenated across a line break is joined (see below); the dotted
/// keys of a machine export ("pa.status=approved ; rems.pmf_submitted=...")
/// read as labels ("PA STATUS:approved ; REMS PMF SUBMITTED:..."), and so do
/// the dotted leaders of a printed form ("PA ....... #123 approved" reads
/// "PA :       #123 approved").
/// Returns `None` when `text` has none of these, the common case.
pub fn normalize_layout(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let rewrites = InPlace::of(b);
    if memchr::memchr3(b'\r', 0xC2, 0xE2, b).is_none()
        && finder!(b"-\n").find(b).is_none()
        && finder!(b".....").find(b).is_none()
        && !memchr::memchr_iter(b'\n', b).any(|i| soft_wrap(b, i))
    {
        if !rewrites.any() {
            return None;
        }
        let mut out = b.to_vec();
        rewrites.apply(&mut out);
        return Some(String::from_utf8(out).expect("key relabelling keeps UTF-8 valid"));
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut changed = rewrites.any();
    let mut i = 0;
    // The bytes the rewrites below start at; a run of other bytes is copied
    // whole (byte by byte, a slice compare and a copy each were 1.1% of a
    // profile's samples).
    let starts_rewrite = |c: &u8| matches!(c, b'-' | b'.' | b'\n' | b'\r' | 0xC2 | 0xE2);
    while i < b.len() {
        let c = b[i];
        let rest = &b[i..];
        if !starts_rewrite(&c) {
            let run = rest.iter().position(starts_rewrite).unwrap_or(rest.len());
            out.extend_from_slice(&rest[..run]);
            i += run;
            continue;
        }
        // A word hyphenated across a line break by a scanner or a narrow
        // column ("antidepres-\nsants"): the word's tail moves up to join
        // it and the hyphen and line break become spaces after it, so only
        // offsets inside that tail shift (by two or three bytes).
        if c == b'-' && i > 0 && b[i - 1].is_ascii_lowercase() {
            let nl = if rest.get(1) == Some(&b'\n') {
                2
            } else if rest.starts_with(b"-\r\n") {
                3
            } else {
                0
            };
            if nl > 0 {
                let tail = b[i + nl..].iter().take_while(|c| c.is_ascii_lowercase()).count();
                if tail > 0 {
                    out.extend_from_slice(&b[i + nl..i + nl + tail]);
                    out.extend(std::iter::repeat_n(b' ', nl));
                    changed = true;
                    i += nl + tail;
                    continue;
                }
            }
        }
        // Dotted leaders of a printed form ("PA ........ BCBSMA #123
        // approved"): a label's colon, then spaces.
        if c == b'.' && rest.starts_with(b".....") && (i == 0 || b[i - 1] != b'.') {
            let n = rest.iter().take_while(|&&x| x == b'.').count();
            out.push(b':');
            out.extend(std::iter::repeat_n(b' ', n - 1));
            changed = true;
            i += n;
            continue;
        }
        let (repl, n): (&[u8], usize) = match c {
            b'\n' if soft_wrap(b, i) => (b" ", 1),
            b'\r' if rest.get(1) == Some(&b'\n') => (b" ", 1),
            b'\r' => (b"\n", 1),
            0xC2 => match rest.get(1) {
                Some(0xA0) | Some(0xAE) => (b"  ", 2),
                Some(0xB2) => (b"2 ", 2),
                _ => (&rest[..1], 1),
            },
            0xE2 => match (rest.get(1), rest.get(2)) {
                // U+2007 figure, U+2009 thin, U+200A hair, U+202F narrow no-break space
                (Some(0x80), Some(0x87 | 0x89 | 0x8A | 0xAF)) => (b"   ", 3),
                // U+2013 en dash, U+2014 em dash
                (Some(0x80), Some(0x93 | 0x94)) => (b" - ", 3),
                // U+2212 minus sign
                (Some(0x88), Some(0x92)) => (b" - ", 3),
                // U+2122 trade mark
                (Some(0x84), Some(0xA2)) => (b"   ", 3),
                // U+2082 subscript two
                (Some(0x82), Some(0x82)) => (b"2  ", 3),
                _ => (&rest[..1], 1),
            },
            _ => (&rest[..1], 1),
        };
        changed |= repl != &rest[..n];
        out.extend_from_slice(repl);
        i += n;
    }
    if !changed {
        return None;
    }
    rewrites.apply(&mut out);
    // Every replacement swaps a whole character for ASCII of the same length,
    // and every other byte is copied, so the result is valid UTF-8.
    Some(String::from_utf8(out).expect("layout normalization keeps UTF-8 valid"))
}

/// A line break inside a sentence of hard-wrapped prose (a fax, a letter,
/// an export wrapped at a fixed width): "she self-administered three 28 mg
/// devices\n(14.10, 14.15 and 14.20)", "the Patient Monitoring Form\nwas
/// submitted". It reads as a space, so a statement's clause runs on to its
/// times and status words. Only a long line (a short one is a label, a
/// heading or a log row) that ends without a stop or a label's colon, and a
/// next line that starts flush with a lowercase word or a parenthesis, not a
/// sub-bullet ("o ") or a lowercase label ("bp: 128/82").
fn soft_wrap(b: &[u8], i: usize) -> bool {
    const MIN_LINE: usize = 60;
    let lo = i.saturating_sub(LINE_CAP);
    let ls = memchr::memrchr(b'\n', &b[lo..i]).map_or(lo, |j| lo + j + 1);
    let line = b[ls..i].trim_ascii_end();
    // A long line may end with a label's colon whose value wrapped
    // ("... Spravato REMS patient enrollment:\npending - form faxed"); a
    // heading's colon ends a short line.
    if line.len() < MIN_LINE || !line.last().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b',' | b'(' | b'%' | b':')) {
        return false;
    }
    // A table's row: columns set off by a tab or a wide gap.
    if memchr::memchr(b'\t', line).is_some() || finder!(b"   ").find(line).is_some() {
        return false;
    }
    let next = &b[i + 1..];
    // Rows of a list that start with the same word ("the clinic ...\nthe clinic ...").
    fn first(s: &[u8]) -> &[u8] {
        s.iter().position(|c| !c.is_ascii_alphanumeric()).map_or(s, |e| &s[..e])
    }
    let lead = first(line.trim_ascii_start());
    if !lead.is_empty() && lead.eq_ignore_ascii_case(first(next)) {
        return false;
    }
    match next.first() {
        Some(b'(') => true,
        Some(c) if c.is_ascii_lowercase() => {
            if next.starts_with(b"o ") || next.starts_with(b"o\t") {
                return false;
            }
            // "bp: 128/82", "hr - 72": a row's lowercase label.
            // "rems.site_certified=yes": an export's key.
            let word =
                next.iter().take(32).take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b' ' | b'_' | b'.' | b'-')).count();
            let after = next[word..].trim_ascii_start();
            !matches!(after.first(), Some(b':' | b'=')) && !next[word..].starts_with(b" - ")
        }
        _ => false,
    }
}

/// Structured exports pasted as note text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Markup {
    None,
    /// XML / C-CDA fragments: tags with attributes, character entities.
    Xml,
    /// HL7 v2 segments ("OBX|1|ST|...|20260120091022").
    Hl7,
    /// Pipe-delimited flat records ("VITAL|12:55|BP|130/84|mmHg|pre").
    FlatRecords,
}

fn markup_style(b: &[u8]) -> Markup {
    if memchr::memchr(b'<', b).is_some() && memchr::memmem::find_iter(b, b"</").nth(2).is_some() {
        return Markup::Xml;
    }
    let seg = |s: &[u8]| b.starts_with(s) || memchr::memmem::find(b, &[b"\n", s].concat()).is_some();
    if memchr::memchr(b'|', b).is_some() && (seg(b"OBX|") || seg(b"MSH|") || seg(b"RXA|")) {
        return Markup::Hl7;
    }
    if memchr::memchr(b'|', b).is_some()
        && super::yamlish::line_spans(b).into_iter().filter(|l| flat_record(&b[l.clone()])).nth(2).is_some()
    {
        return Markup::FlatRecords;
    }
    Markup::None
}

/// A line of a pipe-delimited flat export ("VITAL|12:50|weight|90.0|kg|"):
/// a short upper-case segment name, then at least four more pipes. A
/// Markdown or ASCII table row starts with a pipe and is not one.
fn flat_record(line: &[u8]) -> bool {
    let name = line.iter().take(13).take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || **c == b'_').count();
    (2..=12).contains(&name) && line.get(name) == Some(&b'|') && memchr::memchr_iter(b'|', line).nth(4).is_some()
}

/// Read a structured export as text, in place and at the same length: XML
/// tags become blanks but their quoted attribute values stay
/// ('<code displayName="Blood pressure"/>' reads "Blood pressure"),
/// the character entities &gt; &lt; &amp; become their characters, and
/// compact timestamps ("202502110905", HL7's "20260120091022") become the
/// clock time they hold ("09:05"), right-aligned in their place.
fn unmark(out: &mut [u8], style: Markup) {
    if style == Markup::FlatRecords {
        // Each cell reads as words of one line: "prior_auth|Anthem PA
        // AC-26-55102||approved 11/01/2026" keeps its status in the clause
        // of the authorization, "weight|90.0|kg" reads "weight 90.0 kg".
        let lines: Vec<Range<usize>> = super::yamlish::line_spans(out).into_iter().filter(|l| flat_record(&out[l.clone()])).collect();
        for l in lines {
            for c in &mut out[l] {
                if *c == b'|' {
                    *c = b' ';
                }
            }
        }
    }
    if style == Markup::Xml {
        let mut i = 0;
        while i < out.len() {
            if out[i] == b'<' && out.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, b'/' | b'!' | b'?')) {
                let end = out[i..].iter().take(600).position(|&c| c == b'>' || c == b'\n').map(|k| i + k);
                if let Some(e) = end.filter(|&e| out[e] == b'>') {
                    let mut quoted = false;
                    for c in &mut out[i..=e] {
                        if *c == b'"' {
                            quoted = !quoted;
                            *c = b' ';
                        } else if !quoted {
                            *c = b' ';
                        }
                    }
                    i = e + 1;
                    continue;
                }
            }
            if out[i] == b'&' {
                for (ent, ch) in [(&b"&gt;"[..], b'>'), (&b"&lt;"[..], b'<'), (&b"&amp;"[..], b'&')] {
                    if out[i..].starts_with(ent) {
                        out[i] = ch;
                        for c in &mut out[i + 1..i + ent.len()] {
                            *c = b' ';
                        }
                    }
                }
            }
            i += 1;
        }
    }
    // Compact timestamps: 12 or 14 digits, YYYYMMDDHHMM[SS].
    let mut i = 0;
    while i < out.len() {
        if !out[i].is_ascii_digit() || (i > 0 && out[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let n = out[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let after_ok = out.get(i + n).is_none_or(|c| !c.is_ascii_alphanumeric());
        if after_ok && (n == 12 || n == 14) {
            let d = |k: usize| (out[i + k] - b'0') as u32;
            let (y, mo, day, h, mi) =
                (d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), d(4) * 10 + d(5), d(6) * 10 + d(7), d(8) * 10 + d(9), d(10) * 10 + d(11));
            if (1990..=2099).contains(&y) && (1..=12).contains(&mo) && (1..=31).contains(&day) && h < 24 && mi < 60 {
                let clock = [out[i + 8], out[i + 9], b':', out[i + 10], out[i + 11]];
                for c in &mut out[i..i + n] {
                    *c = b' ';
                }
                out[i + n - 5..i + n].copy_from_slice(&clock);
            }
        }
        i += n.max(1);
    }
}

/// The value of a spelled number word ("eighty", "four", "twelve").
fn number_word(w: &[u8]) -> Option<u32> {
    const ONES: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    let w = w.to_ascii_lowercase();
    if let Some(i) = ONES.iter().position(|o| o.as_bytes() == w.as_slice()) {
        return Some(i as u32);
    }
    TENS.iter().position(|t| t.as_bytes() == w.as_slice()).map(|i| 20 + 10 * i as u32)
}

/// Doses spelled in words, rewritten in place with the same byte length:
/// "milligram(s)" becomes "mg" and spaces, a spelled number before it
/// becomes digits and spaces ("eighty-four milligrams" reads "84 mg"), and a
/// hyphen joining a number to it is a space ("28-milligram devices").
fn spelled_milligrams(out: &mut [u8]) {
    // Rewrite `out[from..to]` as `text` padded with spaces (`text` fits).
    fn put(out: &mut [u8], from: usize, to: usize, text: &str) {
        for (j, c) in out[from..to].iter_mut().enumerate() {
            *c = text.as_bytes().get(j).copied().unwrap_or(b' ');
        }
    }
    let word_before = |out: &[u8], e: usize| {
        let mut s = e;
        while s > 0 && out[s - 1].is_ascii_alphabetic() {
            s -= 1;
        }
        (s < e).then_some(s)
    };
    // The word before the separator before `s`, with its start.
    let joined_before = |out: &[u8], s: usize| {
        s.checked_sub(1).filter(|&q| out[q] == b' ' || out[q] == b'-').and_then(|q| word_before(out, q).map(|s1| (s1, q)))
    };
    let mut at = 0;
    while let Some(k) = memchr::memmem::find(&out[at..], b"illigram") {
        let i = at + k;
        at = i + 8;
        if i == 0 || !matches!(out[i - 1], b'm' | b'M') {
            continue;
        }
        let start = i - 1;
        if start > 0 && out[start - 1].is_ascii_alphabetic() {
            continue;
        }
        let mut end = i + 8;
        if out.get(end).is_some_and(|c| matches!(c, b's' | b'S')) {
            end += 1;
        }
        if out.get(end).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        // "0.5 milligrams per kilogram" is a weight-based dose: "0.5 mg/kg".
        let unit = match [&b" per kilogram"[..], b" per kilo", b" per kg", b" a kilogram", b" a kilo"]
            .iter()
            .find(|w| out[end..].len() >= w.len() && out[end..end + w.len()].eq_ignore_ascii_case(w))
        {
            Some(w) if !out.get(end + w.len()).is_some_and(u8::is_ascii_alphabetic) => {
                end += w.len();
                "mg/kg"
            }
            _ => "mg",
        };
        // What precedes the unit: "28-", "28 ", or spelled words.
        let mut p = start;
        while p > 0 && matches!(out[p - 1], b' ' | b'-') {
            p -= 1;
        }
        if p > 0 && out[p - 1].is_ascii_digit() {
            put(out, p, end, &format!(" {unit}"));
            continue;
        }
        let spelled = word_before(out, p).and_then(|s2| {
            if out[s2..p].eq_ignore_ascii_case(b"hundred") {
                // "one hundred milligrams".
                let (s1, q) = joined_before(out, s2)?;
                return number_word(&out[s1..q]).filter(|v| (1..10).contains(v)).map(|v| (s1, v * 100));
            }
            let v2 = number_word(&out[s2..p])?;
            // "eighty-four", "Fifty six".
            match joined_before(out, s2).and_then(|(s1, q)| number_word(&out[s1..q]).map(|v1| (s1, v1))) {
                Some((s1, v1)) if v1 >= 20 && v1 % 10 == 0 && v2 < 10 => Some((s1, v1 + v2)),
                _ => Some((s2, v2)),
            }
        });
        match spelled {
            Some((from, value)) if from == 0 || !out[from - 1].is_ascii_alphanumeric() => {
                put(out, from, end, &format!("{value} {unit}"));
            }
            _ => put(out, start, end, unit),
        }
    }
}

/// Start and end of the dotted key before the `=` at `eq`, when it is one:
/// lower-case ASCII words joined by dots (at least one dot), with optional
/// indexes ("trials[0]"), at the start of a line or after a " ; " pair
/// separator, at most 48 bytes, and blanks allowed before the `=`
/// ("vitals.2=", "rems.site_certified=", "vitals.pre.bp = ",
/// "dose.device[1].time = ").
fn kv_key_start(b: &[u8], eq: usize) -> Option<(usize, usize)> {
    let mut t = eq;
    while t > 0 && eq - t < 4 && matches!(b[t - 1], b' ' | b'\t') {
        t -= 1;
    }
    let mut s = t;
    while s > 0 && t - s <= 48 && matches!(b[s - 1], b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'[' | b']') {
        s -= 1;
    }
    let key = &b[s..t];
    if key.is_empty() || t - s > 48 || !key[0].is_ascii_lowercase() || !key.contains(&b'.') || key.ends_with(b".") {
        return None;
    }
    let mut k = s;
    while k > 0 && matches!(b[k - 1], b' ' | b'\t') {
        k -= 1;
    }
    (k == 0 || b[k - 1] == b'\n' || b[k - 1] == b';').then_some((s, t))
}

/// Rewrite every dotted key in place, byte for byte: upper case, dots,
/// underscores and index brackets as spaces, `=` as `:`, or as a space
/// before a number ("vitals.1=1400 BP ...", "observation.end=1625",
/// `vitals.pre.time = "09:02"`), where a colon would glue the number to the
/// key ("1:14" + "00") and hide a time.
fn label_key_values(out: &mut [u8]) {
    let eqs: Vec<usize> = memchr::memchr_iter(b'=', out).collect();
    for eq in eqs {
        if let Some((s, t)) = kv_key_start(out, eq) {
            let value = out[eq + 1..].iter().position(|c| !matches!(c, b' ' | b'\t' | b'"' | b'\'')).map(|p| eq + 1 + p);
            let numbered = value.and_then(|v| out.get(v)).is_some_and(u8::is_ascii_digit);
            for c in &mut out[s..t] {
                *c = match *c {
                    b'.' | b'_' | b'[' | b']' => b' ',
                    c => c.to_ascii_uppercase(),
                };
            }
            out[eq] = if numbered { b' ' } else { b':' };
        }
    }
}

/// The snake-case field names at line starts of an EHR export
/// ("REMS_PATIENT_ENROLLED: YES", "VITALS_40MIN_0955: BP 138/84",
/// "monitoring_total_min = 125"), as byte ranges: a letter, then letters,
/// digits and at least one underscore, at most 48 bytes, then optional
/// blanks and ':' or '='. The underscore is a word character, so
/// "REMS_PATIENT_ENROLLED" would hide every word in it from the
/// dictionaries' word boundaries.
fn snake_keys(b: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    std::iter::once(0).chain(memchr::memchr_iter(b'\n', b).map(|p| p + 1)).filter_map(move |line| {
        let s = skip_blanks(b, line);
        let e = snake_key_end(b, s)?;
        matches!(b.get(skip_blanks(b, e)), Some(b':' | b'=')).then_some(s..e)
    })
}

/// End of a snake-case key starting at `s`: a letter, then letters, digits
/// and at least one underscore, at most 48 bytes.
fn snake_key_end(b: &[u8], s: usize) -> Option<usize> {
    if !b.get(s).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut e = s;
    while e < b.len() && e - s <= 48 && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
        e += 1;
    }
    (e - s <= 48 && b[s..e].contains(&b'_')).then_some(e)
}

/// First position at or after `i` that is not a space or tab.
fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// A dictated note whose speech recognition wrote the spoken punctuation
/// as words ("97 percent period He self-administered 56 mg comma two
/// devices"): at least three " period " / " comma " words.
fn spoken_punctuation_style(b: &[u8]) -> bool {
    finder!(b" comma ").find_iter(b).count() + finder!(b" period ").find_iter(b).count() >= 3
}

/// Spoken punctuation as punctuation, byte for byte: " comma " as ",", a
/// " period " before a capital letter, a line end or "new paragraph" as
/// "." (a monitoring or observation "period" is followed by a lower-case
/// word and stays), and "new paragraph" / "new line" as a line break.
fn spoken_punctuation(out: &mut [u8]) {
    let mut i = 0;
    while i < out.len() {
        let rest = &out[i..];
        if rest.starts_with(b" comma ") {
            out[i + 1..i + 6].copy_from_slice(b",    ");
            i += 6;
        } else if rest.starts_with(b" period") && out.get(i + 7).is_none_or(|c| matches!(c, b' ' | b'\n')) {
            let after = &out[(i + 8).min(out.len())..];
            let next = after.iter().copied().find(|c| *c != b' ');
            if next.is_none_or(|c| c.is_ascii_uppercase() || c == b'\n')
                || after.starts_with(b"new paragraph")
                || (!period_noun_before(&out[..i]) && !after.starts_with(b"of "))
            {
                out[i + 1..i + 7].copy_from_slice(b".     ");
            }
            i += 7;
        } else if rest.starts_with(b"new paragraph") {
            out[i..i + 13].copy_from_slice(b"\n            ");
            i += 13;
        } else if rest.starts_with(b"new line ") {
            out[i..i + 8].copy_from_slice(b"\n       ");
            i += 8;
        } else {
            i += 1;
        }
    }
}

/// Whether the word before a dictated " period" makes it a noun (a
/// monitoring or observation period, "the period", "a two-hour period")
/// rather than the full stop a recogniser writes, in lower case, before
/// the next sentence ("... at 9 55 period her blood pressure ...").
fn period_noun_before(before: &[u8]) -> bool {
    const NOUNS: [&[u8]; 24] = [
        b"monitoring",
        b"observation",
        b"recovery",
        b"waiting",
        b"wait",
        b"washout",
        b"trial",
        b"grace",
        b"time",
        b"study",
        b"refractory",
        b"induction",
        b"maintenance",
        b"treatment",
        b"dosing",
        b"post-dose",
        b"postdose",
        b"the",
        b"a",
        b"this",
        b"that",
        b"same",
        b"hour",
        b"minute",
    ];
    let end = before.len();
    let mut s = end;
    while s > 0 && (before[s - 1].is_ascii_alphanumeric() || before[s - 1] == b'-') {
        s -= 1;
    }
    let w = before[s..end].to_ascii_lowercase();
    NOUNS.contains(&w.as_slice()) || w.ends_with(b"-hour") || w.ends_with(b"-minute")
}

/// Numbers a speech recogniser split in a dictated note, joined byte for
/// byte: a pressure "1 32 over 84" (one-thirty-two over eighty-four) reads
/// " 132 over 84", and a clock time after a time word, "at 9 02" or "by 10
/// 30" (nine-oh-two, ten-thirty), reads "at 9:02" unless a unit follows
/// ("at 2 10 mg doses" stays).
fn dictated_numbers(out: &mut [u8]) {
    const TIME_WORDS: [&[u8]; 9] = [b"at", b"by", b"until", b"till", b"from", b"around", b"about", b"approximately", b"@"];
    const UNITS: [&[u8]; 16] = [
        b"mg",
        b"milligram",
        b"mcg",
        b"ml",
        b"min",
        b"minute",
        b"hour",
        b"hr",
        b"week",
        b"wk",
        b"day",
        b"month",
        b"year",
        b"percent",
        b"over",
        b"device",
    ];
    let word_before = |out: &[u8], end: usize| -> (usize, usize) {
        let mut e = end;
        while e > 0 && out[e - 1] == b' ' {
            e -= 1;
        }
        let mut s = e;
        while s > 0 && (out[s - 1].is_ascii_alphabetic() || out[s - 1] == b'@') {
            s -= 1;
        }
        (s, e)
    };
    let overs: Vec<usize> = memchr::memmem::find_iter(out, b" over ").collect();
    for p in overs {
        // "1 32" right before " over ": a systolic split after its first digit.
        if p >= 4
            && out[p - 1].is_ascii_digit()
            && out[p - 2].is_ascii_digit()
            && out[p - 3] == b' '
            && matches!(out[p - 4], b'1' | b'2')
            && (p == 4 || !out[p - 5].is_ascii_alphanumeric())
        {
            out[p - 3] = out[p - 4];
            out[p - 4] = b' ';
        }
    }
    // "at 10 oh 4" (ten-oh-four): "at 10:04  ".
    let ohs: Vec<usize> = memchr::memmem::find_iter(out, b" oh ").collect();
    for p in ohs {
        let (d, e) = (p + 4, p + 5);
        if e > out.len() || !out[d].is_ascii_digit() || out.get(e).is_some_and(|c| c.is_ascii_alphanumeric()) || p == 0 {
            continue;
        }
        let mut h = p;
        while h > 0 && p - h < 2 && out[h - 1].is_ascii_digit() {
            h -= 1;
        }
        if h == p || (h > 0 && out[h - 1] != b' ') {
            continue;
        }
        let (ws, we) = word_before(out, h);
        if TIME_WORDS.contains(&out[ws..we].to_ascii_lowercase().as_slice()) {
            let digit = out[d];
            out[p..e].copy_from_slice(b":0   ");
            out[p + 2] = digit;
        }
    }
    let mut i = 1;
    while i + 3 <= out.len() {
        // A space between an hour (one or two digits) and two minute digits.
        if out[i] != b' ' || !out[i - 1].is_ascii_digit() || !out[i + 1].is_ascii_digit() || !out[i + 2].is_ascii_digit() {
            i += 1;
            continue;
        }
        if out.get(i + 3).is_some_and(|c| c.is_ascii_alphanumeric()) || out[i + 1] > b'5' {
            i += 1;
            continue;
        }
        let mut h = i - 1;
        if h > 0 && out[h - 1].is_ascii_digit() {
            h -= 1;
        }
        let hour: u32 = std::str::from_utf8(&out[h..i]).ok().and_then(|t| t.parse().ok()).unwrap_or(99);
        if hour > 23 || (h > 0 && (out[h - 1].is_ascii_alphanumeric() || !matches!(out[h - 1], b' '))) {
            i += 1;
            continue;
        }
        let (ws, we) = word_before(out, h);
        let word = out[ws..we].to_ascii_lowercase();
        let mut a = i + 3;
        while a < out.len() && out[a] == b' ' {
            a += 1;
        }
        let next = &out[a..(a + 9).min(out.len())];
        let unit = UNITS.iter().any(|u| next.len() >= u.len() && next[..u.len()].eq_ignore_ascii_case(u));
        // "and 2 15 p.m.": a meridiem marks a time after any word.
        let meridiem = [&b"a.m."[..], b"p.m.", b"am ", b"pm ", b"am,", b"pm,", b"o'clock"]
            .iter()
            .any(|m| next.len() >= m.len() && next[..m.len()].eq_ignore_ascii_case(m));
        if (TIME_WORDS.contains(&word.as_slice()) || meridiem) && !unit {
            out[i] = b':';
        }
        i += 3;
    }
}

/// Quoted snake-case keys of a JSON-like blob pasted into a note
/// (`{"site_certified": true, "monitoring_form": "submitted"}`), as byte
/// ranges of the key inside its quotes.
fn quoted_snake_keys(b: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    memchr::memchr_iter(b'"', b).filter_map(move |q| {
        let e = snake_key_end(b, q + 1)?;
        (b.get(e) == Some(&b'"') && b.get(skip_blanks(b, e + 1)) == Some(&b':')).then_some(q + 1..e)
    })
}

/// Underscores of snake-case field names as spaces, byte for byte.
fn label_snake_keys(out: &mut [u8]) {
    let keys: Vec<std::ops::Range<usize>> = snake_keys(out).chain(quoted_snake_keys(out)).collect();
    for r in keys {
        for c in &mut out[r] {
            if *c == b'_' {
                *c = b' ';
            }
        }
    }
}

/// The zeros that OCR of a scanned form read for the letter o inside
/// words ("n0 resp0nse", "M0nit0ring F0rm", "0ral"): a 0 with a letter on
/// one side and no digit, dot, comma, colon or slash on either, in a word of
/// at most 40 bytes with no other digit and either two letters or a
/// lower-case one. Product and diagnosis codes ("J0013", "F32.0", "G0") keep
/// theirs. `normalize_layout` reads them as o only where a note has at least
/// three, the mark of a scanned document.
fn ocr_zero_words(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'0', b).filter(move |&i| {
        let prev = if i > 0 { b[i - 1] } else { b' ' };
        let next = b.get(i + 1).copied().unwrap_or(b' ');
        let blocks = |c: u8| c.is_ascii_digit() || c == b'.' || c == b',' || c == b':' || c == b'/';
        if blocks(prev) || blocks(next) || !(prev.is_ascii_alphabetic() || next.is_ascii_alphabetic()) {
            return false;
        }
        // The word around it, if it is at most 40 bytes long.
        let lo = i.saturating_sub(40);
        let start = match b[lo..i].iter().rposition(|c| !c.is_ascii_alphanumeric()) {
            Some(p) => lo + p + 1,
            None if lo == 0 => 0,
            None => return false,
        };
        let hi = (i + 40).min(b.len());
        let end = match b[i..hi].iter().position(|c| !c.is_ascii_alphanumeric()) {
            Some(p) => i + p,
            None if hi == b.len() => hi,
            None => return false,
        };
        let word = &b[start..end];
        let letters = word.iter().filter(|c| c.is_ascii_alphabetic()).count();
        // "n0", "t0" but not a two-character code ("G0", "X0").
        let ok_len = letters >= 2 || word.iter().any(u8::is_ascii_lowercase);
        ok_len && !word.iter().any(|c| (b'1'..=b'9').contains(c))
    })
}

/// The letters OCR of a scanned form read for digits inside numbers ("2O
/// mg", "1O:O2", "13O/82", "12:l5", "MRN 44O219"): O, o, l and I in a
/// number-like group (runs of digits and those letters joined by single
/// ":", "/", "." or "-") that stands alone, with no other letter touching
/// it. The group needs two real digits, or one leading digit and only O's
/// ("6O mg"), so "O2 sat", "Page l of l" and codes with a letter prefix
/// ("A9931-O7", "F33.l") keep theirs. Only called on a note that already
/// shows the scanned-document mark (`ocr_zero_words`).
fn ocr_letters_in_numbers(out: &mut [u8]) {
    let conf = |c: u8| matches!(c, b'O' | b'o' | b'l' | b'I');
    let part = |c: u8| c.is_ascii_digit() || conf(c);
    let sep = |c: u8| matches!(c, b':' | b'/' | b'.' | b'-');
    let mut i = 0;
    while i < out.len() {
        if !part(out[i]) || (i > 0 && out[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        // The group: parts, and single separators between them.
        let start = i;
        let mut end = i;
        while end < out.len() {
            if part(out[end]) || sep(out[end]) && end > start && part(out[end - 1]) && out.get(end + 1).is_some_and(|&c| part(c)) {
                end += 1;
            } else {
                break;
            }
        }
        let g = &out[start..end];
        // An ICD-10 code that starts with I or O ("I10", "I67.1", "O99.345").
        let icd_like = g.len() >= 3 && matches!(g[0], b'I' | b'O') && g[1].is_ascii_digit() && g[2].is_ascii_digit();
        let digits = g.iter().filter(|c| c.is_ascii_digit()).count();
        let bounded = out.get(end).is_none_or(|c| !c.is_ascii_alphabetic() && *c != b'_');
        let letters_ok =
            digits >= 2 || (digits == 1 && g[0].is_ascii_digit() && g.iter().all(|&c| c.is_ascii_digit() || c == b'O' || c == b'o'));
        if bounded && letters_ok && !icd_like && g.iter().any(|&c| conf(c)) {
            for c in &mut out[start..end] {
                *c = match *c {
                    b'O' | b'o' => b'0',
                    b'l' | b'I' => b'1',
                    x => x,
                };
            }
        }
        i = end.max(i + 1);
    }
}

/// The ones OCR of a scanned form read for the letters i and l inside
/// words ("m1ld", "certif1ed", "adm1nistered", "Bi1l"): a 1 between two
/// lower-case letters, in a note with the scanned-document mark; "A1C",
/// "T1D" and "H1N1" keep theirs. It reads as l after an i or between a vowel and
/// an l ("Bi1l", "a1l"), else as i.
fn ocr_ones_in_words(out: &mut [u8]) {
    for i in 1..out.len().saturating_sub(1) {
        let (p, n) = (out[i - 1], out[i + 1]);
        if out[i] != b'1' || !p.is_ascii_lowercase() || !n.is_ascii_lowercase() {
            continue;
        }
        let (lp, ln) = (p.to_ascii_lowercase(), n.to_ascii_lowercase());
        let l = lp == b'i' || (ln == b'l' && matches!(lp, b'a' | b'e' | b'o' | b'u'));
        out[i] = if l { b'l' } else { b'i' };
    }
}

/// The check boxes and marks a form may print before an item.
const BOXES: [&[u8]; 10] = [
    "☐".as_bytes(),
    "☑".as_bytes(),
    "☒".as_bytes(),
    "✔".as_bytes(),
    "✓".as_bytes(),
    "✅".as_bytes(),
    "❌".as_bytes(),
    "✗".as_bytes(),
    "✘".as_bytes(),
    b"[",
];

/// The marks of an item not done: an empty box, or a cross mark in a list
/// whose done items carry a check mark ("✅ = done  ❌ = not done").
const UNCHECKED: [&[u8]; 5] = ["☐".as_bytes(), b"[ ]", "❌".as_bytes(), "✗".as_bytes(), "✘".as_bytes()];

/// The same marks as a regex alternation, for patterns that read a box
/// left unticked as an answer of no ("Enrolled? ☐", "Take-home: ❌").
pub const UNCHECKED_RE: &str = r"☐|\[\s\]|❌|✗|✘";

/// The item after an unchecked box ("☐ Device 3  28 mg", "[ ] new patient",
/// "❌ 3rd session this week") as blanks, byte for byte, up to the next box
/// or the line end: an option left unticked states nothing, so "☐ Devices
/// dispensed for home use" is no take-home and "☐ Patient enrolled in
/// Spravato REMS" no enrollment. The box itself stays, so "Enrolled? ☐"
/// still reads as an answer of no.
fn blank_unchecked(out: &mut [u8]) {
    let mut i = 0;
    while i < out.len() {
        let Some(len) = UNCHECKED.iter().find(|g| out[i..].starts_with(g)).map(|g| g.len()) else {
            i += 1;
            continue;
        };
        let mut j = i + len;
        while j < out.len() && out[j] != b'\n' && !BOXES.iter().any(|bx| out[j..].starts_with(bx)) {
            out[j] = b' ';
            j += 1;
        }
        i = j;
    }
}

/// Parse a number written as digits or a word ("two", "three").
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim().to_ascii_lowercase();
    if let Ok(v) = t.parse::<f64>() {
        return Some(v);
    }
    match t.as_str() {
        "a" | "an" | "single" => Some(1.0),
        "both" => Some(2.0),
        "half" | "half an" | "a half" => Some(0.5),
        // "one" to "twelve", as spelled doses read them.
        w => number_word(w.as_bytes()).filter(|v| (1..=12).contains(v)).map(f64::from),
    }
}

/// Regex fragment matching a number as digits or a word.
pub const NUM: &str = r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)";

/// Cut a snippet of at most `max` bytes around `span`, on char boundaries,
/// with the text's line breaks folded to spaces.
pub fn snippet(text: &str, span: Range<usize>, max: usize) -> String {
    let s = text.get(span.clone()).unwrap_or("");
    if s.len() <= max {
        return fold_ws(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    fold_ws(&s[..end])
}

fn fold_ws(s: &str) -> String {
    // One allocation: every evidence item of every note gets a snippet.
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Round `i` down to a char boundary of `s`.
pub fn floor_char(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Round `i` up to a char boundary of `s`.
pub fn ceil_char(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The line containing `pos`.
///
/// A "line" is capped at [`LINE_CAP`] bytes on each side of `pos`: exports
/// sometimes put a whole note on one line, and an uncapped search per match
/// made extraction quadratic in the note length.
pub fn line_of(text: &str, pos: usize) -> Range<usize> {
    let pos = floor_char(text, pos.min(text.len()));
    let lo = floor_char(text, pos.saturating_sub(LINE_CAP));
    let hi = floor_char(text, (pos + LINE_CAP).min(text.len()));
    let s = text[lo..pos].rfind('\n').map(|i| lo + i + 1).unwrap_or(lo);
    let e = text[pos..hi].find('\n').map(|i| pos + i).unwrap_or(hi);
    s..e
}

/// Longest stretch on either side of a position that [`line_of`] (and the
/// clause finder) looks at.
pub const LINE_CAP: usize = 512;

/// `s.split_whitespace().count()`, scanning bytes and decoding a character
/// only at a non-ASCII byte.
///
/// Why: the E/M features count every note's words, and `split_whitespace`
/// decodes each character to test Unicode `White_Space`; in a one-thread
/// profile the decoding and the test were 1.5% of the samples, 1.2 of it
/// under the phrase extractor, where the E/M features run. The ASCII
/// members of `White_Space` are tab, line feed, vertical tab, form feed,
/// carriage return and space (`char::is_whitespace`; `u8::is_ascii_whitespace`
/// leaves out the vertical tab).
pub fn word_count(s: &str) -> usize {
    let b = s.as_bytes();
    let mut n = 0;
    let mut in_word = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let (space, len) = if c < 0x80 {
            (matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' '), 1)
        } else {
            let ch = s[i..].chars().next().unwrap_or(' ');
            (ch.is_whitespace(), ch.len_utf8())
        };
        if !space && !in_word {
            n += 1;
        }
        in_word = !space;
        i += len;
    }
    n
}

/// `&text[range]`, clamped to the text and rounded to char boundaries, and
/// empty instead of panicking when the range is inverted. Extractors use it
/// for every computed window so a surprising note can never abort a run.
pub fn sub<R: std::ops::RangeBounds<usize>>(text: &str, r: R) -> &str {
    use std::ops::Bound;
    let a = match r.start_bound() {
        Bound::Included(&a) => a,
        Bound::Excluded(&a) => a + 1,
        Bound::Unbounded => 0,
    };
    let b = match r.end_bound() {
        Bound::Included(&b) => b + 1,
        Bound::Excluded(&b) => b,
        Bound::Unbounded => text.len(),
    };
    let a = floor_char(text, a.min(text.len()));
    let b = floor_char(text, b.min(text.len()).max(a));
    &text[a..b]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_count_is_split_whitespace_count() {
        for t in [
            "",
            "   ",
            "one",
            " BP 128/82\tat 10:05\r\n",
            "a\x0Bb\x0Cc",
            "no\u{a0}break\u{2009}thin\u{3000}ideographic\u{85}next",
            "café  naïve — ok ☐ done",
            "\u{1c}\u{1d} separators are not White_Space",
        ] {
            assert_eq!(word_count(t), t.split_whitespace().count(), "{t:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn word_count_matches_split_whitespace_on_any_text(t in "(?s).{0,200}", u in "[ a-z\t\n\x0B\u{a0}\u{2028}é]{0,200}") {
            proptest::prop_assert_eq!(word_count(&t), t.split_whitespace().count());
            proptest::prop_assert_eq!(word_count(&u), u.split_whitespace().count());
        }
    }

    fn clocks(s: &str) -> Vec<u32> {
        clock_times(s).iter().map(|t| t.clock.0).collect()
    }

    #[test]
    fn a_year_in_parentheses_is_no_time() {
        assert!(clocks("sertraline 200 mg/d x 16 wk (2023) - no response, d/c; duloxetine (2020-2021)").is_empty());
        assert_eq!(clocks("BP 128/82 (0905 pre)"), vec![9 * 60 + 5]);
        assert_eq!(clocks("BP 128/82 (2005)"), Vec::<u32>::new());
        assert!(clocks("mirtazapine 45 mg nightly x 10 weeks (2022, stopped for weight gain)").is_empty());
        assert_eq!(clocks("BP 128/82 (0905, pre)"), vec![9 * 60 + 5]);
    }

    #[test]
    fn a_product_code_segment_is_no_time() {
        assert!(clocks("10/29/25 0900 GIVEN 28 mg dev 1 of 2 NDC 99999-1201-02").contains(&(9 * 60)));
        assert!(!clocks("10/29/25 0900 GIVEN 28 mg dev 1 of 2 NDC 99999-1201-02").contains(&(12 * 60 + 1)));
        assert!(clocks("at 50458-0028-02 given").is_empty());
        assert_eq!(clocks("Monitoring 10:15-12:20"), vec![10 * 60 + 15, 12 * 60 + 20]);
        assert_eq!(clocks("observed 0905-1115"), vec![9 * 60 + 5, 11 * 60 + 15]);
    }

    #[test]
    fn compact_times_with_a_meridiem_letter() {
        assert_eq!(clocks("850a  BP 128/82\n855a / 905a devices x3\n1045a BP 130/80\n205p left"), vec![530, 535, 545, 645, 14 * 60 + 5]);
        // Upper-case letters are room or step labels.
        assert!(clocks("Room 105A, step 2B").is_empty());
    }

    #[test]
    fn a_bare_time_before_a_reading() {
        assert_eq!(clocks("recheck ordered; 1010 138/84; 1105 126/80."), vec![10 * 60 + 10, 11 * 60 + 5]);
        // A date after the number is no reading.
        assert!(clocks("seen 1415 12/10/2025").is_empty());
        assert_eq!(clocks("observed till 1225"), vec![12 * 60 + 25]);
    }

    #[test]
    fn flat_pipe_records_read_as_lines_of_words() {
        let t = "PT|12:40|name|X||34 y M\nVITAL|12:50|weight|90.0|kg|\nAUTH|12:48|prior_auth|Anthem PA AC-26-55102||approved 11/01/2026\n| BP | 128/82 | pre |";
        let n = normalize_layout(t).expect("flat records");
        assert_eq!(
            n,
            "PT 12:40 name X  34 y M\nVITAL 12:50 weight 90.0 kg \nAUTH 12:48 prior_auth Anthem PA AC-26-55102  approved 11/01/2026\n| BP | 128/82 | pre |"
        );
        // Two such lines are not an export.
        assert!(normalize_layout("AB|1|2|3|4|5\nCD|1|2|3|4|5\n").is_none());
    }

    #[test]
    fn one_field_per_line_records_read_as_lines() {
        let t = "REMS patient: enrolled\n\nPre-dose\nBP systolic: 124\nBP diastolic: 80\nSpO2: 98\nTime: 0902\n\nDevice 1 (28 mg)\nTime: 0912\nDevice 2 (28 mg)\nTime: 0917\nTotal dose: 56 mg\n";
        let n = normalize_layout(t).expect("records");
        assert_eq!(
            n,
            "REMS patient: enrolled\n\nPre-dose BP systolic: 124 BP diastolic: 80 SpO2: 98 Time: 0902\n\nDevice 1 (28 mg) Time: 0912\nDevice 2 (28 mg) Time: 0917\nTotal dose: 56 mg\n"
        );
        // A "Time:" line after prose, or with no clock, is left alone.
        assert!(normalize_layout("The patient tolerated the whole session without any complaint today.\nTime: 0902\n").is_none());
        assert!(normalize_layout("Pre-dose\nTime: pending\n").is_none());
        // Time-first records are left alone.
        assert!(normalize_layout("Time: 0902\nBP 128/80\nHR 72\nTime: 0942\nBP 140/90\nHR 80").is_none());
    }

    #[test]
    fn a_pasted_csv_block_reads_as_a_table() {
        let t = "Vitals (pasted from device export):\ntime,bp,hr,spo2,sedation_dissociation\n09:30,128/80,72,98,alert - pre-dose\n10:25,not obtained - cuff error,76,97,moderate\n11:05,134/82,74,98,mild\n\n11:52 discharge criteria met, steady gait, no driving.";
        let n = normalize_layout(t).expect("csv");
        assert_eq!(n.len(), t.len());
        assert!(n.contains("time|bp|hr|spo2|sedation_dissociation\n09:30|128/80|72|98|alert - pre-dose"), "{n}");
        assert!(n.ends_with("11:52 discharge criteria met, steady gait, no driving."), "{n}");
        // Short comma lists under a bare-word line are not a table.
        let t = "ROS negative for nausea, vomiting, headache, dizziness\nPt tolerated well, BP stable, HR 72, SpO2 98\nMonitored 2 h, discharged with husband, no driving, stable";
        assert!(normalize_layout(t).is_none());
        let t = "Denies,SI,HI,AH,VH\nTolerated well,stable,alert,calm\nNo driving,husband,home,ok\n";
        assert!(normalize_layout(t).is_none());
        // Prose with commas is not a table.
        let t = "Tried sertraline, fluoxetine, bupropion, and venlafaxine.\nNo response, nausea, headache, insomnia.\nPlan: start Spravato, PA, REMS, driver.";
        assert!(normalize_layout(t).is_none());
    }

    #[test]
    fn ocr_zeros_in_words_read_as_o() {
        let t = "Pri0r trials: paroxetine 40 mg x 14 wks - n0 resp0nse. M0nit0ring F0rm submitted. J0013 x 84, F32.0, Sp02 98";
        let n = normalize_layout(t).expect("OCR zeros");
        assert_eq!(n, "Prior trials: paroxetine 40 mg x 14 wks - no response. Monitoring Form submitted. J0013 x 84, F32.0, Sp02 98");
        // A scanned sheet's numbers and words with letters and ones read
        // for each other.
        let t = "Pri0r trials n0 resp0nse, st0pped. Pre-dose O9:5O BP 13O/82, 2O mg x 9 wks (2O21). Dev 1 1O:O2; 12:l5 m1ld disso, certif1ed. Bi1l: S0013 x 56. O2 sat 98%. Page l of l. A9931-O7, F33.l, 2l, HTN (I10), I67.1, A1C";
        let n = normalize_layout(t).expect("OCR");
        assert_eq!(n, "Prior trials no response, stopped. Pre-dose 09:50 BP 130/82, 20 mg x 9 wks (2021). Dev 1 10:02; 12:15 mild disso, certified. Bill: S0013 x 56. O2 sat 98%. Page l of l. A9931-O7, F33.l, 2l, HTN (I10), I67.1, A1C");
        // One or two such words are a typo, not a scan.
        assert!(normalize_layout("n0 response; J0013").is_none());
    }

    #[test]
    fn a_time_after_criteria_met() {
        assert_eq!(clocks("1245 BP 124/78. Discharge criteria met 1250; escorted by son."), vec![12 * 60 + 45, 12 * 60 + 50]);
    }

    #[test]
    fn a_scale_and_its_score_are_no_time() {
        assert!(clocks("Last PHQ-9: 17   GAD-7:12").is_empty());
        assert_eq!(clocks("T-9:15 pre"), Vec::<u32>::new());
        assert_eq!(clocks("dose at 9:15"), vec![9 * 60 + 15]);
    }

    #[test]
    fn dictated_split_numbers_are_joined() {
        let t = "blood pressure before dosing at 9 02 was 1 32 over 84 comma heart rate 78 period first device at 9 10 and at 12 10 period took 2 10 mg doses period hold if over 1 40 over 90 period";
        let n = normalize_layout(t).unwrap();
        assert_eq!(n.len(), t.len());
        assert!(n.contains("at 9:02 was  132/84"), "{n}");
        assert!(n.contains("at 9:10") && n.contains("at 12:10"), "{n}");
        assert!(n.contains("took 2 10 mg"), "{n}");
        assert!(n.contains("over  140/90"), "{n}");
        let t = "two devices at 2 10 p.m. and 2 15 p.m. comma 56 milligrams comma observed comma fine period";
        assert!(normalize_layout(t).unwrap().contains("at 2:10 p.m. and 2:15 p.m."));
        let t = "pump started at 10 oh 4 a.m. period ketamine 0.5 milligrams per kilogram equals 39 milligrams comma total comma over 40 minutes period";
        let n = normalize_layout(t).unwrap();
        assert!(n.contains("at 10:04   a.m."), "{n}");
        assert!(n.contains("0.5 mg/kg ") && n.contains("39 mg "), "{n}");
    }

    #[test]
    fn spoken_punctuation_reads_as_punctuation() {
        let t = "BP 134 over 82 comma pulse 70 period He self-administered 56 mg comma two devices period new paragraph Observation period began at 10:15 comma uneventful period";
        let n = normalize_layout(t).expect("dictation artefacts replaced");
        assert_eq!(n.len(), t.len());
        assert_eq!(
            n,
            "BP 134/82      ,     pulse 70 .      He self-administered 56 mg ,     two devices .      \n             Observation period began at 10:15 ,     uneventful .     "
        );
        assert!(normalize_layout("Observation period 2 h, monitoring period ended.").is_none());
        let t = "no devices left the clinic period at 9 55 blood pressure was fine comma the observation period ended comma a period of rest period";
        let n = normalize_layout(t).unwrap();
        assert!(n.contains("clinic .      at 9:55"), "{n}");
        assert!(n.contains("observation period ended") && n.contains("a period of rest ."), "{n}");
    }

    #[test]
    fn unchecked_items_state_nothing() {
        let t = "☑ Device 1  28 mg  10:02\n☐ Device 3  28 mg  --:--\n☐ Devices dispensed for home use\nLocation: ☑ Home ☐ Work ☐ Other\n[ ] new patient [x] established";
        let n = normalize_layout(t).unwrap();
        assert_eq!(n.len(), t.len());
        assert!(n.contains("☑ Device 1  28 mg  10:02"));
        assert!(!n.contains("Device 3") && !n.contains("home use") && !n.contains("Work") && !n.contains("new patient"));
        assert!(n.contains("☑ Home") && n.contains("☐") && n.contains("[x] established"));
    }

    #[test]
    fn snake_case_field_names_read_as_words() {
        let t = "ENCOUNTER_TYPE: SPRAVATO_TREATMENT\nREMS_PATIENT_ENROLLED: YES\n  vitals_40min_0955 = BP 138/84\nfile_name_v2.pdf attached; see_above\n";
        let n = normalize_layout(t).expect("keys relabelled");
        assert_eq!(n.len(), t.len());
        assert_eq!(
            n,
            "ENCOUNTER TYPE: SPRAVATO_TREATMENT\nREMS PATIENT ENROLLED: YES\n  vitals 40min 0955 = BP 138/84\nfile_name_v2.pdf attached; see_above\n"
        );
        assert!(normalize_layout("snake_case in prose, no label\n").is_none());
        let t = r#"rems = {"site_certified": true, "monitoring_form": "submitted", "note": "see_chart"}"#;
        assert_eq!(normalize_layout(t).unwrap(), r#"rems = {"site certified": true, "monitoring form": "submitted", "note": "see_chart"}"#);
    }

    #[test]
    fn dotted_leaders_read_as_label_colons() {
        let t = "PA .......... BCBSMA #1 approved\n0820 pre ..... BP 132/84\nWait... ok";
        let n = normalize_layout(t).expect("leaders replaced");
        assert_eq!(n, "PA :          BCBSMA #1 approved\n0820 pre :     BP 132/84\nWait... ok");
    }

    #[test]
    fn machine_export_keys_read_as_labels() {
        let t = "visit.type=esketamine ; pa.status=approved ; pa.valid=2026-03-30..2026-09-29\nvitals.1=1400 BP 134/84\nobservation.end=1625\nratio = 2:1; a.b=c mid-line";
        let n = normalize_layout(t).expect("keys relabelled");
        assert_eq!(n.len(), t.len());
        assert_eq!(
            n,
            "VISIT TYPE:esketamine ; PA STATUS:approved ; PA VALID 2026-03-30..2026-09-29\nVITALS 1 1400 BP 134/84\nOBSERVATION END 1625\nratio = 2:1; a.b=c mid-line"
                .replace("; a.b=c", "; A B:c")
        );
        // Blanks before the "=", quoted values and indexed keys.
        let t = "vitals.pre.bp = \"128/80\"\ndose.device[1].time = \"09:10\"\nrems.pmf = \"submitted 2025-09-09 11:30\"";
        let n = normalize_layout(t).expect("keys relabelled");
        assert_eq!(n, "VITALS PRE BP   \"128/80\"\nDOSE DEVICE 1  TIME   \"09:10\"\nREMS PMF : \"submitted 2025-09-09 11:30\"");
        // Plain "=" in prose, and keys without a dot, are left alone.
        assert!(normalize_layout("MOAA/S=5, dose = 56 mg\nscore=12").is_none());
    }

    #[test]
    fn layout_normalization_keeps_every_offset() {
        assert_eq!(normalize_layout("plain ascii\nBP 120/80"), None);
        assert_eq!(normalize_layout("caf\u{e9} \u{2019}s"), None);
        let t = "D/C 1150.\r\nSPRAVATO\u{ae} 56\u{a0}mg\r02/27/2026 \u{2013} 08/26/2026, SpO\u{2082} 98%\u{2009}ok";
        let n = normalize_layout(t).unwrap();
        assert_eq!(n.len(), t.len());
        assert_eq!(n, "D/C 1150. \nSPRAVATO   56  mg\n02/27/2026  -  08/26/2026, SpO2   98%   ok");
        let t = "Pt has failed multiple antidepres-\nsants over the past decade; self-\r\nadministered.";
        let n = normalize_layout(t).unwrap();
        assert_eq!(n.len(), t.len());
        assert_eq!(n, "Pt has failed multiple antidepressants   over the past decade; selfadministered   .");
        // Not a hyphenated word: a list dash, a range, a capitalised next line.
        assert_eq!(normalize_layout("Plan -\nRTC 1 wk\n10-\n20 mg\nsee-\nAbove"), None);
        // Offsets of ASCII text agree in both.
        for w in ["1150", "56", "08/26/2026", "98%", "ok"] {
            assert_eq!(t.find(w), n.find(w), "{w}");
        }
    }

    #[test]
    fn a_two_column_page_splits_at_its_gap() {
        let t = "Vital Signs                                 Active Medications\n\
8:50 AM  BP 118/76  P 70  SpO2 98%          sertraline 150 mg tablet, 1 tab PO daily\n\
9:41 AM  BP 132/84  P 78  SpO2 97%          levothyroxine 75 mcg tablet, 1 tab PO daily\n\
11:08 AM BP 120/78  P 70  SpO2 99%          Spravato 28 mg/device - clinic administered only;\n\
Wt 64.2 kg   Ht 165 cm                        hold Spravato for BP > 150/95 per protocol\n\
Previous Encounters                         Problem List\n\
02/12/2026 Spravato 56 mg  peak BP 146/90   Major depressive disorder, recurrent,\n\
Procedure: Spravato 56 mg intranasal, devices at 9:00 AM and 9:05 AM.";
        let n = normalize_layout(t).unwrap();
        assert_eq!(n.len(), t.len());
        let lines: Vec<&str> = n.lines().map(str::trim).collect();
        assert!(lines.contains(&"11:08 AM BP 120/78  P 70  SpO2 99%"), "{lines:?}");
        assert!(lines.contains(&"Spravato 28 mg/device - clinic administered only;"));
        assert!(lines.contains(&"hold Spravato for BP > 150/95 per protocol"));
        assert!(lines.contains(&"Procedure: Spravato 56 mg intranasal, devices at 9:00 AM and 9:05 AM."));
        // A form's questions and answers are rows, not columns.
        let t = "Q: Identity verified?                       A: Y (name, DOB)\nQ: REMS enrollment active?                  A: Y (verified in portal)\nQ: Setting REMS certified?                  A: Y yes it is\nQ: Any devices sent home?                   A: N none sent\nQ: Discharge time?                          A: 1110 (2 h 5 min after dev 2)";
        assert!(normalize_layout(t).is_none_or(|n| n == t));
        assert!(clocks(t).contains(&(11 * 60 + 10)));
        // A table's rows (numbers, several gaps) are not columns.
        let t =
            "Time      BP         HR\n0847      128/84     74\n0940      136/84     78\n1035      126/80     72\n1102      124/78     70";
        assert!(normalize_layout(t).is_none_or(|n| n == t));
    }

    #[test]
    fn epic_smartlist_remnants_read_as_their_values() {
        let t = "Take-home devices dispensed: {Yes/No:18832::\"No\"}\nHold: {BP hold:30455::\"hold dose if SBP > 160\"} ok";
        let n = normalize_layout(t).unwrap();
        assert_eq!(n.len(), t.len());
        assert_eq!(n.split_whitespace().collect::<Vec<_>>().join(" "), "Take-home devices dispensed: No Hold: hold dose if SBP > 160 ok");
        // Braces that are no SmartList are left alone.
        let t = "set {a::\"b\"} and {x:1}";
        assert!(normalize_layout(t).is_none_or(|n| n == t));
    }

    #[test]
    fn hard_wrapped_prose_reads_as_one_line() {
        let long = "Governance: our clinic is a certified Spravato REMS healthcare setting; she is enrolled; the Patient Monitoring Form";
        let t = format!("{long}\nwas submitted this afternoon.");
        let n = normalize_layout(&t).unwrap();
        assert_eq!(n.len(), t.len());
        assert_eq!(n, format!("{long} was submitted this afternoon."));
        assert!(normalize_layout(&format!("{long}\n(14.10, 14.15)")).is_some());
        // Not a wrap: a short line, a stop or label colon at the line's end,
        // a capitalised, numbered, bulleted or labelled next line.
        for t in [
            "Spravato 56 mg session\nwas tolerated".to_string(),
            format!("{long}.\nwas submitted"),
            "Plan:\nwas submitted".to_string(),
            format!("{long}\nBP 128/82"),
            format!("{long}\n0930 BP 128/82"),
            format!("{long}\no devices given"),
            format!("{long}\nbp: 128/82"),
            format!("{long}\nrems.site_certified=yes"),
            format!("{long}\ngovernance reviewed"),
            "esketamine (SPRAVATO) 28 mg/device nasal spray   Given 0902   Dose: 28 mg\nesketamine 28 mg".to_string(),
        ] {
            let nl = t.find('\n').unwrap();
            assert!(normalize_layout(&t).is_none_or(|n| n.as_bytes()[nl] == b'\n'), "{t}");
        }
    }

    #[test]
    fn clock_forms() {
        assert_eq!(clocks("Device 1: 08:50 AM   Device 2: 08:55 AM   Device 3: (not used)"), vec![8 * 60 + 50, 8 * 60 + 55]);
        assert_eq!(clocks("at 14:05:30"), vec![14 * 60 + 5]);
        assert_eq!(clocks("28mg device #1 0940, #2 0945, self-admin"), vec![9 * 60 + 40, 9 * 60 + 45]);
        assert_eq!(clocks("at 14:05"), vec![14 * 60 + 5]);
        assert_eq!(clocks("2:05 pm"), vec![14 * 60 + 5]);
        assert_eq!(clocks("2:05 PM."), vec![14 * 60 + 5]);
        assert_eq!(clocks("start 1405"), vec![14 * 60 + 5]);
        assert_eq!(clocks("10:05 device 1"), vec![10 * 60 + 5]);
        assert_eq!(clocks("12:30 am"), vec![30]);
        assert_eq!(clocks("1:15"), vec![13 * 60 + 15]);
        assert_eq!(clocks("9 am"), vec![9 * 60]);
    }

    #[test]
    fn adjacent_log_times_and_line_breaks() {
        // A newline ends one time and starts the next; spans stop at the digits.
        let t = "Infusion stop 1529\n1614 Discharged";
        let c = clock_times(t);
        assert_eq!(c.iter().map(|c| c.clock.0).collect::<Vec<_>>(), vec![929, 974]);
        assert_eq!(&t[c[0].span.clone()], "1529");
        assert_eq!(clocks("10:54\r\n11:10 alert"), vec![654, 670]);
        // "CADSS 4.\n16:21" is 16:21, not 4:16:21.
        assert_eq!(clocks("CADSS 4.\n16:21 stable"), vec![981]);
        // A next-line "A"/"P" is not am/pm.
        assert_eq!(clocks("at 10:15\nA friend drove"), vec![615]);
    }

    #[test]
    fn compact_times_in_logs() {
        assert_eq!(clocks("Vitals (pre-dose) 1424: BP 150/99"), vec![864]);
        assert_eq!(clocks("pre-treatment 0921 BP 123/84"), vec![561]);
        assert_eq!(clocks("T+40 1008 BP 129/72"), vec![608]);
        assert_eq!(clocks("d1 0928"), vec![568]);
        assert_eq!(clocks("10:05: BP 128/82"), vec![605]);
        // Years and unrelated numbers stay numbers.
        assert!(clocks("year 2025: moved").is_empty());
        assert!(clocks("Pre 2020 she tried sertraline").is_empty());
        assert!(clocks("prescription 1200 tablets").is_empty());
    }

    #[test]
    fn not_times() {
        assert!(clocks("DOS 12/14/2025").is_empty());
        assert!(clocks("in 2025 she").is_empty());
        assert!(clocks("BP 128/82").is_empty());
        assert!(clocks("sertraline 1000 mg").is_empty());
        assert!(clocks("weight 10.5 kg").is_empty());
        // Dotted numbers that are dates, measures or scores.
        assert!(clocks("auth (4.1.2026-9.30.2026) expired").is_empty());
        assert!(clocks("Temp 37.20 C, weight 64.25 kg").is_empty());
        assert!(clocks("PHQ-9 baseline 22 (4.2026), today 12.").is_empty());
        assert!(clocks("ketamine 0.50 mg/kg").is_empty());
        assert!(clocks("valid 2026-01-01 through 2026-06-30, 26 administrations").is_empty());
    }

    #[test]
    fn structured_exports_read_as_text() {
        let t = "<entry><observation><code displayName=\"Blood pressure\"/><effectiveTime value=\"202502110905\"/>\n <value>126/80</value><text>hold if BP &gt; 140/90</text></observation></entry>\n</section></component>\n</x>";
        let n = normalize_layout(t).expect("rewritten");
        assert_eq!(n.len(), t.len());
        assert!(!n.contains('<') || n.contains("BP >"), "{n}");
        assert!(n.contains("Blood pressure") && n.contains("09:05") && n.contains("126/80") && n.contains("BP >    140/90"), "{n}");
        let t = "MSH|^~\\&|X\nOBX|1|ST|85354-9^Blood pressure panel^LN|1|132/84|mm[Hg]|<140/<90|N|||F|||20260120091022\n";
        let n = normalize_layout(t).expect("rewritten");
        assert!(n.ends_with("|||         09:10\n"), "{n}");
        // A 12-digit number that is no date stays.
        assert!(normalize_layout("<a></a></b></c> ref 123456789012").unwrap().contains("123456789012"));
    }

    #[test]
    fn doses_spelled_in_words() {
        let t = "Dose today: eighty-four milligrams (three 28-milligram devices); last week Fifty six milligrams.";
        let n = normalize_layout(t).expect("rewritten");
        assert_eq!(n.len(), t.len());
        assert!(n.contains("84 mg"), "{n}");
        assert!(n.contains("28 mg"), "{n}");
        assert!(n.contains("56 mg"), "{n}");
        let n = normalize_layout("Today: one hundred milligrams of ketamine").expect("rewritten");
        assert!(n.starts_with("Today: 100 mg ") && n.ends_with(" of ketamine"), "{n}");
        // Not a dose: a word ending in a number word, or no unit.
        let n = normalize_layout("someone milligrams, eighty-four patients").expect("rewritten");
        assert!(n.starts_with("someone mg"), "{n}");
        assert!(n.contains("eighty-four patients"));
    }

    #[test]
    fn dotted_times_in_a_clock_context() {
        let min = |h: u32, m: u32| h * 60 + m;
        assert_eq!(clocks("9.15 pre-dose BP 128/80"), vec![min(9, 15)]);
        assert_eq!(clocks("Devices 9.22, 9.27, 9.32 (84 mg)"), vec![min(9, 22), min(9, 27), min(9, 32)]);
        assert_eq!(clocks("Psychotherapy (supportive), 10.25-10.55 (30 min)"), vec![min(10, 25), min(10, 55)]);
        assert_eq!(clocks("Form submitted 10.6 at 12.05."), vec![min(12, 5)]);
    }

    #[test]
    fn header_matches_equal_the_regex() {
        let pieces = [
            "HPI:",
            "Plan",
            " - ",
            "PLAN OF CARE",
            "1. ",
            "12) ",
            "3.\n",
            "\n",
            "\r\n",
            "• ",
            "’",
            "é",
            "٣",
            ": ",
            "BP: 120/80",
            "  ",
            "\t",
            "-",
            "Assessment and Plan",
            "a",
            "Z",
            "(",
            ")",
            "x",
            "1",
            ".",
            "\u{a0}",
            "\u{85}",
            "\x0b",
            "Current Medications:",
            "Post-dose vitals - ",
            "seen today, doing well.",
            "### Labs",
            "> Note",
            "9",
            "sertraline 100 mg",
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..20_000 {
            let k = 1 + (next() % 14) as usize;
            let mut t: String = (0..k).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect();
            if round % 7 == 0 {
                t = t.repeat(1 + (next() % 9) as usize);
            }
            let want: Vec<_> = header_re().captures_iter(&t).map(|c| (c.get(0).unwrap().range(), c.get(1).unwrap().range())).collect();
            let got: Vec<_> = HeaderMatches { text: &t, at: 0 }.collect();
            assert_eq!(got, want, "{t:?}");
        }
        let long = format!("{}:\n{}\n", "A".repeat(70), "b c ".repeat(20));
        let want: Vec<_> = header_re().captures_iter(&long).map(|c| (c.get(0).unwrap().range(), c.get(1).unwrap().range())).collect();
        assert_eq!(HeaderMatches { text: &long, at: 0 }.collect::<Vec<_>>(), want);
    }

    #[test]
    fn headers() {
        let t = "HPI: doing ok\nCurrent Medications:\nsertraline 100 mg\nBP: 120/80\nPLAN\ncontinue\n";
        let s = sections(t, &|_| false);
        let kinds: Vec<_> = s.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, vec![SectionKind::History, SectionKind::MedCurrent, SectionKind::Plan]);
        let pos = t.find("sertraline").unwrap();
        assert_eq!(section_at(&s, pos).unwrap().kind, SectionKind::MedCurrent);
    }

    #[test]
    fn numbered_parts_take_the_name_after_the_number() {
        let kinds = |t: &str| sections(t, &|_| false).iter().map(|s| s.kind).collect::<Vec<_>>();
        let t = "PART A - ESKETAMINE SESSION\nself-administered 56 mg\nPART B - SEPARATE E/M (new problem: insomnia), 8:40-8:55 AM\nHPI: three weeks of insomnia\n";
        assert_eq!(kinds(t), vec![SectionKind::Other, SectionKind::EmSection, SectionKind::History]);
        let t = "Section 2: Evaluation and management\nHPI: worse sleep\n";
        assert_eq!(kinds(t)[0], SectionKind::EmSection);
        // A numbered part led by "E/M" with a dotted time range in it.
        let t = "1) E/M, 8.40-8.58, separate problem: generalized anxiety disorder (F41.1)\n   HPI: worry worse\n2) Esketamine session\n";
        assert_eq!(kinds(t)[..2], [SectionKind::EmSection, SectionKind::History]);
        // A questionnaire: questions that name a section head it, others do not.
        let t = "SEPARATE E/M - passive suicidal ideation\nQ: What separate problem was addressed?\nA: New passive death wish over the past week after a job loss, no plan, no intent.\nQ: Exam / MSE?\nA: tearful, linear.\nQ: Assessment and plan?\nA: safety plan written.\n";
        assert_eq!(kinds(t), vec![SectionKind::EmSection, SectionKind::Exam, SectionKind::Plan]);
        // "Current oral AD" is the current medication list.
        assert_eq!(kinds("Current oral AD - vortioxetine 10 mg daily\n"), vec![SectionKind::MedCurrent]);
    }

    #[test]
    fn snippet_char_boundaries() {
        let t = "BP “128/82” — ok";
        let s = snippet(t, 0..t.len(), 5);
        assert!(s.len() <= 5);
    }

    #[test]
    fn snippet_folds_whitespace_runs() {
        let t = "  BP\t\t128/82\r\n  post-dose\u{00A0}ok \n";
        assert_eq!(snippet(t, 0..t.len(), 200), "BP 128/82 post-dose ok");
        assert_eq!(snippet(" \n\t ", 0..4, 200), "");
        assert_eq!(snippet("one", 0..3, 200), "one");
    }
}

/// A match found in the lowercased haystack, read back from the original
/// text (same byte offsets): `as_str` keeps the note's own case.
#[derive(Debug, Clone, Copy)]
pub struct Span<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

impl<'t> Span<'t> {
    /// The match `r` of `text`.
    pub fn new(text: &'t str, r: Range<usize>) -> Self {
        Span { text, start: r.start, end: r.end }
    }
    /// Start offset.
    pub fn start(&self) -> usize {
        self.start
    }
    /// End offset.
    pub fn end(&self) -> usize {
        self.end
    }
    /// Matched text, in the original case.
    pub fn as_str(&self) -> &'t str {
        &self.text[self.start..self.end]
    }
}

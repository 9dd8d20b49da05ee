//! Vital signs: blood pressure (in its written forms), heart rate, SpO2 and
//! respiratory rate, with what the text says about when they were taken.
//!
//! A pair of numbers is a blood pressure only when something says so: a BP
//! label before it on the line, "mmHg" after it, a BP column in a table, a
//! vitals line, or a relative time marker in a monitoring log. Dates
//! ("12/14/2025"), rating-scale scores ("PHQ-9 18/27"), thresholds ("hold if
//! BP > 140/90") and prior-visit values are look-alikes and are skipped.
//! Charting without numbers ("BP WNL", "BP declined") is never a reading.

use std::ops::Range;

use regex::Regex;

use super::text::{line_of, section_at, SectionKind, TimeMention};
use super::{BpReading, EvKind, Evidence, NoteCtx, NoteFacts, Phase};
use crate::extract::context::Assertion;

/// A candidate pair: (whole span, value span, systolic, diastolic, written as SBP/DBP).
type Cand = (Range<usize>, Range<usize>, u16, u16, bool);

/// Compiled vital-sign patterns.
pub struct VitalsExtractor {
    pair: super::re::Lc,
    sbp_dbp: super::re::Lc,
    label: Regex,
    mmhg: Regex,
    score: Regex,
    threshold: Regex,
    prior_visit: Regex,
    /// A section header naming other visits.
    prior_section: Regex,
    /// A value said to be charted in error or on the wrong patient.
    charted_in_error: Regex,
    /// A limit written after the value ("170/105 mmHg - stop infusion
    /// above this").
    threshold_after: Regex,
    /// Another visit named earlier in the reading's sentence ("last week's
    /// (9/16) 40-min BP was 146/88").
    prior_sentence: Regex,
    /// "Last BP" / "last vitals" before a value.
    last_reading: Regex,
    /// A line led by another visit's label ("Last session (copied from
    /// 3/3):", "Previous infusion:").
    prior_line: Regex,
    /// Right after the value: it was measured elsewhere or another day
    /// ("118/76 yesterday", "130/80 at home").
    reported_after: Regex,
    today: Regex,
    reported: Regex,
    reported_before: Regex,
    vitals_line: Regex,
    rel_marker: Regex,
    post_minutes: Regex,
    planned_in: Regex,
    discharge_cue: Regex,
    restated: Regex,
    post_cue: Regex,
    pre_cue: Regex,
    hr: super::re::Lc,
    spo2: super::re::Lc,
    rr: super::re::Lc,
}

impl Default for VitalsExtractor {
    fn default() -> Self {
        Self::new()
    }
}

fn re(p: &str) -> Regex {
    super::re::ci(p)
}

impl VitalsExtractor {
    /// Compile.
    pub fn new() -> Self {
        VitalsExtractor {
            pair: super::re::Lc::new(r"(?P<sys>\d{2,3})\s*(?:/|\\|\s(?:over|ov)\s)\s*(?P<dia>\d{2,3})"),
            sbp_dbp: super::re::Lc::new(
                r"\b(?:sbp|(?:bp\s+|blood\s+pressure\s+)?sys(?:tolic)?(?:\s+(?:bp|blood\s+pressure))?)\s*(?:of|:|=|-|was|is)?\s*(?P<sys>\d{2,3})\b[^0-9\n]{0,25}?\b(?:dbp|(?:bp\s+|blood\s+pressure\s+)?dia(?:stolic)?(?:\s+(?:bp|blood\s+pressure))?)\s*(?:of|:|=|-|was|is)?\s*(?P<dia>\d{2,3})\b",
            ),
            label: re(r"\b(?:bp|b/p|b\.p\.?|nibp|blood\s+pres+ure|bld\s+press?|blood\s+presure|arterial\s+pressure|pressure)s?\b"),
            mmhg: re(r"^\s*mm\s*hg\b"),
            score: re(
                r"\b(?:phq|gad|madrs|ham-?d|hdrs|qids|cadss|bprs|moaa|bdi|ymrs|pcl|c-?ssrs|score|scale|total|cgi|sds|mmse|moca|audit|dast)\b[^|\n]{0,12}$",
            ),
            threshold: re(
                r"[<>≤≥]|=<|>=|\b(?:above|below|under|greater|less|exceed\w*|hold|if|goal|target|parameters?|threshold|keep|maintain|call|notify|range|limits?|maximum|minimum|up\s+to|ceiling|cutoff|cut-off|should\s+be|not\s+to\s+exceed|contraindicated|elevated\s+(?:above|over)|gt|lt|gte|lte)\b|\bover\s*$",
            ),
            reported: re(
                r"\b(?:at\s+home|home|kiosk|pharmacy|machine|cvs|walgreens|outside|per\s+(?:pt|patient)|(?:pt|patient|self)[- ]reported|yesterday|around|approx\w*|roughly|usually|typically|runs?|running)\b",
            ),
            reported_before: re(
                r"\b(?:home|kiosk|pharmacy|outside|self[- ]reported|pt[- ]reported|patient[- ]reported)(?:\s+(?:cuff|monitor|machine|device|reading))?\W*$|\b(?:own|wrist)\s+cuff\W*$",
            ),
            threshold_after: re(
                r"^\W{0,4}(?:mm\s*hg\W{0,4})?(?:stop|hold|pause|call|notify)\b[^.;\n]{0,30}?\b(?:above|over|exceed\w*|if|when)\b|\babove\s+this\b",
            ),
            prior_section: re(&format!(r"^\W*{}\W*$", super::text::PRIOR_VISITS_HEADING)),
            charted_in_error: re(
                r"\b(?:entered|charted|documented|recorded|written)\b[^.;\n]{0,30}\bin\s+error\b|\bwrong\s+(?:patient|chart|pt)\b|\bbelongs?\s+to\s+(?:another|a\s+different)\s+(?:patient|pt)\b",
            ),
            prior_visit: re(
                r"\b(?:last|previous|prior|earlier)\s+(?:session|visit|treatment|week|time|appointment|tx|infusion|inf|sess|wk)\b|\bon\s+\d{1,2}/\d{1,2}\b|\bthat\s+(?:day|visit|session)\b|\bnot\s+today\b|\bat\s+(?:infusion|session|treatment|visit)\s*#?\s*\d{1,2}\b|\b(?:last|previous|prior|earlier|other)\s+(?:encounter|appt|clinic|month)\b|\bfrom\s+(?:the\s+)?(?:\d{1,2}/\d{1,2}(?:/\d{2,4})?\s+(?:visit|session|encounter|appt)|pcp|outside|referr\w*)\b|\bnot\s+(?:taken|measured|obtained)\s+(?:here|today|in\s+clinic)\b|\bat\s+(?:(?:her|his|their|the)\s+)?(?:pcp'?s?|primary\s+care|cardiolog\w*|urgent\s+care|dentist)\b|\b(?:\d+|a|one|two|three|few)\s*(?:days?|wks?|weeks?|mos?|months?|yrs?|years?)\s+ago\b|\bthere\s+was\b|\byesterday(?:'s|’s)\b",
            ),
            prior_line: re(
                r"^[ \t>*\-]*(?:(?:last|previous|prior)\s+(?:session|visit|treatment|tx|infusion|week)(?:'s)?\b[^:\n]{0,40}:|\(?copied\s+(?:forward\s+)?from\s+\d{1,2}/\d{1,2}\b)",
            ),
            last_reading: re(r"\blast\s+(?:recorded\s+)?(?:bp|b/p|blood\s+pressure|vitals?|v/s)\b[^0-9]{0,12}$"),
            prior_sentence: re(
                r"\b(?:last|previous|prior|earlier)\s+(?:session|visit|treatment|week|appointment|tx|infusion)(?:'s)?\b|\bat\s+(?:infusion|session|treatment|visit)\s*#?\s*\d{1,2}\s*\(\s*\d{1,2}/\d{1,2}|\b(?:last|previous|prior)\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day'?s?\b|\bnot\s+today\b|\byesterday(?:'s|’s)\b",
            ),
            reported_after: re(
                r"^\W{0,3}(?:yesterday|last\s+night|at\s+home|on\s+(?:her|his|their|my)\s+(?:home|own)\b|per\s+(?:pt|patient)|\(?(?:pt[- ]|patient[- ]|self[- ])?reported\)?)",
            ),
            today: re(r"\b(?:today|todays|today's|this\s+(?:session|visit)|now)\b"),
            vitals_line: re(r"\b(?:vitals?|v/s|vs|hr|pulse|spo2|sp02|o2\s*sat|sat|rr|resp|temp|bp)\b"),
            rel_marker: re(
                r"(?:@\s*\d{1,3}\s*(?:min|m\b)|\bt\s*\+\s*\d{1,3}|\b\d{1,3}\s*-?\s*(?:min|mins|minutes)\b|\bbaseline\b|\bpre\b|\bpost\b|\bdischarge\b)",
            ),
            planned_in: re(
                r"\b(?:re-?check\w*|repeat\w*|re-?assess\w*|re-?eval\w*|again|next)?\s*(?:in|within)\s+(?:another\s+)?\d{1,3}\s*(?:-\s*\d{1,3}\s*)?(?:min|minutes?|mins?)\b",
            ),
            post_minutes: re(
                r"\b(?P<hc>\d)\s*(?:h|hr|hrs|hours?)\s*(?:and\s*)?(?P<mc>[0-5]?\d)\s*(?:m|min|mins|minutes?)\b|(?:@|\bat|\bt\s*\+|\+)\s*(?P<m>\d{1,3})\s*(?:min|m\b|minutes?|mins?)|\b(?P<m2>\d{1,3})\s*(?:-\s*)?(?:min|minutes?|mins?)\b\s*(?:post|after|following|pd|mark|check|reading|:|-)?|\bt\s*\+\s*(?P<m3>\d{1,3})|\b(?P<h>\d(?:\.\d)?|one|two)\s*(?:h|hr|hrs|hour|hours)\b\s*(?:post|after|mark|check|:)?|\b(?P<mw>(?:twenty|thirty|forty|fourty|fifty)(?:[- ]five)?|ten|fifteen|sixty|ninety)[- ]?(?:min|minutes?|mins?)\b",
            ),
            restated: re(
                r"\b(?:reviewed|per\s+(?:nursing|nurse|rn|flowsheet|mar)|as\s+above|(?:noted|documented|recorded)\s+above|see\s+above|from\s+(?:nursing|the\s+flowsheet|flowsheet))\b",
            ),
            discharge_cue: re(
                r"\b(?:dis?charge|d/c|departure|leaving|end\s+of\s+(?:monitoring|observation|session|visit)|prior\s+to\s+(?:discharge|departure|leaving)|before\s+(?:discharge|departure|leaving)|pre-?discharge)",
            ),
            post_cue: re(r"\b(?:post|after|following|recovery|during|intra|mid|repeat|recheck|re-?check|end\s+of\s+infusion)\b"),
            pre_cue: re(
                r"\b(?:pre|prior\s+to|before|baseline|base\s*line|arrival|initial|intake|check[- ]?in|pre-?dose|predose|pre-?treatment|pre-?procedure|pre-?infusion|pretreatment|pre-?admin\w*|t\s*0|t\s*=\s*0|time\s+0|0\s*min|t\s*[-−]\s*\d{1,3}(?:\s*min\w*)?)\b",
            ),
            hr: super::re::Lc::new(r"\b(?:hr|heart\s+rate|pulse(?:\s+rate)?)\s*(?:of|:|=|-|was|is)?\s*(?P<v>\d{2,3})\b"),
            spo2: super::re::Lc::new(
                r"\b(?:spo2|sp02|o2\s*sat\w*|sats?|saturation|pulse\s*ox\w*|oxygen\s+saturation)\s*(?:of|:|=|-|was|is)?\s*(?P<v>\d{2,3})\s*%?",
            ),
            rr: super::re::Lc::new(r"\b(?:rr|resp(?:iratory)?\s*rate|respirations|resp)\s*(?:of|:|=|-|was|is)?\s*(?P<v>\d{1,2})\b"),
        }
    }

    /// Extract vitals into `facts`.
    pub fn extract(&self, ctx: &NoteCtx<'_>, facts: &mut NoteFacts) {
        let text = ctx.text;
        let times = &ctx.times;
        let mut cands: Vec<Cand> = Vec::new();
        // Groups by index: a lookup by name hashes the name each time.
        let (sys, dia) = (self.sbp_dbp.group("sys"), self.sbp_dbp.group("dia"));
        for c in ctx.captures_iter(&self.sbp_dbp) {
            let (Ok(s), Ok(d)) = (c[sys].parse::<u16>(), c[dia].parse::<u16>()) else { continue };
            let m = c.get(0).unwrap();
            cands.push((m.start()..m.end(), m.start()..m.end(), s, d, true));
        }
        let (sys, dia) = (self.pair.group("sys"), self.pair.group("dia"));
        for c in ctx.captures_iter(&self.pair) {
            let m = c.get(0).unwrap();
            if cands.iter().any(|x| x.0.start < m.end() && m.start() < x.0.end) {
                continue;
            }
            let (Ok(s), Ok(d)) = (c[sys].parse::<u16>(), c[dia].parse::<u16>()) else { continue };
            // A dictated "one thirty-eight over 84" transcribed as "1:38 over
            // 84": the hundreds digit sits before a colon.
            let b = text.as_bytes();
            let st = m.start();
            if c[sys].len() == 2
                && st >= 2
                && b[st - 1] == b':'
                && matches!(b[st - 2], b'1' | b'2')
                && (st < 3 || !b[st - 3].is_ascii_digit())
                && !m.as_str().contains('/')
                && !m.as_str().contains('\\')
            {
                let s = u16::from(b[st - 2] - b'0') * 100 + s;
                cands.push((st - 2..m.end(), st - 2..m.end(), s, d, false));
                continue;
            }
            cands.push((m.start()..m.end(), m.start()..m.end(), s, d, false));
        }
        cands.sort_by_key(|c| c.0.start);
        let mut prev_end = 0usize;
        let mut accepted: Vec<(Range<usize>, u16, u16)> = Vec::new();
        for (k, (span, _, sys, dia, sbp_form)) in cands.iter().enumerate() {
            let (sys, dia) = (*sys, *dia);
            if !(60..=260).contains(&sys) || !(30..=160).contains(&dia) || sys <= dia || sys - dia < 10 {
                continue;
            }
            let bytes = text.as_bytes();
            if !sbp_form {
                // Dates and longer fractions.
                let before = if span.start > 0 { bytes[span.start - 1] } else { b' ' };
                // A hyphen joins a label to its value ("BP-128/82"); after a
                // digit it is part of a date or range ("2025-12/14").
                let before2 = if span.start > 1 { bytes[span.start - 2] } else { b' ' };
                let hyphen_date = before == b'-' && (before2.is_ascii_digit() || matches!(before2, b'/' | b'-' | b'.'));
                if matches!(before, b'/' | b'.' | b':') || before.is_ascii_digit() || hyphen_date {
                    continue;
                }
                let after = super::text::sub(text, span.end..);
                if after.starts_with('/') || after.starts_with(['-', '.']) && after[1..].starts_with(|c: char| c.is_ascii_digit()) {
                    continue;
                }
                let pair_txt = super::text::sub(text, span.clone());
                if pair_txt.contains("over") && !pair_txt.contains('/') && !self.label_before(text, span.start, 80) {
                    continue;
                }
            }
            let line = line_of(text, span.start);
            let lead_start = line.start.max(span.start.saturating_sub(48)).max(prev_end.min(span.start));
            let lead_start = super::text::floor_char(text, lead_start);
            let lead = super::text::sub(text, lead_start..span.start);
            if self.score.is_match(lead) {
                continue;
            }
            // Threshold words between the label (or lead start) and the number.
            let label_pos = self.label.find_iter(lead).last();
            let gap = match label_pos {
                Some(m) => &lead[m.end()..],
                None => lead,
            };
            // A parenthesised aside before the value ("recheck (SBP >140 at
            // 40 min) 134/84") is the reason for the reading, not a limit.
            let gap_open = match gap.rfind(')') {
                Some(close) if gap[..close].contains('(') => {
                    let open = gap[..close].rfind('(').unwrap_or(0);
                    std::borrow::Cow::Owned(format!("{}{}", &gap[..open], &gap[close + 1..]))
                }
                _ => std::borrow::Cow::Borrowed(gap),
            };
            if self.threshold.is_match(&gap_open) || self.prior_visit.is_match(gap) || self.reported.is_match(gap) {
                continue;
            }
            // The sentence names another visit before the reading, and not
            // today after it: that visit's value.
            let sent_from = super::text::floor_char(text, line.start.max(span.start.saturating_sub(120)));
            let before_in_line = super::text::sub(text, sent_from..span.start);
            // A dot inside a date ("Last session (14.11.) BP rose to 146/90")
            // ends no sentence.
            let sentence = {
                let b = before_in_line.as_bytes();
                let cut = (0..b.len()).rev().find(|&i| match b[i] {
                    b'?' | b'!' | b';' => true,
                    b'.' => !(i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_none_or(|c| c.is_ascii_digit() || *c == b')')),
                    _ => false,
                });
                cut.map_or(before_in_line, |i| &before_in_line[i + 1..])
            };
            if let Some(pm) = self.prior_sentence.find_iter(sentence).last() {
                let rest = &sentence[pm.end()..];
                if !self.today.is_match(rest) && !rest.contains(':') {
                    continue;
                }
            }
            // "Home BP 130/80": a value the patient reports from elsewhere.
            if let Some(lm) = label_pos {
                let pre = &lead[super::text::floor_char(lead, lm.start().saturating_sub(12))..lm.start()];
                if self.reported_before.is_match(pre) {
                    continue;
                }
            }
            let next_start = cands.get(k + 1).map(|c| c.0.start).unwrap_or(text.len());
            let tail_end = line.end.min(next_start).min(span.end + 40);
            let tail_end = super::text::floor_char(text, tail_end);
            let tail = super::text::sub(text, span.end..tail_end.max(span.end));
            let near_tail = &tail[..super::text::floor_char(tail, tail.len().min(32))];
            if self.prior_visit.is_match(near_tail) || self.reported_after.is_match(near_tail) || self.threshold_after.is_match(near_tail) {
                continue;
            }
            // A dated row under a header of other visits ("Previous
            // Encounters\n02/12/2026 Spravato 56 mg  peak BP 146/90" on an
            // encounter summary): that visit's value. Only a row that starts
            // with its date: the section may run on past its list when the
            // next header is not recognised.
            let dated_row = {
                let l = super::text::sub(text, line.clone()).trim_start().as_bytes();
                let d = l.iter().take_while(|c| c.is_ascii_digit()).count();
                (1..=2).contains(&d) && l.get(d) == Some(&b'/') && l.get(d + 1).is_some_and(u8::is_ascii_digit)
            };
            if dated_row
                && section_at(&ctx.sections, span.start)
                    .is_some_and(|sec| self.prior_section.is_match(super::text::sub(text, sec.header.clone())))
            {
                continue;
            }
            // A line headed by another visit's label ("Last session (copied
            // from 3/3): Dose: 84 mg. BP pre 132/82, ...") is that visit's.
            if self.prior_line.is_match(super::text::sub(text, line.start..span.start.min(line.start + 80))) {
                continue;
            }
            // "Last BP: 152/94 (10/14)" in a header carried over from the
            // previous visit: a "last" reading with no clock time of its
            // own is that visit's; "last BP 120/80 at 11:40" is today's.
            if self.last_reading.is_match(lead) && !times.iter().any(|t| t.span.start >= line.start && t.span.end <= line.end) {
                continue;
            }
            let labelled = *sbp_form
                || label_pos.is_some()
                || self.label_before(text, span.start, 80)
                || self.mmhg.is_match(tail)
                || self.table_bp_column(text, line.clone())
                || self.vitals_line.is_match(super::text::sub(text, line.clone()))
                || self.rel_marker.is_match(lead)
                || lead.trim().is_empty() && times.iter().any(|t| t.span.start >= line.start && t.span.end <= span.start)
                || matches!(section_at(&ctx.sections, span.start).map(|s| s.kind), Some(SectionKind::PreDose | SectionKind::PostDose));
            if !labelled {
                continue;
            }
            prev_end = span.end;
            accepted.push((span.clone(), sys, dia));
        }
        // A reading the note says was charted in error ("The 0847 BP 162/94
        // was entered in this chart in error; it belongs to the patient in
        // chair 2") is not this patient's, wherever the same value appears.
        let lower = ctx.lower.as_bytes();
        if !accepted.is_empty()
            && (super::text::finder!(b"error").find(lower).is_some() || super::text::finder!(b"wrong").find(lower).is_some())
        {
            let wrong: Vec<(u16, u16)> = accepted
                .iter()
                .filter(|(span, _, _)| self.charted_in_error.is_match(super::text::sub(text, super::timing::clause(text, span.start))))
                .map(|(_, s, d)| (*s, *d))
                .collect();
            accepted.retain(|(_, s, d)| !wrong.contains(&(*s, *d)));
        }
        // Timing of each accepted reading.
        for (k, (span, sys, dia)) in accepted.iter().enumerate() {
            let mut line = line_of(text, span.start);
            // Hard-wrapped prose that puts the value at a line start ("At
            // 10:46 his blood pressure was\n138/88"): its lead is on the line
            // before.
            if line.start > 0 && text[line.start..span.start].trim().is_empty() {
                let up = line_of(text, line.start - 1);
                let up_text = text[up.clone()].trim_end();
                if !up_text.trim().is_empty() && !up_text.ends_with(['.', ';', '|']) {
                    line.start = up.start;
                }
            }
            let prev = if k > 0 { accepted[k - 1].0.end } else { 0 };
            let next = accepted.get(k + 1).map(|a| a.0.start).unwrap_or(text.len());
            let mut before_start = super::text::floor_char(text, line.start.max(prev).max(span.start.saturating_sub(100)));
            if k > 0 && before_start == prev {
                before_start = prev + own_annotation_len(super::text::sub(text, prev..span.start));
            }
            let before = super::text::sub(text, before_start..span.start);
            let after_end = super::text::floor_char(text, line.end.min(next).min(span.end + 120));
            let after = super::text::sub(text, span.end..after_end.max(span.end));
            let (mut worded, mut offset, mut at_dc) = self.phase_of(before);
            if at_dc || worded != Phase::Unknown {
                // Discharge or phase wording in an earlier sentence ("no
                // device leaves our clinic. At 10:46 his blood pressure was
                // 138/88", "pre-dose BP not obtained. 0932 BP 138/86") is
                // not this reading's.
                if let Some(cut) = last_sentence_start(before) {
                    (worded, offset, at_dc) = self.phase_of(&before[cut..]);
                }
            }
            if worded == Phase::Unknown {
                // "BP 142/90 ... MD notified; recheck in 20 min": the time of
                // a planned recheck is not this reading's.
                let own = after.find(". ").map_or(after, |k| &after[..k]);
                let after = self.planned_in.replace_all(own, "");
                (worded, offset, at_dc) = self.phase_of(&after);
            }
            // A time after the value is its own only in its clause: "138/88
            // with SpO2 97%; at 11:30 130/84" gives 11:30 to the next one.
            let clause_end = after.find(['.', ';']).map_or(after_end.max(span.end), |i| span.end + i);
            let clock =
                pick_clock(times, before_start..span.start, span.end..clause_end).or_else(|| column_clock(text, times, &accepted, k));
            let section = match section_at(&ctx.sections, span.start).map(|s| s.kind) {
                Some(SectionKind::PreDose) => Phase::Pre,
                Some(SectionKind::PostDose | SectionKind::Discharge) => Phase::Post,
                _ => Phase::Unknown,
            };
            let positional = match facts.timing.first_admin_pos {
                Some(p) if span.start < p => Phase::Pre,
                Some(_) => Phase::Post,
                None => Phase::Unknown,
            };
            // "Vitals reviewed: BP 128/82" restates a reading taken elsewhere:
            // its phase is the original's, so it carries none of its own.
            // Only the reading's own sentence after it: "BP 126/82 at 0925.
            // She reviewed the contraindication list" restates nothing.
            let own_after = after.find(". ").map_or(after, |k| &after[..k]);
            // "- reviewed by Dr. Ferrer, asymptomatic" after the value is the
            // prescriber looking at this reading, not a restatement of another.
            let restates = |s: &str| {
                self.restated.find_iter(s).any(|m| {
                    let rest = s[m.end()..].trim_start().to_ascii_lowercase();
                    !(m.as_str().eq_ignore_ascii_case("reviewed") && (rest.starts_with("by ") || rest.starts_with("with ")))
                })
            };
            let (worded, offset, at_dc, clock, section, positional) = if restates(before) || restates(own_after) {
                (Phase::Unknown, None, false, None, Phase::Unknown, Phase::Unknown)
            } else {
                (worded, offset, at_dc, clock, section, positional)
            };
            let value = format!("{sys}/{dia}");
            let ev = facts.push(Evidence {
                kind: EvKind::Bp,
                entry_id: "bp".into(),
                span: span.clone(),
                assertion: Assertion::default(),
                value,
                counts: true,
            });
            facts.bps.push(BpReading {
                sys: *sys,
                dia: *dia,
                clock,
                worded,
                offset_min: offset,
                at_discharge: at_dc,
                section,
                positional,
                ev,
            });
        }
        self.simple_vitals(ctx, facts);
    }

    fn label_before(&self, text: &str, pos: usize, max: usize) -> bool {
        let line = line_of(text, pos);
        let start = super::text::floor_char(text, line.start.max(pos.saturating_sub(max)));
        self.label.is_match(super::text::sub(text, start..pos))
    }

    /// A table row whose header row (a previous line with the same separator) has a BP column.
    fn table_bp_column(&self, text: &str, line: Range<usize>) -> bool {
        let row = super::text::sub(text, line.clone());
        // Columns split by bars, tabs, or (space-aligned printouts) runs of spaces.
        let sep = if row.matches('|').count() >= 2 {
            "|"
        } else if row.matches('\t').count() >= 2 {
            "\t"
        } else if row.trim().matches("   ").count() >= 2 {
            "   "
        } else {
            return false;
        };
        let mut end = line.start;
        for _ in 0..40 {
            if end == 0 {
                break;
            }
            let prev = line_of(text, end - 1);
            let l = super::text::sub(text, prev.clone());
            if l.matches(sep).count() < 2 {
                // Rule lines, blank lines and rows whose trailing empty cells
                // the export trimmed ("09:32\tinfusion start") stay in the table.
                if l.trim().is_empty() || l.chars().all(|c| "-=+|: \t".contains(c)) || l.contains(sep) {
                    end = prev.start;
                    continue;
                }
                break;
            }
            if self.label.is_match(l) {
                return true;
            }
            end = prev.start;
        }
        false
    }

    /// Phase from wording: (phase, minutes after dosing, at discharge).
    fn phase_of(&self, s: &str) -> (Phase, Option<u32>, bool) {
        if s.trim().is_empty() {
            return (Phase::Unknown, None, false);
        }
        // The cue nearest the number wins: search right to left over matches.
        let mut best: Option<(usize, Phase, Option<u32>, bool)> = None;
        let mut consider = |pos: usize, ph: Phase, off: Option<u32>, dc: bool| {
            if best.as_ref().is_none_or(|b| pos >= b.0) {
                best = Some((pos, ph, off, dc));
            }
        };
        for c in self.post_minutes.captures_iter(s) {
            let m = c.get(0).unwrap();
            // "T-12 min": minutes before the first dose (the pre cue's).
            let lead = s[..m.start()].trim_end().as_bytes();
            if [&b"t-"[..], b"t -", "t−".as_bytes()]
                .iter()
                .any(|t| lead.len() >= t.len() && lead[lead.len() - t.len()..].eq_ignore_ascii_case(t))
            {
                continue;
            }
            let mins = minutes_of(&c);
            if let Some(mins) = mins {
                if mins == 0 {
                    consider(m.start(), Phase::Pre, None, false);
                } else if mins <= 300 {
                    consider(m.start(), Phase::Post, Some(mins), false);
                }
            }
        }
        for m in self.discharge_cue.find_iter(s) {
            consider(m.start(), Phase::Post, None, true);
        }
        for m in self.post_cue.find_iter(s) {
            consider(m.start(), Phase::Post, None, false);
        }
        for m in self.pre_cue.find_iter(s) {
            // "prior to discharge" is handled by the discharge cue at the same place.
            let rest = &s[m.start()..];
            if self.discharge_cue.find(rest).is_some_and(|d| d.start() < 20) {
                continue;
            }
            consider(m.start(), Phase::Pre, None, false);
        }
        // A generic "post" next to "40 min" keeps the minutes ("at 40 min post").
        let last_minutes = self.post_minutes.captures_iter(s).filter_map(|c| minutes_of(&c)).filter(|m| (1..=300).contains(m)).last();
        match best {
            Some((_, Phase::Post, None, false)) => (Phase::Post, last_minutes, false),
            Some((_, ph, off, dc)) => (ph, off, dc),
            None => (Phase::Unknown, None, false),
        }
    }

    /// The patterns each note is searched with whole, by name (for
    /// [`super::Extractor::pattern_costs`]).
    pub(crate) fn whole_note_patterns(&self) -> impl Iterator<Item = (String, &super::re::Lc)> {
        [("pair", &self.pair), ("sbp_dbp", &self.sbp_dbp), ("hr", &self.hr), ("spo2", &self.spo2), ("rr", &self.rr)]
            .into_iter()
            .map(|(n, r)| (format!("vitals {n}"), r))
    }

    fn simple_vitals(&self, ctx: &NoteCtx<'_>, facts: &mut NoteFacts) {
        let text = ctx.text;
        for (r, kind, lo, hi) in
            [(&self.hr, EvKind::HeartRate, 30u32, 220u32), (&self.spo2, EvKind::Spo2, 70, 100), (&self.rr, EvKind::RespRate, 6, 40)]
        {
            for c in ctx.captures_iter(r) {
                let v = c.name("v").unwrap();
                let Ok(n) = v.as_str().parse::<u32>() else { continue };
                if n < lo || n > hi {
                    continue;
                }
                let m = c.get(0).unwrap();
                let lead_start = super::text::floor_char(text, m.start().saturating_sub(20));
                if self.threshold.is_match(super::text::sub(text, lead_start..m.start())) {
                    continue;
                }
                facts.push(Evidence {
                    kind,
                    entry_id: kind.as_str().to_string(),
                    span: m.start()..m.end(),
                    assertion: Assertion::default(),
                    value: n.to_string(),
                    counts: true,
                });
            }
        }
    }
}

/// Minutes written in a `post_minutes` match: "1 hr 29 min", "@40min", "T+40", "2 h".
fn minutes_of(c: &regex::Captures<'_>) -> Option<u32> {
    if let (Some(h), Some(m)) = (c.name("hc"), c.name("mc")) {
        return Some(h.as_str().parse::<u32>().ok()? * 60 + m.as_str().parse::<u32>().ok()?);
    }
    if let Some(x) = c.name("m").or(c.name("m2")).or(c.name("m3")) {
        return x.as_str().parse::<u32>().ok();
    }
    if let Some(w) = c.name("mw") {
        return word_minutes(w.as_str());
    }
    c.name("h").and_then(|h| super::text::parse_number(h.as_str())).map(|h| (h * 60.0) as u32)
}

/// Minutes written as words in dictation ("at forty minutes", "forty-five min").
fn word_minutes(w: &str) -> Option<u32> {
    let w = w.to_ascii_lowercase();
    let (tens, five) = match w.split_once(['-', ' ']) {
        Some((t, "five")) => (t.to_string(), 5),
        _ => (w.clone(), 0),
    };
    let base = match tens.as_str() {
        "ten" => 10,
        "fifteen" => 15,
        "twenty" => 20,
        "thirty" => 30,
        "forty" | "fourty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "ninety" => 90,
        _ => return None,
    };
    Some(base + five)
}

/// A flowsheet printed with times across ("Row Name  03/17/26 0848  03/17/26
/// 0946" above "BP  131/82  139/88"): the k-th value of a row takes the k-th
/// time of the nearest header row above it with as many times.
fn column_clock(text: &str, times: &[TimeMention], accepted: &[(Range<usize>, u16, u16)], k: usize) -> Option<super::text::Clock> {
    let line = line_of(text, accepted[k].0.start);
    let row: Vec<usize> =
        accepted.iter().enumerate().filter(|(_, a)| a.0.start >= line.start && a.0.end <= line.end).map(|(i, _)| i).collect();
    if row.len() < 2 {
        return None;
    }
    let col = row.iter().position(|&i| i == k)?;
    let mut end = line.start;
    for _ in 0..8 {
        if end == 0 {
            break;
        }
        let prev = line_of(text, end - 1);
        let ts: Vec<&TimeMention> = times.iter().filter(|t| t.span.start >= prev.start && t.span.end <= prev.end).collect();
        if ts.len() == row.len() {
            return Some(ts[col].clock);
        }
        end = prev.start;
    }
    None
}

/// Start of the last sentence in `s`: after a ". ", "! " or "? " followed by
/// a capital letter, where the word before the stop is not an abbreviation
/// ("Dr. Lee", "approx. 40 min").
fn last_sentence_start(s: &str) -> Option<usize> {
    const ABBREV: [&str; 10] = ["dr", "approx", "min", "mins", "hr", "hrs", "pt", "vs", "no", "st"];
    let b = s.as_bytes();
    (1..b.len().saturating_sub(1)).rev().find_map(|i| {
        // A capital or a log line's four-digit time ("... not obtained. 0932 BP").
        let starts = b[i + 1].is_ascii_uppercase() || b.len() >= i + 5 && b[i + 1..i + 5].iter().all(u8::is_ascii_digit);
        if !(matches!(b[i - 1], b'.' | b'!' | b'?') && b[i] == b' ' && starts) {
            return None;
        }
        let word = s[..i - 1].rsplit(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("");
        (!ABBREV.contains(&word.to_ascii_lowercase().as_str())).then_some(i + 1)
    })
}

/// Bytes after a reading that annotate it rather than the next reading on
/// its line: a parenthesised time or phase right after the value ("128/82
/// (0905 pre) → 148/92 (0950)"), and anything before an arrow that joins
/// two readings ("128/82 at 0905 → 148/92"). Zero when neither is there.
fn own_annotation_len(between: &str) -> usize {
    let mut skip = 0;
    let trimmed = between.trim_start();
    if trimmed.starts_with('(') {
        if let Some(close) = trimmed.find(')') {
            skip = between.len() - trimmed.len() + close + 1;
        }
    }
    let arrow = ["→", "->", "=>", "⇒", "⟶"].iter().filter_map(|a| between.rfind(a).map(|i| i + a.len())).max();
    arrow.map_or(skip, |a| a.max(skip))
}

fn pick_clock(times: &[TimeMention], before: Range<usize>, after: Range<usize>) -> Option<super::text::Clock> {
    times
        .iter()
        .rev()
        .find(|t| t.span.start >= before.start && t.span.end <= before.end)
        .or_else(|| times.iter().find(|t| t.span.start >= after.start && t.span.end <= after.end))
        .map(|t| t.clock)
}

#[cfg(test)]
mod tests {
    use crate::extract::{Extractor, Phase};

    fn bps(t: &str) -> Vec<String> {
        let f = Extractor::builtin().extract_text(t, None);
        f.bps.iter().map(|b| format!("{}/{}", b.sys, b.dia)).collect()
    }

    #[test]
    fn a_home_cuff_reading_is_reported() {
        assert!(bps("PHQ-9 9. Home cuff BP 132/84 this morning (reported). Denies SI.").is_empty());
        assert!(bps("Own cuff 128/80 yesterday.").is_empty());
        assert_eq!(bps("BP 128/80 at 09:05 pre-dose.").len(), 1);
    }

    #[test]
    fn a_line_under_another_visits_label() {
        let t = "Last session (copied from 3/3): Dose: 84 mg. BP pre 132/82, BP at 40 min 146/92, recheck 138/86.\nToday's session:\n08:30 BP 130/80, HR 76";
        assert_eq!(bps(t), vec!["130/80".to_string()]);
    }

    #[test]
    fn another_encounters_reading_and_a_limit_written_after_it() {
        let t = "Last BP (SmartLink from 10/07/2025 visit): 148/92\n@VS@ BP: 126/78 (R arm, sitting)\nBP (previous encounter 10/31): 150/96 (1001)\nLIMIT 12:50 BP 170/105 mmHg stop infusion above this\npcp bp 142/90 mmHg from PCP letter, not taken here\nVITAL 12:55 BP 130/84 mmHg pre-infusion";
        assert_eq!(bps(t), vec!["126/78".to_string(), "130/84".to_string()]);
    }

    #[test]
    fn a_dotted_date_ends_no_sentence() {
        assert_eq!(
            bps("Last session (14.11.) BP rose to 146/90mmHg after dosing and normalised.\n09h10  BP 132/84mmHg, pulse 76").len(),
            1
        );
    }

    #[test]
    fn an_export_key_with_gt_is_a_threshold() {
        assert!(bps("hold if bp gt: 150/95\nvitals: 09:52 bp: 126/80").len() == 1);
    }

    #[test]
    fn a_reading_charted_in_error_and_another_clinics() {
        let t = "Vital Signs:\n0847 BP 162/94 HR 74\n0940 BP 136/84 HR 78\nLATE ENTRY: Correction to the vital signs above. The 0847 BP 162/94 was entered in this chart in error; it belongs to the patient in chair 2. This patient's pre-dose vitals at 0847 were BP 128/84, HR 74.";
        assert_eq!(bps(t), vec!["136/84".to_string(), "128/84".to_string()]);
        assert!(bps("Hx HTN - per pt BP at PCP 2 wks ago 148/92.").is_empty());
        assert!(bps("Spravato yesterday at Dr. Moreau's clinic; says her BP there was 150/92 and they made her wait.").is_empty());
        assert_eq!(bps("0850 BP 150/92, error in cuff size corrected, repeat 0855 BP 134/82").len(), 2);
    }

    #[test]
    fn a_dictated_reading_transcribed_with_a_colon() {
        assert_eq!(bps("At 9:45 blood pressure 1:38 over 84, pulse 82."), vec!["138/84"]);
        assert!(bps("Seen at 1:38 over lunch.").is_empty());
    }

    #[test]
    fn readings_under_a_previous_encounters_header() {
        let t = "Previous Encounters\n02/12/2026 Spravato 56 mg  peak BP 146/90\n02/05/2026 Spravato 56 mg\n\nProcedure: Spravato 56 mg intranasal\n09:41 BP 132/84 HR 78";
        assert_eq!(bps(t), vec!["132/84".to_string()]);
    }

    #[test]
    fn a_carried_over_last_reading_is_another_visits() {
        assert!(bps("=== Header from visit 10/14 ===\nLast BP: 152/94 (10/14, 40 min post-dose)\n13:10 BP 124/78 pre-dose").len() == 1);
        assert!(bps("Last BP 146/90 | Weight 71.2 kg\n13:50 BP 128/80 pre").len() == 1);
        assert_eq!(bps("Last BP 118/76 at 11:40, discharged.").len(), 1);
        assert!(bps("PRIOR inf 3 06/10 148/94 88 16 97\n0950 pre 128/80 74 14").len() == 1);
    }

    #[test]
    fn discharge_wording_in_an_earlier_sentence_is_not_the_readings() {
        let t = "He self-administered 84 mg at 10:04, 10:09 and 10:14; no device leaves our clinic. At 10:46 his blood pressure was 138/88. At 12:20 he was discharged.";
        let f = Extractor::builtin().extract_text(t, None);
        assert!(!f.bps[0].at_discharge);
        let t = "Discharged home at 12:20 with BP 124/80.";
        let f = Extractor::builtin().extract_text(t, None);
        assert!(f.bps[0].at_discharge);
    }

    #[test]
    fn an_arrow_chain_keeps_each_readings_own_annotation() {
        let t = "Spravato 84 mg, first device 0910.\nBP 128/82 (0905 pre) → 148/92 (0950, ~40') → 138/86 (1010 recheck, MD aware) → 124/80 (1120 d/c).";
        let f = Extractor::builtin().extract_text(t, None);
        let phases: Vec<_> = f.bps.iter().map(|b| (b.worded, b.clock.map(|c| c.0))).collect();
        assert_eq!(phases[0], (Phase::Pre, Some(9 * 60 + 5)));
        assert_eq!(phases[1].1, Some(9 * 60 + 50));
        assert_ne!(phases[1].0, Phase::Pre);
        assert_eq!(phases[3], (Phase::Post, Some(11 * 60 + 20)));
        let t = "BP 130/80 at 0900 pre -> BP 150/94 at 0950";
        let f = Extractor::builtin().extract_text(t, None);
        assert_eq!(f.bps[1].clock.map(|c| c.0), Some(9 * 60 + 50));
        assert_ne!(f.bps[1].worded, Phase::Pre);
    }

    #[test]
    fn a_review_in_the_next_sentence_does_not_restate_the_reading() {
        let f = Extractor::builtin().extract_text(
            "Before dosing her BP was 126/82, pulse 70, at 0925. She reviewed the contraindication list with me.\nShe self-administered two devices at 0935 and 0940.",
            None,
        );
        assert_eq!(f.bps[0].worded, Phase::Pre);
        let f = Extractor::builtin().extract_text("BP 126/82 (reviewed from nursing flowsheet).", None);
        assert_eq!(f.bps[0].worded, Phase::Unknown);
    }

    #[test]
    fn a_planned_recheck_is_not_the_readings_time() {
        let f = Extractor::builtin().extract_text(
            "Pt self-administered 2 devices at 2:05 PM and 2:10 PM.\n2:50 PM: BP 142/90, HR 86, mild sedation. MD notified; recheck in 20 min.",
            None,
        );
        assert_eq!(f.bps[0].offset_min, None, "{:?}", f.bps[0].offset_min);
        assert!(f.bps[0].clock.is_some());
    }

    #[test]
    fn a_reading_reviewed_by_the_prescriber_keeps_its_time() {
        let f = Extractor::builtin().extract_text(
            "14:02  BP 130/84\n14:52  BP 142/88, HR 84 - reviewed by Dr. Ferrer, asymptomatic; recheck in 30 min\nAdministration\n14:10 device 1",
            None,
        );
        assert!(f.bps[1].clock.is_some(), "{:?}", f.bps[1]);
    }

    #[test]
    fn minutes_before_the_first_device_are_pre_dose() {
        let f = Extractor::builtin().extract_text(
            "Timeline (T = first device)\n  T-12 min   BP 124/80  HR 72\n  T+0        device 1 (28 mg)\n  T+40 min   BP 136/86",
            None,
        );
        assert_eq!(f.bps[0].worded, Phase::Pre, "{:?}", f.bps);
    }

    #[test]
    fn another_visits_reading_is_not_todays() {
        assert_eq!(bps("FYI: last week's (9/16) 40-min BP was 146/88 - that was last week.\n10:17a (40 min) BP 136/88"), vec!["136/88"]);
        assert_eq!(bps("PRIOR SESSION (01/13/2026, not today): dose 84 mg; peak BP that day 142/88.\nPre-dose BP 124/78"), vec!["124/78"]);
        // Today's reading compared with another visit's, or under a label.
        assert_eq!(bps("Compared with last week, today BP 128/80."), vec!["128/80"]);
        assert_eq!(bps("Same as last visit: BP 128/80, HR 70."), vec!["128/80"]);
        assert_eq!(bps("fyi my BP at the CVS machine was 118/76 yesterday."), Vec::<String>::new());
        assert_eq!(bps("Slept poorly yesterday, BP 128/80 pre-dose."), vec!["128/80"]);
        // A phone call the day after, retelling the session's chart and a home reading.
        assert_eq!(
            bps("Details: took 2 devices yesterday as usual. Per yesterday's chart her 40-min BP was 148/92, rechecked 128/80 before she left. Today mild headache. Home BP cuff about 120/78 this morning."),
            Vec::<String>::new()
        );
        assert_eq!(bps("1028 +40 min 142/88\n1058 recheck (SBP >140 at 40 min) 134/84 74 98"), vec!["142/88", "134/84"]);
        assert_eq!(bps("BP (hold if > 160/100) 128/80"), vec!["128/80"]);
        assert_eq!(bps("Lakeview: last dose 7/7/2026; BP at that visit 138/88 (their record, not today)."), Vec::<String>::new());
        assert_eq!(bps("For reference: at infusion 3 (5/9) peak BP was 146/90 - settled."), Vec::<String>::new());
        assert_eq!(bps("Slow rate since infusion #2 (BP rose to 168/100 at infusion #2 on 6/5 - prior infusion)."), Vec::<String>::new());
    }

    #[test]
    fn written_forms() {
        assert_eq!(bps("BP 128/82"), vec!["128/82"]);
        assert_eq!(bps("B/P: 132 / 84 mmHg"), vec!["132/84"]);
        assert_eq!(bps("blood pressure of 145 over 92"), vec!["145/92"]);
        assert_eq!(bps("SBP 150 DBP 95"), vec!["150/95"]);
        assert_eq!(bps("Time: 08:41 AM  BP Sys: 126  BP Dia: 80  Pulse: 72"), vec!["126/80"]);
        assert_eq!(bps("Systolic 134, diastolic 84"), vec!["134/84"]);
        assert_eq!(bps("Sys 118 / Dia 76"), vec!["118/76"]);
        assert_eq!(bps("BP 128/82\r\nHR 70\u{a0}bpm"), vec!["128/82"]);
        assert!(bps("Review of systems 12 items, diagnosis 80").is_empty());
        assert_eq!(bps("| Time | BP | HR |\n|---|---|---|\n| 10:00 | 128/82 | 72 |"), vec!["128/82"]);
        assert_eq!(bps("Vitals: 130/85, HR 72, SpO2 98%"), vec!["130/85"]);
        assert_eq!(bps("@40min 138/86, CADSS 12"), vec!["138/86"]);
    }

    #[test]
    fn flowsheet_with_times_across() {
        let t = "Row Name        03/17/26 0848   03/17/26 0946   03/17/26 1108\nBP              131/82          139/88          124/78\n";
        let f = Extractor::builtin().extract_text(t, None);
        let c: Vec<Option<u32>> = f.bps.iter().map(|b| b.clock.map(|c| c.0)).collect();
        assert_eq!(c, vec![Some(528), Some(586), Some(668)]);
    }

    #[test]
    fn space_aligned_table_and_patient_reports() {
        let t = "Time    Event              BP        HR    SpO2\n0900    Pre-dose           126/74    72    98\n0907    Device 1 (28mg)\n0952    40-min check       132/80    78    97\n";
        assert_eq!(bps(t), vec!["126/74", "132/80"]);
        // Values the patient reports from home or a kiosk are not readings.
        assert!(bps("Reports BP at home \"around 130/80\", no log.").is_empty());
        assert!(bps("States BP at pharmacy kiosk yesterday 150/95.").is_empty());
        assert!(bps("Home BP 142/90 per log.").is_empty());
        assert_eq!(bps("Pt reports feeling well. BP 120/80 HR 70."), vec!["120/80"]);
    }

    #[test]
    fn tab_table_with_trimmed_rows() {
        // The export trimmed the empty trailing cells of the event-only row.
        let t = "Time\tEvent\tBP\tHR\n09:25\tpre\t124/76\t72\n09:32\tinfusion start\n09:50\t\t133/84\t78\n";
        assert_eq!(bps(t), vec!["124/76", "133/84"]);
    }

    #[test]
    fn look_alikes() {
        assert!(bps("DOS 12/14/2025, follow up 3/4").is_empty());
        assert!(bps("PHQ-9 18/27").is_empty());
        assert!(bps("Hold if BP > 140/90").is_empty());
        assert!(bps("BP WNL").is_empty());
        assert!(bps("Post-dose BP not obtained, patient declined").is_empty());
        assert!(bps("ratio 100/60 of cases").is_empty());
    }

    #[test]
    fn hyphen_joins_label_and_value() {
        assert_eq!(bps("09:31 pre-dose vitals BP-160/91 HR 67"), vec!["160/91"]);
        assert_eq!(bps("T+40 12:59 pm BP-129/88 P84"), vec!["129/88"]);
        assert_eq!(bps("PRE-TX BP-150/95, HR 80"), vec!["150/95"]);
        // A hyphen after a digit is a date or range, not a label.
        assert!(bps("Seen 2025-12/14 for follow up").is_empty());
    }

    #[test]
    fn over_form_with_label_earlier_in_clause() {
        assert_eq!(bps("Blood pressure pre-discharge at 2:13 pm was 138 over 68 with heart rate 66."), vec!["138/68"]);
        assert_eq!(bps("BP, taken sitting in the recliner after the nap, 142 over 90"), vec!["142/90"]);
        assert!(bps("Pain 7 over 10 today").is_empty());
        assert_eq!(bps("Halfway through, at 9:40, her pressure was 128 over 82, pulse 74."), vec!["128/82"]);
        assert!(bps("Pressured speech; rates anxiety 7 over 10").is_empty());
    }

    #[test]
    fn brief_forms_and_phases() {
        let ph = |t: &str| {
            let f = Extractor::builtin().extract_text(t, None);
            f.bps.iter().map(|b| (format!("{}/{}", b.sys, b.dia), b.worded, b.offset_min)).collect::<Vec<_>>()
        };
        assert_eq!(ph("BP 142/88 (T+40)"), vec![("142/88".into(), Phase::Post, Some(40))]);
        assert_eq!(ph("post-tx BP 130/78"), vec![("130/78".into(), Phase::Post, None)]);
        assert_eq!(ph("pre-tx vitals: BP 128/82 left arm sitting"), vec![("128/82".into(), Phase::Pre, None)]);
        assert_eq!(ph("ARRIVAL VITALS: BP 150/95, HR 88"), vec![("150/95".into(), Phase::Pre, None)]);
        assert_eq!(ph("Vitals 1 hr 29 min post-dose at 1:17 pm: BP 124/78"), vec![("124/78".into(), Phase::Post, Some(89))]);
        assert_eq!(ph("BP at 1h 5m: 130/80"), vec![("130/80".into(), Phase::Post, Some(65))]);
        let f = Extractor::builtin().extract_text("Vitals @ 10:45 \u{2014} 138/86\r\nBP 150/95 repeated 15 min later 138/84\r\n", None);
        assert_eq!(f.bps.len(), 3);
    }

    #[test]
    fn minutes_in_words() {
        let f = Extractor::builtin().extract_text(
            "She self-administered both devices. At forty minutes her blood pressure was 146/92 and she was mildly dissociated.",
            None,
        );
        assert_eq!((f.bps[0].worded, f.bps[0].offset_min), (Phase::Post, Some(40)));
        let f = Extractor::builtin().extract_text("Forty-five minutes after the last device BP 132/80.", None);
        assert_eq!((f.bps[0].worded, f.bps[0].offset_min), (Phase::Post, Some(45)));
    }

    #[test]
    fn into_infusion_cue_reaches_past_long_lead() {
        let f = Extractor::builtin()
            .extract_text("30 MIN INTO INFUSION AT 14:35 THE PATIENT HAD A BLOOD PRESSURE 117/76 MMHG AND HR 77.", None);
        assert_eq!((f.bps[0].worded, f.bps[0].offset_min), (Phase::Post, Some(30)));
        let f = Extractor::builtin()
            .extract_text("15 min into the infusion at 11:53 am the patient, resting quietly, had a blood pressure of 115 over 71.", None);
        assert_eq!((f.bps[0].worded, f.bps[0].offset_min), (Phase::Post, Some(15)));
    }

    #[test]
    fn restated_reading_has_no_phase_of_its_own() {
        for t in [
            "Device 1 at 10:02.\nE/M: Vitals reviewed: BP 123/83",
            "Dosed 10:02.\nBP 123/83 per nursing flowsheet",
            "Spravato administered.\nVS noted above: BP 123/83",
        ] {
            let f = Extractor::builtin().extract_text(t, None);
            assert_eq!(f.bps.len(), 1, "{t}");
            let b = &f.bps[0];
            assert_eq!((b.worded, b.positional, b.section, b.clock), (Phase::Unknown, Phase::Unknown, Phase::Unknown, None), "{t}");
        }
    }

    #[test]
    fn phases_from_wording() {
        let f = Extractor::builtin().extract_text("Baseline BP 130/80. BP at 40 min post 142/88. Discharge BP 126/78.", None);
        let ph: Vec<_> = f.bps.iter().map(|b| (b.worded, b.offset_min, b.at_discharge)).collect();
        assert_eq!(ph, vec![(Phase::Pre, None, false), (Phase::Post, Some(40), false), (Phase::Post, None, true)]);
    }
}

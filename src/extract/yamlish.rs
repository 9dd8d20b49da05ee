//! Notes exported as indented YAML-like `key: value` text, rewritten in
//! place so the phrase, time and vital-sign extractors read them as the
//! labelled prose they stand for.
//!
//! Some EHR and scribe exports print the session as nested records:
//!
//! ```text
//! rems:
//!   setting_certified: true
//!   patient_enrolled: true
//! treatment_history:
//!   - {drug: sertraline, dose_mg_day: 200, duration_weeks: 12, outcome: no response}
//! administration:
//!   take_home_devices: 0
//! discharge: {time: "12:40", criteria_met: true}
//! ```
//!
//! Every rewrite is byte for byte, so every offset into the result is an
//! offset into the note:
//! - flow-map and list brackets and value quotes become spaces;
//! - a key's underscores become spaces ("setting certified:");
//! - a key naming its value's unit reads as the value with its unit:
//!   "dose_mg_day: 200" as "dose 200 mg/day", "duration_weeks: 12" as
//!   "duration 12 weeks", "total_mg: 84" as "total 84 mg";
//! - a pair whose value says no (`false`, `not_given`, `not_applicable`, a
//!   device count of 0) is blanked: an option answered no states nothing,
//!   as an unticked box does;
//! - a device log's flow maps ("- {n: 1, mg: 28, time: "10:20"}" under
//!   "devices:") read time first, as log lines: "10:20 device 1 28 mg";
//! - under a "dose:" or "administration:" parent, a "time:" key reads
//!   "given" ("given "10:00"");
//! - a key naming another visit's readings or dose ("prior_session_vitals",
//!   "last_week_dose_mg") is blanked with its value and children;
//! - a bare unit key reads as a value with its unit ("mg: 100" as "100 mg");
//! - a list item's keys indented under it ("- drug: sertraline" over
//!   "dose_mg_day: 200") are joined to the item's line;
//! - a parent key's own `key: value` children are joined to its line with
//!   commas ("discharge:, time: 12:40, criteria met: true"), so the parent
//!   names them as a label does on one line; so is a lone list item
//!   ("prior session vitals:, - date: ..., bp: 146/92"). A list of several
//!   items (a vitals table) keeps its lines.
//!
//! The rewrite runs only on a note that looks like such an export: at
//! least eight lines led by a lower-case `key:`, two of them a bare parent
//! key or a flow map.

/// Whether `b` looks like an indented YAML-like export.
pub fn is_yamlish(b: &[u8]) -> bool {
    let mut keyed = 0;
    let mut parents = 0;
    // Lines found with memchr: a byte-by-byte split was most of this test's
    // cost, and it runs on every note.
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', b).chain(std::iter::once(b.len())) {
        let line = &b[start..end];
        start = end + 1;
        let Some((ks, ke)) = line_key(line) else { continue };
        keyed += 1;
        let rest = trim(&line[ke + 1..]);
        if rest.is_empty() || rest.starts_with(b"{") || rest.starts_with(b"[") || line[..ks].contains(&b'{') {
            parents += 1;
        }
        if keyed >= 8 && parents >= 2 {
            return true;
        }
    }
    false
}

/// The key leading a line, as (start, end) with `end` at its colon:
/// indentation, an optional "- " and "{", then a lower-case snake-case key.
fn line_key(line: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < line.len() && matches!(line[i], b' ' | b'\t') {
        i += 1;
    }
    if line.get(i) == Some(&b'-') && line.get(i + 1) == Some(&b' ') {
        i += 2;
        while i < line.len() && line[i] == b' ' {
            i += 1;
        }
    }
    if line.get(i) == Some(&b'{') {
        i += 1;
    }
    key_at(line, i).map(|e| (i, e))
}

/// End (the colon) of a lower-case snake-case key starting at `s`, at most
/// 40 bytes, followed by a blank or the line end.
fn key_at(b: &[u8], s: usize) -> Option<usize> {
    if !b.get(s).is_some_and(u8::is_ascii_lowercase) {
        return None;
    }
    let mut e = s;
    while e < b.len() && e - s <= 40 && (b[e].is_ascii_lowercase() || b[e].is_ascii_digit() || b[e] == b'_') {
        e += 1;
    }
    (b.get(e) == Some(&b':') && b.get(e + 1).is_none_or(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))).then_some(e)
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}

fn indent(line: &[u8]) -> usize {
    line.iter().take_while(|c| matches!(c, b' ' | b'\t')).count()
}

/// Every line of `b` as a byte range without its line break. The passes
/// below rewrite bytes inside lines only (`join_children`, last, turns
/// breaks into commas), so the ranges stay valid while they run.
pub(super) fn line_spans(b: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', b).chain(std::iter::once(b.len())) {
        spans.push(start..nl);
        start = nl + 1;
    }
    spans
}

/// Whether `key` contains any of `words`.
fn contains_any(key: &[u8], words: &[&[u8]]) -> bool {
    words.iter().any(|w| key.windows(w.len()).any(|x| x == *w))
}

/// Units a key can end with, and how its value reads.
const UNIT_KEYS: [(&[u8], &str); 14] = [
    (b"_mg_per_day", "mg/day"),
    (b"_mg_day", "mg/day"),
    (b"_mg_kg", "mg/kg"),
    (b"_mg", "mg"),
    (b"_weeks", "weeks"),
    (b"_wks", "weeks"),
    (b"_wk", "weeks"),
    (b"_minutes", "minutes"),
    (b"_mins", "minutes"),
    (b"_min", "minutes"),
    (b"_hours", "hours"),
    (b"_hrs", "hours"),
    (b"_kg", "kg"),
    (b"_months", "months"),
];

/// Whether a key names another visit's readings or dose
/// ("prior_session_vitals", "last_week_dose_mg"), not this one's.
fn other_visit_key(key: &[u8]) -> bool {
    let other = [&b"prior_"[..], b"previous_", b"last_", b"past_"].iter().any(|p| key.starts_with(p));
    other && contains_any(key, &[b"vitals", b"bp", b"blood_pressure", b"dose", b"mg", b"reading"])
}

/// Blank a key that names another visit's readings or dose, with its value
/// and its more-indented children.
fn blank_other_visits(out: &mut [u8]) {
    let mut blanking: Option<usize> = None;
    for r in line_spans(out) {
        let line = &out[r.clone()];
        let ind = indent(line);
        if blanking.is_some_and(|base| !trim(line).is_empty() && ind <= base) {
            blanking = None;
        }
        if blanking.is_some() {
            out[r].fill(b' ');
        } else if let Some((ks, _)) = line_key(line).filter(|&(ks, ke)| other_visit_key(&line[ks..ke])) {
            blanking = Some(ind);
            out[r.start + ks..r.end].fill(b' ');
        }
    }
}

/// The `key: value` pairs of the flow map `{...}` at `b[open..close]`.
fn flow_pairs(b: &[u8], open: usize, close: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    b[open + 1..close]
        .split(|&c| c == b',')
        .filter_map(|pair| {
            let colon = pair.iter().position(|&c| c == b':')?;
            let key = trim(&pair[..colon]).to_ascii_lowercase();
            let value: Vec<u8> = trim(&pair[colon + 1..]).iter().copied().filter(|&c| c != b'"').collect();
            Some((key, value))
        })
        .collect()
}

/// A device log written as flow maps under a devices key ("devices:\n  -
/// {n: 1, mg: 28, time: "10:20"}" or "devices: [{n: 1, time: "09:38"}, ...]")
/// reads as log entries, time first: "10:20 device 1 28 mg".
fn device_entries(out: &mut [u8]) {
    let devicey = |k: &[u8]| contains_any(k, &[b"device", b"dose", b"spray", b"administration"]);
    let mut parent_devices = false;
    for r in line_spans(out) {
        let start = r.start;
        let line = out[r].to_vec();
        let lead_key = line_key(&line).map(|(ks, ke)| line[ks..ke].to_ascii_lowercase());
        let is_item = trim(&line).starts_with(b"-");
        if !is_item {
            parent_devices = lead_key.as_deref().is_some_and(devicey) && {
                let (_, ke) = line_key(&line).unwrap_or((0, 0));
                trim(&line[ke + 1..]).is_empty()
            };
        }
        let inline = lead_key.as_deref().is_some_and(devicey) && !is_item;
        if inline || (is_item && parent_devices) {
            let mut i = 0;
            while let Some(o) = line[i..].iter().position(|&c| c == b'{').map(|o| i + o) {
                let Some(c) = line[o..].iter().position(|&c| c == b'}').map(|c| o + c) else { break };
                let pairs = flow_pairs(&line, o, c);
                let get = |k: &[u8]| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
                if let Some(time) = get(b"time").or_else(|| get(b"at")) {
                    let mut text = time.clone();
                    if let Some(n) = get(b"n").or_else(|| get(b"device")).or_else(|| get(b"number")) {
                        text.extend_from_slice(b" device ");
                        text.extend_from_slice(&n);
                    } else {
                        text.extend_from_slice(b" device");
                    }
                    if let Some(mg) = get(b"mg").or_else(|| get(b"dose_mg")) {
                        text.push(b' ');
                        text.extend_from_slice(&mg);
                        text.extend_from_slice(b" mg");
                    }
                    if text.len() <= c + 1 - o && text.iter().all(|b| b.is_ascii() && *b != b'{' && *b != b'}') {
                        text.resize(c + 1 - o, b' ');
                        out[start + o..start + c + 1].copy_from_slice(&text);
                    }
                }
                i = c + 1;
            }
        }
    }
}

/// Under a dose parent ("dose:" or "administration:" over "mg: 100" and
/// "time: "10:00""), the child key "time:" reads "given": the time the
/// dose was given, as a note would say it.
fn dose_times(out: &mut [u8]) {
    let mut parent: Option<usize> = None;
    for r in line_spans(out) {
        let line = &out[r.clone()];
        let ind = indent(line);
        if parent.is_some_and(|base| !trim(line).is_empty() && ind <= base) {
            parent = None;
        }
        let Some((ks, ke)) = line_key(line) else { continue };
        let key = &line[ks..ke];
        if parent.is_some_and(|base| key == b"time" && ind > base) {
            out[r.start + ks..r.start + ke + 1].copy_from_slice(b"given");
        } else if parent.is_none() && trim(&line[ke + 1..]).is_empty() && matches!(key, b"dose" | b"administration" | b"dosing") {
            parent = Some(ind);
        }
    }
}

/// Rewrite a YAML-like export in place (see the module documentation).
pub fn rewrite(out: &mut [u8]) {
    blank_other_visits(out);
    device_entries(out);
    dose_times(out);
    let keys = all_keys(out);
    for &(s, e, in_flow) in &keys {
        // A pair blanked with an earlier one's value is gone.
        if out[s].is_ascii_lowercase() && out[e] == b':' {
            rewrite_pair(out, s, e, in_flow);
        }
    }
    for c in out.iter_mut() {
        if matches!(*c, b'{' | b'}' | b'[' | b']' | b'"') {
            *c = b' ';
        }
    }
    join_children(out);
}

/// Every key of the export, as (start, colon, inside a flow map): at a line
/// start (after indentation and "- "), after "{" and after ", " inside a
/// flow map.
fn all_keys(b: &[u8]) -> Vec<(usize, usize, bool)> {
    let mut keys = Vec::new();
    for r in line_spans(b) {
        let (start, line) = (r.start, &b[r]);
        if let Some((ks, ke)) = line_key(line) {
            keys.push((start + ks, start + ke, line[..ks].contains(&b'{')));
        }
        let mut depth = 0i32;
        for (i, &c) in line.iter().enumerate() {
            match c {
                b'{' => {
                    depth += 1;
                    if let Some(e) = key_at(line, i + 1) {
                        keys.push((start + i + 1, start + e, true));
                    }
                }
                b'}' => depth -= 1,
                b',' if depth > 0 => {
                    let mut j = i + 1;
                    while j < line.len() && line[j] == b' ' {
                        j += 1;
                    }
                    if let Some(e) = key_at(line, j) {
                        keys.push((start + j, start + e, true));
                    }
                }
                _ => {}
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The value after the key ending at `colon`: up to the line end, or in a
/// flow map up to the next "," or "}".
fn value_range(b: &[u8], colon: usize, in_flow: bool) -> (usize, usize) {
    let mut s = colon + 1;
    while s < b.len() && b[s] == b' ' {
        s += 1;
    }
    let mut e = s;
    let mut quoted = false;
    while e < b.len() && b[e] != b'\n' {
        if b[e] == b'"' {
            quoted = !quoted;
        }
        if in_flow && !quoted && matches!(b[e], b',' | b'}') {
            break;
        }
        e += 1;
    }
    (s, e)
}

fn rewrite_pair(out: &mut [u8], ks: usize, colon: usize, in_flow: bool) {
    let (vs, ve) = value_range(out, colon, in_flow);
    let value = trim(&out[vs..ve]).to_ascii_lowercase();
    let value: &[u8] = value.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(&value);
    let key = out[ks..colon].to_vec();
    let countable = contains_any(&key, &[b"device", b"take_home", b"dispensed", b"doses"]);
    let says_no = matches!(value, b"false" | b"not_given" | b"not_needed" | b"not_applicable" | b"not_done" | b"n/a")
        || value.starts_with(b"not_applicable")
        || (value == b"0" && countable);
    if says_no {
        out[ks..ve].fill(b' ');
        return;
    }
    let number = !value.is_empty() && value.iter().all(|c| c.is_ascii_digit() || *c == b'.') && value[0].is_ascii_digit();
    if number {
        if let Some((_, unit)) = UNIT_KEYS.iter().find(|(suffix, _)| key == suffix[1..]) {
            // A bare unit key: "mg: 100" -> "100 mg".
            let mut text = Vec::with_capacity(ve - ks);
            text.extend_from_slice(value);
            text.push(b' ');
            text.extend_from_slice(unit.as_bytes());
            if text.len() <= ve - ks {
                text.resize(ve - ks, b' ');
                out[ks..ve].copy_from_slice(&text);
                return;
            }
        }
        if let Some((suffix, unit)) = UNIT_KEYS.iter().find(|(suffix, _)| key.ends_with(suffix) && key.len() > suffix.len()) {
            // "dose_mg_day: 200" -> "dose 200 mg/day" (padded to length).
            let prefix = &key[..key.len() - suffix.len()];
            let mut text = Vec::with_capacity(ve - ks);
            text.extend(prefix.iter().map(|&c| if c == b'_' { b' ' } else { c }));
            text.push(b' ');
            text.extend_from_slice(value);
            text.push(b' ');
            text.extend_from_slice(unit.as_bytes());
            let span = ve - ks;
            if text.len() <= span {
                text.resize(span, b' ');
                out[ks..ve].copy_from_slice(&text);
                return;
            }
        }
    }
    for c in &mut out[ks..colon] {
        if *c == b'_' {
            *c = b' ';
        }
    }
}

/// Join a bare parent key's `key: value` children (or its one list item)
/// to its line: each line break before a child becomes a comma.
fn join_children(out: &mut [u8]) {
    let lines = line_spans(out);
    for (k, r) in lines.iter().enumerate() {
        let l = trim(&out[r.clone()]);
        // A list item with a key ("- drug: sertraline") heads the keys
        // indented under it, like a parent key.
        let item = l.starts_with(b"- ") && line_key(&out[r.clone()]).is_some();
        if !(item || (l.len() > 1 && l.last() == Some(&b':'))) {
            continue;
        }
        let base = indent(&out[r.clone()]);
        // Its children: the more-indented lines after it, up to a blank line
        // or the item's next sibling; bounded, so deep nesting stays linear.
        let children: Vec<&std::ops::Range<usize>> = lines[k + 1..]
            .iter()
            .take(200)
            .take_while(|c| {
                let c = &out[(*c).clone()];
                !(trim(c).is_empty() || indent(c) <= base || (item && indent(c) <= base + 2 && trim(c).starts_with(b"-")))
            })
            .collect();
        let Some(first) = children.first() else { continue };
        let items = children.iter().filter(|c| trim(&out[(**c).clone()]).starts_with(b"-")).count();
        if !(items == 0 || (items == 1 && children.len() == 1 && !item)) {
            continue;
        }
        let first_indent = indent(&out[(*first).clone()]);
        // Its own children (a nested parent keeps its own below it): their
        // line breaks become commas.
        let joined: Vec<usize> = children
            .iter()
            .filter(|c| indent(&out[(**c).clone()]) == first_indent)
            .take_while(|c| trim(&out[(**c).clone()]).last() != Some(&b':'))
            .map(|c| c.start - 1)
            .collect();
        for nl in joined {
            out[nl] = b',';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &str) -> String {
        let mut b = t.as_bytes().to_vec();
        rewrite(&mut b);
        assert_eq!(b.len(), t.len());
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn detects_only_exports() {
        let t = "encounter:\n  type: spravato_session\n  dos: 2026-05-19\ndiagnosis:\n  - code: F33.2\nrems:\n  setting_certified: true\n  patient_enrolled: true\nvitals:\n  - {time: \"10:12\", bp: 122/80}\n";
        assert!(is_yamlish(t.as_bytes()));
        let prose = "Plan:\n- continue sertraline\nFollow-up: 2 weeks\nBP: 120/80\nHR: 70\n";
        assert!(!is_yamlish(prose.as_bytes()));
    }

    #[test]
    fn pairs_read_as_labelled_prose() {
        let t = "rems:\n  setting_certified: true\n  patient_enrolled: true\nadministration:\n  take_home_devices: 0\n  ondansetron: not_given\n  total_mg: 84\ntreatment_history:\n  - {drug: escitalopram, dose_mg_day: 20, duration_weeks: 12, outcome: no response}\n  - {drug: trazodone, dose_mg_day: 50, counted_as_trial: false}\ndischarge: {time: \"12:40\", criteria_met: true}\n";
        let n = run(t);
        assert!(n.contains("rems:,  setting certified: true,  patient enrolled: true"), "{n}");
        assert!(!n.contains("take home") && !n.contains("ondansetron") && !n.contains("counted"), "{n}");
        assert!(n.contains("total 84 mg"), "{n}");
        assert!(n.contains("drug: escitalopram, dose 20 mg/day , duration 12 weeks , outcome: no response"), "{n}");
        assert!(n.contains("discharge:  time:  12:40 , criteria met: true"), "{n}");
    }

    #[test]
    fn block_list_items_join_and_other_visits_are_blanked() {
        let t = "treatment_history:\n  - drug: sertraline\n    dose_mg_day: 200\n    duration_weeks: 12\n    outcome: no response\n  - drug: venlafaxine XR\n    dose_mg_day: 225\nprior_session_vitals:\n  - {date: 2026-05-15, bp: 146/92}\nlast_week_dose_mg: 75\ndose:\n  mg: 100\n";
        let n = run(t);
        assert!(n.contains("  - drug: sertraline,    dose 200 mg/day ,    duration 12 weeks ,    outcome: no response\n  - drug: venlafaxine XR,    dose 225 mg/day "), "{n}");
        assert!(!n.contains("146/92") && !n.contains("75"), "{n}");
        assert!(n.contains("dose:,  100 mg "), "{n}");
    }

    #[test]
    fn a_dose_parents_time_is_when_it_was_given() {
        let n = run("dose:\n  drug: racemic ketamine troche\n  mg: 100\n  time: \"10:00\"\nvitals:\n  - {time: \"09:52\", bp: 126/80}\n");
        assert!(n.contains("given  10:00"), "{n}");
        assert!(n.contains("time:  09:52"), "{n}");
    }

    #[test]
    fn device_logs_read_time_first() {
        let t = "administration:\n  devices:\n    - {n: 1, mg: 28, time: \"10:20\"}\n    - {n: 2, mg: 28, time: \"10:25\"}\n  total_mg: 56\ndevices: [{n: 1, time: \"09:38\"}, {n: 2, time: \"09:43\"}]\nvitals:\n  - {time: \"10:12\", bp: 122/80}\n";
        let n = run(t);
        assert!(n.contains("    - 10:20 device 1 28 mg"), "{n}");
        assert!(n.contains("devices:  09:38 device 1       , 09:43 device 2"), "{n}");
        assert!(n.contains("time:  10:12 , bp: 122/80"), "{n}");
    }

    #[test]
    fn a_lone_list_item_joins_its_parent_and_a_table_does_not() {
        let t = "session_vitals:\n  - {date: 2026-05-15, bp: 146/92}\nvitals:\n  - {time: \"10:12\", bp: 122/80}\n  - {time: \"11:02\", bp: 136/86}\n";
        let n = run(t);
        assert!(n.starts_with("session vitals:,  -  date: 2026-05-15, bp: 146/92"), "{n}");
        assert!(n.contains("vitals:\n  -  time:  10:12 , bp: 122/80 \n"), "{n}");
    }
}

//! Property tests for the extractors: on arbitrary text built from clinical
//! fragments, digits, punctuation and non-ASCII characters, extraction never
//! panics, every evidence span lies on char boundaries of the note, and the
//! kept snippet is the note's own text at that span.

use ketaudit::extract::{Extractor, SNIPPET_MAX};
use proptest::prelude::*;

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("BP 128/82".to_string()),
        Just("B/P: 132 / 84 mmHg".to_string()),
        Just("blood pressure of 145 over 92".to_string()),
        Just("SBP 150 DBP 95".to_string()),
        Just("hold if BP > 140/90".to_string()),
        Just("PHQ-9 18/27".to_string()),
        Just("12/14/2025".to_string()),
        Just("Device 1 at 10:02".to_string()),
        Just("discharged 12:15 pm".to_string()),
        Just("observed for 2 hours".to_string()),
        Just("sertraline 100 mg x 8 weeks, no response".to_string()),
        Just("never tried an MAOI".to_string()),
        Just("REMS form not yet submitted".to_string()),
        Just("PA #A123 approved 1/3/2026-7/2/2026".to_string()),
        Just("Dx: F33.2".to_string()),
        Just("| 10:00 | 128/82 | 72 |".to_string()),
        Just("Discharge criteria met: No".to_string()),
        Just("0.5 mg/kg, weight 80 kg".to_string()),
        Just("“smart quotes” — é ü 日本".to_string()),
        Just("failed multiple antidepres-\nsants; BP\u{a0}128/82\u{2009}– SpO\u{2082} 98%; SPRAVATO® 56\u{202f}mg".to_string()),
        "[0-9/:.|;, \\-\n\r\t]{0,12}",
        "\\PC{0,16}",
        "[a-zA-Z ]{0,20}",
    ]
}

/// Proptest cases: 300, or `PROPTEST_CASES` when set (for longer runs:
/// `PROPTEST_CASES=10000 cargo test --release --test proptest_extract`).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), .. ProptestConfig::default() })]
    #[test]
    fn spans_are_on_char_boundaries(parts in prop::collection::vec(fragment(), 0..40), sep in prop_oneof![Just(" "), Just("\n"), Just(". "), Just("\r\n"), Just("")]) {
        let text = parts.join(sep);
        let f = Extractor::builtin().extract_text(&text, None);
        prop_assert_eq!(f.evidence.len(), f.snippets.len());
        for (e, snip) in f.evidence.iter().zip(&f.snippets) {
            prop_assert!(e.span.start <= e.span.end && e.span.end <= text.len());
            prop_assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
            // The snippet is the note's own text at the span, whitespace
            // runs folded to one space, cut at SNIPPET_MAX bytes.
            let own = &text[e.span.clone()];
            let folded = own.split_whitespace().collect::<Vec<_>>().join(" ");
            if own.len() <= SNIPPET_MAX {
                prop_assert_eq!(&**snip, folded.as_str(), "span {:?} of {:?}", e.span, text);
            } else {
                prop_assert!(snip.len() <= SNIPPET_MAX && folded.starts_with(&**snip), "snippet {:?} not from text {:?}", snip, folded);
            }
        }
    }
}

/// Notes extracted together (whole-note patterns searched ahead, one
/// pattern over all of them, then each step over all of them) get the facts
/// each gets alone with every pattern searched where the extractors ask.
fn same_facts_together_and_alone(notes: &[(String, Option<&str>)]) -> Result<(), String> {
    let ex = Extractor::builtin();
    let refs: Vec<(&str, Option<&str>)> = notes.iter().map(|(t, nt)| (t.as_str(), *nt)).collect();
    let together = ex.extract_many(&refs);
    if together.len() != notes.len() {
        return Err(format!("{} facts for {} notes", together.len(), notes.len()));
    }
    for ((t, nt), f) in notes.iter().zip(&together) {
        let alone = ex.extract_live(t, *nt);
        if format!("{alone:?}") != format!("{f:?}") {
            return Err(format!("facts differ for note {t:?}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 3, .. ProptestConfig::default() })]
    #[test]
    fn notes_together_get_the_facts_they_get_alone(
        notes in prop::collection::vec((prop::collection::vec(fragment(), 0..30), prop_oneof![Just(" "), Just("\n"), Just(". ")]), 1..6),
        note_type in prop_oneof![Just(None), Just(Some("Procedure Note")), Just(Some("Psychotherapy"))],
    ) {
        let notes: Vec<(String, Option<&str>)> = notes.into_iter().map(|(p, sep)| (p.join(sep), note_type)).collect();
        prop_assert_eq!(same_facts_together_and_alone(&notes), Ok(()));
    }
}

/// The same on every committed fixture note, hand-written and generated,
/// extracted in one call per set.
#[test]
fn fixture_notes_together_get_the_facts_they_get_alone() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut sets = 0;
    for entry in std::fs::read_dir(&root).expect("fixtures folder") {
        let dir = entry.expect("fixture entry").path();
        // The labelled sets (the broken set is the reader's, not valid notes).
        if !dir.join("gold.jsonl").exists() {
            continue;
        }
        let path = dir.join("notes.jsonl");
        let src = std::fs::read_to_string(&path).expect("notes of a labelled set");
        let rows: Vec<serde_json::Value> =
            src.lines().filter(|l| !l.trim().is_empty()).filter_map(|l| serde_json::from_str(l).ok()).collect();
        let notes: Vec<(String, Option<&str>)> =
            rows.iter().filter_map(|r| Some((r.get("text")?.as_str()?.to_string(), r.get("note_type").and_then(|v| v.as_str())))).collect();
        assert!(!notes.is_empty(), "{}: no notes read", path.display());
        assert_eq!(same_facts_together_and_alone(&notes), Ok(()), "{}", path.display());
        sets += 1;
    }
    assert!(sets >= 20, "only {sets} fixture sets found");
}

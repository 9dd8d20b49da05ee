//! Regex construction for the extractors.
//!
//! Every dictionary and extractor pattern is compiled here so that all of
//! them share one policy: `\b` and `\B` mean *ASCII* word boundaries.
//!
//! Why: the `regex` crate's lazy DFA cannot evaluate a Unicode word boundary
//! on a haystack with non-ASCII bytes, so a pattern with Unicode `\b` falls
//! back to the PikeVM/backtracker on every note that contains a degree sign,
//! a smart quote or a check box (15% of the synthetic notes). Measured: a
//! single-thread scan of 5,000 synthetic notes went from 3.80 s to 2.21 s
//! with byte-identical reports. The patterns are English clinical
//! vocabulary: a boundary between an ASCII letter and "é" is not something
//! they rely on.

use std::sync::atomic::{AtomicU32, Ordering};

use regex::{Regex, RegexBuilder};

/// Rewrite `\b`/`\B` outside character classes to their ASCII forms.
pub fn ascii_boundaries(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 16);
    let mut class_depth = 0usize;
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                if class_depth == 0 && (n == 'b' || n == 'B') {
                    out.push_str("(?-u:\\");
                    out.push(n);
                    out.push(')');
                } else {
                    out.push('\\');
                    out.push(n);
                }
            }
            '[' => {
                class_depth += 1;
                out.push(c);
                // A ']' right after '[' or '[^' is a literal.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap());
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap());
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The lazy DFA's cache capacity per pattern and thread (the `regex`
/// crate's default is 2 MiB).
///
/// Why: a pattern whose DFA needs more states than the cache holds keeps
/// clearing it, and after a few clears the crate gives up on the lazy DFA
/// for that search and runs its NFA simulation instead, one to two orders
/// of magnitude slower. Bounded repetitions of classes
/// (`(?:\([^()\n]{0,120}\)|[^.;\n]){0,40}?` in the psychotherapy-time
/// phrase) need many states. Measured on 3,000 generated notes: that
/// phrase took 96-99 us per note with the default cache and 2.8-3.3 us
/// with this one. The cache grows only as states are built, so patterns
/// that need few states cost no more memory than before.
pub const DFA_CACHE_BYTES: usize = 64 << 20;

/// Compile a pattern, case-insensitive when `ci`, with ASCII word boundaries.
pub fn build(p: &str, ci: bool) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&ascii_boundaries(p)).case_insensitive(ci).dfa_size_limit(DFA_CACHE_BYTES).build()
}

/// Case-insensitive pattern; panics on an invalid built-in pattern.
pub fn ci(p: &str) -> Regex {
    build(p, true).unwrap_or_else(|e| panic!("built-in pattern: {e}"))
}

/// The index of `r`'s group `name`, for `Captures::get`: looking a group up
/// by name hashes the name on every call. Panics if there is no such group
/// (built-in patterns only).
pub fn group_index(r: &Regex, name: &str) -> usize {
    r.capture_names().position(|n| n == Some(name)).unwrap_or_else(|| panic!("built-in pattern has no group {name}"))
}

/// Case-insensitive patterns as one set, with ASCII word boundaries; panics
/// on an invalid built-in pattern. One search tells every pattern that
/// matches, where a loop of `is_match` calls searches once per pattern.
pub fn ci_set<'a>(patterns: impl IntoIterator<Item = &'a str>) -> regex::RegexSet {
    regex::RegexSetBuilder::new(patterns.into_iter().map(ascii_boundaries))
        .case_insensitive(true)
        .dfa_size_limit(DFA_CACHE_BYTES)
        .build()
        .unwrap_or_else(|e| panic!("built-in pattern: {e}"))
}

/// Case-sensitive pattern; panics on an invalid built-in pattern.
pub fn cs(p: &str) -> Regex {
    build(p, false).unwrap_or_else(|e| panic!("built-in pattern: {e}"))
}

/// Rewrite a case-insensitive pattern into a case-sensitive one that
/// matches the same strings in an ASCII-lowercased haystack: literal ASCII
/// letters are lowercased; escapes (`\D`, `\S`, `\B`...), group names and
/// `\p{..}`/`\x{..}` bodies are kept. `None` when the pattern depends on case
/// (a `(?-i` group, a Unicode property class or a code-point escape), so it
/// must run on the original text.
///
/// Why: the `regex` crate cannot use its literal prefilters on long
/// case-insensitive alternations (every literal has 2^n case variants), so
/// such patterns run the lazy DFA over every byte. The same alternation in
/// lowercase gets a prefilter. Measured on 4,000 generated notes: the
/// discharge-time pattern 9.3 -> 3.1 us per note, infusion end 6.5 -> 2.2,
/// infusion start 6.9 -> 2.7. Byte offsets are unchanged by ASCII
/// lowercasing, so matches index the original text.
pub fn lowercase_pattern(p: &str) -> Option<String> {
    // A code-point escape may name an uppercase letter (`\x41`), which the
    // lowercased text never contains.
    if ["(?-i", "\\p", "\\P", "\\x", "\\u", "\\U"].iter().any(|c| p.contains(c)) {
        return None;
    }
    Some(lowercase_literals(p))
}

/// Lowercase a pattern's literal ASCII letters, including inside `(?-i`
/// groups: on a lowercased haystack the result matches a superset of the
/// original's matches, which is what a presence gate needs.
pub fn lowercase_literals(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                let Some(n) = chars.next() else { break };
                out.push(n);
                if matches!(n, 'p' | 'P' | 'x' | 'u' | 'U') && chars.peek() == Some(&'{') {
                    for b in chars.by_ref() {
                        out.push(b);
                        if b == '}' {
                            break;
                        }
                    }
                }
            }
            '(' if chars.peek() == Some(&'?') => {
                out.push(c);
                out.push(chars.next().unwrap());
                // Group names keep their case: (?P<Name>...) and (?<Name>...).
                if chars.peek() == Some(&'P') {
                    out.push(chars.next().unwrap());
                }
                if chars.peek() == Some(&'<') {
                    for b in chars.by_ref() {
                        out.push(b);
                        if b == '>' {
                            break;
                        }
                    }
                }
            }
            _ => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

/// Whether the `regex` crate's prefix prefilter would cost this pattern
/// more than it skips: the crate would search with a prefilter it itself
/// judges not fast, and some literal a match can start with is a single
/// byte ("d" among `Dose`'s 36 prefixes as the crate optimizes them, "x"
/// among `infusion_minutes`'s). The literals are extracted and judged as
/// the crate's own strategy does (`regex-syntax`'s extractor, optimized
/// by preference; `regex-automata`'s `Prefilter::is_fast`), so a lone
/// rare byte, which the crate searches with `memchr` and calls fast, keeps
/// its prefilter.
///
/// Why: such a set stops the search at nearly every word and the lazy DFA
/// restarts there, where the DFA alone would run through. Measured on the
/// e2e corpus's first 5,000 notes, one thread, each whole-note pattern
/// alone on every note (a scratch program compiling each exactly as
/// here): 8 of the 110 patterns have such a set; 7 ran faster with the
/// prefilter off (`Dose` 3.9 against 2.7 us a note, post-status 4.2
/// against 2.6, numbered-visit-dated 5.2 against 2.5) and one, which
/// rarely runs, 0.1 us slower. Of the patterns whose shortest prefix
/// literal is longer, most run several times faster with it, some over
/// 20 times. The matches are the same either way: literal optimizations
/// only say where a search may start.
///
/// `auto_prefilter(false)` also turns off the crate's reverse-suffix and
/// reverse-inner strategies. A pattern whose common suffix makes a fast
/// prefilter (what reverse-suffix needs first) keeps the crate's regex.
/// That errs toward the crate: its own guard against quadratic searching,
/// which this rule cannot call, refuses reverse-suffix for the two
/// built-in patterns it thereby keeps (assessed-then-discharged and
/// vague-class-plural, common suffixes "d" and "s"; both rarely run, and
/// lost 1.4 and 1.3 us with their prefilter where they do). The rule
/// selects 6 built-in patterns: `Dose`, `infusion_minutes`, post-status,
/// suicidal-ideation, numbered-visit-dated and third-session-in-a-week
/// (the last 0.1 us slower alone; it rarely runs). A pattern the crate
/// would search by an inner literal would lose that too; none of these 6
/// does (a scratch program printing each compiled `meta::Regex`'s `Debug`
/// output found the plain `Core` strategy for all of them).
fn prefilter_loses(p: &str, ci: bool) -> bool {
    use regex_automata::{util::prefilter::Prefilter, MatchKind};
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let fast = |lits: &[regex_syntax::hir::literal::Literal]| Prefilter::new(MatchKind::LeftmostFirst, lits).is_some_and(|p| p.is_fast());
    let Ok(hir) = regex_syntax::ParserBuilder::new().case_insensitive(ci).build().parse(p) else {
        return false;
    };
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix);
    let mut prefixes = ex.extract(&hir);
    prefixes.optimize_for_prefix_by_preference();
    let weak = prefixes.literals().is_some_and(|l| l.iter().any(|x| x.len() <= 1) && !fast(l));
    if !weak {
        return false;
    }
    ex.kind(ExtractKind::Suffix);
    let mut suffixes = ex.extract(&hir);
    suffixes.optimize_for_suffix_by_preference();
    !suffixes
        .longest_common_suffix()
        .filter(|s| !s.is_empty())
        .is_some_and(|s| fast(&[regex_syntax::hir::literal::Literal::exact(s.to_vec())]))
}

/// The same pattern as [`build`] gives, as a `regex-automata` regex with
/// the prefix prefilter off (the `regex` crate does not expose that
/// switch): the `regex` crate's own configuration otherwise.
fn build_without_prefilter(p: &str, ci: bool) -> Option<regex_automata::meta::Regex> {
    use regex_automata::{meta, util::syntax, MatchKind};
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(10 * (1 << 20)))
                .hybrid_cache_capacity(DFA_CACHE_BYTES)
                .match_kind(MatchKind::LeftmostFirst)
                .utf8_empty(true)
                .auto_prefilter(false),
        )
        .syntax(syntax::Config::new().case_insensitive(ci).utf8(true))
        .build(p)
        .ok()
}

/// A case-insensitive pattern compiled to run on the ASCII-lowercased text
/// when its meaning allows (see [`lowercase_pattern`]), else on the original.
pub struct Lc {
    re: Regex,
    /// The same pattern without the prefix prefilter, for the searches
    /// that only want match ranges, where [`prefilter_loses`].
    unfiltered: Option<regex_automata::meta::Regex>,
    on_lower: bool,
    /// Where a prepared note keeps this pattern's matches (see
    /// [`super::Found`]); `u32::MAX` when it is not searched ahead.
    slot: AtomicU32,
}

impl Lc {
    /// Compile; panics on an invalid built-in pattern.
    pub fn new(p: &str) -> Lc {
        let slot = AtomicU32::new(u32::MAX);
        let (re, on_lower) = match lowercase_pattern(p) {
            Some(l) => (cs(&l), true),
            None => (ci(p), false),
        };
        // `re.as_str()` is the pattern as compiled (ASCII boundaries).
        let unfiltered = if prefilter_loses(re.as_str(), !on_lower) { build_without_prefilter(re.as_str(), !on_lower) } else { None };
        Lc { re, unfiltered, on_lower, slot }
    }

    /// The pattern as compiled, when it runs on the lowercased text (the
    /// haystack a presence set searches): a set built from it matches a
    /// note exactly when this pattern does. `None` for a pattern that runs
    /// on the original text.
    pub(crate) fn lowercase_source(&self) -> Option<&str> {
        self.on_lower.then(|| self.re.as_str())
    }
    /// The index of the group `name`, for `Captures::get` or indexing (see
    /// [`group_index`]).
    pub fn group(&self, name: &str) -> usize {
        group_index(&self.re, name)
    }
    /// Mark this pattern as searched ahead into `slot` of prepared notes.
    pub(crate) fn set_slot(&self, slot: usize) {
        let s = u32::try_from(slot).ok().filter(|s| *s != u32::MAX).expect("slot below u32::MAX");
        self.slot.store(s, Ordering::Relaxed);
    }
    /// The slot a prepared note keeps this pattern's matches in.
    #[inline]
    pub(crate) fn slot(&self) -> Option<usize> {
        let s = self.slot.load(Ordering::Relaxed);
        (s != u32::MAX).then_some(s as usize)
    }
    /// Captures of the match that starts at `start` (the leftmost-first
    /// match searched from there, with the whole haystack around it for
    /// the word boundaries). Given a range that [`Lc::find_iter`] yielded,
    /// this is the same match as [`Lc::captures_iter`] yields there: the
    /// search starts at the match instead of at the end of the one before.
    pub fn captures_at<'t>(&self, text: &'t str, lower: &'t str, start: usize) -> Option<regex::Captures<'t>> {
        self.re.captures_at(self.hay(text, lower), start)
    }
    /// The haystack to search: `lower` must be `text.to_ascii_lowercase()`.
    #[inline]
    pub fn hay<'t>(&self, text: &'t str, lower: &'t str) -> &'t str {
        if self.on_lower {
            lower
        } else {
            text
        }
    }
    /// Match ranges, in text order.
    pub fn find_iter<'t>(&'t self, text: &'t str, lower: &'t str) -> impl Iterator<Item = std::ops::Range<usize>> + 't {
        let hay = self.hay(text, lower);
        match &self.unfiltered {
            Some(u) => either::Either::Right(u.find_iter(hay).map(|m| m.range())),
            None => either::Either::Left(self.re.find_iter(hay).map(|m| m.range())),
        }
    }
    /// Captures over the searched haystack. Group offsets index `text`;
    /// group strings are lowercased when the pattern runs on `lower`.
    pub fn captures_iter<'t>(&'t self, text: &'t str, lower: &'t str) -> regex::CaptureMatches<'t, 't> {
        self.re.captures_iter(self.hay(text, lower))
    }
    /// Whether the prefilter-free copy (if any) finds exactly what the
    /// `regex` crate's regex finds: `None` when there is no such copy.
    #[cfg(test)]
    pub(crate) fn unfiltered_agrees(&self, text: &str, lower: &str) -> Option<bool> {
        let u = self.unfiltered.as_ref()?;
        let hay = self.hay(text, lower);
        let a: Vec<_> = u.find_iter(hay).map(|m| m.range()).collect();
        let b: Vec<_> = self.re.find_iter(hay).map(|m| m.range()).collect();
        Some(a == b && u.is_match(hay) == self.re.is_match(hay))
    }
    /// Whether it matches anywhere.
    pub fn is_match(&self, text: &str, lower: &str) -> bool {
        match &self.unfiltered {
            Some(u) => u.is_match(self.hay(text, lower)),
            None => self.re.is_match(self.hay(text, lower)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercased_patterns_keep_escapes_names_and_offsets() {
        assert_eq!(lowercase_pattern(r"\bREMS\s+(?P<N>\D+)\B"), Some(r"\brems\s+(?P<N>\D+)\B".to_string()));
        assert_eq!(lowercase_pattern(r"\x{41}"), None);
        assert_eq!(lowercase_literals(r"A\x{41}"), r"a\x{41}");
        assert_eq!(lowercase_pattern(r"(?-i:\bPA\b)x"), None);
        assert_eq!(lowercase_literals(r"(?-i:\bPA\b)x"), r"(?-i:\bpa\b)x");
        assert_eq!(lowercase_pattern(r"[A-Z]{2}\d"), Some("[a-z]{2}\\d".to_string()));
        let text = "Discharged 14:05; REMS form SUBMITTED. Pt left @ 2 PM";
        let lower = text.to_ascii_lowercase();
        for p in [r"\bdis?charg\w*\s+\d", r"\bREMS\s+form\s+submitted\b", r"\bleft\s+@\s*\d+\s*PM\b", r"[A-Z]+\s+[A-Z]+"] {
            let lc = Lc::new(p);
            let a: Vec<_> = ci(p).find_iter(text).map(|m| m.range()).collect();
            let b: Vec<_> = lc.find_iter(text, &lower).collect();
            assert_eq!(a, b, "{p}");
        }
    }

    #[test]
    fn a_one_byte_prefix_literal_turns_the_prefilter_off_and_keeps_the_matches() {
        // "x" is one of the prefixes: the prefilter would stop at every x.
        let p = r"\b(?:over|x|for)\s*(?P<n>\d{1,3})\s*(?:min|mins|minutes)\b";
        let lc = Lc::new(p);
        assert!(lc.unfiltered.is_some());
        // Long literals only: the crate's prefilter stays.
        assert!(Lc::new(r"\bdischarge(?:d)?\b").unfiltered.is_none());
        // No prefix literal at all: nothing to turn off.
        assert!(Lc::new(r"\d+\s*mg").unfiltered.is_none());
        // A lone rare byte is searched with memchr, which the crate calls fast.
        assert!(Lc::new(r"\bq\s*\d+h\b").unfiltered.is_none());
        // A common suffix is what the crate's reverse-suffix strategy uses.
        assert!(Lc::new(r"\b(?:x|times)\s*\d+\s*minutes").unfiltered.is_none());
        let text = "Infused over 40 min; x 2 min, FOR 15 MIN. box 3 min xylophone 9 min";
        let lower = text.to_ascii_lowercase();
        let want: Vec<_> = ci(p).find_iter(text).map(|m| m.range()).collect();
        assert_eq!(want.len(), 3);
        assert_eq!(lc.find_iter(text, &lower).collect::<Vec<_>>(), want);
        assert!(lc.is_match(text, &lower));
        assert!(!lc.is_match("no minutes here", "no minutes here"));
    }

    #[test]
    fn rewrites_only_outside_classes() {
        assert_eq!(ascii_boundaries(r"\bbp\b"), r"(?-u:\b)bp(?-u:\b)");
        assert_eq!(ascii_boundaries(r"[\b]x\B"), r"[\b]x(?-u:\B)");
        assert_eq!(ascii_boundaries(r"[]\b]\b"), r"[]\b](?-u:\b)");
        assert_eq!(ascii_boundaries(r"[[:alpha:]\]]\b"), r"[[:alpha:]\]](?-u:\b)");
        assert_eq!(ascii_boundaries(r"\\b"), r"\\b");
    }

    #[test]
    fn ascii_boundaries_match_like_unicode_ones_on_english() {
        let r = ci(r"\bbp\b");
        assert!(r.is_match("BP 120/80 at 10:05 °"));
        assert!(r.is_match("“BP” ok"));
        assert!(!r.is_match("bpm"));
        // Non-ASCII haystacks still search (this is the fast path's reason).
        assert_eq!(r.find_iter("Temp 98.6°F, BP 118/76, ☐ bp").count(), 2);
    }
}

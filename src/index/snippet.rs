//! Plain-text snippets for search hits: one line, capped in length, with the
//! matched words marked «like this» and "…" where the note goes on.

use tantivy::snippet::{collapse_overlapped_ranges, Snippet};

/// Opening mark of a matched word.
pub const OPEN: char = '«';
/// Closing mark of a matched word.
pub const CLOSE: char = '»';

/// Render a snippet of `text` of at most `max_chars` characters (not
/// counting the marks and ellipses). Without a snippet with matches (a
/// search with filters only), the note's opening is shown.
pub fn render(text: &str, snippet: Option<&Snippet>, max_chars: usize) -> String {
    let max_chars = max_chars.max(1);
    let (body, starts_inside, ends_inside) = match snippet.filter(|s| !s.highlighted().is_empty()) {
        Some(s) => {
            let frag = s.fragment();
            let mut out = String::with_capacity(frag.len() + 8);
            let mut at = 0;
            for r in join_adjacent(frag, collapse_overlapped_ranges(s.highlighted())) {
                let (Some(before), Some(hit)) = (frag.get(at..r.start), frag.get(r.clone())) else { continue };
                out.push_str(before);
                out.push(OPEN);
                out.push_str(hit);
                out.push(CLOSE);
                at = r.end;
            }
            out.push_str(frag.get(at..).unwrap_or(""));
            let range = s.fragment_range();
            (out, range.start > 0, range.end < text.trim_end().len())
        }
        None => (text.to_string(), false, false),
    };
    let one_line = collapse_ws(&body);
    let (mut clipped, cut) = clip(&one_line, max_chars);
    if clipped.matches(OPEN).count() > clipped.matches(CLOSE).count() {
        clipped.push(CLOSE);
    }
    let mut out = String::with_capacity(clipped.len() + 8);
    if starts_inside {
        out.push('…');
    }
    out.push_str(&clipped);
    if cut || ends_inside {
        out.push('…');
    }
    out
}

/// Merge hits separated only by spaces or punctuation (the words of a
/// matched phrase), so "«blood pressure»" is marked once.
fn join_adjacent(frag: &str, ranges: Vec<std::ops::Range<usize>>) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        if let Some(last) = out.last_mut() {
            let gap = frag.get(last.end..r.start).unwrap_or("x");
            if gap.len() <= 3 && gap.chars().all(|c| !c.is_alphanumeric()) {
                last.end = r.end;
                continue;
            }
        }
        out.push(r);
    }
    out
}

/// Every run of whitespace or control characters becomes one space.
fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// The first `max` characters, not counting marks; whether it was cut.
fn clip(s: &str, max: usize) -> (String, bool) {
    let mut n = 0;
    for (i, c) in s.char_indices() {
        if c != OPEN && c != CLOSE {
            if n == max {
                return (s[..i].trim_end().to_string(), true);
            }
            n += 1;
        }
    }
    (s.to_string(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_text_is_one_capped_line() {
        let s = render("Line one\n\n  line\ttwo is long", None, 12);
        assert_eq!(s, "Line one lin…");
        assert_eq!(render("short", None, 12), "short");
    }

    #[test]
    fn marks_stay_balanced_when_cut() {
        let (c, cut) = clip("ab «cdef» g", 4);
        assert!(cut);
        assert_eq!(c, "ab «c");
    }
}

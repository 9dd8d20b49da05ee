//! Near-duplicate detection for cloned and copied notes.
//!
//! Notes are reduced to sets of word 5-shingles and sketched with MinHash
//! (`K` independent minima), so a note costs a fixed 256 bytes after its text
//! is dropped and two notes compare in O(K). Comparisons are only made inside
//! an encounter (E/M note vs session note) or inside one patient's history
//! (session vs earlier sessions), never all-pairs over the corpus.

/// Number of MinHash functions.
pub const K: usize = 64;
const SHINGLE: usize = 5;

/// MinHash sketch of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sketch {
    mins: [u32; K],
    /// Number of distinct shingles seen (0 for very short notes).
    pub shingles: u32,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch { mins: [u32::MAX; K], shingles: 0 }
    }
}

#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
fn word_hash(w: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in w.bytes() {
        h ^= b.to_ascii_lowercase() as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// Hashes of the text's words: maximal runs of alphanumeric characters
/// (`char::is_alphanumeric`), each hashed over its ASCII-lowercased bytes.
/// Scans bytes and decodes a character only at non-ASCII bytes.
fn word_hashes(text: &str) -> Vec<u64> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 5);
    let mut i = 0;
    let mut h: u64 = 0;
    let mut in_word = false;
    while i < bytes.len() {
        let b = bytes[i];
        let (alnum, len) = if b < 0x80 {
            (b.is_ascii_alphanumeric(), 1)
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            (c.is_alphanumeric(), c.len_utf8())
        };
        if alnum {
            if !in_word {
                h = 0xcbf2_9ce4_8422_2325;
                in_word = true;
            }
            for &x in &bytes[i..i + len] {
                h ^= x.to_ascii_lowercase() as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01B3);
            }
        } else if in_word {
            out.push(h);
            in_word = false;
        }
        i += len;
    }
    if in_word {
        out.push(h);
    }
    out
}

impl Sketch {
    /// Sketch a text.
    pub fn of(text: &str) -> Sketch {
        let words = word_hashes(text);
        let mut s = Sketch::default();
        if words.len() < SHINGLE {
            return s;
        }
        let mut n = 0u32;
        for win in words.windows(SHINGLE) {
            let mut h = 0u64;
            for w in win {
                h = mix(h ^ *w);
            }
            n += 1;
            // K hash functions by double hashing (Kirsch-Mitzenmacher):
            // h1 + k*h2, stepped by additions (same values as the product,
            // wrapping) so the loop vectorizes.
            let h1 = mix(h);
            let h2 = mix(h1) | 1;
            let mut v = h1;
            for m in s.mins.iter_mut() {
                *m = (*m).min((v >> 32) as u32);
                v = v.wrapping_add(h2);
            }
        }
        s.shingles = n;
        s
    }

    /// Estimated Jaccard similarity of the two shingle sets (0 when either is empty).
    pub fn similarity(&self, other: &Sketch) -> f64 {
        if self.shingles == 0 || other.shingles == 0 {
            return 0.0;
        }
        let eq = self.mins.iter().zip(other.mins.iter()).filter(|(a, b)| a == b).count();
        eq as f64 / K as f64
    }
}

/// Words of a sketch stored outside memory (the scan spills session-note
/// sketches to a scratch file until the per-patient clone pass).
pub const SKETCH_WORDS: usize = K + 1;

impl Sketch {
    /// The sketch as [`SKETCH_WORDS`] words: the minima, then the shingle count.
    pub fn to_words(&self) -> [u32; SKETCH_WORDS] {
        let mut w = [0u32; SKETCH_WORDS];
        w[..K].copy_from_slice(&self.mins);
        w[K] = self.shingles;
        w
    }

    /// The sketch [`Sketch::to_words`] gave.
    pub fn from_words(w: &[u32; SKETCH_WORDS]) -> Sketch {
        let mut mins = [0u32; K];
        mins.copy_from_slice(&w[..K]);
        Sketch { mins, shingles: w[K] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_and_different() {
        let a = "Patient arrived for esketamine session. BP 128/82 at baseline. Two devices administered. Tolerated well, observed two hours, discharged with spouse.";
        let b = "Follow-up psychiatry visit: mood improved, sleeping better, no suicidal ideation, continue sertraline, return in four weeks for review of labs.";
        assert_eq!(Sketch::of(a).similarity(&Sketch::of(a)), 1.0);
        assert!(Sketch::of(a).similarity(&Sketch::of(b)) < 0.2);
        assert_eq!(Sketch::of("too short").similarity(&Sketch::of("too short")), 0.0);
    }

    #[test]
    fn byte_scan_splits_words_like_char_split() {
        for t in
            ["", "a", "BP 128/82, pt ok.", "Temp 98.6°F — “steady” gait; café résumé ☐ x", "ÉÀ déjà-vu 12x 3", "naïve\u{00a0}word\n\tend"]
        {
            let old: Vec<u64> = t.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(word_hash).collect();
            assert_eq!(word_hashes(t), old, "{t}");
        }
    }

    #[test]
    fn stepped_minima_equal_products() {
        let (h1, h2) = (mix(7), mix(mix(7)) | 1);
        let mut v = h1;
        for i in 0..K as u64 {
            assert_eq!(v, h1.wrapping_add(i.wrapping_mul(h2)));
            v = v.wrapping_add(h2);
        }
    }

    #[test]
    fn near_copy_is_high() {
        let base = "Patient arrived for esketamine session and reports stable mood this week with improved sleep and appetite. \
                    Denies suicidal ideation. Spravato 84 mg administered via three devices under direct observation. \
                    Vitals stable throughout monitoring. Mild dissociation resolved by end of observation. Ride home with spouse.";
        let copy = format!("{base} Plan: continue weekly sessions.");
        let s = Sketch::of(base).similarity(&Sketch::of(&copy));
        assert!(s > 0.8, "{s} {} {}", Sketch::of(base).shingles, Sketch::of(&copy).shingles);
    }
}

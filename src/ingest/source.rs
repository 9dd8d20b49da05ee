//! Byte sources: opening a file (plain or gzip), detecting its format and
//! text encoding, and reading it as a bounded stream of lines or CSV records.
//!
//! Nothing here holds a whole file: the file is read through a 64 KiB
//! buffer, UTF-16 is transcoded chunk by chunk, and a single line or record is
//! kept only up to `max_line_bytes` (past that it is skipped to its end and
//! reported as oversized).

use std::borrow::Cow;
use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use encoding_rs::{Decoder, UTF_16BE, UTF_16LE};
use flate2::read::MultiGzDecoder;

use super::DecodeCounters;

/// Buffer size for every reader layer.
pub(crate) const BUF: usize = 64 * 1024;

/// On-disk record format of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines (`.jsonl`, `.ndjson`).
    Jsonl,
    /// CSV with a header row (`.csv`).
    Csv,
}

/// Format implied by a file name: `.jsonl`/`.ndjson`/`.csv`, each optionally
/// followed by `.gz` (case-insensitive). `None` for anything else.
pub fn format_from_name(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let base = name.strip_suffix(".gz").unwrap_or(&name);
    if base.ends_with(".jsonl") || base.ends_with(".ndjson") {
        Some(Format::Jsonl)
    } else if base.ends_with(".csv") {
        Some(Format::Csv)
    } else {
        None
    }
}

/// True when the file name ends in `.gz` (case-insensitive).
fn is_gzip_name(path: &Path) -> bool {
    path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase().ends_with(".gz")).unwrap_or(false)
}

/// An opened, decompressed and (if needed) transcoded input, positioned after
/// any byte-order mark, plus the format to parse it as.
pub(crate) struct Source {
    /// UTF-8 (or unknown 8-bit) bytes.
    pub reader: Box<dyn BufRead>,
    /// Format from the name, or sniffed.
    pub format: Format,
    /// For UTF-16 input: how many decode calls had to substitute U+FFFD for
    /// malformed UTF-16 (unpaired surrogates, odd trailing byte).
    pub utf16_replacements: Option<Rc<Cell<u64>>>,
}

/// Open `path`: gunzip when the name ends in `.gz` (all members), strip a
/// UTF-8 BOM, transcode UTF-16 (BOM, or the unmistakable `x\0x\0` pattern of
/// BOM-less ASCII-range UTF-16) to UTF-8, and decide the format.
///
/// An I/O error while peeking at the first bytes (e.g. a `.gz` that is not
/// gzip) is not returned here: the source then yields that error on its
/// first read, so the reader reports it as an `io_error` reject like any
/// other mid-file failure.
pub(crate) fn open_source(path: &Path, counters: &mut DecodeCounters) -> io::Result<Source> {
    let file = File::open(path)?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(io::Error::other("is a folder, not a file (use expand_inputs)"));
    }
    // A zero-byte file is empty whatever its name (an empty export saved as
    // `.gz` is not a gzip stream, but it holds no records either).
    let empty = file.metadata().map(|m| m.is_file() && m.len() == 0).unwrap_or(false);
    let mut raw: Box<dyn Read> = if is_gzip_name(path) && !empty {
        counters.gzip = true;
        Box::new(MultiGzDecoder::new(BufReader::with_capacity(BUF, file)))
    } else {
        Box::new(file)
    };
    // Peek at the first four bytes for a byte-order mark.
    let mut head = [0u8; 4];
    let mut n = 0;
    let mut peek_err = None;
    while n < head.len() {
        match raw.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                peek_err = Some(e);
                break;
            }
        }
    }
    let head = &head[..n];
    let (skip, enc): (usize, Option<(&'static str, Decoder)>) = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        counters.bom_utf8 = true;
        (3, None)
    } else if head.starts_with(&[0xFF, 0xFE]) {
        (2, Some(("UTF-16LE", UTF_16LE.new_decoder_without_bom_handling())))
    } else if head.starts_with(&[0xFE, 0xFF]) {
        (2, Some(("UTF-16BE", UTF_16BE.new_decoder_without_bom_handling())))
    } else if n == 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0 {
        (0, Some(("UTF-16LE (no BOM)", UTF_16LE.new_decoder_without_bom_handling())))
    } else if n == 4 && head[0] == 0 && head[1] != 0 && head[2] == 0 && head[3] != 0 {
        (0, Some(("UTF-16BE (no BOM)", UTF_16BE.new_decoder_without_bom_handling())))
    } else {
        (0, None)
    };
    let rest: Box<dyn Read> = match peek_err {
        Some(e) => Box::new(FailOnce(Some(e))),
        None => raw,
    };
    let joined = io::Cursor::new(head[skip..].to_vec()).chain(rest);
    let mut utf16_replacements = None;
    let mut reader: Box<dyn BufRead> = match enc {
        Some((name, decoder)) => {
            counters.utf16 = Some(name);
            let repl = Rc::new(Cell::new(0));
            utf16_replacements = Some(repl.clone());
            Box::new(BufReader::with_capacity(
                BUF,
                Utf16Reader {
                    inner: BufReader::with_capacity(BUF, joined),
                    decoder,
                    out: vec![0; BUF * 3 + 16],
                    pos: 0,
                    len: 0,
                    done: false,
                    repl,
                },
            ))
        }
        None => Box::new(BufReader::with_capacity(BUF, joined)),
    };
    let format = match format_from_name(path) {
        Some(f) => f,
        None => sniff(&mut reader),
    };
    Ok(Source { reader, format, utf16_replacements })
}

/// Yields a stored error once (an error met while peeking), then end of input.
struct FailOnce(Option<io::Error>);

impl Read for FailOnce {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// First non-whitespace byte in the first buffer decides: `{` → JSON Lines,
/// anything else → CSV. An input that is empty or all whitespace in its
/// first 64 KiB is treated as JSON Lines (it then yields no records).
fn sniff(r: &mut Box<dyn BufRead>) -> Format {
    match r.fill_buf() {
        Ok(buf) => match buf.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | None => Format::Jsonl,
            Some(_) => Format::Csv,
        },
        Err(_) => Format::Jsonl,
    }
}

/// Streaming UTF-16 → UTF-8 transcoder. Malformed UTF-16 (unpaired
/// surrogates) becomes U+FFFD; each chunk where that happened is counted in
/// `repl` and surfaces as [`DecodeCounters::utf16_replacements`].
struct Utf16Reader<R> {
    inner: BufReader<R>,
    decoder: Decoder,
    out: Vec<u8>,
    pos: usize,
    len: usize,
    done: bool,
    repl: Rc<Cell<u64>>,
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.len && !self.done {
            let input = self.inner.fill_buf()?;
            let last = input.is_empty();
            let (_, read, written, replaced) = self.decoder.decode_to_utf8(input, &mut self.out, last);
            if replaced {
                self.repl.set(self.repl.get() + 1);
            }
            self.inner.consume(read);
            self.pos = 0;
            self.len = written;
            if last {
                self.done = true;
            }
        }
        let n = (self.len - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Outcome of reading one line or record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// End of input, nothing read.
    Eof,
    /// A line/record is in the buffer (terminator and a trailing `\r`
    /// removed). `crlf` tells whether a `\r\n` terminator was seen;
    /// `open_quote` that a CSV record ended (at end of input) inside a
    /// quoted field.
    Data { crlf: bool, open_quote: bool },
    /// The line/record exceeded the cap; its `len` bytes were skipped and
    /// the buffer holds nothing useful.
    Oversized { len: u64 },
}

/// Line or record length past which the readers make room up to the cap
/// in large steps instead of doubling their buffer (see [`room_for`]).
const LONG_LINE: usize = 1 << 20;

/// The largest step [`room_for`] takes at once.
const LONG_LINE_STEP: usize = 64 << 20;

/// Make room in `buf` for `add` more bytes of a line or record capped at
/// `max` bytes (`buf.len() + add <= max`).
///
/// Past [`LONG_LINE`] the room grows towards the cap in steps of up to
/// [`LONG_LINE_STEP`] (the default 31 MiB cap in one step), not by
/// doubling. Doubling copies the line at every step and, with an
/// allocator that moves a growing block (mimalloc, tried in 7f67f8b), holds
/// the old block beside the new one: 16 + 32 MiB at the last step to a
/// 31 MiB cap, where this holds at most 1 + 31. The step bound keeps a huge
/// `--max-note-bytes` from reserving its whole cap for the first long line.
fn room_for(buf: &mut Vec<u8>, add: usize, max: usize) {
    if buf.len() + add > buf.capacity().max(LONG_LINE) {
        buf.reserve_exact((max - buf.len()).min(LONG_LINE_STEP).max(add));
    }
}

/// Reads JSON Lines: one `\n`-terminated line at a time, bounded.
pub(crate) struct LineReader<R> {
    r: R,
    /// Bytes consumed so far (after decompression and transcoding).
    pub bytes: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(r: R) -> Self {
        LineReader { r, bytes: 0 }
    }

    /// Read the next line into `buf` (cleared first), keeping at most `max`
    /// bytes. On an I/O error, `buf` holds what was read of the line so far.
    pub fn next(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Chunk> {
        buf.clear();
        let mut len: u64 = 0;
        let mut over = false;
        loop {
            let avail = match self.r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if len == 0 {
                    return Ok(Chunk::Eof);
                }
                break;
            }
            let (take, found) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            let body = if found { take - 1 } else { take };
            len += body as u64;
            if !over {
                if buf.len() + body > max {
                    over = true;
                    buf.clear();
                } else {
                    room_for(buf, body, max);
                    buf.extend_from_slice(&avail[..body]);
                }
            }
            self.r.consume(take);
            self.bytes += take as u64;
            if found {
                break;
            }
        }
        if over {
            return Ok(Chunk::Oversized { len });
        }
        let crlf = buf.last() == Some(&b'\r');
        if crlf {
            buf.pop();
        }
        Ok(Chunk::Data { crlf, open_quote: false })
    }
}

/// Splits CSV input into records (RFC 4180 quoting: a field that *starts*
/// with `"` is quoted, `""` inside it is a quote, newlines inside it belong to
/// the field), bounded, tracking physical line numbers.
pub(crate) struct CsvSplitter<R> {
    r: R,
    /// Bytes consumed so far.
    pub bytes: u64,
    /// 1-based physical line where the next record starts.
    pub line: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Q {
    StartField,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R: BufRead> CsvSplitter<R> {
    pub fn new(r: R) -> Self {
        CsvSplitter { r, bytes: 0, line: 1 }
    }

    /// Read the next record into `buf` (cleared first; terminator and a
    /// final `\r` removed), keeping at most `max` bytes. Returns the record's
    /// starting line with the chunk. A record whose quote is never closed
    /// runs to the end of input. On an I/O error, `buf` holds the partial
    /// record.
    pub fn next(&mut self, buf: &mut Vec<u8>, max: usize) -> (u64, io::Result<Chunk>) {
        buf.clear();
        let start = self.line;
        let mut len: u64 = 0;
        let mut over = false;
        let mut st = Q::StartField;
        loop {
            let avail = match self.r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return (start, Err(e)),
            };
            if avail.is_empty() {
                if len == 0 {
                    return (start, Ok(Chunk::Eof));
                }
                break;
            }
            let mut end = None;
            for (i, &b) in avail.iter().enumerate() {
                st = match (st, b) {
                    (Q::Quoted, b'"') => Q::QuoteInQuoted,
                    (Q::Quoted, b'\n') => {
                        self.line += 1;
                        Q::Quoted
                    }
                    (Q::Quoted, _) => Q::Quoted,
                    (Q::QuoteInQuoted, b'"') => Q::Quoted,
                    (Q::StartField, b'"') => Q::Quoted,
                    (_, b'\n') => {
                        end = Some(i);
                        break;
                    }
                    (_, b',') => Q::StartField,
                    _ => Q::Unquoted,
                };
            }
            let (body, take) = match end {
                Some(i) => (i, i + 1),
                None => (avail.len(), avail.len()),
            };
            len += body as u64;
            if !over {
                if buf.len() + body > max {
                    over = true;
                    buf.clear();
                } else {
                    room_for(buf, body, max);
                    buf.extend_from_slice(&avail[..body]);
                }
            }
            self.r.consume(take);
            self.bytes += take as u64;
            if end.is_some() {
                self.line += 1;
                break;
            }
        }
        if over {
            return (start, Ok(Chunk::Oversized { len }));
        }
        let crlf = st != Q::Quoted && buf.last() == Some(&b'\r');
        if crlf {
            buf.pop();
        }
        (start, Ok(Chunk::Data { crlf, open_quote: st == Q::Quoted }))
    }
}

/// Windows-1252 characters for bytes 0x80–0x9F (`None` = undefined).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

/// The Windows-1252 character of a byte ≥ 0x80 that the fallback accepts.
pub(crate) fn cp1252_char(b: u8) -> Option<char> {
    match b {
        0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
        0xA0..=0xFD => Some(char::from(b)),
        _ => None,
    }
}

/// Decode one line/record per the encoding policy.
///
/// - valid UTF-8 → borrowed as is;
/// - otherwise each byte that is not part of a valid UTF-8 sequence is
///   decoded as Windows-1252 (valid UTF-8 sequences in the same record stay
///   UTF-8, so a UTF-8 note with one pasted Word smart quote decodes right),
///   provided the record looks like text: each such byte is a defined
///   Windows-1252 character other than 0xFE/0xFF (smart quotes and dashes
///   0x80–0x9F, Latin-1 letters and symbols 0xA0–0xFD), no more than three
///   of them in a row, and no control bytes other than tab, CR, LF and form
///   feed anywhere in the record. Returns `Ok((text, true))`;
/// - otherwise `Err(())` → `invalid_utf8`.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<(Cow<'_, str>, bool), ()> {
    let first = match std::str::from_utf8(bytes) {
        Ok(s) => return Ok((Cow::Borrowed(s), false)),
        Err(e) => e,
    };
    if bytes.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n' | 0x0C)) {
        return Err(());
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut rest = bytes;
    let mut err = Some(first);
    let mut run = 0usize;
    loop {
        let e = match err.take() {
            Some(e) => e,
            None => match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    break;
                }
                Err(e) => e,
            },
        };
        let (valid, after) = rest.split_at(e.valid_up_to());
        if !valid.is_empty() {
            run = 0;
            out.push_str(std::str::from_utf8(valid).map_err(|_| ())?);
        }
        let n = e.error_len().unwrap_or(after.len());
        for &b in &after[..n] {
            run += 1;
            if run > 3 {
                return Err(());
            }
            out.push(cp1252_char(b).ok_or(())?);
        }
        rest = &after[n..];
        if rest.is_empty() {
            break;
        }
    }
    Ok((Cow::Owned(out), true))
}

/// Lossy UTF-8 copy of a raw record for a reject, when it is at most 64 KiB.
pub(crate) fn raw_for_reject(bytes: &[u8]) -> Option<String> {
    if bytes.len() <= 64 * 1024 {
        Some(String::from_utf8_lossy(bytes).into_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_for_steps_towards_the_cap() {
        // Short lines grow as a Vec does.
        let mut b: Vec<u8> = Vec::with_capacity(100);
        room_for(&mut b, 10, usize::MAX);
        assert_eq!(b.capacity(), 100);
        // A long line under the default cap: room up to the cap at once.
        let mut b = vec![0u8; LONG_LINE];
        room_for(&mut b, 10, 31 << 20);
        assert!(b.capacity() >= 31 << 20, "{}", b.capacity());
        // A huge cap: one bounded step, no overflow.
        let mut b = vec![0u8; LONG_LINE];
        room_for(&mut b, 10, usize::MAX);
        assert!(b.capacity() >= LONG_LINE + 10 && b.capacity() <= LONG_LINE + LONG_LINE_STEP + 64, "{}", b.capacity());
        // Room already there: nothing happens.
        let cap = b.capacity();
        room_for(&mut b, 10, usize::MAX);
        assert_eq!(b.capacity(), cap);
    }
}

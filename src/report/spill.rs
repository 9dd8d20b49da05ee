//! A scratch file for compact per-encounter records that would otherwise
//! stay in memory for the whole scan (report rows, session-note sketches,
//! course-rule findings waiting for the course pass).
//!
//! The records are derived from notes, so they are PHI: the file is created
//! owner-only (0600) in the output folder under a temporary name
//! (`.NAME.tmp-PID`, removed by [`super::remove_stale_temps`] if a run is
//! killed). On Unix the name is unlinked as soon as the file is open, so the
//! data lives only as long as the open handle, and the space is freed when
//! the scan ends, however it ends. Elsewhere the file is removed on drop.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// An append-only scratch file read back at offsets.
pub struct SpillFile {
    path: PathBuf,
    linked: bool,
    w: BufWriter<File>,
    len: u64,
}

impl SpillFile {
    /// Create `dir/.NAME.tmp-PID` owner-only.
    pub fn create(dir: &Path, name: &str) -> io::Result<Self> {
        let path = super::temp_name(&dir.join(name));
        let f = create_private_rw(&path)?;
        // On Unix the open handle keeps the data; nothing is left behind by a crash.
        #[cfg(unix)]
        let linked = std::fs::remove_file(&path).is_err();
        #[cfg(not(unix))]
        let linked = true;
        Ok(SpillFile { path, linked, w: BufWriter::with_capacity(1 << 20, f), len: 0 })
    }

    /// Where the file is (or was, once unlinked).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append a record; returns its offset.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<u64> {
        let off = self.len;
        self.w.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(off)
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Make everything appended readable by [`SpillFile::read_at`].
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// Read `buf.len()` bytes at `off` (appended and flushed before).
    pub fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        read_exact_at(self.w.get_ref(), off, buf)
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        if self.linked {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Create a file owner-only for reading and writing (truncating).
fn create_private_rw(path: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        o.mode(0o600);
        let f = o.open(path)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(f)
    }
    #[cfg(not(unix))]
    o.open(path)
}

#[cfg(unix)]
fn read_exact_at(f: &File, off: u64, buf: &mut [u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, off)
}

#[cfg(windows)]
fn read_exact_at(f: &File, mut off: u64, mut buf: &mut [u8]) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_read(buf, off) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "spill file is short")),
            Ok(n) => {
                buf = &mut buf[n..];
                off += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Little-endian record encoding helpers.
pub(crate) struct Enc<'a>(pub &'a mut Vec<u8>);

impl Enc<'_> {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
    pub fn opt_u32(&mut self, v: Option<u32>) {
        match v {
            Some(v) => {
                self.u8(1);
                self.u32(v);
            }
            None => self.u8(0),
        }
    }
    pub fn opt_f64(&mut self, v: Option<f64>) {
        match v {
            Some(v) => {
                self.u8(1);
                self.f64(v);
            }
            None => self.u8(0),
        }
    }
    pub fn opt_bool(&mut self, v: Option<bool>) {
        self.u8(match v {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
    }
}

/// Reads what [`Enc`] wrote; a short or malformed record is an error.
pub(crate) struct Dec<'a>(pub &'a [u8]);

fn bad() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "spill record is malformed")
}

impl Dec<'_> {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.0.len() < n {
            return Err(bad());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    pub fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| bad())?))
    }
    pub fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_le_bytes(self.take(4)?.try_into().map_err(|_| bad())?))
    }
    pub fn f64(&mut self) -> io::Result<f64> {
        Ok(f64::from_bits(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| bad())?)))
    }
    pub fn string(&mut self) -> io::Result<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| bad())
    }
    pub fn bool(&mut self) -> io::Result<bool> {
        Ok(self.u8()? != 0)
    }
    pub fn opt_string(&mut self) -> io::Result<Option<String>> {
        Ok(if self.u8()? == 1 { Some(self.string()?) } else { None })
    }
    pub fn opt_u32(&mut self) -> io::Result<Option<u32>> {
        Ok(if self.u8()? == 1 { Some(self.u32()?) } else { None })
    }
    pub fn opt_f64(&mut self) -> io::Result<Option<f64>> {
        Ok(if self.u8()? == 1 { Some(self.f64()?) } else { None })
    }
    pub fn opt_bool(&mut self) -> io::Result<Option<bool>> {
        Ok(match self.u8()? {
            0 => None,
            1 => Some(false),
            _ => Some(true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_the_file_is_private_and_gone() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SpillFile::create(dir.path(), "spill").unwrap();
        let a = s.append(b"hello").unwrap();
        let b = s.append(b"world!").unwrap();
        s.flush().unwrap();
        let mut buf = [0u8; 6];
        s.read_at(b, &mut buf).unwrap();
        assert_eq!(&buf, b"world!");
        let mut buf = [0u8; 5];
        s.read_at(a, &mut buf).unwrap();
        assert_eq!(&buf, b"hello");
        assert_eq!(s.len(), 11);
        #[cfg(unix)]
        assert!(!s.path().exists(), "the name is unlinked while the data is in use");
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left behind");
    }
}

//! The run log: `OUT/runs.jsonl`, append-only, one `start` record when a scan
//! begins and one `end` record when it finishes. A `start` without a matching
//! `end` is a run that was interrupted. Records hold paths, sizes and SHA-256
//! digests, counts and versions: never note text.

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

/// A file with its size and digest.
#[derive(Debug, Clone, Serialize)]
pub struct FileDigest {
    /// Path as given.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// Digest a file (streaming).
pub fn digest(path: &Path) -> io::Result<FileDigest> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok(FileDigest { path: path.display().to_string(), bytes: n, sha256: format!("{:x}", h.finalize()) })
}

/// Current UTC time, RFC 3339.
pub fn now() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// The OS user running the scan.
pub fn os_user() -> String {
    for v in ["USER", "LOGNAME", "USERNAME"] {
        if let Ok(u) = std::env::var(v) {
            if !u.is_empty() {
                return u;
            }
        }
    }
    #[cfg(unix)]
    {
        format!("uid:{}", unsafe { libc::getuid() })
    }
    #[cfg(not(unix))]
    {
        "unknown".into()
    }
}

/// A new run id: UTC time and process id.
pub fn run_id() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}-{}-{}", d.as_secs(), d.subsec_millis(), std::process::id())
}

/// Append one JSON record (one line) to `OUT/runs.jsonl`, owner-only, synced.
pub fn append(out_dir: &Path, record: &impl Serialize) -> io::Result<()> {
    let path = out_dir.join("runs.jsonl");
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(&path)?;
    let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
    line.push(b'\n');
    f.write_all(&line)?;
    f.sync_all()
}

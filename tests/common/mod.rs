//! Helpers shared by the integration tests: the real binary and the
//! fixture folder.
#![allow(dead_code)] // each test crate uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `ketaudit` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ketaudit"))
}

/// A path under `tests/fixtures`.
pub fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(p)
}

/// Run the binary with arguments and collect its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run ketaudit")
}

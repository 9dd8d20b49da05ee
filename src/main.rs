//! `ketaudit` binary: parse arguments, call the library, map errors to exit
//! codes. Only this crate's `cli` module and `main` print.

mod cli;

fn main() {
    // A closed stdout pipe (`ketaudit search ... | head`) ends the process
    // quietly, as for any Unix filter, instead of a write error surfacing as
    // an internal error. Reports are written before anything is printed, and
    // atomically, so this never leaves a partial report.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE at start-up,
    // before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(cli::run());
}

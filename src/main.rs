//! `ketaudit` binary: parse arguments, call the library, map errors to exit
//! codes. Only this crate's `cli` module and `main` print.

mod cli;

/// mimalloc for the binary: the extraction allocates and frees many small
/// strings and vectors per note (matches, captures, evidence), and glibc's
/// malloc and free took about a tenth of a 2-thread scan's samples. With
/// mimalloc a one-thread scan of 5,000 notes runs 8.9% fewer instructions
/// (callgrind), for about 55-90 MB more peak RSS, most of it fixed (the
/// allocator's per-thread segments).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

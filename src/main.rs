//! `ketaudit` binary: parse arguments, call the library, map errors to exit
//! codes. Only this crate's `cli` module and `main` print.

mod cli;

fn main() {
    std::process::exit(cli::run());
}

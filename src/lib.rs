//! ketaudit: audit ketamine and esketamine (Spravato) encounter documentation
//! and coding against payer rules.
//!
//! The pipeline: [`ingest`] exported notes and claims, [`extract`] evidence
//! with spans, group into [`encounter`]s, [`rules`] into findings and a risk
//! score, [`report`] to Parquet and [`index`] with tantivy. Only the binary
//! prints; the library returns values and errors.

#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod config;
pub mod dict;
pub mod encounter;
pub mod explain;
pub mod extract;
pub mod index;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod runlog;
pub mod synth;

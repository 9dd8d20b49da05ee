//! indicatif progress bars, drawn only on a terminal and never with note text.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ketaudit::pipeline::Progress;

/// Progress bars on stderr.
pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Bars {
    /// Bars are drawn only when stderr is a terminal and not `--quiet`.
    pub fn new(quiet: bool) -> Self {
        use std::io::IsTerminal;
        Bars { bar: Mutex::new(None), enabled: !quiet && std::io::stderr().is_terminal() }
    }
}

impl Progress for Bars {
    fn stage(&self, name: &'static str, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let pb = match total {
            Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        let style = if name == "read+extract" {
            ProgressStyle::with_template("{prefix:>14} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
        } else if total.is_some() {
            ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {per_sec} {eta}")
        } else {
            ProgressStyle::with_template("{prefix:>14} {spinner} {elapsed}")
        };
        if let Ok(s) = style {
            pb.set_style(s.progress_chars("=> "));
        }
        pb.set_prefix(name);
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        *self.bar.lock().unwrap() = Some(pb);
    }
    fn inc(&self, n: u64) {
        if let Some(b) = self.bar.lock().unwrap().as_ref() {
            b.inc(n);
        }
    }
    fn finish(&self) {
        if let Some(b) = self.bar.lock().unwrap().take() {
            b.finish_and_clear();
        }
    }
}

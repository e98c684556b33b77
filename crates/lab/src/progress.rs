//! Progress for steps that take time, on standard error.

use std::time::Instant;

pub struct Step {
    what: String,
    started: Instant,
}

impl Step {
    pub fn start(what: impl Into<String>) -> Step {
        let what = what.into();
        eprintln!("lab: {what} ...");
        Step { what, started: Instant::now() }
    }

    pub fn done(self) {
        eprintln!("lab: {} done ({:.1}s)", self.what, self.started.elapsed().as_secs_f64());
    }
}

//! Cancelling matching that nobody waits for any more.
//!
//! The API runs the engine on a blocking thread ([`crate::api`]'s `off_the_workers`); a
//! request that times out drops its future, but a blocking thread cannot be stopped from
//! outside, so the work used to run to its end and hold its matching slot. Here the caller
//! gives the thread a flag ([`scope`]); the request's drop raises it, and the engine's long
//! loops ([`check`], once per row of a schema matrix) return [`EngineError::Cancelled`] as
//! soon as they see it. The flag is thread-local so that the engine's signatures stay as
//! they are; a loop that hands work to other threads (rayon) takes the flag with it
//! ([`current`]).

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::EngineError;

thread_local! {
    static FLAG: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Runs `f` with `flag` as this thread's cancellation flag (the previous one restored after).
pub fn scope<T>(flag: Arc<AtomicBool>, f: impl FnOnce() -> T) -> T {
    /// Puts the previous flag back however `f` ends (a panic included: the blocking
    /// thread is reused, and must not keep a raised flag for work that never asked for it).
    struct Restore(Option<Arc<AtomicBool>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            FLAG.with(|c| *c.borrow_mut() = prev);
        }
    }
    let _restore = Restore(FLAG.with(|c| c.replace(Some(flag))));
    f()
}

/// This thread's cancellation flag, if it runs in a [`scope`].
pub fn current() -> Option<Arc<AtomicBool>> {
    FLAG.with(|c| c.borrow().clone())
}

/// Whether `flag` is raised.
pub fn raised(flag: Option<&Arc<AtomicBool>>) -> bool {
    flag.is_some_and(|f| f.load(Ordering::Relaxed))
}

/// `Err(Cancelled)` once this thread's flag is raised.
pub fn check() -> Result<(), EngineError> {
    if raised(current().as_ref()) {
        Err(EngineError::Cancelled)
    } else {
        Ok(())
    }
}

/// Raises its flag when dropped, unless disarmed: held by the future that waits for the
/// work, so a timeout (which drops that future) cancels the work.
#[derive(Debug)]
pub struct CancelOnDrop {
    flag: Arc<AtomicBool>,
    armed: bool,
}

impl CancelOnDrop {
    pub fn new(flag: Arc<AtomicBool>) -> Self {
        Self { flag, armed: true }
    }

    /// The work ended: dropping no longer cancels anything.
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.flag.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_guard_cancels_the_scope_and_a_disarmed_one_does_not() {
        let flag = Arc::new(AtomicBool::new(false));
        assert!(check().is_ok(), "no scope, nothing to cancel");
        CancelOnDrop::new(flag.clone()).disarm();
        assert!(scope(flag.clone(), check).is_ok());
        drop(CancelOnDrop::new(flag.clone()));
        assert!(matches!(scope(flag, check), Err(EngineError::Cancelled)));
        assert!(check().is_ok(), "the scope's flag is gone after it");
        let raised = Arc::new(AtomicBool::new(true));
        let panicked = std::panic::catch_unwind(|| scope(raised, || panic!("engine bug")));
        assert!(panicked.is_err());
        assert!(
            check().is_ok(),
            "a panic in the scope leaves no flag behind"
        );
    }
}

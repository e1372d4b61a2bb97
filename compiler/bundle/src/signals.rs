//! SIGINT, SIGTERM and SIGHUP while the output is being written: the temporary folder (which
//! holds key material) is removed before the process ends. While a write is in progress the
//! handler only records the signal; the writer checks it between files, stops, removes its
//! temporary folder, and the signal then ends the process as it would have. Outside a write
//! the signal keeps its default effect. (Plain `libc` calls: the handler only touches atomics
//! and calls the async-signal-safe `signal` and `raise`.)

use crate::error::BundleError;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Once;

static ACTIVE: AtomicUsize = AtomicUsize::new(0);
static RECEIVED: AtomicI32 = AtomicI32::new(0);
static INSTALL: Once = Once::new();
const SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

extern "C" fn on_signal(signal: libc::c_int) {
    RECEIVED.store(signal, Ordering::SeqCst);
    if ACTIVE.load(Ordering::SeqCst) == 0 {
        // SAFETY: both calls are async-signal-safe.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}

fn install() {
    INSTALL.call_once(|| {
        for signal in SIGNALS {
            // SAFETY: installs a handler that only uses atomics and async-signal-safe calls.
            unsafe {
                // A signal ignored by the parent (e.g. `nohup`) stays ignored.
                let previous = libc::signal(signal, on_signal as *const () as libc::sighandler_t);
                if previous == libc::SIG_IGN {
                    libc::signal(signal, libc::SIG_IGN);
                }
            }
        }
    });
}

/// A write in progress: signals are deferred until it is dropped.
pub(crate) struct Active(());

impl Active {
    pub(crate) fn enter() -> Active {
        install();
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        Active(())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        if ACTIVE.fetch_sub(1, Ordering::SeqCst) == 1 {
            let signal = RECEIVED.swap(0, Ordering::SeqCst);
            if signal != 0 {
                // SAFETY: restores the default action and re-raises the deferred signal.
                unsafe {
                    libc::signal(signal, libc::SIG_DFL);
                    libc::raise(signal);
                }
            }
        }
    }
}

/// Fails once a deferred signal has arrived, so the writer stops and cleans up.
pub(crate) fn check() -> Result<(), BundleError> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => Ok(()),
        signal => Err(BundleError::Interrupted(signal)),
    }
}

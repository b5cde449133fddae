//! Network initialisation that depends on its seed alone.
//!
//! burn draws initial weights from one process-wide generator (cubek's, set by
//! `Backend::seed`), and it draws them lazily: a parameter's values are generated when it is
//! first read, not when the module is built. Two trainers built at once in one process — the
//! test harness's threads, a league trained in threads, Python callers — interleave their
//! draws, and the same seed gives different networks. (CI caught exactly this: two Battle
//! Q-learners built with one seed differed while other tests ran beside them.)
//!
//! [`SeededInit`] holds a process-wide lock from seeding until the networks are drawn, and
//! [`SeededInit::draw`] reads every parameter while the lock is held, so nothing is left to be
//! drawn later from whatever state the generator is in then.

use std::sync::{Mutex, MutexGuard};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

static GENERATOR: Mutex<()> = Mutex::new(());

/// burn's generator, seeded and held for one initialisation; released when dropped. Anything
/// that builds burn modules (or calls `Tensor::random`) in a process where trainers are being
/// built should go through it too, or its draws land in theirs.
pub struct SeededInit {
    _held: MutexGuard<'static, ()>,
}

impl SeededInit {
    /// Waits for the generator, then seeds it with `seed`.
    pub fn new(device: &Device, seed: u64) -> SeededInit {
        // A panic elsewhere while holding the lock leaves nothing half-done that matters here:
        // the next holder reseeds.
        let held = GENERATOR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        device.seed(seed);
        SeededInit { _held: held }
    }

    /// `module` with every parameter drawn now, from this seed's stream.
    pub fn draw<M: Module>(&self, module: M) -> M {
        module.visit(&mut DrawAll);
        module
    }
}

/// Reading a lazy parameter generates it.
struct DrawAll;

impl ModuleVisitor for DrawAll {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

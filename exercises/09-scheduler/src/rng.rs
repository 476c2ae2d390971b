// Generated from solutions/09-scheduler/src/rng.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The random numbers that break ties between equally good nodes.
//!
//! kube-scheduler picks uniformly among the best-scored nodes, so that
//! identical nodes share the load. Tests need the same choice every run:
//! the generator is a value passed in, seeded by the caller (a fixed seed
//! in tests, the clock in the binary). SplitMix64: tiny, fast, and good
//! enough for picking among a few nodes.

/// A seeded pseudo-random generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// Seeded from the clock: a different sequence each run.
    pub fn from_time() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Rng::seeded(nanos ^ u64::from(std::process::id()))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

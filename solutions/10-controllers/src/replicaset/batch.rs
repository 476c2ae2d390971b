//! Slow start: creating many pods in growing batches (1, 2, 4, 8...) and
//! stopping at the first batch that has an error. A template the API
//! rejects (a quota, an invalid field) then costs one failed request per
//! sync, not hundreds. Kubernetes: `slowStartBatch` in
//! `pkg/controller/replicaset/replica_set.go`.

use std::future::Future;

/// Kubernetes' `SlowStartInitialBatchSize`.
pub const INITIAL_BATCH: usize = 1;

// ANCHOR: slow_start_batches
/// The batch sizes for `count` calls: `initial`, then each batch twice the
/// one before, the last one cut to what remains; empty for `count` 0.
pub fn slow_start_batches(count: usize, initial: usize) -> Vec<usize> {
    // exercise 3: the batch sizes for `count` calls: `initial` first, then each batch twice the one before, the last one cut to what remains
    // hint: The sizes add up to `count` exactly; `count` 0 gives no batch, and an `initial` of 0 counts as 1.
    // hint: Keep what remains; each step pushes min(size, remaining), subtracts it, and doubles the size.
    // hint: let mut remaining = count; let mut size = initial.max(1).min(remaining); while size > 0 { batches.push(size); remaining -= size; size = (2 * size).min(remaining); }
    let mut batches = Vec::new();
    let mut remaining = count;
    let mut size = initial.max(1).min(remaining);
    while size > 0 {
        batches.push(size);
        remaining -= size;
        size = (2 * size).min(remaining);
    }
    batches
}
// ANCHOR_END: slow_start_batches

/// Runs `call(i)` for `i` in `0..count`, in slow-start batches; the calls
/// of one batch run concurrently. After a batch with an error no further
/// batch starts. Returns how many calls succeeded, and the first error.
pub async fn slow_start<T, E, F, Fut>(count: usize, initial: usize, call: F) -> (Vec<T>, Option<E>)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut done = Vec::new();
    let mut started = 0;
    for size in slow_start_batches(count, initial) {
        let results = futures::future::join_all((started..started + size).map(&call)).await;
        started += size;
        let mut first_error = None;
        for result in results {
            match result {
                Ok(value) => done.push(value),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        if first_error.is_some() {
            return (done, first_error);
        }
    }
    (done, None)
}

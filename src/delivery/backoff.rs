//! When to try a failed send again: exponential backoff with jitter, so that a provider outage
//! does not end in every queued message retrying in the same millisecond.

use std::time::Duration;

/// The wait before attempt `attempt + 1`, given that `attempt` attempts failed (`attempt >= 1`):
/// half of `base * 2^(attempt-1)` (capped at `max`) plus a random share of the other half.
pub fn delay(attempt: u32, base: Duration, max: Duration) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let full = base.saturating_mul(1u32 << exponent).min(max);
    let half = full / 2;
    let jitter_ms = rand::random_range(0..=half.as_millis() as u64);
    half + Duration::from_millis(jitter_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_jitter_and_stops_at_the_cap() {
        let (base, max) = (Duration::from_millis(100), Duration::from_secs(10));
        for _ in 0..200 {
            let first = delay(1, base, max);
            assert!(
                first >= Duration::from_millis(50) && first <= base,
                "{first:?}"
            );
            let fourth = delay(4, base, max);
            assert!(
                fourth >= Duration::from_millis(400) && fourth <= Duration::from_millis(800),
                "{fourth:?}"
            );
            let late = delay(40, base, max);
            assert!(late >= max / 2 && late <= max, "{late:?}");
        }
    }
}

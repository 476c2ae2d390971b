//! The resource quantities of `run --memory` and `--cpu`, written as
//! Kubernetes writes them, read by chapter 06's `Quantity`.

use crate::chapters::objects::Quantity;

/// Bytes: a number with an optional suffix, `Ki Mi Gi Ti` (powers of 1024)
/// or `k M G T` (powers of 1000).
pub fn parse_memory(text: &str) -> Result<u64, String> {
    Quantity::from(text).to_bytes().ok_or_else(|| {
        format!("{text:?} is not a memory size: use bytes or a suffix, like 64Mi or 1Gi")
    })
}

/// Millicores: `500m`, or cores as a number (`1`, `0.25`).
pub fn parse_cpu(text: &str) -> Result<i64, String> {
    Quantity::from(text)
        .to_millis()
        .and_then(|millis| i64::try_from(millis).ok())
        .ok_or_else(|| {
            format!("{text:?} is not a CPU amount: use millicores (250m) or cores (0.5, 2)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory() {
        assert_eq!(parse_memory("64Mi"), Ok(64 << 20));
        assert_eq!(parse_memory("1G"), Ok(1_000_000_000));
        assert_eq!(parse_memory("4096"), Ok(4096));
        assert!(parse_memory("64MB").is_err());
        assert!(parse_memory("-1").is_err());
        assert!(parse_memory("99999999999Ti").is_err());
    }

    #[test]
    fn cpu() {
        assert_eq!(parse_cpu("250m"), Ok(250));
        assert_eq!(parse_cpu("0.5"), Ok(500));
        assert_eq!(parse_cpu("2"), Ok(2000));
        assert!(parse_cpu("fast").is_err());
        assert!(parse_cpu("-1").is_err());
    }
}

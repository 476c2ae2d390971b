//! The resource quantities of `run --memory` and `--cpu`, written as
//! Kubernetes writes them (chapter 06 parses the general form).

/// Bytes: a number with an optional suffix, `Ki Mi Gi Ti` (powers of 1024)
/// or `k M G T` (powers of 1000).
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let units: [(&str, u64); 8] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
    ];
    let (number, factor) = units
        .iter()
        .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|number| (number, *factor)))
        .unwrap_or((text, 1));
    number
        .parse::<u64>()
        .ok()
        .and_then(|value| value.checked_mul(factor))
        .ok_or_else(|| {
            format!("{text:?} is not a memory size: use bytes or a suffix, like 64Mi or 1Gi")
        })
}

/// Millicores: `500m`, or cores as a number (`1`, `0.25`).
pub fn parse_cpu(text: &str) -> Result<i64, String> {
    let error = || format!("{text:?} is not a CPU amount: use millicores (250m) or cores (0.5, 2)");
    if let Some(millis) = text.strip_suffix('m') {
        return millis.parse().map_err(|_| error());
    }
    let cores: f64 = text.parse().map_err(|_| error())?;
    if !cores.is_finite() || cores < 0.0 {
        return Err(error());
    }
    Ok((cores * 1000.0).round() as i64)
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

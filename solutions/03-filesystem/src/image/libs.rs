use std::path::{Path, PathBuf};
use std::process::Command;

use super::ImageError;

/// The shared libraries `program` loads at start, the ELF interpreter
/// (`/lib64/ld-linux-x86-64.so.2`) included, as this host resolves them:
/// an image that holds a dynamic program must hold these too, at the same
/// paths. Empty for a static program.
pub fn shared_libraries(program: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let failed = |reason: String| ImageError::Program {
        path: program.to_path_buf(),
        reason,
    };
    let output = Command::new("ldd")
        .arg(program)
        .env("LC_ALL", "C")
        .output()
        .map_err(|error| {
            failed(format!(
                "cannot run ldd ({error}); it comes with the C library (Debian: libc-bin)"
            ))
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("not a dynamic executable") || stdout.contains("statically linked") {
        return Ok(Vec::new());
    }
    if !output.status.success() {
        return Err(failed(format!("ldd failed: {}", stderr.trim())));
    }
    parse_ldd(&stdout).map_err(failed)
}

/// The library paths in `ldd` output. Its lines look like
///
/// ```text
///     linux-vdso.so.1 (0x00007ffd...)                      (in the kernel: no file)
///     libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)  (a library)
///     /lib64/ld-linux-x86-64.so.2 (0x...)                  (the interpreter)
///     libfoo.so.1 => not found
/// ```
pub fn parse_ldd(output: &str) -> Result<Vec<PathBuf>, String> {
    let mut libraries = Vec::new();
    for line in output.lines().map(str::trim) {
        let path = match line.split_once("=>") {
            Some((library, resolved)) => {
                let resolved = resolved.trim();
                if resolved.starts_with("not found") {
                    return Err(format!(
                        "it needs {}, which this host does not have",
                        library.trim()
                    ));
                }
                resolved
            }
            None => line,
        };
        let path = path.split(" (").next().unwrap_or("").trim();
        if path.starts_with('/') {
            libraries.push(PathBuf::from(path));
        }
    }
    Ok(libraries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_lines() {
        let output = "\tlinux-vdso.so.1 (0x00007ffd5a5e9000)\n\
                      \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0d1c000000)\n\
                      \t/lib64/ld-linux-x86-64.so.2 (0x00007f0d1c3f0000)\n";
        assert_eq!(
            parse_ldd(output).unwrap(),
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
        let missing = "\tlibfoo.so.1 => not found\n";
        assert_eq!(
            parse_ldd(missing).unwrap_err(),
            "it needs libfoo.so.1, which this host does not have"
        );
    }
}

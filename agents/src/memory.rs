//! How much memory the machine has, to refuse a table or buffer that cannot fit before
//! allocating it (an allocation that fails aborts the process).

/// The machine's memory in bytes: `MemTotal` of `/proc/meminfo` where there is one, else
/// 1 TiB (a generous cap that still refuses a buffer no machine holds).
pub(crate) fn machine_memory() -> u64 {
    const FALLBACK: u64 = 1 << 40;
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            kib.checked_mul(1024)
        })
        .unwrap_or(FALLBACK)
}

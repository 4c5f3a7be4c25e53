/// Keeps freed image-sized buffers inside the process for reuse.
///
/// Filters allocate and free many image-sized arrays. glibc serves each allocation above its
/// mmap threshold with a fresh mapping and unmaps it on free, so every buffer pays page faults
/// and page clearing — measured at ~40 % of the default bank's time on a 1 Mpx slice. Raising
/// the mmap and trim thresholds makes freed buffers stay in the heap and be reused. Peak memory
/// is unchanged (the process already touched those pages); memory is returned at exit.
///
/// ``FilterBank`` calls this once on first use; call it yourself before other heavy filtering.
/// It does nothing on platforms other than Linux/glibc.
public enum BufferReuse {
    /// Applies the setting (idempotent, thread-safe).
    public static func enable() { _ = applied }

    private static let applied: Bool = {
        #if os(Linux)
        _ = glibcMallopt(-3, 1 << 30) // M_MMAP_THRESHOLD: 1 GiB
        _ = glibcMallopt(-1, 1 << 30) // M_TRIM_THRESHOLD: 1 GiB
        #endif
        return true
    }()
}

#if os(Linux)
/// glibc's `mallopt` (declared in malloc.h, which the Glibc module does not export).
@_silgen_name("mallopt")
func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

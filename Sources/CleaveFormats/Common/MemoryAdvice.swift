#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back a large fresh buffer with transparent huge pages (Linux).
///
/// Filling a new 32 MB array costs ~8 000 page faults with 4 KB pages — more than the read
/// itself; with 2 MB pages it is a handful. numpy does the same for its large arrays.
enum MemoryAdvice {
    static let hugePage = 2 << 20

    static func preferHugePages(_ base: UnsafeMutableRawPointer, byteCount: Int) {
        #if os(Linux)
        guard byteCount >= 2 * hugePage else { return }
        let start = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
        let end = (Int(bitPattern: base) + byteCount) & ~(hugePage - 1)
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, 14 /* MADV_HUGEPAGE */)
        #endif
    }
}

#if canImport(Glibc)
import Glibc
import CMalloc
#endif

/// Large tables backed by transparent huge pages where the kernel offers them.
///
/// A fresh 264 MB feature table costs 66 000 page faults with 4 KiB pages; on Linux each fault
/// is a trip into the kernel, and on the 4096² sliding-window run they were about 40 % of the
/// CPU time. Advising the kernel to use 2 MiB pages (`MADV_HUGEPAGE`) before the first write
/// makes that 130 faults. The kernel treats the advice as a hint: with
/// `/sys/kernel/mm/transparent_hugepage/enabled` set to `never`, on other systems, or when no
/// huge page is free, memory behaves exactly as before. Values are never affected.
public enum LargeArray {
    /// Buffers smaller than this are left alone (a huge page would be mostly empty).
    public static let adviceThreshold = 2 << 20

    /// False when the environment sets `CLEAVE_NO_HUGEPAGES` (for machines where the kernel's
    /// compaction for huge pages stalls more than the page faults it saves); this also leaves
    /// glibc's allocation thresholds at their defaults (``reuseFreedBuffers()``).
    public static let enabled: Bool = {
        #if os(Linux)
        return getenv("CLEAVE_NO_HUGEPAGES") == nil
        #else
        return false
        #endif
    }()

    /// Keeps freed buffers below 32 MiB, and up to 256 MiB of freed memory, in the process for
    /// reuse instead of handing them back to the kernel (glibc's `M_MMAP_THRESHOLD`,
    /// `M_TRIM_THRESHOLD`). A tile-by-tile job allocates the same few-MB buffers for every tile;
    /// with glibc's adaptive defaults each tile's buffers were fresh pages to fault in again
    /// (the 8-tile grid run: 36 000 → 14 000 faults). Commands that work tile by tile call it
    /// once at start; it never changes results and is a no-op off Linux.
    public static func reuseFreedBuffers() {
        #if os(Linux)
        guard enabled else { return }
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)  // glibc's largest allowed value
        _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)
        #endif
    }

    /// Advises huge pages for the 2 MiB-aligned interior of `byteCount` bytes at `base`.
    /// Call it before the memory is first written; it is a no-op for small buffers and off Linux.
    public static func unsafeAdviseHugePages(_ base: UnsafeMutableRawPointer, byteCount: Int) {
        #if os(Linux)
        guard byteCount >= adviceThreshold, enabled else { return }
        let huge = 2 << 20
        let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
        let end = (Int(bitPattern: base) + byteCount) & ~(huge - 1)
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, 14)  // MADV_HUGEPAGE; failure only means small pages
        #endif
    }
}

extension Array where Element: BitwiseCopyable {
    /// An array of `count` elements that `body` must initialise completely (every element
    /// written), on huge pages when large (see ``LargeArray``).
    @inlinable public init(unsafeUninitializedLargeCount count: Int,
                initializingWith body: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        try self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress {
                LargeArray.unsafeAdviseHugePages(UnsafeMutableRawPointer(base), byteCount: count * MemoryLayout<Element>.stride)
            }
            try body(buffer)
            initialized = count
        }
    }
}

extension Array {
    /// `count` copies of `value`, on huge pages when large (see ``LargeArray``).
    @inlinable public init(largeRepeating value: Element, count: Int) {
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress {
                LargeArray.unsafeAdviseHugePages(UnsafeMutableRawPointer(base), byteCount: count * MemoryLayout<Element>.stride)
            }
            buffer.initialize(repeating: value)
            initialized = count
        }
    }
}

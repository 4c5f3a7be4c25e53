#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The most memory one command (or one server job) may use. Commands estimate their peak from the
/// declared image sizes before they read or allocate anything (see `MemoryEstimate` in
/// CleavePipelines) and refuse work that does not fit with ``MemoryBudgetError``, so a small file
/// that decodes to gigapixels (a decompression bomb, or a header that lies) cannot exhaust the
/// machine.
///
/// The default, ``standard``, is half of the physical memory, or half of the control group's
/// memory limit when that is lower (containers); `CLEAVE_MEMORY_BUDGET` (e.g. `8G`) overrides it,
/// and so does the command line's `--memory-budget`.
public struct MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    /// Bytes that may be allocated at the peak.
    public let bytes: Int

    /// - Precondition: `bytes` > 0.
    public init(bytes: Int) {
        precondition(bytes > 0, "MemoryBudget(bytes:) needs a positive size, got \(bytes)")
        self.bytes = bytes
    }

    /// Parses a size: a number of bytes, or one with a unit K, M, G or T (powers of 1024; `KB`,
    /// `KiB`, `GB`… are read the same way, case-insensitive), e.g. `8G`, `1.5g`, `512MiB`.
    /// Nil for anything else, zero or negative sizes, and sizes beyond 2^62 bytes.
    public init?(parsing text: String) {
        var number = Substring(MemoryBudget.trimmed(text))
        var unit = 1.0
        let units: [(String, Double)] = [("k", 1024), ("m", 1_048_576), ("g", 1_073_741_824), ("t", 1_099_511_627_776)]
        var lower = number.lowercased()
        for suffix in ["ib", "b"] where lower.hasSuffix(suffix) && lower.count > suffix.count {
            lower.removeLast(suffix.count); number = number.dropLast(suffix.count); break
        }
        if let last = lower.last, let (_, factor) = units.first(where: { $0.0 == String(last) }) {
            unit = factor; number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        let total = value * unit
        guard total >= 1, total < Double(1 << 62) else { return nil }
        self.init(bytes: Int(total))
    }

    /// Half of the physical memory (or of a lower control-group limit), unless
    /// `CLEAVE_MEMORY_BUDGET` gives another size.
    public static var standard: MemoryBudget {
        if let text = getenv("CLEAVE_MEMORY_BUDGET").map({ String(cString: $0) }), let budget = MemoryBudget(parsing: text) {
            return budget
        }
        return MemoryBudget(bytes: max(1 << 28, availableMemory() / 2))
    }

    /// The budget commands use unless told otherwise (``standard`` until set; the command line
    /// sets it from `--memory-budget`).
    nonisolated(unsafe) public static var current: MemoryBudget = .standard

    /// Physical memory, or the control group's memory limit when that is lower.
    public static func availableMemory() -> Int {
        var physical = Int.max
        #if canImport(Glibc) || canImport(Darwin)
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0 && size > 0 { physical = pages * size }
        #endif
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let limit = readNumber(path), limit > 0 { physical = min(physical, limit) }
        }
        return physical == Int.max ? 8 << 30 : physical
    }

    private static func readNumber(_ path: String) -> Int? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let text = trimmed(String(cString: buffer))
        return Int(text)  // "max" (no limit) → nil
    }

    private static func trimmed(_ text: String) -> String {
        String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    /// Throws when `bytes` does not fit.
    /// - Parameter what: the work, for the message ("features of a 20000×20000 uint8 image").
    /// - Throws: ``MemoryBudgetError`` with the estimate and the budget.
    public func check(_ bytes: Int, for what: String) throws {
        guard bytes > self.bytes else { return }
        throw MemoryBudgetError(work: what, estimatedBytes: bytes, budgetBytes: self.bytes)
    }

    /// "12.0 GiB" style.
    public var description: String { MemoryBudget.format(bytes) }

    /// Bytes in GiB (2^30, the unit of a `G` in a budget, `free -g` and `ulimit`) with one
    /// decimal, or MiB below 1 GiB.
    public static func format(_ bytes: Int) -> String {
        let value = Double(bytes)
        if value >= Double(1 << 30) { return formatted(value / Double(1 << 30)) + " GiB" }
        return formatted(value / Double(1 << 20)) + " MiB"
    }

    private static func formatted(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// Work that would need more memory than the ``MemoryBudget`` allows; nothing was read or written.
public struct MemoryBudgetError: CleaveErrorProtocol, Equatable {
    /// What was to be done, e.g. "features of /data/big.tif (20000×20000 uint8, 49 features)".
    public let work: String
    /// The estimated peak.
    public let estimatedBytes: Int
    /// The budget it exceeds.
    public let budgetBytes: Int

    public init(work: String, estimatedBytes: Int, budgetBytes: Int) {
        self.work = work; self.estimatedBytes = estimatedBytes; self.budgetBytes = budgetBytes
    }

    public var description: String {
        "\(work) needs about \(MemoryBudget.format(estimatedBytes)) of memory, more than the memory budget of \(MemoryBudget.format(budgetBytes))"
    }
}

import Dispatch

/// The one place Cleave spreads work over threads.
///
/// Work is split into a fixed number of chunks that depends only on the problem size, never on
/// the thread count, so results are identical however many cores run them.
public enum Parallel {
    /// Threads used by ``forEach(_:_:)``; defaults to the active processor count
    /// (or `CLEAVE_THREADS` from the environment). Set to 1 to run serially.
    nonisolated(unsafe) public static var threadCount: Int = {
        if let text = getEnvironment("CLEAVE_THREADS"), let value = Int(text), value >= 1 { return value }
        return max(1, activeProcessorCount())
    }()

    /// Calls `body(i)` for every `i` in `0..<count`, in parallel when `threadCount > 1`.
    /// `body` must only write to state owned by index `i`.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        if threadCount <= 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: count) { i in box.value(i) }
        }
    }

    /// ``forEach(_:_:)`` for work that can fail: every index runs, then the error of the
    /// lowest failing index is thrown (the same error whatever the thread count and timing).
    public static func forEachThrowing(_ count: Int, _ body: (Int) throws -> Void) throws {
        let errors = LowestIndexError()
        forEach(count) { i in
            do { try body(i) } catch { errors.record(error, index: i) }
        }
        if let error = errors.error { throw error }
    }

    /// Splits `0..<total` into `chunkCount` contiguous ranges and runs `body` on each in parallel.
    /// The split depends only on `total` and `chunkCount`.
    public static func forEachChunk(of total: Int, chunkCount: Int, _ body: (Range<Int>) -> Void) {
        guard total > 0 else { return }
        let chunks = max(1, min(chunkCount, total))
        forEach(chunks) { c in
            let start = total * c / chunks
            let end = total * (c + 1) / chunks
            if end > start { body(start..<end) }
        }
    }

    /// A chunk count that keeps every thread busy for a job of `total` items where one item costs
    /// roughly `itemCost` units (1 = a few nanoseconds). Depends on the size only.
    public static func chunkCount(total: Int, minimumPerChunk: Int = 1024) -> Int {
        max(1, min(64, total / max(1, minimumPerChunk)))
    }
}

/// The error of the lowest index that failed in ``Parallel/forEachThrowing(_:_:)``.
private final class LowestIndexError: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var lowest: (index: Int, error: Error)?

    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }

    func record(_ error: Error, index: Int) {
        pthread_mutex_lock(&lock)
        if lowest == nil || index < lowest!.index { lowest = (index, error) }
        pthread_mutex_unlock(&lock)
    }

    var error: Error? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return lowest?.error
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func getEnvironment(_ name: String) -> String? {
    guard let raw = getenv(name) else { return nil }
    return String(cString: raw)
}

func activeProcessorCount() -> Int {
    #if os(Linux)
    return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
    return Int(sysconf(_SC_NPROCESSORS_ONLN))
    #endif
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CleaveCore

/// Wall-clock and process CPU time per phase of a prediction (reading, features, forest, outputs…),
/// summed over blocks and images; `cleave predict --timings` prints them. CPU time counts every
/// thread, so on a busy machine it shows the work done where wall time shows the waiting too.
public final class PredictionTimings: @unchecked Sendable {
    /// The summed time of one named phase.
    public struct Phase: Sendable, Equatable {
        /// The phase, e.g. `read`, `features`, `forest`, `write blocks`.
        public var name: String
        /// Wall-clock seconds, summed over blocks and images.
        public var wallSeconds: Double
        /// Process CPU seconds (all threads), summed over blocks and images.
        public var cpuSeconds: Double
    }

    /// Phases in the order first seen.
    public private(set) var phases: [Phase] = []
    /// Pixels classified (over all images).
    public private(set) var pixelCount = 0

    /// Empty timings; not thread-safe: measure from one thread at a time.
    public init() {}

    /// Runs `body`, adding its wall and CPU time to phase `name`.
    public func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let wall0 = PredictionTimings.clock(CLOCK_MONOTONIC), cpu0 = PredictionTimings.clock(CLOCK_PROCESS_CPUTIME_ID)
        defer {
            let wall = PredictionTimings.clock(CLOCK_MONOTONIC) - wall0
            let cpu = PredictionTimings.clock(CLOCK_PROCESS_CPUTIME_ID) - cpu0
            if let i = phases.firstIndex(where: { $0.name == name }) {
                phases[i].wallSeconds += wall; phases[i].cpuSeconds += cpu
            } else {
                phases.append(Phase(name: name, wallSeconds: wall, cpuSeconds: cpu))
            }
        }
        return try body()
    }

    /// `timings?.measure(name, body)`, or just `body()` without timings.
    static func measure<T>(_ timings: PredictionTimings?, _ name: String, _ body: () throws -> T) rethrows -> T {
        guard let timings else { return try body() }
        return try timings.measure(name, body)
    }

    func addPixels(_ count: Int) { pixelCount += count }

    /// Seconds (wall, CPU) summed over the named phases.
    public func total(_ names: [String]) -> (wall: Double, cpu: Double) {
        let chosen = phases.filter { names.contains($0.name) }
        return (chosen.reduce(0) { $0 + $1.wallSeconds }, chosen.reduce(0) { $0 + $1.cpuSeconds })
    }

    /// A small table: one line per phase (seconds and seconds per megapixel, wall and CPU), then
    /// features + forest per megapixel (what the reference's numbers measure).
    public var report: String {
        let mp = max(Double(pixelCount) / 1e6, 1e-9)
        func f(_ x: Double) -> String {
            let s = String(Int((x * 1000).rounded()))
            let padded = String(repeating: "0", count: max(0, 4 - s.count)) + s
            return String(padded.dropLast(3)) + "." + String(padded.suffix(3))
        }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var lines = ["timings over \(f(mp)) MP: phase, wall s, CPU s, wall s/MP, CPU s/MP"]
        for p in phases {
            lines.append("  " + pad(p.name, 20) + [p.wallSeconds, p.cpuSeconds, p.wallSeconds / mp, p.cpuSeconds / mp].map(f).joined(separator: "  "))
        }
        let core = total(["features", "forest"])
        lines.append("  " + pad("features + forest", 20) + [core.wall, core.cpu, core.wall / mp, core.cpu / mp].map(f).joined(separator: "  "))
        return lines.joined(separator: "\n")
    }

    static func clock(_ id: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(id, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}

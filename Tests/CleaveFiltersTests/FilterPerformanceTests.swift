import Testing
import CleaveCore
import CleaveFilters

/// Timings for bench/filters (run with CLEAVE_BENCH=1 swift test -c release --filter FilterPerformance).
@Suite(.enabled(if: getenv("CLEAVE_BENCH") != nil, "set CLEAVE_BENCH=1 to time the filters"))
struct FilterPerformanceTests {
    static let image: Image<Float> = {
        var generator = SeededGenerator(seed: 7)
        return Image(shape: Shape(width: 1024, height: 1024),
                     pixels: (0..<(1024 * 1024)).map { _ in Float(generator.next(below: 256)) })
    }()

    func time(_ label: String, repeats: Int = 5, _ body: () -> Image<Float>) {
        var best = Duration.seconds(1000)
        var checksum: Float = 0
        for _ in 0..<repeats {
            let clock = ContinuousClock()
            let start = clock.now
            let out = body()
            best = min(best, clock.now - start)
            checksum += out.pixels[out.pixels.count / 2]
        }
        let ms = Double(best.components.attoseconds) / 1e15 + Double(best.components.seconds) * 1000
        print("BENCH \(label): \(ms) ms (threads \(Parallel.threadCount), checksum \(checksum))")
        #expect(checksum.isFinite)
    }

    @Test func gaussian1024() {
        BufferReuse.enable()
        time("gaussian 1024² σ=3.5") { gaussian(Self.image, sigma: 3.5) }
        time("gaussian 1024² σ=1.0") { gaussian(Self.image, sigma: 1.0) }
        time("gaussian 1024² σ=10") { gaussian(Self.image, sigma: 10) }
        time("gaussian 1024² σ=10 x only") { gaussian(Self.image, sigma: Sigma(x: 10, y: 0)) }
        time("gaussian 1024² σ=10 y only") { gaussian(Self.image, sigma: Sigma(x: 0, y: 10)) }
        time("gaussian 1024² σ=3.5 x only") { gaussian(Self.image, sigma: Sigma(x: 3.5, y: 0)) }
        time("gaussian 1024² σ=3.5 y only") { gaussian(Self.image, sigma: Sigma(x: 0, y: 3.5)) }
        time("hessian eigenvalues 1024² σ=3.5") { hessianEigenvalues(Self.image, sigma: Sigma(3.5))[0] }
        time("structure tensor 1024² σ=3.5") { structureTensorEigenvalues(Self.image, inner: Sigma(3.5), outer: Sigma(1.75))[0] }
        time("local max 1024² 15×15") { localMaximum(Self.image, window: WindowSize(15)) }
        time("local std 1024² 15×15") { localStandardDeviation(Self.image, window: WindowSize(15)) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

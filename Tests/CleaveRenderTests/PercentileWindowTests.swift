import Foundation
import Testing
import CleaveCore
import CleaveRender

/// `Display.percentileWindow` by histogram (8/16-bit) and selection (float) gives the window the
/// former sort of the subsample gave, to the bit (issue 24 item 5).
@Suite struct PercentileWindowTests {
    /// The former implementation, kept verbatim as the reference: a sort of the subsample.
    static func sortedWindow<Scalar: PixelScalar>(_ image: Image<Scalar>, low: Double = 0.5, high: Double = 99.5,
                                                  channel: Int = 0) -> ClosedRange<Double> {
        let start = channel * image.shape.channelSize
        let count = image.shape.channelSize
        let step = max(1, count / 1_000_000)
        var values: [Double] = []
        values.reserveCapacity(count / step + 1)
        var i = 0
        while i < count {
            let v = image.pixels[start + i].doubleValue
            if v.isFinite { values.append(v) }
            i += step
        }
        guard !values.isEmpty else { return 0...1 }
        values.sort()
        func at(_ p: Double) -> Double {
            let pos = p / 100 * Double(values.count - 1)
            let lo = Int(pos.rounded(.down)), hi = min(lo + 1, values.count - 1)
            return values[lo] + (values[hi] - values[lo]) * (pos - Double(lo))
        }
        let a = at(low), b = at(high)
        return a < b ? a...b : a...(a + 1)
    }

    /// Same bits, including the sign of a zero bound.
    static func same(_ a: ClosedRange<Double>, _ b: ClosedRange<Double>) -> Bool {
        a.lowerBound.bitPattern == b.lowerBound.bitPattern && a.upperBound.bitPattern == b.upperBound.bitPattern
    }

    static let percentiles: [(Double, Double)] = [(0.5, 99.5), (0, 100), (1, 99), (25, 75), (50, 50), (2.5, 97.5)]

    static func check<Scalar: PixelScalar>(_ image: Image<Scalar>, _ label: String) {
        for channel in 0..<image.channels {
            for (low, high) in percentiles {
                let fast = Display.percentileWindow(image, low: low, high: high, channel: channel)
                let reference = sortedWindow(image, low: low, high: high, channel: channel)
                #expect(same(fast, reference), "\(label) channel \(channel) \(low)–\(high): \(fast) vs sort \(reference)")
            }
        }
    }

    @Test func randomImagesMatchTheSort() {
        var rng = SeededGenerator(seed: 24)
        for (w, h, c) in [(1, 1, 1), (2, 1, 1), (3, 3, 1), (64, 48, 2), (301, 257, 1)] {
            let n = w * h * c, shape = Shape(width: w, height: h, channels: c)
            Self.check(Image(shape: shape, pixels: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }), "u8 \(w)x\(h)x\(c)")
            Self.check(Image(shape: shape, pixels: (0..<n).map { _ in UInt16.random(in: 0...65535, using: &rng) }), "u16 \(w)x\(h)x\(c)")
            Self.check(Image(shape: shape, pixels: (0..<n).map { _ in UInt16.random(in: 1000...1010, using: &rng) }), "u16 ties \(w)x\(h)x\(c)")
            Self.check(Image(shape: shape, pixels: (0..<n).map { _ in Float.random(in: -1e3...1e3, using: &rng) }), "f32 \(w)x\(h)x\(c)")
            Self.check(Image(shape: shape, pixels: (0..<n).map { _ in Float(Int.random(in: -3...3, using: &rng)) }), "f32 ties \(w)x\(h)x\(c)")
        }
    }

    /// Over 1,000,000 samples the window is of every k-th sample, as before.
    @Test func subsampledImagesMatchTheSort() {
        var rng = SeededGenerator(seed: 7)
        let shape = Shape(width: 1500, height: 1400)
        Self.check(Image(shape: shape, pixels: (0..<shape.count).map { _ in UInt16.random(in: 0...4095, using: &rng) }), "u16 2.1M")
        Self.check(Image(shape: shape, pixels: (0..<shape.count).map { _ in Float.random(in: 0...1, using: &rng) }), "f32 2.1M")
    }

    @Test func edgeCasesMatchTheSort() {
        let one = Shape(width: 1, height: 1)
        Self.check(Image(shape: one, pixels: [UInt8(7)]), "one u8 pixel")
        Self.check(Image(shape: one, pixels: [UInt16(65535)]), "one u16 pixel")
        Self.check(Image(shape: one, pixels: [Float(-2.5)]), "one f32 pixel")
        let flat = Shape(width: 40, height: 30)
        Self.check(Image(shape: flat, pixels: [UInt8](repeating: 255, count: flat.count)), "constant u8")
        Self.check(Image(shape: flat, pixels: [UInt16](repeating: 0, count: flat.count)), "constant u16")
        Self.check(Image(shape: flat, pixels: [Float](repeating: 1e-30, count: flat.count)), "constant f32")
        // Signed zeros: a stable sort keeps −0 and +0 in their order, and so does the selection.
        var rng = SeededGenerator(seed: 3)
        for trial in 0..<20 {
            let pixels = (0..<flat.count).map { _ -> Float in
                switch Int.random(in: 0..<4, using: &rng) { case 0: return -0.0; case 1: return 0; default: return Float.random(in: -1...1, using: &rng) }
            }
            Self.check(Image(shape: flat, pixels: pixels), "signed zeros \(trial)")
        }
        Self.check(Image(shape: Shape(width: 4, height: 1), pixels: [Float(-0.0), 0, -0.0, 0]), "only zeros")
        // Non-finite samples are skipped; none finite gives 0…1.
        Self.check(Image(shape: Shape(width: 5, height: 1), pixels: [Float.nan, 2, .infinity, -.infinity, 1]), "non-finite")
        #expect(Display.percentileWindow(Image(shape: Shape(width: 2, height: 1), pixels: [Float.nan, .infinity])) == 0...1)
        Self.check(Image(shape: Shape(width: 3, height: 1), pixels: [Float.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0]), "extremes")
    }

    /// CPU time of the window of a 4096² uint16 image (the first view of a large image), the
    /// former sort against the histogram in one run; printed for `bench/display/run.sh`. Runs
    /// only with CLEAVE_BENCH=1 (timing is no test).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CLEAVE_BENCH"] == "1"))
    func largeImageTiming() {
        var rng = SeededGenerator(seed: 4096)
        let shape = Shape(width: 4096, height: 4096)
        let u16 = Image(shape: shape, pixels: (0..<shape.count).map { _ in UInt16.random(in: 0...65535, using: &rng) })
        let f32 = Image(shape: shape, pixels: (0..<shape.count).map { _ in Float.random(in: 0...1, using: &rng) })
        func cpu() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }
        func time(_ body: () -> ClosedRange<Double>) -> (Double, ClosedRange<Double>) {
            var best = Double.infinity, window = 0.0...1.0
            for _ in 0..<5 { let t = cpu(); window = body(); best = min(best, cpu() - t) }
            return (best, window)
        }
        for (name, fast, sort) in [("uint16", { Display.percentileWindow(u16) }, { Self.sortedWindow(u16) }),
                                   ("float32", { Display.percentileWindow(f32) }, { Self.sortedWindow(f32) })] {
            let (a, wa) = time(fast), (b, wb) = time(sort)
            #expect(Self.same(wa, wb))
            let numbers = String(format: "new %.2f ms, sort %.2f ms, speed-up %.1fx", a * 1000, b * 1000, b / a)
            print("percentileWindow 4096x4096 \(name): \(numbers) (CPU, best of 5; window \(wa))")
        }
    }
}

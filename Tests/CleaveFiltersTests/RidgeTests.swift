import Testing
import CleaveCore
import CleaveFilters

/// `darkRidgeStrength` against scipy: `bench/locator/ridge_reference.py` (scipy.ndimage Gaussian
/// derivatives, truncate 4, mode 'reflect'; ridge = σ²·max(λ₁ − |λ₂|, 0)) on a formula image
/// with a dark Gaussian line (y = 0.6 x + 5, σ 1.2 px, depth 120), a dark blob at (36, 30)
/// (σ 2 px, depth 150), a sine texture and a small integer pattern.
@Suite struct RidgeTests {
    static let image: Image<Float> = {
        let width = 48, height = 40
        var pixels: [Float] = []
        for y in 0..<height {
            for x in 0..<width {
                let fx = Double(x), fy = Double(y)
                let d = Swift.abs(0.6 * fx - fy + 5) / 1.36.squareRoot()
                let r2 = (fx - 36) * (fx - 36) + (fy - 30) * (fy - 30)
                let v = 1000 + 30 * Foundationless.sin(0.37 * fx) * Foundationless.cos(0.23 * fy) + Double((x * 7 + y * 13) % 11) * 2
                    - 120 * Foundationless.exp(-d * d / (2 * 1.2 * 1.2)) - 150 * Foundationless.exp(-r2 / (2 * 2.0 * 2.0))
                pixels.append(Float(v))
            }
        }
        return Image(shape: Shape(width: width, height: height), pixels: pixels)
    }()
    /// (row, column) as in the reference script.
    static let points = [(0, 0), (11, 10), (20, 25), (30, 36), (5, 47), (39, 0), (17, 20), (35, 40)]
    static let reference: [Double: (points: [Double], sum: Double, max: Double)] = [
        1.5: ([2.534528, 41.156059, 45.110359, 14.021544, 1.248829, 0.0, 42.318569, 0.0], 6732.3082, 48.560387),
        3.0: ([0.0, 27.861193, 37.679115, 14.592974, 4.052961, 1.16278, 30.348485, 0.0], 9195.0999, 43.576528),
    ]

    @Test(arguments: [1.5, 3.0])
    func matchesScipy(sigma: Double) throws {
        let ridge = darkRidgeStrength(Self.image, sigma: sigma)
        let expected = try #require(Self.reference[sigma])
        for (i, p) in Self.points.enumerated() {
            let value = Double(ridge.pixels[p.0 * 48 + p.1])
            #expect(Swift.abs(value - expected.points[i]) <= 2e-3 + 1e-4 * expected.points[i], "σ \(sigma) at \(p): \(value) vs \(expected.points[i])")
        }
        let sum = ridge.pixels.reduce(0.0) { $0 + Double($1) }
        #expect(Swift.abs(sum - expected.sum) <= 1e-4 * expected.sum, "sum \(sum)")
        #expect(Swift.abs(Double(ridge.pixels.max()!) - expected.max) <= 1e-3, "max")
        #expect(ridge.pixels.allSatisfy { $0 >= 0 })
    }

    /// Invariants: flat film gives nothing; a one-pixel dark line of contrast 100 gives scipy's
    /// 12.777124 at its centre (the continuum value 100 / (√(2π) σ) = 13.30 within 5 %); a bright
    /// line of the same contrast only answers on its flanks, at scipy's 5.365 (0.42 ×), nothing at its centre.
    @Test func flatFilmDarkAndBrightLines() {
        let width = 64
        func line(depth: Float) -> Image<Float> {
            Image(shape: Shape(width: width, height: width), pixels: (0..<(width * width)).map { i in
                i % width == 32 ? 500 - depth : 500
            })
        }
        #expect(darkRidgeStrength(line(depth: 0), sigma: 3).pixels.allSatisfy { Swift.abs($0) < 1e-3 })
        let dark = darkRidgeStrength(line(depth: 100), sigma: 3).pixels
        #expect(Swift.abs(Double(dark[32 * width + 32]) - 12.777124) <= 1e-3, "\(dark[32 * width + 32])")
        let continuum = 100 / ((2 * Double.pi).squareRoot() * 3)
        #expect(Swift.abs(Double(dark[32 * width + 32]) - continuum) <= 0.05 * continuum)
        #expect(Swift.abs(Double(dark.max()!) - 12.777124) <= 1e-3)
        let bright = darkRidgeStrength(line(depth: -100), sigma: 3).pixels
        #expect(bright[32 * width + 32] < 1e-3 && Swift.abs(Double(bright.max()!) - 5.365001) <= 1e-3, "\(bright.max()!)")
    }
}

extension Foundationless {
    static func exp(_ x: Double) -> Double { _exp(x) }
}

#if canImport(Glibc)
import Glibc
private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#elseif canImport(Darwin)
import Darwin
private func _exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif

import Testing
import Foundation
import CleaveCore
import CleavePipelines

@Suite struct NeuralFlatteningTests {
    /// A two-phase-plus-minor-phase pattern: 16-pixel squares of pore (0) and grain (100), every
    /// fifth column of squares clay (70) where it would be grain.
    static func pattern(width: Int, height: Int) -> [Float] {
        var v = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width where (x / 16 + y / 16) % 2 == 1 {
                v[y * width + x] = (x / 16) % 5 == 0 ? 70 : 100
            }
        }
        return v
    }

    @Test func aSlowGainIsRemovedAndPhaseContrastKept() {
        let (w, h) = (512, 512)
        let clean = Self.pattern(width: w, height: h)
        // The issue's shading: × 0.75 at the top to × 1.25 at the bottom.
        var shaded = clean
        for y in 0..<h { for x in 0..<w { shaded[y * w + x] *= 0.75 + 0.5 * Float(y) / Float(h - 1) } }
        var a = clean, b = shaded
        NeuralFlattening.flatten(&a, width: w, height: h, sigma: 64)
        NeuralFlattening.flatten(&b, width: w, height: h, sigma: 64)
        var worstInterior: Float = 0, worstEdge: Float = 0, grains: [Float] = []
        for y in 0..<h {
            for x in 0..<w where clean[y * w + x] > 0 {
                let d = abs(b[y * w + x] / a[y * w + x] - 1)
                if y >= 128 && y < h - 128 { worstInterior = max(worstInterior, d) } else { worstEdge = max(worstEdge, d) }
                if clean[y * w + x] == 100 { grains.append(b[y * w + x]) }
            }
        }
        // Unflattened, the shaded grains differ from the clean ones by up to 25 %.
        #expect(worstInterior < 0.01, "interior: \(worstInterior)")
        #expect(worstEdge < 0.01, "edge rows: \(worstEdge)") // a plain mean over the cut-off window: 6 %
        // Shaded grains are back at their clean level (the ramp averages 1) and clay keeps its 0.7 ratio.
        let mean = grains.reduce(0, +) / Float(grains.count)
        #expect(abs(mean - 100) < 1, "grain mean \(mean)")
        #expect(abs(a[67 * w + 83] / a[67 * w + 51] - 0.7) < 0.02, "\(a[67 * w + 83] / a[67 * w + 51])") // a clay square and a grain square
        // Pores stay 0.
        #expect(b[0] == 0 && b[17 * w + 17] == 0)
    }

    @Test func aSigmaBeyondThePlaneFitsOnePlaneWideGain() {
        // σ far larger than the plane: blocks of an eighth of its side and one linear gain over the
        // whole plane, which removes the issue's ramp (a wide σ used to fall back to a constant).
        let (w, h) = (256, 256)
        let clean = Self.pattern(width: w, height: h)
        var shaded = clean
        for y in 0..<h { for x in 0..<w { shaded[y * w + x] *= 0.75 + 0.5 * Float(y) / Float(h - 1) } }
        for sigma in [512.0, 10_000] {
            var a = clean, b = shaded
            NeuralFlattening.flatten(&a, width: w, height: h, sigma: sigma)
            NeuralFlattening.flatten(&b, width: w, height: h, sigma: sigma)
            var worst: Float = 0
            for i in clean.indices where clean[i] > 0 { worst = max(worst, abs(b[i] / a[i] - 1)) }
            #expect(worst < 0.02, "σ \(sigma): \(worst)")
            // Grains are back at their level (the ramp averages 1), pores stay 0.
            let grains = zip(b, clean).filter { $0.1 == 100 }.map { $0.0 }
            let mean = grains.reduce(0, +) / Float(grains.count)
            #expect(abs(mean - 100) < 2, "σ \(sigma): grain mean \(mean)")
            #expect(b[0] == 0)
        }
    }

    @Test func aMinorityOfVeryBrightGrainsDoesNotLiftTheIllumination() {
        // Left third: every fourth grain square is dense (250), as sandstone's heavy minerals are.
        // σ = 512: 64-pixel blocks, each holding eight bright 16-pixel squares, two of them dense.
        let (w, h) = (1024, 1024)
        var v = Self.pattern(width: w, height: h)
        for y in 0..<h { for x in 0..<(w / 3) where v[y * w + x] == 100 && (x / 16 + y / 16) % 8 == 1 { v[y * w + x] = 250 } }
        let light = NeuralFlattening.illumination(v, width: w, height: h, sigma: 512)!
        let left = light[512 * w + 100], right = light[512 * w + 900]
        // Bright-half medians see grain on both sides; block means would read the left brighter.
        #expect(abs(left / right - 1) < 0.02, "left \(left), right \(right)")
    }

    @Test func aPlaneWideGainIsKeptAndAnEvenPlaneLeftAlone() {
        let (w, h) = (300, 200)
        var random = SeededGenerator(seed: 5)
        let v = (0..<(w * h)).map { _ in Float(random.nextDouble() * 1000) }
        var a = v, b = v.map { $0 * 2.5 }
        NeuralFlattening.flatten(&a, width: w, height: h, sigma: 40)
        NeuralFlattening.flatten(&b, width: w, height: h, sigma: 40)
        for i in stride(from: 0, to: w * h, by: 97) {
            #expect(abs(b[i] - 2.5 * a[i]) <= 1e-5 * max(1, abs(b[i])))
            // Evenly lit noise: the correction is only the sampling error of the local means.
            #expect(abs(a[i] - v[i]) <= 0.03 * v[i] + 1e-3)
        }
    }

    @Test func degeneratePlanes() {
        // Constant: evenly lit, left as it is.
        var constant = [Float](repeating: 42, count: 50 * 30)
        NeuralFlattening.flatten(&constant, width: 50, height: 30, sigma: 128)
        #expect(constant.allSatisfy { abs($0 - 42) < 1e-4 })
        // More than half at the top value: the top value is the bright half (illumination 200 everywhere).
        let mostlyBright = (0..<100).map { Float($0 < 30 ? 0 : 200) }
        #expect(NeuralFlattening.illumination(mostlyBright, width: 10, height: 10, sigma: 16)!.allSatisfy { abs($0 - 200) < 1e-3 })
        // No positive signal: left as it is.
        let dark = (0..<64).map { -Float($0) }
        var copy = dark
        NeuralFlattening.flatten(&copy, width: 8, height: 8, sigma: 64)
        #expect(copy == dark)
        #expect(NeuralFlattening.illumination(dark, width: 8, height: 8, sigma: 64) == nil)
        // A plane far smaller than σ (grid of one block) still gives finite values.
        var tiny = (0..<35).map { Float($0) }
        NeuralFlattening.flatten(&tiny, width: 7, height: 5, sigma: 500)
        #expect(tiny.enumerated().allSatisfy { abs($0.element - Float($0.offset)) < 1e-4 })
        // … its illumination is the mean of the bright half 18…34 everywhere.
        #expect(NeuralFlattening.illumination((0..<35).map { Float($0) }, width: 7, height: 5, sigma: 500)!.allSatisfy { $0 == 26 })
        // Bright pixels far from the rest: the floor (10 % of the bright-half mean) bounds the quotient.
        var sparse = [Float](repeating: 0, count: 400 * 400)
        sparse[0] = 1000; sparse[399 * 400 + 399] = 1
        let light = NeuralFlattening.illumination(sparse, width: 400, height: 400, sigma: 16)!
        #expect(light.allSatisfy { $0 >= 0.1 * 500.5 - 1e-3 })
    }

    @Test func specRecordsFlatteningAndOldModelsReadWithout() throws {
        let spec = NeuralInputSpec(detectorChannels: 1, slices: 1, windows: [IntensityWindow(low: 0, high: 2)], flattening: 96)
        let decoded = try JSONDecoder().decode(NeuralInputSpec.self, from: JSONEncoder().encode(spec))
        #expect(decoded == spec && decoded.flattening == 96)
        let old = #"{"detectorChannels": 1, "slices": 1, "percentiles": [1, 99], "windows": [{"low": 0, "high": 255}]}"#
        let oldSpec = try JSONDecoder().decode(NeuralInputSpec.self, from: Data(old.utf8))
        #expect(oldSpec.flattening == nil)
    }

    @Test func planeSourceFlattensBeforeTheWindow() throws {
        let (w, h) = (64, 48)
        var raw = Self.pattern(width: w, height: h)
        for y in 0..<h { for x in 0..<w { raw[y * w + x] *= 1 + Float(x) / 64 } }
        let input = PixelClassifierInput(name: "p", image: .float32(Image(shape: Shape(width: w, height: h), pixels: raw)))
        let window = IntensityWindow(low: 0, high: 150)
        let spec = NeuralInputSpec(detectorChannels: 1, slices: 1, windows: [window], flattening: 32)
        let plane = try NeuralPlaneSource(input: input, spec: spec).plane(0)
        var expected = raw
        NeuralFlattening.flatten(&expected, width: w, height: h, sigma: 32)
        for i in stride(from: 0, to: w * h, by: 7) { #expect(abs(plane.values[i] - window.normalized(expected[i])) < 1e-6) }
        // The windows are measured on flattened planes: the 99th percentile is the grain level at
        // the average gain (≈ 150), not the raw brightest grain (≈ 200).
        let windows = try NeuralPlaneSource.measureWindows([(input, [0])], percentiles: [1, 99], flattening: 32)
        #expect(windows[0].high > 135 && windows[0].high < 165 && windows[0].low == 0, "\(windows[0])")
    }
}

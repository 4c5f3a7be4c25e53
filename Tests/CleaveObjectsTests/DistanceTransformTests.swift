import Testing
import CleaveCore
import CleaveObjects

@Suite struct DistanceTransformTests {
    @Test func anisotropic2DMatchesScipy() {
        // scipy: distance_transform_edt(mask, sampling=(2.0, 0.5)) at (3,4) (7,9) (12,20) (19,0)
        //        → 0.5, 0.5, 0.0, 2.5 (mask as in make_synthetic_references.py)
        var mask = [Bool]()
        for y in 0..<20 { for x in 0..<25 { mask.append((x * 7 + y * 13 + (x * y) % 5) % 37 != 0) } }
        let d = DistanceTransform.squaredEuclidean(foreground: mask, shape: Shape(width: 25, height: 20), spacing: (0.5, 2.0, 1))
        let expected: [((Int, Int), Double)] = [((3, 4), 0.5), ((7, 9), 0.5), ((12, 20), 0), ((19, 0), 2.5)]
        for ((row, column), value) in expected {
            #expect(abs(d[row * 25 + column].squareRoot() - value) < 1e-12)
        }
    }

    @Test func anisotropic3DMatchesScipy() {
        // scipy: sampling=(3.0, 1.0, 0.5) at (2,1,0) (3,4,5) (5,7,8) (0,0,0) → 1.0, 2.061552812809, 3.5, 0.0
        var mask = [Bool]()
        for z in 0..<6 { for y in 0..<8 { for x in 0..<9 { mask.append((x * 7 + y * 13 + z * 5 + (x * y * z) % 7) % 41 != 0) } } }
        let d = DistanceTransform.squaredEuclidean(foreground: mask, shape: Shape(width: 9, height: 8, depth: 6), spacing: (0.5, 1.0, 3.0))
        let expected: [((Int, Int, Int), Double)] = [((2, 1, 0), 1.0), ((3, 4, 5), 2.061552812809), ((5, 7, 8), 3.5), ((0, 0, 0), 0)]
        for ((z, y, x), value) in expected {
            #expect(abs(d[(z * 8 + y) * 9 + x].squareRoot() - value) < 1e-9)
        }
    }

    @Test func bruteForceAgreesOnRandomMask() {
        var rng = SeededGenerator(seed: 7)
        let w = 37, h = 23
        let mask = (0..<(w * h)).map { _ in rng.nextDouble() > 0.08 }
        let d = DistanceTransform.squaredEuclidean(foreground: mask, shape: Shape(width: w, height: h), spacing: (1.5, 1, 1))
        for i in stride(from: 0, to: w * h, by: 7) {
            var best = Double.infinity
            for j in 0..<(w * h) where !mask[j] {
                let dx = Double(i % w - j % w) * 1.5, dy = Double(i / w - j / w)
                best = min(best, dx * dx + dy * dy)
            }
            #expect(abs(d[i] - best) < 1e-9)
        }
    }
}

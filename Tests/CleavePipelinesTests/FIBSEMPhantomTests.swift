import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleaveTestSupport
import CleavePipelines

@Suite struct FIBSEMPhantomTests {
    @Test func sameSeedSameVoxelsAndPlausiblePhases() throws {
        let options = FIBSEMPhantom.Options(width: 96, height: 80, depth: 10, seed: 5)
        let a = try FIBSEMPhantom.generate(options)
        let b = try FIBSEMPhantom.generate(options)
        #expect(a.labels == b.labels && a.detectors == b.detectors)
        let c = try FIBSEMPhantom.generate(FIBSEMPhantom.Options(width: 96, height: 80, depth: 10, seed: 6))
        #expect(c.labels != a.labels)
        #expect(a.detectors.count == 2 && a.detectors[0].shape == Shape(width: 96, height: 80, depth: 10))
        // Every phase is present in plausible amounts (fractions of the volume).
        var counts = [Int](repeating: 0, count: 5)
        for v in a.labels.pixels { counts[Int(v)] += 1 }
        let fractions = counts.map { Double($0) / Double(a.labels.pixels.count) }
        #expect(counts[0] == 0)
        #expect(fractions[1] > 0.02 && fractions[1] < 0.25, "pore \(fractions[1])")
        #expect(fractions[2] > 0.3, "matrix \(fractions[2])")
        #expect(fractions[3] > 0.08 && fractions[3] < 0.5, "grain \(fractions[3])")
        #expect(fractions[4] > 0.002 && fractions[4] < 0.06, "inclusion \(fractions[4])")
        // Training labels: the truth on planes depth/4, depth/2, 3·depth/4, zero elsewhere.
        #expect(options.trainingPlanes == [2, 5, 7])
        let training = a.trainingLabels
        let n = 96 * 80
        for z in 0..<10 {
            let plane = training.pixels[(z * n)..<((z + 1) * n)]
            if [2, 5, 7].contains(z) {
                #expect(Array(plane) == Array(a.labels.pixels[(z * n)..<((z + 1) * n)]))
            } else {
                #expect(plane.allSatisfy { $0 == 0 })
            }
        }
    }

    @Test func detectorsDisagreeOnGrainVersusMatrix() throws {
        let p = try FIBSEMPhantom.generate(FIBSEMPhantom.Options(width: 128, height: 128, depth: 6, seed: 2, curtaining: 0, noise: 0, shading: 0))
        func mean(_ detector: Int, _ label: UInt8) -> Double {
            var sum = 0.0, count = 0
            for (i, v) in p.labels.pixels.enumerated() where v == label { sum += Double(p.detectors[detector].pixels[i]); count += 1 }
            return sum / Double(count)
        }
        // In-lens: grains slightly brighter than matrix; back-scatter: clearly darker.
        #expect(mean(0, 3) > mean(0, 2))
        #expect(mean(1, 3) < mean(1, 2) - 0.1 * 40000)
        #expect(mean(0, 4) > mean(0, 3) && mean(0, 1) < mean(0, 2))
    }

    @Test func curtainingIsAPerColumnOffsetGrowingDownwards() throws {
        let base = FIBSEMPhantom.Options(width: 256, height: 64, depth: 2, seed: 9, curtaining: 0, noise: 0, shading: 0)
        var curtained = base
        curtained.curtaining = 1
        let a = try FIBSEMPhantom.generate(base), b = try FIBSEMPhantom.generate(curtained)
        let shape = a.labels.shape
        var bottomOffsets: [Double] = []
        for x in 0..<shape.width {
            var ratios: [Double] = []
            for y in 0..<shape.height {
                let i = shape.index(column: x, row: y, plane: 1)
                let d = (Double(b.detectors[0].pixels[i]) - Double(a.detectors[0].pixels[i])) / 40000
                let growth = 0.3 + 0.7 * Double(y) / Double(shape.height - 1)
                ratios.append(d / growth)
                if y == shape.height - 1 { bottomOffsets.append(d) }
            }
            // Constant along the column up to the 16-bit rounding (±1/40000 each, / 0.3 at the top).
            let spread = ratios.max()! - ratios.min()!
            #expect(spread < 2.0 / 40000 / 0.3 + 1e-9, "column \(x): spread \(spread)")
        }
        let mean = bottomOffsets.reduce(0, +) / Double(bottomOffsets.count)
        let std = (bottomOffsets.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(bottomOffsets.count)).squareRoot()
        // σ = 0.08 at the bottom row (256 columns: sample std within ~±15 %).
        #expect(abs(std - FIBSEMPhantom.curtainSigma) < 0.015, "std \(std)")
    }

    @Test func writesTheFilesTheTrainingCommandReads() throws {
        let dir = TestData.scratchDirectory("fibsem-phantom")
        let p = try FIBSEMPhantom.generate(FIBSEMPhantom.Options(width: 48, height: 40, depth: 4, seed: 1))
        try p.write(to: dir)
        let d1 = try ImageFile.read(dir + "/detector1.tif")
        #expect(d1.shape == Shape(width: 48, height: 40, depth: 4) && d1.pixelType == .uint16)
        let truth = try ImageFile.read(dir + "/truth/labels.tif")
        #expect(truth.converted(to: UInt8.self) == p.labels)
        let classes = try PixelClassList.read(path: dir + "/classes.csv")
        #expect(classes.map(\.name) == FIBSEMPhantom.classNames && classes.map(\.value) == [1, 2, 3, 4])
    }
}

import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleaveTestSupport
import CleavePipelines

/// The streamed FIB-SEM generator: blocks are independent of how the volume is cut, the volume
/// is the same for any chunk size and thread count, and the phases and detectors look like the
/// in-memory phantom's.
@Suite(.serialized) struct FIBSEMVolumeTests {
    @Test func blocksDoNotDependOnHowTheVolumeIsCut() throws {
        let volume = try FIBSEMVolume(FIBSEMVolume.Options(width: 150, height: 120, depth: 30, seed: 9))
        let whole = Region(x: 0, y: 0, z: 0, width: 150, height: 120, depth: 30)
        let all = volume.block(whole)
        for part in [Region(x: 37, y: 50, z: 11, width: 41, height: 29, depth: 7), Region(x: 0, y: 0, z: 0, width: 3, height: 120, depth: 1),
                     Region(x: 149, y: 119, z: 29, width: 1, height: 1, depth: 1)] {
            let block = volume.block(part)
            #expect(block.labels.pixels == all.labels.cropped(to: part).pixels, "\(part)")
            #expect(block.detectors.pixels == all.detectors.cropped(to: part).pixels, "\(part)")
        }
        #expect(all.detectors.shape == Shape(width: 150, height: 120, depth: 30, channels: 2))
        // Phases in the phantom's proportions; the detectors order the phases as the phantom's levels say.
        var counts = [Int](repeating: 0, count: 5)
        var sums = [[Double]](repeating: [0, 0, 0, 0, 0], count: 2)
        let n = all.labels.pixels.count
        for (i, v) in all.labels.pixels.enumerated() {
            counts[Int(v)] += 1
            for d in 0..<2 { sums[d][Int(v)] += Double(all.detectors.pixels[d * n + i]) }
        }
        let fractions = counts.map { Double($0) / Double(n) }
        #expect(counts[0] == 0)
        #expect(fractions[1] > 0.02 && fractions[1] < 0.25, "pore \(fractions[1])")
        #expect(fractions[2] > 0.3, "matrix \(fractions[2])")
        #expect(fractions[3] > 0.05 && fractions[3] < 0.5, "grain \(fractions[3])")
        #expect(fractions[4] > 0.002 && fractions[4] < 0.08, "inclusion \(fractions[4])")
        let means = (0..<2).map { d in (1...4).map { sums[d][$0] / Double(max(1, counts[$0])) } }
        #expect(means[0][0] < means[0][1] && means[0][1] < means[0][2] && means[0][2] < means[0][3], "in-lens \(means[0])")
        #expect(means[1][0] < means[1][2] && means[1][2] < means[1][1] && means[1][1] < means[1][3], "back-scatter \(means[1])")
        // Another seed, another volume.
        let other = try FIBSEMVolume(FIBSEMVolume.Options(width: 150, height: 120, depth: 30, seed: 10)).block(whole)
        #expect(other.labels.pixels != all.labels.pixels)
    }

    @Test func writtenVolumeIsTheSameForAnyChunkSizeAndThreadCount() throws {
        let dir = TestData.scratchDirectory("fibsem-volume")
        let options = FIBSEMVolume.Options(width: 100, height: 70, depth: 13, seed: 4, channels: 2)
        let volume = try FIBSEMVolume(options)
        let threads = Parallel.threadCount
        defer { Parallel.threadCount = threads }
        var images: [(AnyImage, AnyImage)] = []
        for (i, (chunk, threadCount)) in [((4, 32, 32), 1), ((5, 16, 64), 3), ((13, 70, 100), 2)].enumerated() {
            Parallel.threadCount = threadCount
            let path = "\(dir)/v\(i).ome.zarr"
            let summary = try volume.write(to: path, zarr: OMEZarrWriteOptions(version: i == 1 ? .v05 : .v04, chunkX: chunk.2, chunkY: chunk.1, chunkZ: chunk.0))
            #expect(summary.phaseCounts.reduce(0, +) == 100 * 70 * 13)
            let image = try OMEZarrImage.open(path)
            #expect(image.shape == Shape(width: 100, height: 70, depth: 13, channels: 2))
            #expect(image.spacing == Spacing(x: 5, y: 5, z: 10, unit: "nm"))
            #expect(image.labelNames == ["truth"])
            images.append((try image.read(), try image.labels("truth").read()))
        }
        let reference = volume.block(Region(x: 0, y: 0, z: 0, width: 100, height: 70, depth: 13))
        for (detectors, truth) in images {
            guard case .uint16(let d) = detectors, case .uint8(let t) = truth else { Issue.record("types"); continue }
            #expect(d.pixels == reference.detectors.pixels)
            #expect(t.pixels == reference.labels.pixels)
        }
    }

    @Test func invalidSizesAreRefused() throws {
        for options in [FIBSEMVolume.Options(width: 0, height: 10, depth: 10), FIBSEMVolume.Options(width: 10, height: 10, depth: 10, channels: 3),
                        FIBSEMVolume.Options(width: 1 << 20, height: 1 << 20, depth: 1 << 20)] {
            #expect(throws: SampleError.self) { try FIBSEMVolume(options) }
        }
    }
}

import Testing
import Foundation
import CleaveCore
import CleaveNeural
import CleaveTestSupport
import CleavePipelines
import CleaveRender

@Suite struct NeuralPipelineTests {
    @Test func slicesAreMirroredAtTheStackEnds() {
        #expect([-2, -1, 0, 4, 5, 6].map { NeuralInputSpec.reflectedPlane($0, depth: 5) } == [2, 1, 0, 4, 3, 2])
        #expect(NeuralInputSpec.reflectedPlane(3, depth: 1) == 0)
        #expect(NeuralInputSpec.reflectedPlane(-1, depth: 2) == 1)
    }

    @Test func planeSourceStacksDetectorsTimesSlicesNormalized() throws {
        // Two channels, 3 planes, 2×2 pixels; value = 100·channel + 10·plane + pixel.
        var pixels: [UInt16] = []
        for c in 0..<2 { for z in 0..<3 { for p in 0..<4 { pixels.append(UInt16(100 * c + 10 * z + p)) } } }
        let image = Image(shape: Shape(width: 2, height: 2, depth: 3, channels: 2), pixels: pixels)
        let input = PixelClassifierInput(name: "x", image: .uint16(image))
        let spec = NeuralInputSpec(detectorChannels: 2, slices: 3, windows: [IntensityWindow(low: 0, high: 20), IntensityWindow(low: 100, high: 140)])
        let plane = try NeuralPlaneSource(input: input, spec: spec).plane(0)
        #expect(plane.channels == 6)
        // Channel 0 = detector 0 plane −1 → mirrored plane 1 (value 10 → 2·10/20 − 1 = 0).
        #expect(plane.values[0] == 0)
        #expect(plane.values[4] == -1)           // detector 0, plane 0, pixel 0: 0 → −1
        #expect(plane.values[8] == 0)            // detector 0, plane 1
        let d1Mirrored: Float = plane.values[12], d1Pixel3: Float = plane.values[19]
        #expect(abs(d1Mirrored + 0.5) < 1e-6)    // detector 1, mirrored plane 1: 110 → 2·10/40 − 1
        #expect(abs(d1Pixel3 + 0.85) < 1e-6)     // detector 1, plane 0, pixel 3: 103 → 2·3/40 − 1
        // A single image cannot feed a 3-slice model.
        let flat = PixelClassifierInput(name: "one.tif", image: .uint16(Image(shape: Shape(width: 2, height: 2, channels: 2), repeating: 1)))
        #expect(throws: NeuralError.self) { try NeuralPlaneSource(input: flat, spec: spec) }
        do { _ = try NeuralPlaneSource(input: flat, spec: spec) } catch {
            #expect("\(error)".contains("one.tif") && "\(error)".contains("3 neighbouring slices"))
        }
    }

    @Test func flipsAndRotationsMoveImageAndLabelsTogether() {
        let side = 6
        var random = SeededGenerator(seed: 3)
        for _ in 0..<20 {
            var patch = NeuralPlane(channels: 2, width: side, height: side,
                                    values: (0..<(2 * side * side)).map { Float($0 % (side * side)) })
            var labels = (0..<(side * side)).map { Int32($0) }
            NeuralAugmentation.geometric.apply(to: &patch, labels: &labels, slices: 1, random: &random)
            for i in 0..<(side * side) {
                #expect(patch.values[i] == Float(labels[i]) && patch.values[side * side + i] == Float(labels[i]))
            }
            #expect(Set(labels).count == side * side) // a permutation
        }
        // Four quarter turns are the identity; a flip twice too.
        var values = (0..<(side * side)).map { $0 }
        let original = values
        for _ in 0..<4 { NeuralAugmentation.transform(&values, channels: 1, side: side, flip: false, turns: 1) }
        #expect(values == original)
        NeuralAugmentation.transform(&values, channels: 1, side: side, flip: true, turns: 0)
        #expect(values[0] == side - 1)
        NeuralAugmentation.transform(&values, channels: 1, side: side, flip: true, turns: 0)
        #expect(values == original)
        // One counter-clockwise turn: the top-right corner goes to the top-left.
        NeuralAugmentation.transform(&values, channels: 1, side: side, flip: false, turns: 1)
        #expect(values[0] == side - 1)
    }

    @Test func curtainingAddsColumnOffsetsThatScaleAlongTheColumns() {
        var curtains = NeuralAugmentation.none
        curtains.curtaining = true
        curtains.probability = 1
        let side = 32
        var random = SeededGenerator(seed: 11)
        var fired = 0
        for _ in 0..<10 {
            var patch = NeuralPlane(channels: 1, width: side, height: side, values: [Float](repeating: 0.25, count: side * side))
            var labels = [Int32](repeating: 1, count: side * side)
            curtains.apply(to: &patch, labels: &labels, slices: 1, random: &random)
            #expect(labels.allSatisfy { $0 == 1 })
            // offset(x, y) = o(x) · g(y): the ratio of any two rows is the same for every column.
            let top = (0..<side).map { patch.values[$0] - 0.25 }, bottom = (0..<side).map { patch.values[(side - 1) * side + $0] - 0.25 }
            guard let reference = (0..<side).first(where: { abs(top[$0]) > 1e-3 }) else { continue }
            fired += 1
            let ratio = bottom[reference] / top[reference]
            for x in 0..<side where abs(top[x]) > 1e-3 { #expect(abs(bottom[x] / top[x] - ratio) < 1e-3 * max(1, abs(ratio))) }
            #expect(ratio > 0 && ratio != 1)
        }
        #expect(fired >= 8)
    }

    @Test func intensityAugmentationLeavesLabelsAndKeepsStatisticsSane() {
        var random = SeededGenerator(seed: 2)
        var patch = NeuralPlane(channels: 3, width: 16, height: 16, values: (0..<(3 * 256)).map { Float($0 % 7) / 3 - 1 })
        var labels = (0..<256).map { Int32($0 % 4) }
        let before = labels
        var intensityOnly = NeuralAugmentation(flips: false, rotations: false, probability: 1)
        intensityOnly.curtaining = true
        intensityOnly.apply(to: &patch, labels: &labels, slices: 3, random: &random)
        #expect(labels == before)
        #expect(patch.values.allSatisfy { $0.isFinite && abs($0) < 5 })
    }

    @Test func blendingWeightsSumToOneAndTilesEqualTheWholePlane() throws {
        // Forward: channel 0 = 3×3 box sum of the input with zeros outside the tile; channel 1 = 1.
        func box(_ t: Tensor) -> Tensor {
            var out = Tensor(batch: 1, channels: 2, height: t.height, width: t.width)
            for y in 0..<t.height {
                for x in 0..<t.width {
                    var s: Float = 0
                    for dy in -1...1 { for dx in -1...1 where y + dy >= 0 && y + dy < t.height && x + dx >= 0 && x + dx < t.width {
                        s += t[0, 0, y + dy, x + dx]
                    } }
                    out[0, 0, y, x] = s
                    out[0, 1, y, x] = 1
                }
            }
            return out
        }
        var random = SeededGenerator(seed: 4)
        let plane = NeuralPlane(channels: 1, width: 70, height: 45, values: (0..<(70 * 45)).map { _ in Float(random.nextDouble()) })
        let whole = NeuralTiling(tileSize: 1024, overlap: 0, halo: 0).probabilities(of: plane, classCount: 2, multiple: 4, forward: box)
        var tiles = 0
        let tiled = NeuralTiling(tileSize: 16, overlap: 4, halo: 4).probabilities(of: plane, classCount: 2, multiple: 4) { t in
            tiles += 1
            return box(t)
        }
        #expect(tiles == 6 * 4)
        let n = 70 * 45
        var worst: Float = 0
        for i in 0..<n {
            #expect(abs(tiled[n + i] - 1) < 1e-5)
            worst = max(worst, abs(tiled[i] - whole[i]))
        }
        #expect(worst < 1e-4, "largest difference \(worst)")
        // Without a halo the tile edges see zeros, so the results differ there — the halo matters.
        let noHalo = NeuralTiling(tileSize: 16, overlap: 4, halo: 0).probabilities(of: plane, classCount: 2, multiple: 4, forward: box)
        #expect(zip(noHalo[0..<n], whole[0..<n]).contains { abs($0 - $1) > 1e-3 })
    }

    static func denseExample(width: Int = 64, height: Int = 64, labelled: (Int, Int) -> Int32) -> NeuralTrainingSet.Example {
        var random = SeededGenerator(seed: 1)
        let image = Image(shape: Shape(width: width, height: height), pixels: (0..<(width * height)).map { _ in UInt8(random.next(below: 256)) })
        var labels = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width { labels[y * width + x] = UInt8(labelled(x, y)) } }
        return NeuralTrainingSet.Example(input: PixelClassifierInput(name: "img.tif", image: .uint8(image)),
                                         labels: .uint8(Image(shape: Shape(width: width, height: height), pixels: labels)), labelsName: "labels.tif")
    }

    @Test func validationIsTheBottomQuarterOfDenseLabels() throws {
        let example = Self.denseExample { x, _ in x < 32 ? 1 : 2 }
        let set = try NeuralTrainingSet([example], classes: nil, slices: 1)
        #expect(set.classes.map(\.value) == [1, 2])
        #expect(set.training.count == 1 && set.validation.count == 1)
        #expect(set.training[0].plane.height == 48 && set.validation[0].plane.height == 16)
        #expect(set.trainingCounts == [48 * 32, 48 * 32] && set.validationCounts == [16 * 32, 16 * 32])
        #expect(set.spec.windows.count == 1 && set.spec.windows[0].low < set.spec.windows[0].high)
        // sqrt class weights of equal classes are 1.
        #expect(set.classWeights(.sqrt) == [1, 1])
        // A batch: labels only where labelled, inputs finite.
        var random = SeededGenerator(seed: 0)
        let batch = set.batch(size: 3, side: 32, augmentation: NeuralAugmentation(), random: &random)
        #expect(batch.inputs.count == 3 * 32 * 32 && batch.labels.count == 3 * 32 * 32)
        #expect(batch.labels.allSatisfy { $0 >= -1 && $0 <= 1 } && batch.labels.contains(0) && batch.labels.contains(1))
        #expect(batch.inputs.allSatisfy { $0.isFinite })
        // Same random state, same batch.
        var again = SeededGenerator(seed: 0)
        #expect(set.batch(size: 3, side: 32, augmentation: NeuralAugmentation(), random: &again).inputs == batch.inputs)
    }

    @Test func badTrainingInputGivesOneLineErrors() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        // Too few labelled pixels for a validation split.
        let sparse = Self.denseExample { x, y in (y == 10 && x < 20) ? 1 : (y == 50 && x < 20 ? 2 : 0) }
        let few = message { _ = try NeuralTrainingSet([sparse], classes: nil, slices: 1) }
        #expect(few.contains("too few") && few.contains("set `validationFraction` to 0") && !few.contains("--") && !few.contains("\n"))
        // …but fine without validation.
        #expect(try NeuralTrainingSet([sparse], classes: nil, slices: 1, validationFraction: 0).validation.isEmpty)
        // A class of the list without labels.
        let dense = Self.denseExample { x, _ in x < 32 ? 1 : 2 }
        let classes = [PixelClass(value: 1, name: "pore", colour: RGB(0, 0, 255)),
                       PixelClass(value: 2, name: "grain", colour: RGB(255, 0, 0)),
                       PixelClass(value: 3, name: "clay", colour: RGB(0, 255, 0))]
        let absent = message { _ = try NeuralTrainingSet([dense], classes: classes, slices: 1) }
        #expect(absent.contains("3=clay") && absent.contains("no labelled pixels"))
        // A label value outside the list.
        let stray = message { _ = try NeuralTrainingSet([dense], classes: Array(classes[0..<1]) + [classes[2]], slices: 1) }
        #expect(stray.contains("label value 2"))
        // Slices beyond the stack.
        let slices = message { _ = try NeuralTrainingSet([dense], classes: nil, slices: 3) }
        #expect(slices.contains("img.tif") && slices.contains("1 plane"))
        // One class only.
        let one = message { _ = try NeuralTrainingSet([Self.denseExample { _, _ in 1 }], classes: nil, slices: 1) }
        #expect(one.contains("only one class"))
    }
}

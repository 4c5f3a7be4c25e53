import CleaveCore

/// A labelled area of one plane: normalised network input and class indices (−1 = unlabelled).
public struct LabelledCrop: Sendable {
    /// "<labels name> plane z rows a..<b".
    public var name: String
    /// Normalised network input of the crop's rows (the whole plane when validation is held out in blocks).
    public var plane: NeuralPlane
    /// Class index per pixel (into the model's classes), −1 where unlabelled.
    public var labels: [Int32]
    /// Labelled pixels per class.
    public var counts: [Int]
}

/// Training and validation data for a U-Net: labelled planes cut into a training part and a
/// spatially separate validation part, plus patch sampling.
///
/// **Split**: in every labelled plane, the rows are cut where `1 − validationFraction` of that
/// plane's labelled pixels lie above; the rows below are validation (for dense labels: the bottom
/// quarter). Training patches never see validation labels.
///
/// **Patches**: half of the patch centres are a labelled pixel of a class chosen uniformly
/// (so rare classes are seen), half a labelled pixel chosen uniformly; the centre is jittered by
/// up to a quarter patch. Outside the crop the image is mirrored and the labels are ignored.
public struct NeuralTrainingSet: Sendable {
    /// A training image with its label image (0 = unlabelled, other values = classes) — the same
    /// pair the random forest trains on.
    public typealias Example = PixelClassifier.TrainingExample

    /// Fewest labelled pixels the validation part (and the training part) must hold.
    public static let minimumSplitPixels = 200

    /// The classes, in model order (crop labels index into it).
    public let classes: [PixelClass]
    /// How planes were normalised (windows measured on the training images).
    public let spec: NeuralInputSpec
    /// Crops the training patches are drawn from.
    public let training: [LabelledCrop]
    /// Crops the validation scores are computed on; their labelled pixels are never training pixels.
    public let validation: [LabelledCrop]
    /// Per class: codes `crop << 32 | pixel` of the labelled training pixels.
    let positions: [[Int]]

    /// Labelled training pixels per class.
    public var trainingCounts: [Int] { positions.map(\.count) }
    /// Labelled validation pixels per class.
    public var validationCounts: [Int] {
        validation.reduce(into: [Int](repeating: 0, count: classes.count)) { sum, crop in
            for k in 0..<classes.count { sum[k] += crop.counts[k] }
        }
    }

    /// The first validation row of one labelled plane: the rows from it to the bottom hold
    /// `round(fraction × labelled pixels)` labels or just more (whole rows); `height` when
    /// `fraction` is 0. `labels` is the plane's label values, row-major, 0 = unlabelled.
    /// `cleave train --method auto` scores the forest on the same rows.
    public static func validationSplitRow(_ labels: [Int32], width: Int, height: Int, fraction: Double) -> Int {
        precondition(labels.count == width * height, "validationSplitRow: \(labels.count) labels for \(width) × \(height)")
        var split = height
        guard fraction > 0 else { return split }
        let total = labels.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        let wanted = Int((Double(total) * fraction).rounded())
        var below = 0
        while split > 0 && below < wanted {
            split -= 1
            for x in 0..<width where labels[split * width + x] != 0 { below += 1 }
        }
        return split
    }

    /// Where the held-out labels of a plane lie.
    public enum ValidationSplit: Sendable, Equatable {
        /// The bottom rows (``validationSplitRow(_:width:height:fraction:)``): one compact region,
        /// far from most training labels. `cleave train --method unet`.
        case bottomRows
        /// Every m-th square block of `side` pixels in a diagonal lattice (block (bx, by) is held
        /// out when bx ≡ by mod m, m = round(1 / fraction)), so the held-out labels are spread
        /// over the whole plane, every block row and block column: layered samples, whose classes follow the rows, are then
        /// held out fairly. `cleave train --method auto`.
        case blocks(side: Int)
    }

    /// Which pixels of one labelled plane are held out (true) under `split`.
    public static func validationMask(_ labels: [Int32], width: Int, height: Int, fraction: Double,
                                      split: ValidationSplit) -> [Bool] {
        var mask = [Bool](repeating: false, count: width * height)
        guard fraction > 0 else { return mask }
        switch split {
        case .bottomRows:
            let row = validationSplitRow(labels, width: width, height: height, fraction: fraction)
            for p in (row * width)..<(width * height) { mask[p] = true }
        case .blocks(let side):
            precondition(side >= 1, "validationMask: block side \(side)")
            let m = max(2, Int((1 / fraction).rounded()))
            for y in 0..<height {
                for x in 0..<width where (x / side) % m == (y / side) % m { mask[y * width + x] = true }
            }
        }
        return mask
    }

    /// Reads the labelled planes of `examples`.
    /// - Parameters:
    ///   - classes: the class list (nil: every label value found, with default names).
    ///   - slices: neighbouring slices per detector (1, 3, 5).
    ///   - validationFraction: share of each plane's labelled pixels held out (0 = none).
    /// - Throws: ``NeuralError`` for mismatched sizes, label values outside the class list, classes
    ///   without labelled pixels, fewer than two classes, slices beyond the stack, or too few
    ///   labelled pixels for the validation split.
    public init(_ examples: [Example], classes requested: [PixelClass]?, slices: Int, validationFraction: Double = 0.25,
                percentiles: [Double] = [1, 99], flattening: Double? = nil, split splitKind: ValidationSplit = .bottomRows) throws {
        guard let first = examples.first else { throw NeuralError.noTrainingImages }
        guard validationFraction >= 0 && validationFraction < 0.9 else {
            throw NeuralError.invalidOption(field: "validationFraction", value: "\(validationFraction)", reason: "must be in [0, 0.9)")
        }
        let channels = first.input.channelCount
        var labelPlanes: [(example: Int, z: Int, values: [Int32])] = []
        var found = Set<Int32>()
        for (e, example) in examples.enumerated() {
            let shape = example.input.spatialShape
            guard example.input.channelCount == channels else {
                throw NeuralError.unusableInput(source: example.input.name, reason: "has \(example.input.channelCount) channels, but \(first.input.name) has \(channels); every training image needs the same channels")
            }
            guard example.labels.shape.singleChannel == shape, example.labels.shape.channels == 1 else {
                throw NeuralError.unusableInput(source: example.labelsName, reason: "label image is \(example.labels.shape), but \(example.input.name) is \(shape); they must match")
            }
            try NeuralInputSpec.checkSlices(slices, depth: shape.depth, source: example.input.name)
            let values = try PixelClassifier.labelValues(example.labels, name: example.labelsName)
            for z in 0..<shape.depth {
                let plane = Array(values[(z * shape.planeSize)..<((z + 1) * shape.planeSize)])
                var any = false
                for v in plane where v != 0 { found.insert(v); any = true }
                if any { labelPlanes.append((e, z, plane)) }
            }
        }
        guard !labelPlanes.isEmpty else { throw NeuralError.unusableLabels(source: examples.map(\.labelsName).joined(separator: ", "), reason: "no labelled pixels (0 means unlabelled)") }
        let classList: [PixelClass]
        if let requested {
            let known = Set(requested.map(\.value))
            if let stray = found.subtracting(known).sorted().first {
                throw NeuralError.unusableLabels(source: examples.map(\.labelsName).joined(separator: ", "), reason: "label value \(stray) is not in the class list \(requested.map(\.description).joined(separator: ", "))")
            }
            if let missing = requested.first(where: { !found.contains($0.value) }) {
                throw NeuralError.unusableLabels(source: nil, reason: "class \(missing) has no labelled pixels in \(examples.map(\.labelsName).joined(separator: ", ")); label it or leave it out of the class list")
            }
            classList = requested.sorted { $0.value < $1.value }
        } else {
            classList = found.sorted().enumerated().map { PixelClass.unnamed($1, position: $0) }
        }
        guard classList.count >= 2 else {
            throw NeuralError.unusableLabels(source: examples.map(\.labelsName).joined(separator: ", "), reason: "only one class (\(classList[0])) is labelled; a classifier needs at least two")
        }
        var index: [Int32: Int32] = [:]
        for (i, c) in classList.enumerated() { index[c.value] = Int32(i) }
        let K = classList.count

        let windows = try NeuralPlaneSource.measureWindows(
            examples.indices.map { e in (examples[e].input, labelPlanes.filter { $0.example == e }.map(\.z)) }, percentiles: percentiles,
            flattening: flattening)
        let spec = NeuralInputSpec(detectorChannels: channels, slices: slices, percentiles: percentiles, windows: windows,
                                   flattening: flattening)

        var training: [LabelledCrop] = [], validation: [LabelledCrop] = []
        var positions = [[Int]](repeating: [], count: K)
        for e in examples.indices {
            let planes = labelPlanes.filter { $0.example == e }
            guard !planes.isEmpty else { continue }
            let source = try NeuralPlaneSource(input: examples[e].input, spec: spec)
            let shape = examples[e].input.spatialShape
            for (_, z, values) in planes {
                let classIndices = values.map { $0 == 0 ? Int32(-1) : index[$0]! }
                let split = NeuralTrainingSet.validationSplitRow(values, width: shape.width, height: shape.height,
                                                                 fraction: validationFraction)
                let plane = try source.plane(z)
                func crop(_ rows: Range<Int>, _ part: String) -> LabelledCrop {
                    let labels = Array(classIndices[(rows.lowerBound * shape.width)..<(rows.upperBound * shape.width)])
                    var counts = [Int](repeating: 0, count: K)
                    for v in labels where v >= 0 { counts[Int(v)] += 1 }
                    return LabelledCrop(name: "\(examples[e].labelsName) plane \(z) rows \(rows.lowerBound)..<\(rows.upperBound) (\(part))",
                                        plane: plane.rows(rows), labels: labels, counts: counts)
                }
                if case .blocks = splitKind, validationFraction > 0 {
                    // The whole plane twice: training labels where the lattice keeps them, validation labels elsewhere.
                    let held = NeuralTrainingSet.validationMask(values, width: shape.width, height: shape.height,
                                                                fraction: validationFraction, split: splitKind)
                    var part = crop(0..<shape.height, "training blocks")
                    var other = part
                    other.name = "\(examples[e].labelsName) plane \(z) (validation blocks)"
                    for p in held.indices { if held[p] { part.labels[p] = -1 } else { other.labels[p] = -1 } }
                    part.counts = (0..<K).map { k in part.labels.reduce(0) { $0 + ($1 == Int32(k) ? 1 : 0) } }
                    other.counts = (0..<K).map { k in other.labels.reduce(0) { $0 + ($1 == Int32(k) ? 1 : 0) } }
                    let c = training.count
                    for (p, v) in part.labels.enumerated() where v >= 0 { positions[Int(v)].append(c << 32 | p) }
                    training.append(part)
                    validation.append(other)
                    continue
                }
                if split > 0 {
                    let part = crop(0..<split, "training")
                    let c = training.count
                    for (p, v) in part.labels.enumerated() where v >= 0 { positions[Int(v)].append(c << 32 | p) }
                    training.append(part)
                }
                if split < shape.height { validation.append(crop(split..<shape.height, "validation")) }
            }
        }
        let trainingTotal = positions.reduce(0) { $0 + $1.count }
        let validationTotal = validation.reduce(0) { $0 + $1.counts.reduce(0, +) }
        let allLabelled = trainingTotal + validationTotal
        if validationFraction > 0 && (validationTotal < NeuralTrainingSet.minimumSplitPixels || trainingTotal < NeuralTrainingSet.minimumSplitPixels) {
            throw NeuralError.unusableLabels(source: examples.map(\.labelsName).joined(separator: ", "), reason: "\(allLabelled) labelled pixels are too few for a \(Int(validationFraction * 100)) % validation split (each part needs at least \(NeuralTrainingSet.minimumSplitPixels)); label more or set `validationFraction` to 0")
        }
        if trainingTotal == 0 { throw NeuralError.unusableLabels(source: examples.map(\.labelsName).joined(separator: ", "), reason: "no labelled pixels left for training") }
        self.classes = classList
        self.spec = spec
        self.training = training
        self.validation = validation
        self.positions = positions
    }

    /// Per-class loss weights from the training label counts: `none` → 1; `balanced` → N / (K·n_c);
    /// `sqrt` → its square root; scaled so the labelled pixels' mean weight is 1 and clipped to 0.05…20.
    public func classWeights(_ mode: NeuralClassWeighting) -> [Float] {
        let counts = trainingCounts.map { Double(max(1, $0)) }
        let total = counts.reduce(0, +), K = Double(counts.count)
        var weights: [Double]
        switch mode {
        case .none: return [Float](repeating: 1, count: counts.count)
        case .balanced: weights = counts.map { total / (K * $0) }
        case .sqrt: weights = counts.map { (total / (K * $0)).squareRoot() }
        }
        let mean = zip(weights, counts).reduce(0) { $0 + $1.0 * $1.1 } / total
        return weights.map { Float(min(20, max(0.05, $0 / mean))) }
    }

    /// A batch of augmented training patches: inputs `batch × C × side × side` and labels
    /// `batch × side × side` (class indices, −1 = ignore). Deterministic for a given random state.
    public func batch(size: Int, side: Int, augmentation: NeuralAugmentation, random: inout SeededGenerator) -> (inputs: [Float], labels: [Int32]) {
        let C = spec.networkChannels
        var inputs = [Float](repeating: 0, count: size * C * side * side)
        var labels = [Int32](repeating: -1, count: size * side * side)
        let present = positions.indices.filter { !positions[$0].isEmpty }
        let total = positions.reduce(0) { $0 + $1.count }
        for b in 0..<size {
            var k: Int
            if random.next(below: 2) == 0 {
                k = present[random.next(below: present.count)]
            } else {
                var r = random.next(below: total)
                k = 0
                while r >= positions[k].count { r -= positions[k].count; k += 1 }
            }
            let code = positions[k][random.next(below: positions[k].count)]
            let crop = training[code >> 32]
            let pixel = code & 0xFFFF_FFFF
            let cx = pixel % crop.plane.width, cy = pixel / crop.plane.width
            let jitter = max(1, side / 4)
            let ox = cx - side / 2 + random.next(below: 2 * jitter + 1) - jitter
            let oy = cy - side / 2 + random.next(below: 2 * jitter + 1) - jitter
            var patch = NeuralPlane(channels: C, width: side, height: side, values: [Float](repeating: 0, count: C * side * side))
            var patchLabels = [Int32](repeating: -1, count: side * side)
            let w = crop.plane.width, h = crop.plane.height
            for y in 0..<side {
                let sy = oy + y
                let ry = NeuralInputSpec.reflectedPlane(sy, depth: h)
                for x in 0..<side {
                    let sx = ox + x
                    let rx = NeuralInputSpec.reflectedPlane(sx, depth: w)
                    for c in 0..<C { patch.values[(c * side + y) * side + x] = crop.plane.values[(c * h + ry) * w + rx] }
                    if sx >= 0 && sx < w && sy >= 0 && sy < h { patchLabels[y * side + x] = crop.labels[sy * w + sx] }
                }
            }
            augmentation.apply(to: &patch, labels: &patchLabels, slices: spec.slices, random: &random)
            inputs.replaceSubrange((b * C * side * side)..<((b + 1) * C * side * side), with: patch.values)
            labels.replaceSubrange((b * side * side)..<((b + 1) * side * side), with: patchLabels)
        }
        return (inputs, labels)
    }
}

/// How the loss weights classes (see ``NeuralTrainingSet/classWeights(_:)``).
public enum NeuralClassWeighting: String, Codable, Sendable, CaseIterable {
    case none, sqrt, balanced
}

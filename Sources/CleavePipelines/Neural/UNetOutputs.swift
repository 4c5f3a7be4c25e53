import Foundation
import CleaveCore
import CleaveFormats
import CleaveRender
import CleaveNeural

/// Writes the outputs of a U-Net for one image — the same files as the random forest's
/// ``PixelClassificationOutputs``: `<stem>-labels.tif` (training label values),
/// `<stem>-probabilities.tif` (float32, one page per class, class-major over planes),
/// `<stem>-uncertainty.tif` (1 − (p_first − p_second)) and `<stem>-overlay.png` (middle plane).
///
/// Stacks are processed plane by plane (each plane with its neighbouring slices); the float outputs
/// are streamed to disk, so memory holds the input, the labels and one plane of probabilities.
/// Files appear complete or not at all.
public enum UNetOutputs {
    /// Classifies `input` and writes its outputs; returns the class areas.
    /// - Throws: ``NeuralError`` when the input does not fit the model; ``PipelineFileError`` when a file cannot be written.
    /// - Complexity: ``UNetSegmenter/probabilities(_:)`` once per plane, O(classes × pixels) to write;
    ///   memory: the input, the labels and one plane of probabilities.
    public static func write(_ input: PixelClassifierInput, model: UNetSegmenterModel, segmenter: UNetSegmenter,
                             directory: String, stem: String, options: PixelClassificationOutputOptions = PixelClassificationOutputOptions(),
                             progress: CleaveCore.Progress = .silent) throws -> ClassFractions {
        let shape = input.spatialShape
        let source = try NeuralPlaneSource(input: input, spec: model.input)
        let classes = model.classes
        let K = classes.count
        let names = classes.map { "\($0.value)=\($0.name)" }.joined(separator: ", ")
        let base = (directory as NSString).appendingPathComponent(stem)
        let probabilityWriter = options.probabilities
            ? try FloatPageWriter(path: base + "-probabilities.tif", width: shape.width, height: shape.height, pageCount: K * shape.depth,
                                  description: "Cleave \(cleaveVersion) U-Net class probabilities, one page per class (class-major over planes): \(names)")
            : nil
        let uncertaintyWriter = options.uncertainty
            ? try FloatPageWriter(path: base + "-uncertainty.tif", width: shape.width, height: shape.height, pageCount: shape.depth,
                                  description: "Cleave \(cleaveVersion) uncertainty 1 - (p_first - p_second)")
            : nil
        var indices = [UInt8](repeating: 0, count: shape.count)
        var counts = [Int](repeating: 0, count: K)
        let n = shape.planeSize
        progress.report(0, shape.depth, "U-Net \(input.name)")
        for z in 0..<shape.depth {
            let probabilities = segmenter.probabilities(try source.plane(z))
            let summary = summarise(probabilities, classCount: K, pixelCount: n)
            for p in 0..<n {
                indices[z * n + p] = UInt8(summary.indices[p])
                counts[Int(summary.indices[p])] += 1
            }
            try summary.uncertainty.withUnsafeBufferPointer { u in
                for y in 0..<shape.height {
                    try uncertaintyWriter?.write(page: z, row: y, column: 0, values: UnsafeBufferPointer(rebasing: u[(y * shape.width)..<((y + 1) * shape.width)]))
                }
            }
            try probabilities.withUnsafeBufferPointer { pr in
                for k in 0..<K {
                    for y in 0..<shape.height {
                        let start = k * n + y * shape.width
                        try probabilityWriter?.write(page: k * shape.depth + z, row: y, column: 0,
                                                     values: UnsafeBufferPointer(rebasing: pr[start..<(start + shape.width)]))
                    }
                }
            }
            progress.report(z + 1, shape.depth, "U-Net \(input.name)")
        }

        try input.writeLabelsAndOverlay(indices: &indices, classes: classes, base: base, overlay: options.overlay) {
            try probabilityWriter?.finish()
            try uncertaintyWriter?.finish()
        }
        return ClassFractions(image: input.name, classes: classes, pixelCounts: counts, spacing: input.spacing,
                              isVolume: shape.depth > 1, estimatedPrior: nil)
    }

    /// Most probable class and 1 − (p_first − p_second) per pixel of class-major probabilities.
    public static func summarise(_ probabilities: [Float], classCount K: Int, pixelCount n: Int) -> (indices: [Int32], uncertainty: [Float]) {
        var indices = [Int32](repeating: 0, count: n)
        var uncertainty = [Float](repeating: 0, count: n)
        for p in 0..<n {
            var first: Float = -1, second: Float = -1
            var best = 0
            for k in 0..<K {
                let v = probabilities[k * n + p]
                if v > first { second = first; first = v; best = k } else if v > second { second = v }
            }
            indices[p] = Int32(best)
            uncertainty[p] = 1 - (first - max(0, second))
        }
        return (indices, uncertainty)
    }

    /// The U-Net's labels (class values), class-major probabilities and uncertainty over `region`
    /// (x, y, width, height and the planes z..<z+depth), in memory — the workbench's prediction.
    /// Every plane is classified whole, so a region equals the same crop of a whole-image result.
    /// - Throws: ``NeuralError`` when the input does not fit the model or the region the image.
    /// - Complexity: every plane of the region classified whole (``UNetSegmenter/probabilities(_:)``),
    ///   so the cost is that of the region's planes, not of the region's pixels.
    public static func predict(_ input: PixelClassifierInput, model: UNetSegmenterModel, segmenter: UNetSegmenter,
                               region: Region, progress: CleaveCore.Progress = .silent) throws -> PixelPrediction {
        let shape = input.spatialShape
        guard region.x >= 0, region.y >= 0, region.z >= 0, region.width >= 1, region.height >= 1, region.depth >= 1,
              region.x + region.width <= shape.width, region.y + region.height <= shape.height, region.z + region.depth <= shape.depth else {
            throw NeuralError.regionOutside(region: "\(region)", image: "\(shape.width)x\(shape.height)x\(shape.depth)")
        }
        let source = try NeuralPlaneSource(input: input, spec: model.input)
        let K = model.classes.count, n = shape.planeSize, m = region.width * region.height
        let values = model.classes.map(\.value)
        var labels = [Int32](repeating: 0, count: m * region.depth)
        var uncertainty = [Float](repeating: 0, count: m * region.depth)
        var probabilities = [Float](repeating: 0, count: K * m * region.depth)
        for dz in 0..<region.depth {
            progress.report(dz, region.depth, "U-Net \(input.name)")
            let all = segmenter.probabilities(try source.plane(region.z + dz))
            let summary = summarise(all, classCount: K, pixelCount: n)
            for y in 0..<region.height {
                for x in 0..<region.width {
                    let source = (region.y + y) * shape.width + region.x + x, target = dz * m + y * region.width + x
                    labels[target] = values[Int(summary.indices[source])]
                    uncertainty[target] = summary.uncertainty[source]
                    for k in 0..<K { probabilities[(k * region.depth + dz) * m + y * region.width + x] = all[k * n + source] }
                }
            }
        }
        progress.report(region.depth, region.depth, "U-Net \(input.name)")
        return PixelPrediction(shape: Shape(width: region.width, height: region.height, depth: region.depth), labels: labels,
                               probabilities: probabilities, uncertainty: uncertainty)
    }

    /// Label values (the model's class values) of a whole input, in memory — for tests and the
    /// experiment mode.
    public static func predictLabels(_ input: PixelClassifierInput, model: UNetSegmenterModel, segmenter: UNetSegmenter,
                                     planes: [Int]? = nil) throws -> [Int: [Int32]] {
        let source = try NeuralPlaneSource(input: input, spec: model.input)
        let n = input.spatialShape.planeSize
        var out: [Int: [Int32]] = [:]
        for z in planes ?? Array(0..<input.spatialShape.depth) {
            let summary = summarise(segmenter.probabilities(try source.plane(z)), classCount: model.classes.count, pixelCount: n)
            out[z] = summary.indices.map { model.classes[Int($0)].value }
        }
        return out
    }
}

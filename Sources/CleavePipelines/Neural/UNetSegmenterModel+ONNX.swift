import CleaveCore
import CleaveNeural
import Foundation

extension UNetSegmenterModel {
    /// What `cleave export` writes and why (see ``writeONNX(to:testData:)``).
    public struct ONNXExportSummary: Sendable {
        /// The ONNX file written.
        public var path: String
        /// Size of the ONNX file in bytes.
        public var bytes: Int
        /// The test-data folder, when written.
        public var testData: String?
        /// Side of the square test input.
        public var testSide: Int?
    }

    /// Metadata written into the ONNX file (`metadata_props`): what a tool needs to feed the
    /// network the way Cleave does, and to name its outputs.
    public var onnxMetadata: [(key: String, value: String)] {
        func json<T: Encodable>(_ value: T) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? ""
        }
        let flattening = input.flattening.map {
            "every detector plane is first multiplied by (plane-average illumination / local illumination), the illumination "
                + "being a Gaussian-weighted (σ = \(String(format: "%g", $0)) px) local linear fit of the medians of the "
                + "plane's pixels above its median in blocks of σ/8 pixels (an eighth of the shorter side, at least 8, when σ exceeds it), "
                + "interpolated and extrapolated bilinearly from the block centres (Cleave's NeuralFlattening); then "
        } ?? ""
        return [
            ("cleave.kind", UNetSegmenterModel.kindTag),
            ("cleave.version", cleaveVersion),
            ("cleave.input", "input channels are detector-major: detector d, slice s is channel d·slices + s; "
                + flattening + "each detector is normalised as 2·(v − low)/(high − low) − 1 with its window; "
                + "height and width must be multiples of \(architecture.sizeMultiple)"),
            ("cleave.detectors", String(input.detectorChannels)),
            ("cleave.slices", String(input.slices)),
            ("cleave.windows", json(input.windows)),
            ("cleave.flattening", input.flattening.map { String(format: "%g", $0) } ?? "none"),
            ("cleave.classes", json(classes)),
            ("cleave.output", "logits and probabilities: N × \(classes.count) × H × W, channel c is class cleave.classes[c]"),
        ]
    }

    /// Writes the network as an ONNX model (opset 17) to `path`; with `testData`, also an ONNX
    /// test case in that folder (`input_0.pb`, `output_0.pb` logits, `output_1.pb` probabilities:
    /// a seeded random input and Cleave's own output for it), the layout ONNX's backend test
    /// runner reads, so any runtime can be checked against Cleave.
    /// - Throws: ``UNetError`` when the weights do not fit the architecture, ``PipelineFileError`` when a file cannot be written.
    @discardableResult
    public func writeONNX(to path: String, testData: String? = nil) throws -> ONNXExportSummary {
        let bytes = try ONNXExport.model(weights, metadata: onnxMetadata, producerVersion: cleaveVersion)
        var summary = ONNXExportSummary(path: path, bytes: bytes.count)
        if let testData {
            let side = architecture.sizeMultiple * max(1, 64 / architecture.sizeMultiple)
            let channels = architecture.inputChannels
            var random = SeededGenerator(seed: 20_261_124)
            let values = (0..<(channels * side * side)).map { _ in Float(2 * random.nextDouble() - 1) }
            let network = try UNet(weights: weights)
            let logits = network.forward(Tensor(batch: 1, channels: channels, height: side, width: side, storage: values),
                                         training: false)
            let probabilities = UNetSegmenterModel.softmax(logits.storage, classes: architecture.classes, pixels: side * side)
            try FileManager.default.createDirectory(atPath: testData, withIntermediateDirectories: true)
            let dims = { (c: Int) in [1, c, side, side] }
            try AtomicFile.write(Data(ONNXExport.tensor(name: "input", dims: dims(channels), values: values)),
                                 to: testData + "/input_0.pb")
            try AtomicFile.write(Data(ONNXExport.tensor(name: "logits", dims: dims(architecture.classes), values: logits.storage)),
                                 to: testData + "/output_0.pb")
            try AtomicFile.write(Data(ONNXExport.tensor(name: "probabilities", dims: dims(architecture.classes), values: probabilities)),
                                 to: testData + "/output_1.pb")
            summary.testData = testData
            summary.testSide = side
        }
        try AtomicFile.write(Data(bytes), to: path)
        return summary
    }

    /// Softmax over the class axis of class-major logits (one image).
    static func softmax(_ logits: [Float], classes: Int, pixels: Int) -> [Float] {
        var out = [Float](repeating: 0, count: logits.count)
        for p in 0..<pixels {
            var largest = -Float.infinity
            for c in 0..<classes { largest = max(largest, logits[c * pixels + p]) }
            var sum: Float = 0
            for c in 0..<classes {
                let e = expf(logits[c * pixels + p] - largest)
                out[c * pixels + p] = e
                sum += e
            }
            for c in 0..<classes { out[c * pixels + p] /= sum }
        }
        return out
    }
}

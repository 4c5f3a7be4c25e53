import ArgumentParser
import CleaveCore
import CleavePipelines
import Foundation

/// `cleave export --model unet.json --onnx unet.onnx`: a trained U-Net for other tools.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a trained U-Net to ONNX, so it runs in onnxruntime and other tools.",
        discussion: """
        Writes the inference network of a `cleave train --method unet` model as an ONNX file \
        (opset 17): input "input" (N × channels × H × W, float32, H and W multiples of \
        2^(depth−1)), outputs "logits" and "probabilities" (N × classes × H × W). Batch norm uses \
        its running statistics; dropout is left out, as at inference.

        The network expects normalised input, as Cleave feeds it: each detector plane divided by \
        its illumination relative to the plane's average when the model flattens (σ in \
        "cleave.flattening", method in "cleave.input"; see cleave train --flatten-sigma), then scaled by \
        its intensity window, 2·(v − low)/(high − low) − 1, neighbouring slices as extra channels. The windows, slice count and class names/colours \
        are written into the file's metadata (metadata_props "cleave.windows", "cleave.slices", \
        "cleave.classes").

        --test-data DIR also writes an ONNX test case (input_0.pb, output_0.pb = logits, \
        output_1.pb = probabilities): a seeded random input and Cleave's own output for it, so \
        any runtime can be checked against Cleave.

        Random-forest models cannot be exported: their filter-bank features are computed outside \
        the forest.

        Examples:
          cleave export --model unet.json --onnx unet.onnx
          cleave export --model unet.json --onnx unet.onnx --test-data unet-test
        """)

    @Option(name: .long, help: "A U-Net model file from `cleave train --method unet`.")
    var model: String

    @Option(name: .long, help: "Output ONNX file (.onnx).")
    var onnx: String

    @Option(name: .customLong("test-data"), help: "Also write an ONNX test case (input and Cleave's outputs) to this folder.")
    var testData: String?

    func validate() throws {
        if !onnx.lowercased().hasSuffix(".onnx") {
            throw ValidationError("--onnx '\(onnx)' should end in .onnx.")
        }
    }

    func run() throws {
        switch try ModelFileKind.detect(path: model) {
        case .unet: break
        case .randomForest:
            throw CleaveError("\(model) is a random-forest pixel classifier; only U-Net models (cleave train --method unet) can be exported to ONNX.")
        case .unknown(let kind):
            throw CleaveError("\(model) is not a Cleave model file (kind \(kind.map { "'\($0)'" } ?? "missing")).")
        }
        let unet = try UNetSegmenterModel.read(path: model)
        let summary = try unet.writeONNX(to: onnx, testData: testData)
        print("wrote \(summary.path) (\(summary.bytes) bytes; \(unet.architecture.inputChannels) input channels, \(unet.classes.count) classes)")
        if let dir = summary.testData, let side = summary.testSide {
            print("wrote test case \(dir)/input_0.pb (1 × \(unet.architecture.inputChannels) × \(side) × \(side)), output_0.pb (logits), output_1.pb (probabilities)")
        }
    }
}

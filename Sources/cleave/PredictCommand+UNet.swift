import ArgumentParser
import Foundation
import CleaveCore
import CleaveFormats
import CleavePipelines

extension PredictCommand {
    /// `cleave predict` with a U-Net model.
    func runUNet() throws {
        let network = try UNetSegmenterModel.read(path: model)
        for spec in images {
            let paths = spec.split(separator: ",").map(String.init)
            let infos = try paths.map { try ImageFile.info($0) }
            try network.check(channels: infos.reduce(0) { $0 + $1.channels }, depth: infos[0].depth, source: spec)
            if PredictCommand.isVolume(spec) { continue } // block by block: memory follows the planes of one block
            // Read whole (not streamed); the network's activations are per tile.
            try MemoryEstimate.check(MemoryEstimate.predict(infos.map(MemoryEstimate.Size.init), featureCount: 4 * network.architecture.baseWidth,
                                                            blockSize: tile ?? blockSize), for: "predict on \(spec) (\(MemoryEstimate.Size(infos[0])))")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var options = PixelClassificationOutputOptions()
        options.probabilities = !noProbabilities
        options.uncertainty = !noUncertainty
        options.overlay = !noOverlay
        var segmenter = try UNetSegmenter(model: network, tileSize: tile ?? blockSize, overlap: 32, halo: halo)
        segmenter.views = views
        let progress = ProgressBar.make()
        var fractions: [ClassFractions] = []
        var stems = Set<String>()
        let start = Date()
        let share = try blocks.map { try BlockShare(parsing: $0) }
        for spec in images {
            let unique = PredictCommand.uniqueStem(spec, &stems)
            if PredictCommand.isVolume(spec) {
                if let result = try predictVolume(spec, method: .unet(network, segmenter), stem: unique, share: share, progress: progress) {
                    fractions.append(result)
                }
                continue
            }
            let input = try readInput(spec)
            let result = try UNetOutputs.write(input, model: network, segmenter: segmenter, directory: out, stem: unique,
                                               options: options, progress: progress)
            fractions.append(result)
            print("\(spec): " + zip(result.classes, result.percents).map { "\($0.name) " + String(format: "%.2f%%", $1) }.joined(separator: ", "))
        }
        if share != nil { return }
        try PixelClassificationOutputs.writeFractions(fractions, to: (out as NSString).appendingPathComponent("class-fractions.csv"))
        print("wrote \(images.count) image(s) to \(out) in " + String(format: "%.2f s", Date().timeIntervalSince(start)))
    }
}

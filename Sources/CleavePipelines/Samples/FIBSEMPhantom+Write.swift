import CleaveCore
import CleaveFormats
import Foundation

extension FIBSEMPhantom {
    /// The files ``write(to:)`` creates, relative to the output folder.
    public static let fileNames = (detectors: ["detector1.tif", "detector2.tif"], trainingLabels: "train-labels.tif",
                                   truth: "truth/labels.tif", classes: "classes.csv", summary: "truth/truth.json")

    /// Writes `detector1.tif`, `detector2.tif` (16-bit stacks), `train-labels.tif` (8-bit: the truth
    /// on the training planes, 0 elsewhere), `classes.csv`, `truth/labels.tif` and `truth/truth.json`.
    /// - Throws: ``PipelineFileError`` when the folder or a file cannot be written.
    public func write(to directory: String) throws {
        do { try FileManager.default.createDirectory(atPath: directory + "/truth", withIntermediateDirectories: true) } catch {
            throw PipelineFileError.cannotCreateFolder(path: directory, field: "out", reason: error.localizedDescription)
        }
        let names = FIBSEMPhantom.fileNames
        for (image, name) in zip(detectors, names.detectors) { try ImageFile.write(image, to: "\(directory)/\(name)") }
        try ImageFile.write(trainingLabels, to: "\(directory)/\(names.trainingLabels)")
        try ImageFile.write(labels, to: "\(directory)/\(names.truth)")
        var csv = "value,name\n"
        for (i, name) in FIBSEMPhantom.classNames.enumerated() { csv += "\(i + 1),\(name)\n" }
        try Data(csv.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(names.classes)"))
        var counts = [Int](repeating: 0, count: 4)
        for v in labels.pixels { counts[Int(v) - 1] += 1 }
        let summary: [String: Any] = [
            "generator": "cleave sample --kind fibsem", "cleave_version": cleaveVersion,
            "options": ["width": options.width, "height": options.height, "depth": options.depth, "seed": options.seed,
                        "curtaining": options.curtaining, "noise": options.noise, "shading": options.shading] as [String: Any],
            "training_planes": options.trainingPlanes,
            "classes": FIBSEMPhantom.classNames.enumerated().map { ["value": $0.offset + 1, "name": $0.element,
                                                                   "fraction": Double(counts[$0.offset]) / Double(labels.pixels.count)] as [String: Any] },
            "detectors": names.detectors,
            "curtain_sigma": FIBSEMPhantom.curtainSigma,
        ]
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        guard FileManager.default.createFile(atPath: "\(directory)/\(names.summary)", contents: data) else {
            throw PipelineFileError.cannotWrite(path: "\(directory)/\(names.summary)", reason: nil)
        }
    }
}

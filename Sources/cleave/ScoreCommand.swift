import ArgumentParser
import CleaveCore
import CleaveLearning
import CleavePipelines
import Foundation

/// `cleave score`: compare results with hand labels.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score clusters or a segmentation against hand labels (scikit-learn's definitions).",
        discussion: """
        Two modes, chosen by the options given:

        Patch clusters (Locator):  --truth LABELS.csv --patches patches.csv
          LABELS.csv has columns image,grid_rows,grid_cols,row,col,class (as the \
        tem-microcrystals patch-labels.csv); patches.csv is the Locator's table (image,row,col,…,\
        cluster). Patches are matched by image file name (folders ignored), row and col. Every \
        labelled patch must be in patches.csv. Prints the adjusted Rand index (ARI), adjusted and \
        normalized mutual information (AMI, NMI; arithmetic mean), homogeneity, completeness, \
        V-measure and the contingency table. Cluster numbers need not match class names: the \
        scores only compare the groupings.

        Segmentation (pixel classifier):  --truth T.tif --predicted P.tif
          Two label images of the same shape (TIFF, PNG or MRC; 2D or stacks). Prints per-class \
        IoU (jaccard), Dice (F1), precision and recall, pixel accuracy, mean IoU, class fractions \
        (true vs predicted) and the confusion matrix. --ignore drops pixels whose true label is \
        that value (e.g. 0 = unlabelled); --classes limits the classes scored.

        Examples:
          cleave score --truth patch-labels.csv --patches out/patches.csv
          cleave score --truth labels/0100.tif --predicted out/0100-labels.tif --ignore 0 --json
        """)

    @Option(name: .long, help: ArgumentHelp("Hand labels: a patch-label CSV, or a label image.", valueName: "path"))
    var truth: String

    @Option(name: .long, help: ArgumentHelp("Patch table with a cluster column (patch mode).", valueName: "patches.csv"))
    var patches: String?

    @Option(name: .long, help: ArgumentHelp("Predicted label image (segmentation mode).", valueName: "image"))
    var predicted: String?

    @Option(name: .long, help: ArgumentHelp("Segmentation mode: a true label value whose pixels are not scored.", valueName: "label"))
    var ignore: Int32?

    @Option(name: .long, parsing: .upToNextOption,
            help: ArgumentHelp("Segmentation mode: classes to score, e.g. --classes 1,2,3 or --classes 1 2 3 (default: every label present, minus --ignore).", valueName: "label"))
    var classes: [String] = []

    /// `--classes` values, commas or spaces.
    var classList: [Int32] {
        get throws {
            try classes.flatMap { $0.split(separator: ",") }.map { text in
                guard let value = Int32(text.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--classes: '\(text)' is not an integer label.")
                }
                return value
            }
        }
    }

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        switch (patches, predicted) {
        case (nil, nil): throw ValidationError("Please give --patches (patch clusters) or --predicted (label image) to compare with --truth.")
        case (.some, .some): throw ValidationError("Please give either --patches or --predicted, not both.")
        default: break
        }
        if patches != nil && (ignore != nil || !classes.isEmpty) {
            throw ValidationError("--ignore and --classes apply to label images (--predicted) only.")
        }
        _ = try classList
    }

    func run() throws {
        if let patches {
                let labels = try PatchLabels(path: truth)
                let report = try labels.score(try readPatchClusters(path: patches), source: patches)
                print(json ? try report.json() : report.text(), terminator: json ? "\n" : "")
            } else if let predicted {
                let scores = try scoreLabelImages(truthPath: truth, predictedPath: predicted,
                                                  classes: classes.isEmpty ? nil : try classList, ignore: ignore)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    print(String(decoding: try encoder.encode(scores), as: UTF8.self))
                } else {
                    print(scores.text(), terminator: "")
                }
            }
    }
}

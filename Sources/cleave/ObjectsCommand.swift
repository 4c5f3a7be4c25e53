import ArgumentParser
import CleaveCore
import CleaveFormats
import CleaveObjects
import CleavePipelines
import Foundation

/// `cleave objects IMAGE --out DIR`: find, measure, group and export objects.
struct ObjectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "objects",
        abstract: "Find grains and crystals (connected components), measure them and group them.",
        discussion: """
        Objects come from a label image: a mask, a class image from `cleave predict` (pick a \
        class with --class), an instance-label image, or a grey image with --threshold. Without \
        --class / --threshold every connected patch of equal non-zero value is one object (touching \
        instances stay apart; a class image gives one object per patch of each class, with its \
        class in the source_value column).

        Measurements follow scikit-image's regionprops (same numbers, same names, 0-based \
        coordinates, bbox max exclusive): area, perimeter, centroid_row/col, bbox_*, eccentricity, \
        solidity, equivalent_diameter, orientation, major/minor_axis_length, area_convex, \
        feret_diameter_max, plus circularity, feret_diameter_min and touches_border. 3D images give \
        volume, surface_area, sphericity and 3D moments instead. With a pixel size (from the file \
        or --pixel-size) lengths also appear in µm (suffix _um, areas _um2). With --intensity: \
        mean/std/min/max/percentiles per channel and a core-to-rim profile (shell1_mean = rim … \
        shellK_mean = core) with zoning_index = (core − rim) / std: ≈ 0 unzoned, > 1 bright core.

        Grouping: --rule / --rules FILE give readable classes, tried in order:
          equivalent_diameter_um > 300 -> phenocryst
          area < 50 -> microlite
          else -> sub-phenocryst
        --clusters K --on a,b,c clusters z-scored measurements (k-means or agglomerative); \
        --train-labels FILE (lines 'label,class' for a few objects) trains a random forest on the \
        measurements and classifies every object.

        Outputs in --out: objects.csv, objects.geojson (pixel coordinates x = column, y = row; \
        opens in QuPath), labels.tif, overlay.png, size_histogram.csv/.png, summary.csv. An image \
        without objects is not an error: the files are written empty and a warning is printed.

        Examples:
          cleave objects classes.tif --class 4 --out grains
          cleave objects mask.tif --fill-holes --min-size 20 --split --out grains
          cleave objects classes.tif --class 2 --intensity slice.tif \\
            --rule "zoning_index > 1 -> zoned; else -> unzoned" --out crystals
          cleave objects grey.tif --threshold 120 --clusters 3 \\
            --on area,eccentricity,solidity --out groups
          cleave objects mask.tif --train-labels picked.csv --out classified

        OME-Zarr volumes (VOL.ome.zarr) of any size are processed block by block (--block-size \
        voxels in x, y and z, whole chunks): each block's connected components, then one step that \
        joins the components touching across block faces, edges and corners (3D connectivity as \
        above), then the final labels and the measurements from exact per-block sums. Objects, \
        numbering and every number equal a whole-volume run; memory follows the block size. \
        Outputs: objects.csv, labels.ome.zarr (the object labels, an OME-Zarr label image with the \
        volume's chunks and scale), overlay.png (plane 0), size_histogram.csv/.png, summary.csv. \
        Finished blocks are recorded in --out: a killed run continues where it stopped when run \
        again and gives the same bytes. --blocks i/N labels only share i of N (blocks i, i+N, …) \
        and does not finish; the same command without --blocks finishes (cleave submit runs the \
        shares as a Slurm array). --fill-holes, --split and --intensity need whole images and are \
        refused for volumes. A single-plane OME-Zarr is read whole and gets the 2D measurements.
          cleave objects vol-labels.ome.zarr --class 2 --min-size 20 --out grains
          cleave objects vol-labels.ome.zarr --class 2 --blocks 0/4 --out grains   (tasks 0…3)
          cleave objects vol-labels.ome.zarr --class 2 --out grains                (then: finish)
        """)

    @Argument(help: "Label, class, mask or grey image (TIFF, PNG or MRC; 2D or 3D), or an OME-Zarr volume (block by block).")
    var image: String

    @Option(name: .customLong("class"), help: "Objects are the pixels equal to this value (e.g. a class of a pixel classification).")
    var classValue: Double?

    @Option(help: "Objects are the pixels brighter than this value (for grey images).")
    var threshold: Double?

    @Option(help: "Grey image of the same size for intensity statistics, the core-to-rim profile and the overlay background (with --threshold the input itself is used when this is not given).")
    var intensity: String?

    @Option(help: "1: pixels touching by an edge (4 in 2D, 6 in 3D); 2: also by a corner (8 / 26). scikit-image's connectivity.")
    var connectivity: Int = 2

    @Option(name: .customLong("min-size"), help: "Drop objects with fewer pixels than this.")
    var minSize: Int = 1

    @Flag(name: .customLong("fill-holes"), help: "Fill background enclosed by a single object.")
    var fillHoles = false

    @Flag(help: "Separate touching grains (distance transform + h-maxima markers + watershed).")
    var split = false

    @Option(name: .customLong("split-h"), help: "How far (pixels, or µm when calibrated) a grain's distance peak must rise above the neck to its neighbour to become its own grain.")
    var splitH: Double = 1

    @Option(name: .customLong("pixel-size"), help: "Pixel size in µm, overriding the file's (isotropic; z too for volumes).")
    var pixelSize: Double?

    @Option(help: "Classification rules, e.g. \"area < 50 -> microlite; else -> crystal\" (';' or newline between rules).")
    var rule: String?

    @Option(help: "File with classification rules, one per line ('#' comments).")
    var rules: String?

    @Option(name: .customLong("clusters"), help: "Cluster the objects into this many groups (needs --on; as cleave locate --clusters; was --cluster, accepted until Cleave 0.2).")
    var cluster: Int?

    @Option(help: "Comma-separated measurements to cluster or classify on, e.g. area,eccentricity,solidity.")
    var on: String?

    @Option(name: .customLong("cluster-method"), help: "kmeans or agglomerative (Ward).")
    var clusterMethod: String = "kmeans"

    @Option(name: .customLong("train-labels"), help: "CSV of 'label,class' for a few objects: trains a random-forest object classifier.")
    var trainLabels: String?

    @Option(help: "Percentiles of the intensity (comma-separated, 0–100).")
    var percentiles: String = "10,50,90"

    @Option(help: "Shells of the core-to-rim profile (≥ 2).")
    var shells: Int = 5

    @Option(help: "Seed for clustering and the classifier.")
    var seed: UInt64 = 0

    @Option(help: "Output directory.")
    var out: String

    @Option(name: .long, help: "OME-Zarr volumes: block side in voxels (x, y and z, rounded up to whole chunks); memory grows with its cube.")
    var blockSize = 256

    @Option(name: .long, help: ArgumentHelp("OME-Zarr volumes: label only share i of N of the blocks (0-based: 0/4 … 3/4) and do not finish.", discussion: "Shares are blocks i, i+N, i+2N, … Processes may run the shares at the same time on machines that share the output folder; afterwards the same command without --blocks labels any block still missing, joins the objects across blocks and writes the outputs.", valueName: "i/N"))
    var blocks: String?

    @Flag(help: "Print the time spent labelling + measuring (for benchmarks).")
    var timing = false

    @OptionGroup var memory: MemoryBudgetOption

    func validate() throws {
        guard connectivity == 1 || connectivity == 2 else { throw ValidationError("--connectivity must be 1 or 2, got \(connectivity).") }
        if classValue != nil && threshold != nil { throw ValidationError("Use either --class or --threshold, not both.") }
        if rule != nil && rules != nil { throw ValidationError("Use either --rule or --rules, not both.") }
        if cluster != nil && on == nil { throw ValidationError("--clusters needs --on with the measurements to cluster on (e.g. --on area,eccentricity).") }
        if minSize < 1 { throw ValidationError("--min-size must be at least 1, got \(minSize).") }
        if shells < 2 { throw ValidationError("--shells must be at least 2, got \(shells).") }
        if ObjectClustering.Method(rawValue: clusterMethod) == nil { throw ValidationError("--cluster-method must be kmeans or agglomerative, got '\(clusterMethod)'.") }
        if let pixelSize, !(pixelSize > 0 && pixelSize.isFinite) { throw ValidationError("--pixel-size must be a positive number, got \(pixelSize).") }
        if blockSize < 1 { throw ValidationError("--block-size must be at least 1, got \(blockSize).") }
        if Self.isBlockVolume(image) {
            for (flag, given) in [("--intensity", intensity != nil), ("--fill-holes", fillHoles), ("--split", split)] where given {
                throw ValidationError("\(flag) is not available for OME-Zarr volumes (block by block): it needs the whole image; convert the volume to TIFF (cleave convert) if it fits in memory.")
            }
        } else if blocks != nil {
            let why = FileManager.default.fileExists(atPath: image) ? "" : " (no such file or folder)"
            throw ValidationError("--blocks shares the blocks of OME-Zarr volumes (3D); \(image) is not one\(why).")
        }
    }

    func run() throws {
        let progress = ProgressBar.make()
        memory.apply()
        let options = try objectsOptions()
        if Self.isBlockVolume(image) { try runVolume(options, progress: progress); return }
        let labelSize = try declaredSizes([image])[0]
        let intensitySize = try intensity.map { try declaredSizes([$0])[0] } ?? (threshold != nil ? labelSize : nil)
        try MemoryEstimate.check(MemoryEstimate.objects(labelSize, intensity: intensitySize), for: "objects of \(image) (\(labelSize))")
        let input = try ImageFile.readFinite(image)
        // A thresholded grey image is its own intensity image unless another is given.
        let grey = try intensity.map { try ImageFile.readFinite($0) } ?? (threshold != nil ? input : nil)
        let start = Date()
        let result = try ObjectsPipeline.run(input, intensity: grey, options: options, progress: progress)
        let elapsed = Date().timeIntervalSince(start)
        try ObjectsReport.write(result, background: grey ?? input, to: out)
        if result.table.count == 0 {
            ProgressBar.note("warning: no objects found in \(image) (check --class / --threshold); wrote empty outputs to \(out)")
        }
        if !result.labels.is2D { ProgressBar.note("note: 3D objects — objects.geojson is not written (outlines are 2D); overlay.png shows plane 0") }
        for s in ObjectsReport.summary(result) {
            print("\(s.className): \(s.count) objects, \(String(format: "%.2f", 100 * s.imageFraction)) % of the image")
        }
        if let accuracy = result.classifierAccuracy { print(String(format: "object classifier out-of-bag accuracy: %.3f", accuracy)) }
        if timing { print(String(format: "label+measure seconds: %.3f", elapsed)) }
        print("wrote \(out)/objects.csv and the other outputs")
    }

    /// An OME-Zarr volume of more than one plane: processed block by block (a single plane is
    /// read whole, as TIFF and PNG images are, and gets the 2D measurements).
    static func isBlockVolume(_ path: String) -> Bool {
        PredictCommand.isVolume(path) && ((try? OMEZarrImage.open(path))?.shape.depth ?? 2) > 1
    }

    /// The pipeline's options from the flags.
    func objectsOptions() throws -> ObjectsOptions {
        var options = ObjectsOptions()
        if let classValue { options.foreground = .classValue(classValue) }
        if let threshold { options.foreground = .threshold(threshold) }
        options.connectivity = connectivity == 1 ? .faces : .full
        options.minimumSize = minSize
        options.fillHoles = fillHoles
        options.splitHeight = split ? splitH : nil
        options.spacing = pixelSize.map { Spacing($0, unit: "µm") }
        options.shellCount = shells
        options.percentiles = try percentiles.split(separator: ",").map {
            guard let p = Double($0.trimmingCharacters(in: .whitespaces)) else { throw CleaveError("--percentiles: '\($0)' is not a number") }
            return p
        }
        let columns = on.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        if let rule { options.rules = try ClassificationRules(rule) }
        if let rules {
            guard let text = try? String(contentsOfFile: rules, encoding: .utf8) else { throw CleaveError("--rules \(rules): cannot read the file") }
            options.rules = try ClassificationRules(text)
        }
        if let cluster {
            options.clustering = try ObjectClustering(clusterCount: cluster, columns: columns,
                                                      method: ObjectClustering.Method(rawValue: clusterMethod)!, seed: seed)
        }
        if let trainLabels {
            guard let text = try? String(contentsOfFile: trainLabels, encoding: .utf8) else { throw CleaveError("--train-labels \(trainLabels): cannot read the file") }
            options.classifier = ObjectClassifierTraining(examples: try ObjectClassifierTraining.parseExamples(text, path: trainLabels),
                                                          columns: cluster == nil ? columns : [], seed: seed)
        }
        return options
    }

    /// An OME-Zarr volume, block by block (``BlockObjects``).
    func runVolume(_ objects: ObjectsOptions, progress: CleaveCore.Progress) throws {
        var options = BlockObjectsOptions()
        options.objects = objects
        options.blockSize = blockSize
        options.share = try blocks.map { try BlockShare(parsing: $0) }
        if threshold != nil {
            ProgressBar.note("note: block by block, --threshold gives the shape columns only (the whole-image run adds the intensity statistics of the grey image)")
        }
        let start = Date()
        let report = try BlockObjects.run(volume: image, directory: out, options: options, progress: progress)
        let elapsed = Date().timeIntervalSince(start)
        guard let table = report.table else {
            print("\(image): share \(options.share.map { "\($0)" } ?? "") — \(report.labelled) block(s) labelled, \(report.skipped) already done, of \(report.blockCount); run the same command without --blocks to finish")
            return
        }
        let volume = try OMEZarrImage.open(image)
        let plane = Region(x: 0, y: 0, z: 0, width: volume.shape.width, height: volume.shape.height, depth: 1)
        let labels: [Int32]
        switch try OMEZarrImage.open(report.labels).read(region: plane) {
        case .uint8(let i): labels = i.pixels.map { Int32($0) }
        case .uint16(let i): labels = i.pixels.map { Int32($0) }
        case .float32(let i): labels = i.pixels.map { Int32($0) }
        }
        let overlay = ObjectsReport.overlay(table: table, plane: labels, width: plane.width, height: plane.height,
                                            objectCount: Int(table.labels.max() ?? 0), background: try volume.read(region: plane),
                                            colours: ObjectsReport.classColours(table))
        try ObjectsReport.write(table: table, voxelCount: report.voxelCount, overlay: overlay, to: out)
        if table.count == 0 {
            ProgressBar.note("warning: no objects found in \(image) (check --class / --threshold); wrote empty outputs to \(out)")
        }
        for s in ObjectsReport.summary(table: table, imagePixels: report.voxelCount) {
            print("\(s.className): \(s.count) objects, \(String(format: "%.2f", 100 * s.imageFraction)) % of the image")
        }
        if let accuracy = report.classifierAccuracy { print(String(format: "object classifier out-of-bag accuracy: %.3f", accuracy)) }
        if timing { print(String(format: "label+measure seconds: %.3f", elapsed)) }
        print("wrote \(out)/objects.csv, \(report.labels) and the other outputs (\(report.blockCount) blocks, \(report.labelled) labelled now)")
    }
}

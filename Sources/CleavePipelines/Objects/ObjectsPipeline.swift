import CleaveCore
import CleaveLearning
import CleaveObjects

/// What `cleave objects` does, as a library call: find objects, measure them, group them.
///
/// ```
/// image ─foreground─► labels ─fill holes─► ─min size─► ─split─► objects ─measure─► table
///                                                                      ─rules / clusters / classifier─► classes
/// ```
public struct ObjectsOptions: Sendable {
    /// How the input image says which pixels belong to objects.
    public enum Foreground: Sendable, Equatable {
        /// Connected patches of equal non-zero value (a mask, a class image or an instance-label image).
        case values
        /// Pixels equal to one class value.
        case classValue(Double)
        /// Pixels brighter than a threshold (grey images).
        case threshold(Double)
    }
    /// How objects are found (default: connected patches of equal non-zero value).
    public var foreground: Foreground = .values
    /// Which neighbours connect pixels (default: any corner, 8 in 2D and 26 in 3D).
    public var connectivity: Connectivity = .full
    /// Objects smaller than this many pixels are dropped (1 keeps all).
    public var minimumSize = 1
    /// Fill holes before measuring: background patches that do not reach the image edge and touch exactly one object join it (default off).
    public var fillHoles = false
    /// h of the touching-grain split in spacing units; nil: no split.
    public var splitHeight: Double?
    /// Physical pixel size overriding the file's.
    public var spacing: Spacing?
    /// Intensity percentiles (0…100) measured per object when an intensity image is given.
    public var percentiles: [Double] = [10, 50, 90]
    /// Shells of the core-to-rim intensity profile (≥ 2).
    public var shellCount = 5
    /// Rule-based classes (`class` column).
    public var rules: ClassificationRules?
    /// Clusters of objects (`cluster` column).
    public var clustering: ObjectClustering?
    /// A random-forest object classifier trained from user-labelled objects (`class` column).
    public var classifier: ObjectClassifierTraining?

    /// The defaults: objects of every non-zero value, full connectivity, no size filter, no hole filling, no split, no grouping.
    public init() {}
}

/// Objects found in an image and their measurements.
public struct ObjectsResult: Sendable {
    /// The final objects (numbered in raster order).
    public var labels: LabelImage
    /// One row per object.
    public var table: ObjectTable
    /// Out-of-bag accuracy of a trained object classifier, when one was trained.
    public var classifierAccuracy: Double?
}

/// Finding, measuring and grouping the objects of an image: the calls behind `cleave objects`.
public enum ObjectsPipeline {
    /// Finds, measures and groups the objects of an image.
    /// - Parameters:
    ///   - image: label, class or grey image (2D or 3D, channel 0 is used).
    ///   - intensity: optional grey image of the same size for intensity statistics and zoning.
    /// - Throws: ``ObjectsPipelineError`` with one-line messages for bad input (see ``ObjectsOptions``).
    /// - Complexity: O(pixels) for labelling, hole filling and measuring (plus per-object shape
    ///   descriptors); the touching-grain split O(Σ bounding-box pixels · log); grouping as
    ///   ``ObjectClustering/assign(_:)`` and ``ObjectClassifierTraining/classify(_:)`` on the objects.
    public static func run(_ image: AnyImage, intensity: AnyImage? = nil, options: ObjectsOptions,
                           progress: Progress = .silent) throws -> ObjectsResult {
        var image = image
        if let spacing = options.spacing { image.spacing = spacing }
        guard options.minimumSize >= 1 else { throw ObjectsPipelineError.invalidOption(field: "minimumSize", value: "\(options.minimumSize)", reason: "must be at least 1") }
        if image.shape.channels > 1 {
            throw ObjectsPipelineError.unusableImage(reason: "the label image has \(image.shape.channels) channels; give a single-channel label, class or grey image")
        }
        progress.report(0, 5, "labelling")
        var labels: LabelImage
        switch options.foreground {
        case .classValue(let value):
            labels = ConnectedComponents.label(image, class: value, connectivity: options.connectivity)
        case .threshold(let t):
            labels = ConnectedComponents.label(image, threshold: t, connectivity: options.connectivity)
        case .values:
            if case .float32(let f) = image, f.pixels.contains(where: { $0 != $0.rounded() }) {
                throw ObjectsPipelineError.unusableImage(reason: "the image has fractional values (a grey image, not labels); give a `threshold` or a `classValue`")
            }
            labels = ConnectedComponents.label(image, connectivity: options.connectivity)
        }
        if options.fillHoles { labels = labels.fillingHoles(connectivity: options.connectivity) }
        if options.minimumSize > 1 { labels = labels.removingSmallObjects(minimumSize: options.minimumSize) }
        progress.report(1, 5, options.splitHeight == nil ? "filtering" : "splitting")
        if let h = options.splitHeight {
            guard h >= 0, h.isFinite else { throw ObjectsPipelineError.invalidOption(field: "splitHeight", value: "\(h)", reason: "must be a finite number >= 0") }
            labels = TouchingObjects.split(labels, h: h, connectivity: options.connectivity)
            if options.minimumSize > 1 { labels = labels.removingSmallObjects(minimumSize: options.minimumSize) }
        }
        progress.report(2, 5, "measuring")
        var grey: Image<Float>?
        if let intensity {
            grey = intensity.floatImage()
            if let s = labels.spacing { grey!.spacing = s }
        }
        var table = try ObjectMeasurement.measure(labels, intensity: grey, percentiles: options.percentiles,
                                                  shellCount: options.shellCount)
        if options.foreground == .values { table.setColumn("source_value", sourceValues(image, labels: labels, table: table)) }
        else if case .classValue(let v) = options.foreground { table.setColumn("source_value", [Double](repeating: v, count: table.count)) }
        progress.report(3, 5, "grouping")
        let accuracy = try group(&table, options: options)
        progress.report(5, 5, "done")
        return ObjectsResult(labels: labels, table: table, classifierAccuracy: accuracy)
    }

    /// Rules, a trained classifier and clusters of the options applied to a measured table (the
    /// `class` and `cluster` columns); returns the classifier's out-of-bag accuracy when one was trained.
    public static func group(_ table: inout ObjectTable, options: ObjectsOptions) throws -> Double? {
        var accuracy: Double?
        if options.rules != nil && options.classifier != nil {
            throw ObjectsPipelineError.invalidOption(field: "rules", value: nil, reason: "give either rules or a classifier training file, not both (each sets the class column)")
        }
        if let rules = options.rules { table.classes = try rules.classify(table) }
        if let training = options.classifier {
            let outcome = try training.classify(table)
            table.classes = outcome.classes
            accuracy = outcome.outOfBagAccuracy
        }
        if let clustering = options.clustering { table.setColumn("cluster", try clustering.assign(table).map(Double.init)) }
        return accuracy
    }

    /// The input value under each object's first pixel (its class in a class image).
    static func sourceValues(_ image: AnyImage, labels: LabelImage, table: ObjectTable) -> [Double] {
        var first = [Int](repeating: -1, count: labels.objectCount + 1)
        labels.labels.withUnsafeBufferPointer { l in
            for i in 0..<l.count where l[i] != 0 && first[Int(l[i])] < 0 { first[Int(l[i])] = i }
        }
        func value(_ i: Int) -> Double {
            switch image {
            case .uint8(let im): return Double(im.pixels[i])
            case .uint16(let im): return Double(im.pixels[i])
            case .float32(let im): return Double(im.pixels[i])
            }
        }
        return table.labels.map { first[Int($0)] >= 0 ? value(first[Int($0)]) : .nan }
    }
}

import Foundation
import CleaveCore
import CleaveLearning
import CleaveFormats

/// Class areas of one classified image (a row group of `class-fractions.csv`), with the estimate of
/// the class fractions (``FractionEstimation``) and its interval.
public struct ClassFractions: Sendable, Equatable {
    /// Name of the classified image (the `image` column).
    public var image: String
    /// The model's classes, in the order of ``pixelCounts``.
    public var classes: [PixelClass]
    /// Pixels per class (model order): each pixel counted for its most probable class.
    public var pixelCounts: [Int]
    /// Spacing of the image, when known.
    public var spacing: Spacing?
    /// True for stacks (fractions are volumes).
    public var isVolume: Bool
    /// Class prior estimated on the image (nil without prior adaptation).
    public var estimatedPrior: [Double]?
    /// Counts and probability sums per strip of ``stripRows`` rows of each plane (empty when the
    /// prediction gave no probabilities, e.g. block-wise volumes): the blocks of the bootstrap.
    public var strips: [FractionSums]
    /// The fraction estimate (nil until ``estimate(_:calibration:)`` ran, or without ``strips``).
    public var estimate: FractionEstimate?

    /// Rows per strip in ``strips``.
    public static let stripRows = 32
    /// The estimator `cleave predict` and `cleave transfer` report unless told otherwise: chosen on
    /// the pixel-classification suite and sandstone by leave-one-set-out (bench/fractions/RESULTS.md).
    public static let defaultEstimator = FractionEstimator.probabilisticAdjustedClassifyAndCount
    /// Bootstrap replicates of the intervals.
    public static let intervalReplicates = 200

    /// Class areas of one image; ``estimate`` stays nil until ``estimate(_:calibration:)``.
    public init(image: String, classes: [PixelClass], pixelCounts: [Int], spacing: Spacing?, isVolume: Bool,
                estimatedPrior: [Double]? = nil, strips: [FractionSums] = []) {
        self.image = image
        self.classes = classes
        self.pixelCounts = pixelCounts
        self.spacing = spacing
        self.isVolume = isVolume
        self.estimatedPrior = estimatedPrior
        self.strips = strips
    }

    /// Percent of the image per class (classify and count).
    public var percents: [Double] {
        let total = max(1, pixelCounts.reduce(0, +))
        return pixelCounts.map { 100 * Double($0) / Double(total) }
    }

    /// Physical area (unit²) or volume (unit³) per class, nil without spacing.
    public var physicalSizes: [Double]? {
        guard let s = spacing else { return nil }
        let unitSize = isVolume ? s.x * s.y * s.z : s.x * s.y
        return pixelCounts.map { Double($0) * unitSize }
    }

    /// Estimates the fractions with `estimator` and a 95 % bootstrap interval over the strips
    /// (``FractionEstimation/intervals(_:blocks:calibration:replicates:level:seed:)``, seed 0);
    /// does nothing without strips.
    /// - Complexity: O(strips · K · replicates + out-of-bag rows · replicates).
    public mutating func estimate(_ estimator: FractionEstimator, calibration: OutOfBagCalibration?) {
        guard let first = strips.first else { return }
        var total = FractionSums(classCount: first.counts.count)
        for s in strips { total.add(s) }
        var result = FractionEstimation.estimate(estimator, sums: total, calibration: calibration)
        if let interval = FractionEstimation.intervals(result.used, blocks: strips, calibration: calibration,
                                                       replicates: ClassFractions.intervalReplicates) {
            result.lower = interval.lower
            result.upper = interval.upper
        }
        estimate = result
    }

    /// Every image's pixels as one (strips concatenated), estimated like one image: the phase
    /// fractions of a series of slices.
    public static func pooled(_ list: [ClassFractions], name: String = "all images", estimator: FractionEstimator,
                              calibration: OutOfBagCalibration?) -> ClassFractions? {
        guard let first = list.first, list.allSatisfy({ $0.classes == first.classes }) else { return nil }
        var counts = [Int](repeating: 0, count: first.classes.count)
        for f in list { for c in counts.indices { counts[c] += f.pixelCounts[c] } }
        var pooled = ClassFractions(image: name, classes: first.classes, pixelCounts: counts, spacing: first.spacing,
                                    isVolume: list.count > 1 || first.isVolume,
                                    strips: list.allSatisfy { !$0.strips.isEmpty } ? list.flatMap(\.strips) : [])
        pooled.estimate(estimator, calibration: calibration)
        return pooled
    }

    /// CSV header for ``csvLines``: the raw counts (`pixels`, `percent`, `physical_size`), then the
    /// estimate (`estimator` = the one used, `estimate_percent` with its 95 % interval), every
    /// estimator's value, the rate matrix's condition number and the assumption check.
    public static let csvHeader = "image,class,name,pixels,percent,physical_size,physical_unit,"
        + "estimator,estimate_percent,ci_low_percent,ci_high_percent,cc_percent,pcc_percent,acc_percent,pacc_percent,condition_number,check"

    /// One CSV line per class.
    public var csvLines: [String] {
        let sizes = physicalSizes
        let unit = spacing.map { isVolume ? "\($0.unit)^3" : "\($0.unit)^2" } ?? ""
        func percent(_ value: Double?) -> String { value.map { String(format: "%.4f", 100 * $0) } ?? "" }
        return classes.indices.map { c in
            let size = sizes.map { String(format: "%.6g", $0[c]) } ?? ""
            var fields = [CSVText.field(image), String(classes[c].value), CSVText.field(classes[c].name), String(pixelCounts[c]),
                          String(format: "%.4f", percents[c]), size, unit]
            if let e = estimate {
                fields += [e.used.rawValue, percent(e.fractions[c]), percent(e.lower?[c]), percent(e.upper?[c])]
                fields += FractionEstimator.allCases.map { percent(e.all[$0]?[c]) }
                fields += [e.conditionNumber.map { String(format: "%.3f", $0) } ?? "", CSVText.field(e.check)]
            } else {
                fields += ["cc", String(format: "%.4f", percents[c]), "", "", String(format: "%.4f", percents[c]), "", "", "", "",
                           "no class probabilities kept for this prediction: pixels counted per most probable class"]
            }
            return fields.joined(separator: ",")
        }
    }

    /// A JSON object for `class-fractions.json`.
    var jsonObject: [String: Any] {
        var object: [String: Any] = ["image": image, "pixels": pixelCounts.reduce(0, +)]
        if let e = estimate {
            object["estimator"] = e.used.rawValue
            object["requested_estimator"] = e.requested.rawValue
            object["check"] = e.check
            if let condition = e.conditionNumber, condition.isFinite { object["condition_number"] = condition }
            object["clipped"] = e.clippedMass
        }
        object["classes"] = classes.indices.map { c -> [String: Any] in
            var row: [String: Any] = ["value": classes[c].value, "name": classes[c].name, "pixels": pixelCounts[c],
                                      "percent": percents[c]]
            if let e = estimate {
                row["estimate_percent"] = 100 * e.fractions[c]
                if let lower = e.lower, let upper = e.upper { row["interval_percent"] = [100 * lower[c], 100 * upper[c]] }
                for estimator in FractionEstimator.allCases { if let v = e.all[estimator] { row["\(estimator.rawValue)_percent"] = 100 * v[c] } }
            }
            return row
        }
        return object
    }

    /// `class-fractions.json`: every image and the pooled estimate.
    static func json(images: [ClassFractions], pooled: ClassFractions) throws -> Data {
        let object: [String: Any] = [
            "interval": "95 % percentile bootstrap, \(intervalReplicates) replicates, over strips of \(stripRows) rows and the out-of-bag rates",
            "images": images.map(\.jsonObject), "pooled": pooled.jsonObject]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}

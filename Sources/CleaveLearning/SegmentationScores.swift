/// Pixel-wise scores of a predicted label image against a reference, per class.
///
/// Definitions follow scikit-learn with `labels=classes, average=None`:
///
/// | score      | per class c                         | scikit-learn                 |
/// |------------|-------------------------------------|------------------------------|
/// | IoU        | tp / (true + predicted − tp)        | `jaccard_score`              |
/// | Dice       | 2 tp / (true + predicted)           | `f1_score`                   |
/// | precision  | tp / predicted                      | `precision_score`            |
/// | recall     | tp / true                           | `recall_score`               |
///
/// where `true` counts pixels whose reference is c and `predicted` those predicted as c, over all
/// counted pixels (also those whose other label is not in `classes`). A zero denominator gives 0
/// (scikit-learn's `zero_division` default). Pixels whose reference equals `ignore` are not
/// counted at all. The confusion matrix (rows = reference, columns = prediction) only holds pixels
/// whose two labels are both in `classes` (`confusion_matrix(labels=classes)`).
public struct SegmentationScores: Codable, Equatable, Sendable {
    /// The scored classes, in the given order.
    public let classes: [Int32]
    /// `confusion[i][j]`: pixels of reference class `classes[i]` predicted as `classes[j]`.
    public let confusion: [[Int]]
    /// Counted pixels (not ignored).
    public let pixelCount: Int
    /// Pixels per class in the reference.
    public let trueCounts: [Int]
    /// Pixels per class in the prediction.
    public let predictedCounts: [Int]
    /// Intersection over union per class, in `classes` order (`jaccard_score`).
    public let iou: [Double]
    /// Dice = F1 per class (`f1_score`).
    public let dice: [Double]
    /// Precision per class (`precision_score`).
    public let precision: [Double]
    /// Recall per class (`recall_score`).
    public let recall: [Double]
    /// Fraction of counted pixels whose prediction equals the reference (`accuracy_score`).
    public let pixelAccuracy: Double
    /// Mean of `iou` over `classes` (`jaccard_score(average="macro")`).
    public let meanIoU: Double
    /// Fraction of counted pixels per class in the reference.
    public let trueFractions: [Double]
    /// Fraction of counted pixels per class in the prediction.
    public let predictedFractions: [Double]

    enum CodingKeys: String, CodingKey {
        case classes, confusion, pixelCount = "pixel_count", trueCounts = "true_counts", predictedCounts = "predicted_counts"
        case iou, dice, precision, recall, pixelAccuracy = "pixel_accuracy", meanIoU = "mean_iou"
        case trueFractions = "true_fractions", predictedFractions = "predicted_fractions"
    }

    /// - Parameters:
    ///   - truth: reference label per pixel.
    ///   - predicted: predicted label per pixel (same length and order).
    ///   - classes: the classes to score; `nil` → every label in either input except `ignore`, ascending.
    ///   - ignore: a reference value (e.g. 0 = unlabelled) whose pixels are left out.
    /// - Throws: ``LearningError/lengthMismatch(operation:expected:actual:)``, or
    ///   ``LearningError/invalidParameter(operation:name:value:reason:)`` for duplicate classes.
    /// - Complexity: O(pixels), one pass with a lookup table for label spans up to 2¹⁶.
    public init(truth: [Int32], predicted: [Int32], classes requested: [Int32]? = nil, ignore: Int32? = nil) throws {
        guard truth.count == predicted.count else {
            throw LearningError.lengthMismatch(operation: "SegmentationScores", expected: truth.count, actual: predicted.count)
        }
        let classes: [Int32]
        if let given = requested {
            guard Set(given).count == given.count else {
                throw LearningError.invalidParameter(operation: "SegmentationScores", name: "classes", value: "\(given)", reason: "contains duplicates")
            }
            classes = given
        } else {
            var present = Set(truth).union(predicted)
            if let ignore { present.remove(ignore) }
            classes = present.sorted()
        }
        let k = classes.count
        // Map label → class index, with k = "not a scored class".
        let lo = min(truth.min() ?? 0, predicted.min() ?? 0), hi = max(truth.max() ?? 0, predicted.max() ?? 0)
        let span = Int(hi) - Int(lo) + 1
        var counts = [Int](repeating: 0, count: (k + 1) * (k + 1))
        var total = 0
        let ignoreValue = ignore
        if span <= 65_536 {
            var lookup = [Int](repeating: k, count: span)
            for (i, c) in classes.enumerated() where c >= lo && c <= hi { lookup[Int(c) - Int(lo)] = i }
            let ignoreOffset = ignoreValue.map { Int($0) - Int(lo) } ?? -1
            truth.withUnsafeBufferPointer { t in
                predicted.withUnsafeBufferPointer { p in
                    for i in 0..<t.count {
                        let to = Int(t[i]) - Int(lo)
                        if to == ignoreOffset { continue }
                        counts[lookup[to] * (k + 1) + lookup[Int(p[i]) - Int(lo)]] += 1
                        total += 1
                    }
                }
            }
        } else {
            var index = [Int32: Int]()
            for (i, c) in classes.enumerated() { index[c] = i }
            for (t, p) in zip(truth, predicted) {
                if t == ignoreValue { continue }
                counts[(index[t] ?? k) * (k + 1) + (index[p] ?? k)] += 1
                total += 1
            }
        }
        // Pixels whose labels are both outside `classes` may still agree (accuracy counts them).
        var agree = 0
        if counts[k * (k + 1) + k] > 0 {
            for (t, p) in zip(truth, predicted) where t == p && t != ignoreValue && !classes.contains(t) { agree += 1 }
        }
        for c in 0..<k { agree += counts[c * (k + 1) + c] }

        self.classes = classes
        pixelCount = total
        confusion = (0..<k).map { i in (0..<k).map { j in counts[i * (k + 1) + j] } }
        trueCounts = (0..<k).map { i in (0...k).reduce(0) { $0 + counts[i * (k + 1) + $1] } }
        predictedCounts = (0..<k).map { j in (0...k).reduce(0) { $0 + counts[$1 * (k + 1) + j] } }
        func ratio(_ a: Double, _ b: Double) -> Double { b == 0 ? 0 : a / b }
        let tp = (0..<k).map { Double(counts[$0 * (k + 1) + $0]) }
        let t = trueCounts.map(Double.init), p = predictedCounts.map(Double.init)
        iou = (0..<k).map { ratio(tp[$0], t[$0] + p[$0] - tp[$0]) }
        dice = (0..<k).map { ratio(2 * tp[$0], t[$0] + p[$0]) }
        precision = (0..<k).map { ratio(tp[$0], p[$0]) }
        recall = (0..<k).map { ratio(tp[$0], t[$0]) }
        pixelAccuracy = ratio(Double(agree), Double(total))
        meanIoU = k == 0 ? 0 : iou.reduce(0, +) / Double(k)
        trueFractions = t.map { ratio($0, Double(total)) }
        predictedFractions = p.map { ratio($0, Double(total)) }
    }
}

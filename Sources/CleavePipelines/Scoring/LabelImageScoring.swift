import Foundation
import CleaveCore
import CleaveFormats
import CleaveLearning

/// Segmentation scores of a predicted label image against a reference label image.
///
/// Both files are read with ``ImageFile`` (TIFF, PNG, MRC; 2D or stacks) and must have the same
/// shape. Pixel values are the labels (8/16-bit directly; float images must hold whole numbers).
/// - Parameters:
///   - truthPath: reference label image.
///   - predictedPath: predicted label image.
///   - classes: classes to score (`nil` → every label present in either image, except `ignore`).
///   - ignore: reference value whose pixels are not scored (e.g. 0 = unlabelled).
/// - Throws: ``ScoringError`` for unreadable files, different shapes or non-integer labels.
public func scoreLabelImages(truthPath: String, predictedPath: String, classes: [Int32]? = nil,
                             ignore: Int32? = nil) throws -> SegmentationScores {
    let truth = try ImageFile.read(truthPath)
    let predicted = try ImageFile.read(predictedPath)
    guard truth.shape == predicted.shape else {
        throw ScoringError.shapeMismatch(truthPath: truthPath, truth: "\(truth.shape)", predictedPath: predictedPath, predicted: "\(predicted.shape)")
    }
    return try SegmentationScores(truth: try labels(truth, path: truthPath), predicted: try labels(predicted, path: predictedPath),
                                  classes: classes, ignore: ignore)
}

/// Pixel values of a label image as Int32.
func labels(_ image: AnyImage, path: String) throws -> [Int32] {
    switch image {
    case .uint8(let i): return i.pixels.map { Int32($0) }
    case .uint16(let i): return i.pixels.map { Int32($0) }
    case .float32(let i):
        var out = [Int32](repeating: 0, count: i.pixels.count)
        for (index, v) in i.pixels.enumerated() {
            guard v.isFinite, v == v.rounded(), abs(v) < 2_000_000_000 else {
                throw ScoringError.nonIntegerLabel(path: path, index: index, value: v)
            }
            out[index] = Int32(v)
        }
        return out
    }
}

extension SegmentationScores {
    /// A plain-text report: pixel accuracy, mean IoU, a per-class table and the confusion matrix.
    public func text() -> String {
        var out = "pixels scored       \(pixelCount)\n"
        out += "pixel accuracy      \(format(pixelAccuracy))\n"
        out += "mean IoU            \(format(meanIoU))\n\n"
        out += "class        IoU      Dice  precision    recall   true %   pred %\n"
        for (i, c) in classes.enumerated() {
            out += "\(c)".padding(toLength: 6, withPad: " ", startingAt: 0)
            for v in [iou[i], dice[i], precision[i], recall[i]] { out += String(format: "%10.4f", v) }
            out += String(format: "%9.2f%9.2f\n", 100 * trueFractions[i], 100 * predictedFractions[i])
        }
        out += "\nconfusion (rows: true class, columns: predicted class)\n"
        out += "      " + classes.map { String(repeating: " ", count: max(1, 11 - "\($0)".count)) + "\($0)" }.joined() + "\n"
        for (i, c) in classes.enumerated() {
            out += "\(c)".padding(toLength: 6, withPad: " ", startingAt: 0)
            out += confusion[i].map { String(repeating: " ", count: max(1, 11 - "\($0)".count)) + "\($0)" }.joined() + "\n"
        }
        return out
    }
}

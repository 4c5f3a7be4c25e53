import CleaveCore

/// Feature images of one image (or block), feature-major: `values[feature * pixelCount + pixel]`.
///
/// `pixel` is the linear index in the block's spatial shape (plane, row, column; column fastest).
/// The random forest wants rows of features per pixel: ``pixelMatrix(for:)`` gathers them.
public struct FeatureStack: Sendable {
    /// Spatial extent (channels = 1).
    public let shape: Shape
    /// One name per feature, in order (see ``FilterBank/featureNames(channelCount:)``).
    public let names: [String]
    /// `featureCount × pixelCount` samples, feature-major.
    public internal(set) var values: [Float]

    public init(shape: Shape, names: [String], values: [Float]) {
        precondition(shape.channels == 1, "FeatureStack(shape:) takes a spatial shape (1 channel), got \(shape)")
        precondition(values.count == names.count * shape.count,
                     "FeatureStack needs \(names.count) × \(shape.count) values, got \(values.count)")
        self.shape = shape
        self.names = names
        self.values = values
    }

    @inlinable public var featureCount: Int { names.count }
    @inlinable public var pixelCount: Int { shape.count }

    /// One feature as an image.
    public func feature(_ index: Int) -> Image<Float> {
        precondition(index >= 0 && index < featureCount, "FeatureStack.feature(\(index)) outside 0..<\(featureCount)")
        let start = index * pixelCount
        return Image(shape: shape, pixels: Array(values[start..<start + pixelCount]))
    }

    /// The value of feature `feature` at pixel `pixel`.
    @inlinable public func value(feature: Int, pixel: Int) -> Float { values[feature * pixelCount + pixel] }

    /// Rows of features for the given pixels, row-major: `result[row * featureCount + feature]`
    /// is feature `feature` of pixel `pixels[row]`.
    /// - Complexity: O(pixels.count × featureCount).
    public func pixelMatrix(for pixels: [Int]) -> [Float] {
        let featureCount = self.featureCount, pixelCount = self.pixelCount
        for p in pixels {
            precondition(p >= 0 && p < pixelCount, "FeatureStack.pixelMatrix: pixel \(p) outside 0..<\(pixelCount)")
        }
        var result = [Float](repeating: 0, count: pixels.count * featureCount)
        values.withUnsafeBufferPointer { v in
            result.withUnsafeMutableBufferPointer { out in
                for f in 0..<featureCount {
                    let plane = v.baseAddress! + f * pixelCount
                    for (row, p) in pixels.enumerated() { out[row * featureCount + f] = plane[p] }
                }
            }
        }
        return result
    }

    /// Rows of features for a contiguous run of pixels (e.g. a block's rows for prediction).
    public func pixelMatrix(range: Range<Int>) -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= pixelCount,
                     "FeatureStack.pixelMatrix(range: \(range)) outside 0..<\(pixelCount)")
        let featureCount = self.featureCount, pixelCount = self.pixelCount
        var result = [Float](repeating: 0, count: range.count * featureCount)
        values.withUnsafeBufferPointer { v in
            result.withUnsafeMutableBufferPointer { out in
                // Transpose in tiles of 64 pixels so reads and writes both stay in cache.
                var start = range.lowerBound
                while start < range.upperBound {
                    let end = min(start + 64, range.upperBound)
                    for f in 0..<featureCount {
                        let plane = v.baseAddress! + f * pixelCount
                        for p in start..<end { out[(p - range.lowerBound) * featureCount + f] = plane[p] }
                    }
                    start = end
                }
            }
        }
        return result
    }
}

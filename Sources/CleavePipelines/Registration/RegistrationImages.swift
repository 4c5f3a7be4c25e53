import CleaveCore
import CleaveFilters

/// The moving image of a registration as a class map: `classes[i]` in `0...classCount`, 0 = no data.
///
/// A class map (an image of integer values with at most ``maximumClassCount`` distinct non-zero values) keeps
/// its classes, renumbered `1...classCount` in increasing label order (``labels`` maps back);
/// 0 is no data (outside the mapped area). Any other image (grey values) is quantised into
/// ``greyLevels`` classes of equal pixel count, all pixels valid, so grey-to-grey registration uses
/// the same metric.
public struct RegistrationMovingImage: Sendable {
    /// Most distinct non-zero values an integer image may hold to be taken as a class map.
    public static let maximumClassCount = 64
    /// Equal-count grey classes a grey moving image is quantised into.
    public static let greyLevels = 16
    /// Columns, pixels.
    public let width: Int
    /// Rows, pixels.
    public let height: Int
    /// Class per pixel, row-major: 0 = no data, else `1...classCount`.
    public let classes: [UInt8]
    /// Classes besides 0 (≥ 2; ``greyLevels`` for a grey image).
    public let classCount: Int
    /// The original label of class k at index k − 1 (class maps only; empty for grey images).
    public let labels: [Int]
    /// The original grey values (grey images only), for edges and the registered output.
    public let grey: [Float]?
    /// Pixels with a class > 0.
    public let validCount: Int

    /// Whether the image was read as a class map (its labels kept) rather than quantised grey values.
    public var isClassMap: Bool { grey == nil }

    /// Prepares a 2D single-channel image. `path` names it in errors.
    /// - Throws: ``RegistrationError/unusableImage(path:reason:)`` for 3D or multichannel images,
    ///   sides under 16 px, fewer than two classes, or a constant grey image.
    public init(_ image: AnyImage, path: String) throws {
        let shape = image.shape
        guard shape.depth == 1, shape.channels == 1 else {
            throw RegistrationError.unusableImage(path: path, reason: "the moving image must be one 2D plane with one channel, got \(shape)")
        }
        guard shape.width >= 16, shape.height >= 16 else {
            throw RegistrationError.unusableImage(path: path, reason: "\(shape.width) x \(shape.height) px is too small; need at least 16 x 16")
        }
        width = shape.width; height = shape.height
        let values = image.floatImage().pixels
        var distinct = Set<Float>()
        var integral = true
        for v in values where v != 0 {
            guard v.isFinite, v == v.rounded() else { integral = false; break }
            distinct.insert(v)
            if distinct.count > Self.maximumClassCount { integral = false; break }
        }
        if integral {
            let sorted = distinct.sorted()
            guard sorted.count >= 2 else {
                throw RegistrationError.unusableImage(path: path, reason: "the class map holds \(sorted.count) class\(sorted.count == 1 ? "" : "es") besides 0 (no data); nothing to align")
            }
            var index: [Float: UInt8] = [:]
            for (k, v) in sorted.enumerated() { index[v] = UInt8(k + 1) }
            classes = values.map { $0 == 0 ? 0 : index[$0]! }
            classCount = sorted.count
            labels = sorted.map { Int($0) }
            grey = nil
            validCount = classes.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }
        } else {
            let finite = values.filter { $0.isFinite }.sorted()
            guard let lo = finite.first, let hi = finite.last, hi > lo else {
                throw RegistrationError.unusableImage(path: path, reason: "the grey image is constant or has no finite values")
            }
            // Equal-count bins: thresholds at the quantiles (ties fall into the lower bin).
            let levels = Self.greyLevels
            let thresholds = (1..<levels).map { finite[finite.count * $0 / levels] }
            classes = values.map { v in
                guard v.isFinite else { return 0 }
                var k = 0
                while k < thresholds.count && v > thresholds[k] { k += 1 }
                return UInt8(k + 1)
            }
            classCount = levels
            labels = []
            grey = values.map { $0.isFinite ? $0 : 0 }
            validCount = classes.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }
        }
    }
}

/// The fixed image of a registration: one 2D plane of grey values (a label image counts as grey).
public struct RegistrationFixedImage: Sendable {
    /// Columns, pixels.
    public let width: Int
    /// Rows, pixels.
    public let height: Int
    /// Grey values of the plane, row-major (labels of a label image taken as grey values; non-finite values read as 0).
    public let values: [Float]

    /// Prepares plane `plane` of a single-channel image. `path` names it in errors.
    /// - Throws: ``RegistrationError/unusableImage(path:reason:)`` for multichannel images, a plane
    ///   outside the stack, sides under 16 px, or constant values.
    public init(_ image: AnyImage, path: String, plane: Int = 0) throws {
        let shape = image.shape
        guard shape.channels == 1 else {
            throw RegistrationError.unusableImage(path: path, reason: "the fixed image must have one channel, got \(shape.channels)")
        }
        guard plane >= 0, plane < shape.depth else {
            throw RegistrationError.unusableImage(path: path, reason: "plane \(plane) is outside the stack (planes 0–\(shape.depth - 1))")
        }
        guard shape.width >= 16, shape.height >= 16 else {
            throw RegistrationError.unusableImage(path: path, reason: "\(shape.width) x \(shape.height) px is too small; need at least 16 x 16")
        }
        width = shape.width; height = shape.height
        let all = image.floatImage()
        let slice = shape.depth == 1 ? all.pixels : all.plane(plane).pixels
        values = slice.map { $0.isFinite ? $0 : 0 }
        guard let lo = values.min(), let hi = values.max(), hi > lo else {
            throw RegistrationError.unusableImage(path: path, reason: "the fixed plane is constant; nothing to align to")
        }
    }

    /// Wraps ready values (tests and other pipelines).
    public init(values: [Float], width: Int, height: Int) {
        precondition(values.count == width * height && width >= 1 && height >= 1,
                     "RegistrationFixedImage(values:width:height:): \(values.count) values for \(width) x \(height)")
        self.width = width; self.height = height; self.values = values
    }
}

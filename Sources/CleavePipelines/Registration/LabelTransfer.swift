import CleaveCore
import CleaveFilters
import CleaveObjects

/// Training labels on the fixed plane from a registered class map.
///
/// Near a class border a registered map is only as right as the registration: a border misplaced
/// by u pixels teaches the wrong class to a strip u pixels wide. So every pixel closer than
/// ``erosionRadius(uncertainty:scale:factor:)`` to a border between two classes becomes unlabelled
/// (0). Borders with no data (the map's edge, cropped corners) are not class borders and are kept.
public enum LabelTransfer {
    /// Erosion radius in fixed pixels: `factor · (uncertainty + scale / 2)`, rounded up, where
    /// `uncertainty` is the registration's (fixed px) and `scale / 2` is half a moving pixel seen on
    /// the fixed grid (a class border in the map is only known to within its pixel).
    public static func erosionRadius(uncertainty: Double, scale: Double, factor: Double) -> Int {
        max(0, Int((factor * (max(0, uncertainty) + 0.5 * scale)).rounded(.up)))
    }

    /// The registered classes (`classes`: 0 = no data, else 1…labels.count on the fixed grid, as
    /// `warpNearest` gives them) as original label values, with every pixel within `radius` px
    /// (Euclidean) of a border between two classes set to 0.
    /// - Returns: label values per pixel (0 = unlabelled).
    /// - Complexity: O(width · height) (exact distance transform).
    public static func trainingLabels(classes: [UInt8], labels: [Int], width: Int, height: Int, radius: Int) -> [Int32] {
        precondition(classes.count == width * height, "LabelTransfer.trainingLabels: \(classes.count) classes for \(width) x \(height)")
        // Background of the distance transform = pixels on a class–class border.
        var foreground = [Bool](repeating: true, count: classes.count)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x, k = classes[i]
                guard k != 0 else { continue }
                if x + 1 < width, classes[i + 1] != 0, classes[i + 1] != k { foreground[i] = false; foreground[i + 1] = false }
                if y + 1 < height, classes[i + width] != 0, classes[i + width] != k { foreground[i] = false; foreground[i + width] = false }
            }
        }
        let distance = DistanceTransform.squaredEuclidean(foreground: foreground, shape: Shape(width: width, height: height))
        // A border pixel is at distance 0.5 from the border itself; keep pixels farther than radius.
        let limit = Double(radius) * Double(radius)
        return classes.indices.map { i in
            let k = Int(classes[i])
            guard k != 0 else { return 0 }
            if radius > 0 && (!foreground[i] || distance[i] <= limit) { return 0 }
            return Int32(labels[k - 1])
        }
    }
}

extension LabelTransfer {
    /// What ``train(registration:moving:fixed:fixedImage:fixedName:erosionFactor:options:progress:)`` made.
    public struct Training: Sendable {
        /// Label values on the fixed plane (0 = unlabelled), after erosion.
        public var labels: Image<UInt16>
        /// Erosion radius used (fixed px).
        public var radius: Int
        /// Labelled pixels per class (in `classes` order) before and after erosion.
        public var pixelsBefore: [Int]
        public var pixelsAfter: [Int]
        public var model: PixelClassifierModel
    }

    /// Turns a registration into a trained pixel classifier: the moving map's classes on the fixed
    /// grid, eroded near class borders by ``erosionRadius(uncertainty:scale:factor:)``, train the
    /// random forest on the fixed plane (the same ``PixelClassifier/train(_:classes:options:progress:)``
    /// as `cleave train`).
    /// - Parameters:
    ///   - fixedImage: the fixed plane as read (2D), whose grey values the forest learns from.
    /// - Throws: ``RegistrationError`` when erosion leaves a class without pixels (lower the factor) or
    ///   the map has only one class on the plane; the classifier's training errors.
    public static func train(registration: RegistrationResult, moving: RegistrationMovingImage, fixed: RegistrationFixedImage,
                             fixedImage: AnyImage, fixedName: String, erosionFactor: Double,
                             options: PixelClassifier.TrainingOptions, progress: CleaveCore.Progress = .silent) throws -> Training {
        guard moving.isClassMap else { throw RegistrationError.cannotTransferLabels(image: fixedName, reason: "label transfer needs a class map as the moving image, not a grey image") }
        guard let inverse = registration.transform.inverse else { throw RegistrationError.singularTransform }
        let classes = warpNearest(moving.classes, width: moving.width, height: moving.height, outputWidth: fixed.width,
                                  outputHeight: fixed.height, transform: inverse.coefficients)
        let radius = erosionRadius(uncertainty: registration.uncertainty, scale: registration.transform.scale, factor: erosionFactor)
        let values = trainingLabels(classes: classes, labels: moving.labels, width: fixed.width, height: fixed.height, radius: radius)
        var before = [Int](repeating: 0, count: moving.labels.count), after = before
        for (k, v) in zip(classes, values) where k != 0 {
            before[Int(k) - 1] += 1
            if v != 0 { after[Int(k) - 1] += 1 }
        }
        if let missing = after.indices.first(where: { after[$0] == 0 && before[$0] > 0 }) {
            throw RegistrationError.cannotTransferLabels(image: nil, reason: "erosion by \(radius) px leaves class \(moving.labels[missing]) without training pixels (\(before[missing]) before); lower `erosionFactor`")
        }
        guard moving.labels.allSatisfy({ $0 >= 0 && $0 <= 65535 }) else {
            throw RegistrationError.cannotTransferLabels(image: nil, reason: "the class map's labels must be 0–65535 to become training labels")
        }
        let labels = Image(shape: Shape(width: fixed.width, height: fixed.height), pixels: values.map { UInt16($0) })
        let example = PixelClassifier.TrainingExample(input: PixelClassifierInput(name: fixedName, image: fixedImage),
                                                      labels: AnyImage(labels), labelsName: "registered map (eroded)")
        let model = try PixelClassifier.train([example], options: options, progress: progress)
        return Training(labels: labels, radius: radius, pixelsBefore: before, pixelsAfter: after, model: model)
    }
}

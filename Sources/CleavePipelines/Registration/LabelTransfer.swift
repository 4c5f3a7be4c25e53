import CleaveCore
import CleaveFilters
import CleaveObjects

/// Training labels on the fixed plane from a registered class map.
///
/// A registered map is wrong in two ways. Its own pixels are coarse and noisy: a mapped class
/// border is only known to within half a map pixel, and single map pixels along borders carry a
/// neighbour's class (EDS mixing, classification noise). And the registration misplaces every
/// border by up to its uncertainty u. So:
/// - a pixel trains only if its class fills a square of side 2r + 1 around it, r =
///   ``erosionRadius(uncertainty:scale:factor:)`` (a morphological opening per class): classes
///   narrower than the uncertainty zone — stray map pixels, bumps along borders — do not teach,
///   while the edges of every wider region still do, on both sides of each border alike;
/// - pixels closer than ``borderRadius(uncertainty:factor:)`` = ⌊factor · u⌋ whole pixels to a
///   border between two classes do not train (none when the registration is sub-pixel).
/// Removing whole strips along every border instead (the first method) also removed the edge
/// pixels that teach the forest what a border between two phases looks like, and the forest then
/// called those edges the thin phase: on the sandstone transfer benchmark the opening narrows the
/// gap to a model trained on the true labels from 0.061 to −0.005 mIoU (bench/register/RESULTS.md).
/// No-data pixels (the map's edge, cropped corners) count as every class for the opening and are
/// not class borders.
public enum LabelTransfer {
    /// Radius of the uncertainty zone in fixed pixels: `factor · (uncertainty + scale / 2)`, rounded
    /// up, where `uncertainty` is the registration's (fixed px) and `scale / 2` is half a moving pixel
    /// seen on the fixed grid (a class border in the map is only known to within its pixel). The
    /// opening's square has side 2r + 1.
    public static func erosionRadius(uncertainty: Double, scale: Double, factor: Double) -> Int {
        max(0, Int((factor * (max(0, uncertainty) + 0.5 * scale)).rounded(.up)))
    }

    /// Whole pixels by which the registration may misplace a border: `factor · uncertainty`,
    /// rounded down (0 for a sub-pixel registration at factor 1).
    public static func borderRadius(uncertainty: Double, factor: Double) -> Int {
        max(0, Int((factor * max(0, uncertainty)).rounded(.down)))
    }

    /// Which pixels of the registered `classes` (0 = no data, else 1…classCount) lie in a
    /// (2·radius + 1)² square filled by their own class (no-data counting as every class; the
    /// image's edge extends its nearest pixels): the morphological opening of each class with a
    /// square. No-data pixels are `false`.
    /// - Complexity: O(classCount · width · height) (van Herk–Gil–Werman minimum and maximum filters).
    public static func openedClasses(classes: [UInt8], classCount: Int, width: Int, height: Int, radius: Int) -> [Bool] {
        precondition(classes.count == width * height, "LabelTransfer.openedClasses: \(classes.count) classes for \(width) x \(height)")
        guard radius > 0 else { return classes.map { $0 != 0 } }
        let shape = Shape(width: width, height: height)
        let window = WindowSize(2 * radius + 1)
        var kept = [Bool](repeating: false, count: classes.count)
        for k in 1...max(1, classCount) {
            let mask = Image<Float>(shape: shape, pixels: classes.map { $0 == UInt8(k) || $0 == 0 ? 1 : 0 })
            let opened = localMaximum(localMinimum(mask, window: window, boundary: .nearest), window: window, boundary: .nearest)
            for i in classes.indices where classes[i] == UInt8(k) && opened.pixels[i] > 0.5 { kept[i] = true }
        }
        return kept
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
        /// Label values on the fixed plane (0 = unlabelled), after the opening and the border erosion.
        public var labels: Image<UInt16>
        /// Radius of the uncertainty zone (fixed px): the opening's square has side 2 · radius + 1.
        public var radius: Int
        /// Pixels dropped along class borders (fixed px; 0 for a sub-pixel registration).
        public var borderRadius: Int
        /// Labelled pixels per class (in `classes` order) before and after cleaning.
        public var pixelsBefore: [Int]
        /// Labelled pixels per class after erosion (what the forest trains on).
        public var pixelsAfter: [Int]
        /// The pixel classifier trained on the fixed plane with the eroded labels.
        public var model: PixelClassifierModel
    }

    /// Turns a registration into a trained pixel classifier: the moving map's classes on the fixed
    /// grid, cleaned as ``LabelTransfer`` describes (`erosionFactor` scales both radii), train the
    /// random forest on the fixed plane (the same ``PixelClassifier/train(_:classes:options:progress:)``
    /// as `cleave train`).
    /// - Parameters:
    ///   - fixedImage: the fixed plane as read (2D), whose grey values the forest learns from.
    /// - Throws: ``RegistrationError`` when erosion leaves a class without pixels (lower the factor) or
    ///   the map has only one class on the plane; the classifier's training errors.
    /// - Complexity: O(fixed pixels) for the warp and the erosion's distance transform, then
    ///   ``PixelClassifier/train(_:classes:options:progress:features:)`` on the fixed plane.
    public static func train(registration: RegistrationResult, moving: RegistrationMovingImage, fixed: RegistrationFixedImage,
                             fixedImage: AnyImage, fixedName: String, erosionFactor: Double,
                             options: PixelClassifier.TrainingOptions, progress: CleaveCore.Progress = .silent) throws -> Training {
        guard moving.isClassMap else { throw RegistrationError.cannotTransferLabels(image: fixedName, reason: "label transfer needs a class map as the moving image, not a grey image") }
        guard let inverse = registration.transform.inverse else { throw RegistrationError.singularTransform }
        let classes = warpNearest(moving.classes, width: moving.width, height: moving.height, outputWidth: fixed.width,
                                  outputHeight: fixed.height, transform: inverse.coefficients)
        let radius = erosionRadius(uncertainty: registration.uncertainty, scale: registration.transform.scale, factor: erosionFactor)
        let borderRadius = borderRadius(uncertainty: registration.uncertainty, factor: erosionFactor)
        let opened = openedClasses(classes: classes, classCount: moving.labels.count, width: fixed.width, height: fixed.height, radius: radius)
        var values = trainingLabels(classes: classes, labels: moving.labels, width: fixed.width, height: fixed.height, radius: borderRadius)
        for i in values.indices where !opened[i] { values[i] = 0 }
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
                                                      labels: AnyImage(labels), labelsName: "registered map (cleaned)")
        let model = try PixelClassifier.train([example], options: options, progress: progress)
        return Training(labels: labels, radius: radius, borderRadius: borderRadius, pixelsBefore: before, pixelsAfter: after, model: model)
    }
}

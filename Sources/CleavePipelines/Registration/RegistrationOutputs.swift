import CleaveCore
import CleaveFilters
import CleaveFormats
import CleaveRender
import Foundation

/// What `cleave register` writes to `transform.json` (the CLI contract: `affine` maps a moving
/// pixel, x = column and y = row, to fixed pixel coordinates).
public struct RegistrationReport: Encodable {
    /// How well the registration is supported (``RegistrationResult``'s scores).
    public struct Quality: Encodable {
        /// η² at full resolution over the overlap.
        public var correlationRatio: Double
        /// η² of the result, mean and standard deviation over random placements, and the z-score,
        /// all at the chance test's resolution.
        public var testedCorrelationRatio: Double
        /// Mean η² of the random placements.
        public var chanceMean: Double
        /// Standard deviation of the random placements' η².
        public var chanceStandardDeviation: Double
        /// z-score of the result against the random placements (10⁹ stands for an infinite one).
        public var zScore: Double
        /// The z-score the run required (``RegistrationOptions/minimumZScore``).
        public var minimumZScore: Double
        /// Share of the moving image's valid pixels that land inside the fixed image, 0…1.
        public var overlapFraction: Double
        /// Estimated uncertainty of the mapping in fixed pixels.
        public var uncertaintyPixels: Double
    }
    /// The landmark fit (landmark registrations only).
    public struct Landmarks: Encodable {
        /// The landmark file.
        public var path: String
        /// Landmark pairs used.
        public var count: Int
        /// Root-mean-square residual of the landmark fit, fixed pixels.
        public var rmsResidualPixels: Double
    }
    /// One of the two images.
    public struct Side: Encodable {
        /// The file as given.
        public var path: String
        /// Columns, pixels.
        public var width: Int
        /// Rows, pixels.
        public var height: Int
        /// `class map` or `grey`.
        public var kind: String
        /// The class map's label values in class order (moving class maps only).
        public var labels: [Int]?
        /// The plane of a stack that was registered (fixed image only; nil for a 2D image).
        public var plane: Int?
    }

    /// `[[a, b, tx], [c, d, ty]]`: moving pixel → fixed pixel coordinates.
    public var affine: [[Double]]
    /// The inverse: fixed pixel → moving pixel coordinates.
    public var inverseAffine: [[Double]]
    /// `rigid`, `similarity` or `affine`.
    public var model: String
    /// `search` or `landmarks`.
    public var method: String
    /// Whether the transform mirrors the moving image (negative determinant).
    public var mirrored: Bool
    /// Rotation in degrees (clockwise on screen; see ``AffineTransform``).
    public var rotationDegrees: Double
    /// Scale, fixed pixels per moving pixel (√|determinant| for an affine map).
    public var scale: Double
    /// The scores and the uncertainty.
    public var quality: Quality
    /// The landmark fit, nil for a searched registration.
    public var landmarks: Landmarks?
    /// The transform before refinement (search winner or landmark fit), same layout as ``affine``.
    public var initialAffine: [[Double]]
    /// Path, size and kind of the moving image.
    public var moving: Side
    /// Path, size and plane of the fixed image.
    public var fixed: Side
    /// The assumptions the result rests on (``registrationAssumptions``).
    public var assumptions: [String]
    /// Candidates the coarse search scored (0 with landmarks).
    public var candidates: Int
    /// Seconds per stage (`search` or `landmark fit`, `refine`, `chance test`).
    public var seconds: [String: Double]
    /// The files written into the output folder.
    public var files: [String]
    /// The Cleave version that wrote the report.
    public var cleaveVersion: String
}

/// The assumptions a registration rests on, as printed and written to `transform.json`.
public let registrationAssumptions = [
    "the moving image and the fixed plane show the same flat region; the mapping is \(RegistrationModel.allCases.map(\.rawValue).joined(separator: "/")) as chosen, with no local distortion",
    "each moving class (or grey level) has one grey-value distribution in the fixed image (the correlation ratio measures this)",
    "class 0 in a moving class map is no data and is ignored",
    "the automatic search assumes the translation keeps the moving centre within half the fixed image of the fixed centre",
    "the automatic search reads rotation and scale from the Fourier magnitude of edges, which needs a scene that is not the same in every direction (e.g. the sample's outline); a map of an isotropic interior region is refused rather than guessed: give --landmarks",
]

/// Writes `transform.json`, `overlay.png` (moving class outlines over the fixed image),
/// `checkerboard.png` (alternating blocks of the fixed image and the registered map) and
/// `registered.tif` (the moving image resampled onto the fixed grid: original labels for a class
/// map, nearest neighbour, 0 outside; bilinear grey values for a grey image) into `directory`.
/// Every file is written whole or not at all. Returns the report.
/// - Complexity: O(fixed pixels) for the resampling and both pictures.
public func writeRegistrationOutputs(_ result: RegistrationResult, moving: RegistrationMovingImage, fixed: RegistrationFixedImage,
                                     movingPath: String, fixedPath: String, fixedPlane: Int?, landmarksPath: String?,
                                     minimumZScore: Double, directory: String) throws -> RegistrationReport {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    guard let inverse = result.transform.inverse else {
        throw RegistrationError.singularTransform
    }
    let warped = warpNearest(moving.classes, width: moving.width, height: moving.height,
                             outputWidth: fixed.width, outputHeight: fixed.height, transform: inverse.coefficients)
    let fixedImage = Image(shape: Shape(width: fixed.width, height: fixed.height), pixels: fixed.values)
    let grey = Display.grey(fixedImage)
    let files = ["transform.json", "overlay.png", "checkerboard.png", "registered.tif"]
    let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }

    try AtomicFile.write(Data(try PNGWriter.encode(registrationOutlines(grey: grey, classes: warped))), to: path("overlay.png"))
    try AtomicFile.write(Data(try PNGWriter.encode(registrationCheckerboard(grey: grey, classes: warped))), to: path("checkerboard.png"))
    let registered: [UInt8]
    if let values = moving.grey {
        let image = Image(shape: Shape(width: fixed.width, height: fixed.height),
                          pixels: warpBilinear(values, width: moving.width, height: moving.height, outputWidth: fixed.width,
                                               outputHeight: fixed.height, transform: inverse.coefficients))
        registered = try TIFFWriter.encode(image)
    } else if (moving.labels.max() ?? 0) <= 255 && (moving.labels.min() ?? 0) >= 0 {
        let table = [UInt8(0)] + moving.labels.map { UInt8($0) }
        registered = try TIFFWriter.encode(Image(shape: Shape(width: fixed.width, height: fixed.height), pixels: warped.map { table[Int($0)] }))
    } else if (moving.labels.max() ?? 0) <= 65535 && (moving.labels.min() ?? 0) >= 0 {
        let table = [UInt16(0)] + moving.labels.map { UInt16($0) }
        registered = try TIFFWriter.encode(Image(shape: Shape(width: fixed.width, height: fixed.height), pixels: warped.map { table[Int($0)] }))
    } else {
        let table = [Float(0)] + moving.labels.map { Float($0) }
        registered = try TIFFWriter.encode(Image(shape: Shape(width: fixed.width, height: fixed.height), pixels: warped.map { table[Int($0)] }))
    }
    try AtomicFile.write(Data(registered), to: path("registered.tif"))

    let report = RegistrationReport(
        affine: result.transform.rows, inverseAffine: inverse.rows, model: result.model.rawValue, method: result.method,
        mirrored: result.transform.isMirrored, rotationDegrees: result.transform.rotationDegrees, scale: result.transform.scale,
        quality: .init(correlationRatio: result.correlationRatio, testedCorrelationRatio: result.testedRatio,
                       chanceMean: result.chanceMean, chanceStandardDeviation: result.chanceDeviation,
                       zScore: result.zScore.isFinite ? result.zScore : 1e9, minimumZScore: minimumZScore,
                       overlapFraction: result.overlapFraction, uncertaintyPixels: result.uncertainty),
        landmarks: landmarksPath.map { .init(path: $0, count: result.landmarkCount ?? 0, rmsResidualPixels: result.landmarkResidual ?? 0) },
        initialAffine: result.initialTransform.rows,
        moving: .init(path: movingPath, width: moving.width, height: moving.height, kind: moving.isClassMap ? "class map" : "grey",
                      labels: moving.isClassMap ? moving.labels : nil, plane: nil),
        fixed: .init(path: fixedPath, width: fixed.width, height: fixed.height, kind: "grey", labels: nil, plane: fixedPlane),
        assumptions: registrationAssumptions, candidates: result.candidateCount,
        seconds: Dictionary(result.timings.map { ($0.stage, $0.seconds) }, uniquingKeysWith: +),
        files: files, cleaveVersion: cleaveVersion)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try encoder.encode(report), to: path("transform.json"))
    return report
}

/// The fixed picture with the registered classes' outlines (pixels whose 4-neighbour has another
/// class, including the map's edge) in the class colours.
func registrationOutlines(grey: Image<UInt8>, classes: [UInt8]) -> Image<UInt8> {
    var rgb = Display.rgb(fromGrey: grey)
    let w = grey.width, h = grey.height, n = w * h
    for y in 0..<h {
        for x in 0..<w {
            let i = y * w + x, k = classes[i]
            guard k != 0 else { continue }
            let edge = (x > 0 && classes[i - 1] != k) || (x + 1 < w && classes[i + 1] != k)
                || (y > 0 && classes[i - w] != k) || (y + 1 < h && classes[i + w] != k)
            guard edge else { continue }
            let colour = Palette.colour(forIndex: Int(k) - 1)
            rgb.pixels[i] = colour.red; rgb.pixels[n + i] = colour.green; rgb.pixels[2 * n + i] = colour.blue
        }
    }
    return rgb
}

/// Alternating square blocks (side ≈ 1/8 of the smaller side, at least 16 px) of the fixed
/// picture and the registered class map in class colours (grey where the map has no data).
func registrationCheckerboard(grey: Image<UInt8>, classes: [UInt8]) -> Image<UInt8> {
    var rgb = Display.rgb(fromGrey: grey)
    let w = grey.width, h = grey.height, n = w * h
    let block = max(16, min(w, h) / 8)
    for y in 0..<h {
        for x in 0..<w where (x / block + y / block) % 2 == 1 {
            let i = y * w + x, k = classes[i]
            guard k != 0 else { continue }
            let colour = Palette.colour(forIndex: Int(k) - 1)
            rgb.pixels[i] = colour.red; rgb.pixels[n + i] = colour.green; rgb.pixels[2 * n + i] = colour.blue
        }
    }
    return rgb
}

import CleaveCore
import CleaveFilters
import Foundation

/// Which transforms a registration may use.
public enum RegistrationModel: String, CaseIterable, Codable, Sendable {
    /// Rotation and translation (scale 1), plus a mirror when allowed.
    case rigid
    /// Rotation, one scale and translation, plus a mirror when allowed.
    case similarity
    /// Any affine map (6 parameters); the search starts from the best similarity.
    case affine

    /// Landmark pairs needed: one more than the minimum, so that the fit has a residual to check.
    public var landmarksNeeded: Int { self == .affine ? 4 : 3 }
}

/// Whether the moving image may be mirrored (left-right; a mirror plus a rotation covers any flip).
public enum MirrorSearch: String, CaseIterable, Codable, Sendable {
    case auto, yes, no
}

/// Settings of ``register(moving:fixed:options:landmarks:progress:)``.
public struct RegistrationOptions: Sendable {
    /// Which transforms are allowed (default similarity).
    public var model: RegistrationModel = .similarity
    /// Whether a mirrored moving image is considered: `auto` tries both, `yes` only mirrored, `no` never (default auto).
    public var mirror: MirrorSearch = .auto
    /// Refine the search's (or the landmarks') transform by maximising the correlation ratio.
    public var refine = true
    /// Smallest accepted z-score of the best correlation ratio against random placements.
    public var minimumZScore = 8.0
    /// Smallest accepted share of the moving image's valid pixels landing inside the fixed image.
    public var minimumOverlap = 0.1
    /// Random placements scored to estimate the chance level.
    public var chanceTrials = 64
    /// Seed of the random placements of the chance test.
    public var seed: UInt64 = 1
    /// The defaults: similarity, mirror `auto`, refinement on, z ≥ 8, overlap ≥ 10 %, 64 chance trials, seed 1.
    public init() {}
}

/// How a registration went; ``transform`` maps moving pixels to fixed pixel coordinates.
public struct RegistrationResult: Sendable {
    /// Maps a moving pixel (x = column, y = row) to fixed pixel coordinates.
    public var transform: AffineTransform
    /// The transform model that was used.
    public var model: RegistrationModel
    /// "search" or "landmarks".
    public var method: String
    /// Correlation ratio η² of the fixed values given the moving classes over the overlap, at full resolution.
    public var correlationRatio: Double
    /// η² of the result and of random placements at the chance-test resolution, and the z-score.
    public var testedRatio: Double
    /// Mean η² of the random placements.
    public var chanceMean: Double
    /// Standard deviation of the random placements' η².
    public var chanceDeviation: Double
    /// (``testedRatio`` − ``chanceMean``) / ``chanceDeviation``; a searched registration (not a landmark one) under ``RegistrationOptions/minimumZScore`` is refused.
    public var zScore: Double
    /// Share of the moving image's valid pixels that land inside the fixed image.
    public var overlapFraction: Double
    /// Landmark fit (landmark registrations only): pairs and root-mean-square residual in fixed pixels.
    public var landmarkCount: Int?
    /// Root-mean-square landmark residual in fixed pixels.
    public var landmarkResidual: Double?
    /// The transform before refinement (search winner or landmark fit).
    public var initialTransform: AffineTransform
    /// Estimated uncertainty of the transform in fixed pixels: the largest displacement, over the
    /// moving image's corners, between the last two refinement levels (≥ 0.5 px).
    public var uncertainty: Double
    /// Candidates the coarse search scored (0 with landmarks).
    public var candidateCount: Int
    /// Seconds spent in the search (or landmark fit), the refinement and the chance test.
    public var timings: [(stage: String, seconds: Double)]
}

/// Registers a moving image (class map or grey) to a fixed grey or label image.
///
/// Method: a coarse global search (log-polar phase correlation of edge spectra for rotation and
/// scale, with and without a mirror, then phase correlation for translation; see `CoarseSearch.swift`)
/// or a landmark fit; then multi-resolution refinement (Nelder–Mead) of the correlation ratio
/// η² = 1 − within-class variance / total variance of the fixed values grouped by the moving class
/// they fall under, over the overlap. Finally the result is compared with random placements of the
/// moving image (same scale): a z-score under `options.minimumZScore` is refused.
///
/// Assumptions (reported by the CLI): the two images show the same flat region with a roughly
/// uniform scale (affine at most); the moving image's classes (or grey levels) explain the fixed
/// grey values (one grey distribution per class); the search's translation is within half the
/// fixed image of the centres coinciding (wrap-around of the phase correlation).
///
/// - Throws: ``RegistrationError`` when the landmarks are unusable, the images do not overlap, or
///   the match is indistinguishable from chance.
/// - Complexity: O(moving + fixed pixels) for the 256-pixel working images, the fixed image's blur
///   per level and the full-resolution scores; the rest is bounded whatever the image size: each
///   search candidate and chance trial on about 30 000 moving samples, at most 60 × parameters
///   Nelder–Mead evaluations per refinement level on at most about 60 000.
public func register(moving: RegistrationMovingImage, fixed: RegistrationFixedImage, options: RegistrationOptions = RegistrationOptions(),
                     landmarks: RegistrationLandmarks? = nil, progress: CleaveCore.Progress = .silent) throws -> RegistrationResult {
    var timings: [(stage: String, seconds: Double)] = []
    var clock = Date()
    func lap(_ stage: String) { timings.append((stage, Date().timeIntervalSince(clock))); clock = Date() }

    let metric = CorrelationRatioMetric(moving: moving, fixed: fixed)
    var start: AffineTransform
    var candidateCount = 0
    progress.report(0, 4, "search")
    if let landmarks {
        start = try landmarks.fit(model: options.model, mirror: options.mirror)
        lap("landmark fit")
    } else {
        let images = CoarseImages(moving: moving, fixed: fixed)
        let candidates = coarseCandidates(moving: moving, fixed: fixed, images: images, model: options.model, mirror: options.mirror)
        candidateCount = candidates.count
        let level = metric.level(stride: metric.coarsestStride, scale: candidates.first?.transform.scale ?? 1)
        var best = candidates[0].transform, bestScore = -1.0
        for candidate in candidates {
            let score = metric.score(candidate.transform, level: level, minimumOverlap: options.minimumOverlap)
            if score > bestScore { bestScore = score; best = candidate.transform }
        }
        start = best
        lap("search")
    }
    progress.report(1, 4, "refine")
    var transform = start
    var uncertainty = 0.5
    if options.refine {
        let refined = metric.refine(start, model: options.model, minimumOverlap: options.minimumOverlap)
        transform = refined.transform
        uncertainty = max(0.5, refined.lastChange)
    }
    lap("refine")
    progress.report(2, 4, "chance")

    let overlap = metric.overlapFraction(transform)
    if overlap < options.minimumOverlap {
        throw RegistrationError.noOverlap(overlapFraction: overlap, minimum: options.minimumOverlap)
    }
    let chance = metric.chance(transform, model: options.model, mirror: options.mirror, trials: options.chanceTrials,
                               minimumOverlap: options.minimumOverlap, seed: options.seed)
    lap("chance test")
    progress.report(3, 4, "score")
    let fullRatio = metric.score(transform, level: metric.level(stride: 1, scale: transform.scale), minimumOverlap: 0)
    if landmarks == nil && !(chance.z >= options.minimumZScore) {
        throw RegistrationError.indistinguishableFromChance(score: chance.tested, chanceMean: chance.mean, chanceDeviation: chance.deviation,
                                                            zScore: chance.z, minimumZ: options.minimumZScore)
    }
    progress.report(4, 4, "done")
    return RegistrationResult(transform: transform, model: options.model, method: landmarks == nil ? "search" : "landmarks",
                              correlationRatio: fullRatio, testedRatio: chance.tested, chanceMean: chance.mean,
                              chanceDeviation: chance.deviation, zScore: chance.z, overlapFraction: overlap,
                              landmarkCount: landmarks?.pairs.count, landmarkResidual: landmarks.map { $0.residual(of: start) },
                              initialTransform: start, uncertainty: uncertainty, candidateCount: candidateCount, timings: timings)
}

/// The correlation ratio of the fixed values given the moving classes, at several resolutions.
struct CorrelationRatioMetric {
    let moving: RegistrationMovingImage
    let fixed: RegistrationFixedImage
    /// Blurred copies of the fixed image by sigma (rounded to 0.05 px), built on demand.
    private let cache = BlurCache()

    /// About this many samples at the coarsest level.
    static let coarseSamples = 30_000

    init(moving: RegistrationMovingImage, fixed: RegistrationFixedImage) {
        self.moving = moving; self.fixed = fixed
    }

    /// About this many samples at the finest refinement level: enough for sub-pixel accuracy
    /// (the error of a sample mean shrinks as 1/√n), and a bound on the refinement's time.
    static let fineSamples = 60_000

    var coarsestStride: Int { max(1, Int((Double(moving.validCount) / Double(Self.coarseSamples)).squareRoot().rounded())) }
    var finestStride: Int { max(1, Int((Double(moving.validCount) / Double(Self.fineSamples)).squareRoot().rounded())) }

    /// The moving sample stride and the fixed image blurred to match it: a moving sample spacing of
    /// `stride` pixels covers `stride · scale` fixed pixels; the blur sigma is half that.
    struct Level { let stride: Int; let fixed: [Float] }

    func level(stride: Int, scale: Double) -> Level {
        let sigma = (0.5 * Double(stride) * scale * 20).rounded() / 20
        return Level(stride: stride, fixed: cache.blurred(fixed, sigma: sigma < 0.3 ? 0 : sigma))
    }

    func moments(_ t: AffineTransform, level: Level) -> ClassMoments {
        classMoments(classes: moving.classes, width: moving.width, height: moving.height, classCount: moving.classCount,
                     stride: level.stride, fixed: level.fixed, fixedWidth: fixed.width, fixedHeight: fixed.height,
                     transform: t.coefficients)
    }

    /// η², or 0 when fewer than `minimumOverlap` of the sampled valid pixels land inside.
    func score(_ t: AffineTransform, level: Level, minimumOverlap: Double) -> Double {
        let m = moments(t, level: level)
        let sampled = Double(moving.validCount) / Double(level.stride * level.stride)
        guard Double(m.overlap) >= max(2, minimumOverlap * sampled) else { return 0 }
        return m.correlationRatio
    }

    func overlapFraction(_ t: AffineTransform) -> Double {
        let m = moments(t, level: Level(stride: 1, fixed: fixed.values))
        return Double(m.overlap) / Double(max(1, moving.validCount))
    }

    /// Nelder–Mead on η² at strides coarse → 1. Parameters are scaled so that one unit moves the
    /// moving image's corners by about one fixed pixel.
    func refine(_ start: AffineTransform, model: RegistrationModel, minimumOverlap: Double) -> (transform: AffineTransform, lastChange: Double) {
        var strides: [Int] = []
        var s = coarsestStride
        while s > finestStride { strides.append(s); s = s / 2 }
        strides.append(finestStride)
        let center = (x: Double(moving.width - 1) / 2, y: Double(moving.height - 1) / 2)
        let radius = 0.5 * (Double(moving.width * moving.width + moving.height * moving.height)).squareRoot()
        let corners = [(0.0, 0.0), (Double(moving.width - 1), 0.0), (0.0, Double(moving.height - 1)),
                       (Double(moving.width - 1), Double(moving.height - 1))].map { (x: $0.0, y: $0.1) }
        var current = start
        var lastChange = 0.0
        for stride in strides {
            let scale = current.scale
            let level = self.level(stride: stride, scale: scale)
            let parameterisation = RegistrationParameters(base: current, model: model, center: center, radius: radius)
            let step = max(0.5, Double(stride) * max(1, scale))
            let best = nelderMead(dimension: parameterisation.dimension, step: step, tolerance: 0.02 * step,
                                  maximumEvaluations: 60 * parameterisation.dimension) { p in
                -score(parameterisation.transform(p), level: level, minimumOverlap: minimumOverlap)
            }
            let next = parameterisation.transform(best)
            lastChange = next.maximumDistance(to: current, at: corners)
            current = next
        }
        return (current, lastChange)
    }

    /// η² of `t` and of `trials` random placements (random angle and mirror when allowed, the
    /// same scale, the moving centre uniformly inside the fixed image, kept when they overlap at
    /// least half as much as `t` does: η² over a small overlap is noisy and would widen the chance
    /// distribution) at the coarsest stride.
    func chance(_ t: AffineTransform, model: RegistrationModel, mirror: MirrorSearch, trials: Int, minimumOverlap: Double,
                seed: UInt64) -> (tested: Double, mean: Double, deviation: Double, z: Double) {
        let level = self.level(stride: coarsestStride, scale: t.scale)
        let tested = score(t, level: level, minimumOverlap: 0)
        let sampledValid = Double(moving.validCount) / Double(level.stride * level.stride)
        let minimumOverlap = max(minimumOverlap, 0.5 * Double(moments(t, level: level).overlap) / sampledValid)
        var generator = SeededGenerator(seed: seed)
        var scores: [Double] = []
        let center = (x: Double(moving.width - 1) / 2, y: Double(moving.height - 1) / 2)
        var attempts = 0
        while scores.count < trials && attempts < 50 * trials {
            attempts += 1
            let angle = 2 * Double.pi * generator.nextDouble()
            let mirrored = mirror == .auto ? generator.nextDouble() < 0.5 : mirror == .yes
            var candidate = AffineTransform.similarity(angleRadians: angle, scale: t.scale, mirrored: mirrored, translation: (0, 0))
            let image = candidate.apply(center.x, center.y)
            candidate.tx = generator.nextDouble() * Double(fixed.width - 1) - image.x
            candidate.ty = generator.nextDouble() * Double(fixed.height - 1) - image.y
            let m = moments(candidate, level: level)
            let sampled = Double(moving.validCount) / Double(level.stride * level.stride)
            if Double(m.overlap) >= max(2, minimumOverlap * sampled) { scores.append(m.correlationRatio) }
        }
        guard scores.count >= 2 else { return (tested, 0, 0, .infinity) }
        let mean = scores.reduce(0, +) / Double(scores.count)
        let deviation = (scores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(scores.count - 1)).squareRoot()
        return (tested, mean, deviation, (tested - mean) / max(deviation, 1e-6))
    }
}

/// Blurred fixed images by sigma, computed once each (not thread-safe; one registration at a time).
final class BlurCache {
    private var images: [Double: [Float]] = [:]
    func blurred(_ fixed: RegistrationFixedImage, sigma: Double) -> [Float] {
        if sigma <= 0 { return fixed.values }
        if let hit = images[sigma] { return hit }
        let image = gaussian(Image(shape: Shape(width: fixed.width, height: fixed.height), pixels: fixed.values), sigma: sigma).pixels
        images[sigma] = image
        return image
    }
}

/// A transform near `base` as a parameter vector (0 = base), scaled so that one unit moves the
/// moving image's corners by about one fixed pixel. The moving centre is the pivot.
struct RegistrationParameters {
    let base: AffineTransform
    let model: RegistrationModel
    let center: (x: Double, y: Double)
    /// Distance from the centre to a corner of the moving image, in moving pixels.
    let radius: Double

    var dimension: Int {
        switch model { case .rigid: return 3; case .similarity: return 4; case .affine: return 6 }
    }

    func transform(_ p: [Double]) -> AffineTransform {
        let pivot = base.apply(center.x, center.y)
        var linear = base
        let scale = base.scale, r = radius * scale
        switch model {
        case .rigid, .similarity:
            let angle = p[2] / r
            let factor = model == .similarity ? exp(p[3] / r) : 1
            let rotation = AffineTransform.similarity(angleRadians: angle, scale: factor, mirrored: false, translation: (0, 0))
            linear = rotation.composed(after: base)
        case .affine:
            linear.a += p[2] / radius; linear.b += p[3] / radius
            linear.c += p[4] / radius; linear.d += p[5] / radius
        }
        // Keep the centre's image at pivot + (p[0], p[1]).
        let image = linear.apply(center.x, center.y)
        linear.tx += pivot.x + p[0] - image.x
        linear.ty += pivot.y + p[1] - image.y
        return linear
    }
}

/// Minimises `f` from the origin with a simplex of side `step`; stops when every vertex lies within
/// `tolerance` of the best one or after `maximumEvaluations`. Deterministic.
func nelderMead(dimension n: Int, step: Double, tolerance: Double, maximumEvaluations: Int, _ f: ([Double]) -> Double) -> [Double] {
    var simplex: [[Double]] = [[Double](repeating: 0, count: n)]
    for i in 0..<n { var v = [Double](repeating: 0, count: n); v[i] = step; simplex.append(v) }
    var values = simplex.map(f)
    var evaluations = values.count
    func combine(_ a: [Double], _ b: [Double], _ t: Double) -> [Double] { zip(a, b).map { $0 + t * ($1 - $0) } }
    while evaluations < maximumEvaluations {
        let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] < values[$1] : $0 < $1 }
        simplex = order.map { simplex[$0] }; values = order.map { values[$0] }
        let spread = simplex.dropFirst().map { v in zip(v, simplex[0]).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
        if spread < tolerance { break }
        var centroid = [Double](repeating: 0, count: n)
        for v in simplex.dropLast() { for i in 0..<n { centroid[i] += v[i] / Double(n) } }
        let worst = simplex[n]
        let reflected = combine(centroid, worst, -1)
        let fr = f(reflected); evaluations += 1
        if fr < values[0] {
            let expanded = combine(centroid, worst, -2)
            let fe = f(expanded); evaluations += 1
            if fe < fr { simplex[n] = expanded; values[n] = fe } else { simplex[n] = reflected; values[n] = fr }
        } else if fr < values[n - 1] {
            simplex[n] = reflected; values[n] = fr
        } else {
            let contracted = fr < values[n] ? combine(centroid, reflected, 0.5) : combine(centroid, worst, 0.5)
            let fc = f(contracted); evaluations += 1
            if fc < min(fr, values[n]) {
                simplex[n] = contracted; values[n] = fc
            } else {
                for i in 1...n { simplex[i] = combine(simplex[0], simplex[i], 0.5); values[i] = f(simplex[i]) }
                evaluations += n
            }
        }
    }
    let bestIndex = values.indices.min { values[$0] != values[$1] ? values[$0] < values[$1] : $0 < $1 }!
    return simplex[bestIndex]
}

import CleaveCore
import CleaveFeatures
import CleaveLearning
import Foundation

/// Settings of a lithology run (`cleave lithology`).
public struct LithologyOptions: Sendable, Codable, Equatable {
    /// High-resolution pixels per low-resolution pixel (the ratio of the two scans' pixel sizes).
    public var scale: Int = 4
    /// Block side in high-resolution pixels; a block is `blockSize / scale` low-resolution pixels.
    public var blockSize: Int = 64
    /// The class value of pore space in the high-resolution class maps.
    public var poreClass: Int = 1
    /// Porosity at which a block counts as high porosity; nil = the median of the training blocks.
    public var porosityThreshold: Double? = nil
    /// A pore is a crack when its elongation √(λ₁/λ₂) reaches this (and its major axis a block side).
    public var fractureElongation: Double = 6
    /// A block is a fracture block when cracks make up at least this share of its sample pixels.
    public var fractureShare: Double = 0.02
    /// Trees of the random forest.
    public var treeCount: Int = 100
    /// Seed of the random forest.
    public var seed: UInt64 = 0
    /// How many high-resolution targets to suggest per image.
    public var targetCount: Int = 5

    /// The defaults: scale 4, 64-pixel blocks, pore class 1, threshold from the training median, 100 trees, 5 targets.
    public init() {}

    /// Block side in low-resolution pixels.
    public var lowResolutionBlock: Int { blockSize / scale }

    /// Checks values that do not depend on the images.
    /// - Throws: ``LithologyError/invalidOption(field:value:reason:)`` naming the field.
    public func validate() throws(LithologyError) {
        func fail(_ field: String, _ value: Any, _ reason: String) -> LithologyError {
            .invalidOption(field: field, value: String(describing: value), reason: reason)
        }
        guard (1...64).contains(scale) else { throw fail("scale", scale, "must be 1 to 64") }
        guard blockSize >= 4, blockSize <= 4096 else { throw fail("blockSize", blockSize, "must be 4 to 4096 high-resolution pixels") }
        guard blockSize % scale == 0, blockSize / scale >= 4 else {
            throw fail("blockSize", blockSize, "must be a multiple of the scale (\(scale)) giving blocks of at least 4 low-resolution pixels")
        }
        guard (0...65535).contains(poreClass) else { throw fail("poreClass", poreClass, "class values are 0 to 65535") }
        if let t = porosityThreshold, !(t > 0 && t < 1) { throw fail("porosityThreshold", t, "a porosity lies between 0 and 1") }
        guard fractureElongation >= 1, fractureElongation.isFinite else { throw fail("fractureElongation", fractureElongation, "must be ≥ 1") }
        guard fractureShare > 0, fractureShare <= 1 else { throw fail("fractureShare", fractureShare, "must be above 0 and at most 1") }
        guard (1...2000).contains(treeCount) else { throw fail("treeCount", treeCount, "must be 1 to 2000") }
        guard (0...1000).contains(targetCount) else { throw fail("targetCount", targetCount, "must be 0 to 1000") }
    }
}

/// Why a lithology run cannot go on: one line naming what, where and why.
public enum LithologyError: FieldNamingError, Equatable {
    /// A ``LithologyOptions`` field that cannot be used.
    case invalidOption(field: String, value: String, reason: String)
    /// The high-resolution map does not fit the low-resolution image at the given scale and offset.
    case mapDoesNotFit(labels: String, image: String, reason: String)
    /// A file that is not a single grey plane (or class map).
    case notAPlane(path: String, reason: String)
    /// Not enough training blocks or classes.
    case notEnoughTraining(reason: String)

    /// One line: the file or field, then what is wrong.
    public var description: String {
        switch self {
        case let .invalidOption(field, value, reason): return "\(field) \(value): \(reason)"
        case let .mapDoesNotFit(labels, image, reason): return "\(labels) does not fit \(image): \(reason)"
        case let .notAPlane(path, reason): return "\(path): \(reason)"
        case let .notEnoughTraining(reason): return "cannot train the lithology classifier: \(reason)"
        }
    }
}

/// A low-resolution scan with the high-resolution class map of part of it.
public struct LithologyTrainingPair: Sendable {
    /// The low-resolution scan (one grey plane).
    public var image: Image<Float>
    /// Name of the scan for messages.
    public var imageName: String
    /// The high-resolution class map of part of the scan (``LithologyOptions/poreClass`` marks pores).
    public var labels: Image<UInt16>
    /// Name of the class map for messages.
    public var labelsName: String
    /// Where the map's first pixel lies in the low-resolution image (low-resolution pixels).
    public var offsetX: Int
    /// Row of the map's first pixel in the low-resolution image (low-resolution pixels).
    public var offsetY: Int

    /// A pair; the map's fit inside the image is checked when training.
    public init(image: Image<Float>, imageName: String, labels: Image<UInt16>, labelsName: String, offsetX: Int = 0, offsetY: Int = 0) {
        self.image = image; self.imageName = imageName; self.labels = labels; self.labelsName = labelsName
        self.offsetX = offsetX; self.offsetY = offsetY
    }
}

/// A trained lithology classifier: the forest on block features and, for comparison, the
/// grey-mean threshold baseline fitted on the same blocks.
public struct LithologyModel: Sendable {
    /// The options the model was trained with (block size and scale apply to the images it maps).
    public var options: LithologyOptions
    /// The porosity threshold used for the classes, and how it was chosen.
    public var porosityThreshold: Double
    /// How the threshold was chosen: `given`, or the median porosity of the training blocks.
    public var thresholdSource: String
    /// The forest on the block features (``Lithology/featureNames``); its classes are ``LithologyClass`` values.
    public var forest: RandomForest
    /// The grey-mean threshold baseline fitted on the same blocks.
    public var baseline: LithologyBaseline
    /// Training blocks per class value.
    public var trainingCounts: [Int32: Int]
}

/// The simple method a lithology map must beat: each block's grey mean against thresholds.
/// Classes are ordered by their median grey mean on the training blocks; between two neighbours
/// in that order the threshold that misclassifies fewest training blocks of the pair is chosen.
public struct LithologyBaseline: Sendable, Equatable {
    /// Class values, darkest first.
    public var classes: [Int32]
    /// `classes.count − 1` thresholds, ascending.
    public var thresholds: [Double]

    /// Fits the thresholds on one grey mean and one class value per training block (equal counts;
    /// at least one block per class present).
    /// - Complexity: O(classes × blocks log blocks) for the medians and the threshold searches.
    public static func fit(means: [Double], classes labels: [Int32]) -> LithologyBaseline {
        let present = Array(Set(labels)).sorted()
        func median(_ c: Int32) -> Double {
            let v = zip(means, labels).filter { $0.1 == c }.map(\.0).sorted()
            return v[v.count / 2]
        }
        let ordered = present.sorted { (median($0), $0) < (median($1), $1) }
        var thresholds: [Double] = []
        for i in 0..<max(0, ordered.count - 1) {
            let low = ordered[i], high = ordered[i + 1]
            let pair = zip(means, labels).filter { $0.1 == low || $0.1 == high }.sorted { $0.0 < $1.0 }
            // Threshold t: means < t → low. Try between every pair of consecutive values.
            var errors = pair.filter { $0.1 == low }.count  // t below everything: every low block is wrong
            var best = (errors, pair.first.map { $0.0 } ?? 0)
            for j in 0..<pair.count {
                errors += pair[j].1 == low ? -1 : 1
                let t = j + 1 < pair.count ? (pair[j].0 + pair[j + 1].0) / 2 : pair[j].0 + 1
                if errors < best.0 { best = (errors, t) }
            }
            thresholds.append(max(best.1, thresholds.last ?? -.infinity))
        }
        return LithologyBaseline(classes: ordered, thresholds: thresholds)
    }

    /// The class of a block with grey mean `mean`: the first class whose upper threshold lies above it.
    public func predict(_ mean: Double) -> Int32 {
        var i = 0
        while i < thresholds.count && mean >= thresholds[i] { i += 1 }
        return classes[i]
    }
}

/// The region map of one low-resolution image.
public struct LithologyMap: Sendable {
    /// Block rows mapped (the image height divided by the block side, rounded down).
    public var blockRows: Int
    /// Block columns mapped.
    public var blockColumns: Int
    /// Block side in low-resolution pixels.
    public var blockSide: Int
    /// Where block (0, 0) starts (low-resolution pixels).
    public var originX: Int
    /// Row where block (0, 0) starts (low-resolution pixels).
    public var originY: Int
    /// Class value per block, row-major.
    public var classes: [Int32]
    /// Forest probabilities per block, row-major over `classValues`.
    public var probabilities: [Float]
    /// The forest's class values, in the order of each block's probabilities.
    public var classValues: [Int32]
    /// The baseline's class per block.
    public var baseline: [Int32]
    /// Grey mean per block.
    public var means: [Double]
}

/// A suggested place for a high-resolution scan.
public struct LithologyTarget: Sendable, Equatable {
    /// 1-based rank, best first.
    public var rank: Int
    /// Block row of the target in the map.
    public var blockRow: Int
    /// Block column of the target in the map.
    public var blockColumn: Int
    /// Centre in low-resolution pixels.
    public var x: Double
    /// Centre row in low-resolution pixels.
    public var y: Double
    /// Region classes present in the 3 × 3 blocks around it.
    public var classesAround: Int
    /// Mean class entropy (bits) of the forest's probabilities over those blocks.
    public var entropy: Double
}

/// Lithology from a low-resolution scan: region classes derived from a high-resolution class map
/// of part of the sample (``LithologyRegions``) train a random forest on block features of the
/// low-resolution image — grey statistics, gradients and texture of each block plus grey
/// statistics of its 3 × 3 and 5 × 5 block neighbourhoods (non-local averages) — which then maps
/// whole low-resolution fields.
public enum Lithology {
    /// Statistics of the block itself.
    static let blockStatistics: [PatchStatistic] = [.mean, .std, .p5, .p25, .median, .p75, .p95, .min, .max,
                                                    .gradmean, .gradstd, .glcmContrast, .glcmHomogeneity, .glcmEnergy, .glcmEntropy]
    /// Statistics of the neighbourhoods (non-local averages).
    static let contextStatistics: [PatchStatistic] = [.mean, .std, .p5, .median, .p95, .gradmean]

    /// Names of the feature columns, in order.
    public static var featureNames: [String] {
        blockStatistics.map(\.rawValue) + contextStatistics.map { "\($0.rawValue)_3x3" } + contextStatistics.map { "\($0.rawValue)_5x5" }
    }

    /// Block features of `image` for blocks of `side` pixels starting at (`originX`, `originY`),
    /// `rows` × `columns` of them; row-major matrix, one row per block.
    /// - Complexity: O(pixels) for the statistics plus the neighbourhoods (25 blocks each).
    public static func features(_ image: Image<Float>, originX: Int, originY: Int, side: Int, rows: Int, columns: Int) -> Matrix {
        var own: [Region] = [], near: [Region] = [], far: [Region] = []
        func clipped(_ x: Int, _ y: Int, _ w: Int, _ h: Int) -> Region {
            let x0 = max(0, x), y0 = max(0, y), x1 = min(image.width, x + w), y1 = min(image.height, y + h)
            return Region(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
        }
        for r in 0..<rows {
            for c in 0..<columns {
                let x = originX + c * side, y = originY + r * side
                own.append(Region(x: x, y: y, width: side, height: side))
                near.append(clipped(x - side, y - side, 3 * side, 3 * side))
                far.append(clipped(x - 2 * side, y - 2 * side, 5 * side, 5 * side))
            }
        }
        let integral = PatchStatistics.isIntegerValued(image)
        let gradient = PatchGradient.magnitude(image, sigma: PatchStatisticsOptions().gradientSigma)
        let a = PatchStatistics.compute(image, regions: own, statistics: blockStatistics, integral: integral, gradient: gradient)
        let b = PatchStatistics.compute(image, regions: near, statistics: contextStatistics, integral: integral, gradient: gradient)
        let d = PatchStatistics.compute(image, regions: far, statistics: contextStatistics, integral: integral, gradient: gradient)
        let n = own.count, ca = blockStatistics.count, cb = contextStatistics.count
        var values = [Double](repeating: 0, count: n * (ca + 2 * cb))
        for i in 0..<n {
            let row = i * (ca + 2 * cb)
            for j in 0..<ca { values[row + j] = a[i * ca + j] }
            for j in 0..<cb { values[row + ca + j] = b[i * cb + j]; values[row + ca + cb + j] = d[i * cb + j] }
        }
        return Matrix(rows: n, columns: ca + 2 * cb, values: values.map { $0.isFinite ? Float($0) : 0 })
    }

    /// The training blocks of one pair: measured truth and the low-resolution block grid they cover.
    static func trainingBlocks(_ pair: LithologyTrainingPair, options: LithologyOptions) throws(LithologyError)
        -> (truth: [LithologyBlockTruth], rows: Int, columns: Int) {
        let side = options.blockSize, low = options.lowResolutionBlock
        let rows = pair.labels.height / side, columns = pair.labels.width / side
        guard rows > 0, columns > 0 else {
            throw .mapDoesNotFit(labels: pair.labelsName, image: pair.imageName,
                                 reason: "the map (\(pair.labels.width)×\(pair.labels.height)) is smaller than one \(side)-pixel block")
        }
        guard pair.offsetX >= 0, pair.offsetY >= 0,
              pair.offsetX + columns * low <= pair.image.width, pair.offsetY + rows * low <= pair.image.height else {
            throw .mapDoesNotFit(labels: pair.labelsName, image: pair.imageName,
                                 reason: "its \(columns)×\(rows) blocks of \(side) px at scale \(options.scale) cover \(columns * low)×\(rows * low) low-resolution pixels from (\(pair.offsetX), \(pair.offsetY)), beyond the \(pair.image.width)×\(pair.image.height) image; check the scale and offset")
        }
        return (LithologyRegions.measure(pair.labels, options: options), rows, columns)
    }

    /// Derives the classes, fits the forest and the baseline.
    /// - Throws: ``LithologyError`` when a map does not fit its image or fewer than two classes are found.
    /// - Complexity: O(high-resolution map pixels) for the region classes, O(low-resolution pixels)
    ///   for the block features, then the forest: about O(treeCount × blocks log blocks × √features).
    public static func train(_ pairs: [LithologyTrainingPair], options: LithologyOptions, progress: CleaveCore.Progress = .silent) throws -> LithologyModel {
        try options.validate()
        guard !pairs.isEmpty else { throw LithologyError.notEnoughTraining(reason: "no training pair (low-resolution image + high-resolution class map) was given") }
        var truths: [[LithologyBlockTruth]] = [], grids: [(Int, Int)] = []
        for (i, pair) in pairs.enumerated() {
            progress.report(i, pairs.count + 1, "deriving region classes")
            let t = try trainingBlocks(pair, options: options)
            truths.append(t.truth); grids.append((t.rows, t.columns))
        }
        let threshold: Double, source: String
        if let given = options.porosityThreshold {
            threshold = given; source = "given"
        } else {
            guard let median = LithologyRegions.medianPorosity(truths.flatMap { $0 }, options: options) else {
                throw LithologyError.notEnoughTraining(reason: "no training block lies inside the sample (every block is outside or fracture)")
            }
            threshold = median; source = "median porosity of the training blocks"
        }
        var rows: [Float] = [], labels: [Int32] = [], means: [Double] = []
        var featureCount = 0
        for (i, pair) in pairs.enumerated() {
            progress.report(i, pairs.count + 1, "block features")
            let (r, c) = grids[i]
            let m = features(pair.image, originX: pair.offsetX, originY: pair.offsetY, side: options.lowResolutionBlock, rows: r, columns: c)
            featureCount = m.columns
            rows += m.values
            for (b, block) in truths[i].enumerated() {
                labels.append(LithologyRegions.classify(block, threshold: threshold, options: options).rawValue)
                means.append(Double(m[b, 0]))
            }
        }
        var counts: [Int32: Int] = [:]
        for l in labels { counts[l, default: 0] += 1 }
        guard counts.count >= 2 else {
            throw LithologyError.notEnoughTraining(reason: "every training block is \(LithologyClass(rawValue: labels.first ?? 1)?.name ?? "one class"); the maps need at least two region classes")
        }
        var configuration = RandomForestConfiguration(treeCount: options.treeCount)
        configuration.seed = options.seed
        let forest = try RandomForest.train(rows: rows, featureCount: featureCount, labels: labels, configuration: configuration)
        progress.report(pairs.count + 1, pairs.count + 1, "trained")
        return LithologyModel(options: options, porosityThreshold: threshold, thresholdSource: source, forest: forest,
                              baseline: LithologyBaseline.fit(means: means, classes: labels), trainingCounts: counts)
    }

    /// Maps a whole low-resolution image: blocks from the top-left corner; a right or bottom
    /// remainder narrower than a block is left unclassified.
    /// - Complexity: O(pixels) for the block features plus O(blocks × treeCount × depth) for the forest.
    public static func map(_ image: Image<Float>, model: LithologyModel) -> LithologyMap {
        let side = model.options.lowResolutionBlock
        let rows = image.height / side, columns = image.width / side
        let m = features(image, originX: 0, originY: 0, side: side, rows: rows, columns: columns)
        let prediction = m.rows > 0 ? model.forest.predict(m) : nil
        let classes = prediction?.classIndices.map { model.forest.classes[Int($0)] } ?? []
        let means = (0..<m.rows).map { Double(m[$0, 0]) }
        return LithologyMap(blockRows: rows, blockColumns: columns, blockSide: side, originX: 0, originY: 0, classes: classes,
                            probabilities: prediction?.probabilities ?? [], classValues: model.forest.classes,
                            baseline: means.map { model.baseline.predict($0) }, means: means)
    }

    /// Where to scan at high resolution: among the blocks whose 3 × 3 neighbourhood lies inside
    /// the sample (no outside block), those whose neighbourhood holds the most region classes,
    /// then the highest mean class entropy there; at least three blocks apart (Chebyshev), best first.
    /// - Complexity: O(blocks × classes) for the entropies, O(blocks log blocks) to rank, and
    ///   O(candidates × count) for the spacing check.
    public static func targets(_ map: LithologyMap, count: Int) -> [LithologyTarget] {
        let k = map.classValues.count
        let entropy: [Double] = (0..<map.classes.count).map { b in
            var h = 0.0
            for c in 0..<k { let p = Double(map.probabilities[b * k + c]); if p > 0 { h -= p * log2(p) } }
            return h
        }
        var candidates: [LithologyTarget] = []
        for r in 0..<map.blockRows {
            for c in 0..<map.blockColumns where map.classes[r * map.blockColumns + c] != LithologyClass.outside.rawValue {
                var seen = Set<Int32>(), sum = 0.0, n = 0, atEdge = false
                for dr in -1...1 { for dc in -1...1 {
                    let nr = r + dr, nc = c + dc
                    guard nr >= 0, nr < map.blockRows, nc >= 0, nc < map.blockColumns else { continue }
                    let value = map.classes[nr * map.blockColumns + nc]
                    if value == LithologyClass.outside.rawValue { atEdge = true; continue }
                    seen.insert(value); sum += entropy[nr * map.blockColumns + nc]; n += 1
                } }
                // A high-resolution scan belongs inside the sample: the sample's edge is uncertain
                // (half outside), not heterogeneous rock.
                guard !atEdge else { continue }
                candidates.append(LithologyTarget(rank: 0, blockRow: r, blockColumn: c,
                                                  x: Double(map.originX + c * map.blockSide) + Double(map.blockSide) / 2,
                                                  y: Double(map.originY + r * map.blockSide) + Double(map.blockSide) / 2,
                                                  classesAround: seen.count, entropy: sum / Double(n)))
            }
        }
        candidates.sort { ($0.classesAround, $0.entropy, -$0.blockRow, -$0.blockColumn) > ($1.classesAround, $1.entropy, -$1.blockRow, -$1.blockColumn) }
        var chosen: [LithologyTarget] = []
        for candidate in candidates where chosen.count < count {
            if chosen.allSatisfy({ max(abs($0.blockRow - candidate.blockRow), abs($0.blockColumn - candidate.blockColumn)) >= 3 }) {
                var t = candidate; t.rank = chosen.count + 1; chosen.append(t)
            }
        }
        return chosen
    }

    /// Region-class accuracy of a map and of its baseline against the classes derived from a
    /// high-resolution map of the same field (blocks the map covers only).
    /// - Complexity: O(pixels of the truth map) (``LithologyRegions/measure(_:options:)``).
    public static func score(_ map: LithologyMap, truth labels: Image<UInt16>, model: LithologyModel) -> LithologyScore {
        let measured = LithologyRegions.measure(labels, options: model.options)
        var score = LithologyScore()
        for block in measured where block.row < map.blockRows && block.column < map.blockColumns {
            let truth = LithologyRegions.classify(block, threshold: model.porosityThreshold, options: model.options).rawValue
            let i = block.row * map.blockColumns + block.column
            score.add(truth: truth, forest: map.classes[i], baseline: map.baseline[i])
        }
        return score
    }
}

/// Block counts behind an accuracy.
public struct LithologyScore: Sendable, Equatable {
    /// Blocks scored.
    public var blocks = 0
    /// Blocks whose forest class equals the truth.
    public var forestCorrect = 0
    /// Blocks whose baseline class equals the truth.
    public var baselineCorrect = 0
    /// Per truth class: blocks, forest correct, baseline correct.
    public var perClass: [Int32: (blocks: Int, forest: Int, baseline: Int)] = [:]

    /// An empty score (nothing counted).
    public init() {}

    mutating func add(truth: Int32, forest: Int32, baseline: Int32) {
        blocks += 1
        if forest == truth { forestCorrect += 1 }
        if baseline == truth { baselineCorrect += 1 }
        var entry = perClass[truth] ?? (0, 0, 0)
        entry.blocks += 1
        if forest == truth { entry.forest += 1 }
        if baseline == truth { entry.baseline += 1 }
        perClass[truth] = entry
    }

    /// Adds the counts of `other` (e.g. another image's), class by class.
    public mutating func merge(_ other: LithologyScore) {
        blocks += other.blocks; forestCorrect += other.forestCorrect; baselineCorrect += other.baselineCorrect
        for (k, v) in other.perClass {
            var entry = perClass[k] ?? (0, 0, 0)
            entry.blocks += v.blocks; entry.forest += v.forest; entry.baseline += v.baseline
            perClass[k] = entry
        }
    }

    /// Share of blocks the forest got right, 0…1 (NaN without blocks).
    public var forestAccuracy: Double { blocks > 0 ? Double(forestCorrect) / Double(blocks) : .nan }
    /// Share of blocks the baseline got right, 0…1 (NaN without blocks).
    public var baselineAccuracy: Double { blocks > 0 ? Double(baselineCorrect) / Double(blocks) : .nan }

    /// Equal counts, in total and per class (the tuple dictionary is not `Equatable` by itself).
    public static func == (a: LithologyScore, b: LithologyScore) -> Bool {
        a.blocks == b.blocks && a.forestCorrect == b.forestCorrect && a.baselineCorrect == b.baselineCorrect
            && a.perClass.keys.sorted() == b.perClass.keys.sorted()
            && a.perClass.allSatisfy { k, v in b.perClass[k].map { $0 == v } ?? false }
    }
}

extension LithologyError {
    /// The option field of ``invalidOption(field:value:reason:)``; nil for every other case.
    public var invalidField: InvalidField? {
        guard case let .invalidOption(field, value, reason) = self else { return nil }
        return InvalidField(field: field, value: value, reason: reason)
    }
}

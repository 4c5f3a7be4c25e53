import CleaveCore
import CleaveLearning

/// The clustering of a large run (a sliding window's millions of windows): CleaveLearning's
/// ``ScaledRows`` scales the rows on the fly, so neither the scaled table nor (in two-step mode)
/// a copy of the clustered rows is built; the dark rows are skipped where they lie.
///
/// Labels, centres, heat and silhouettes are those of the materialised path bit for bit
/// (``ScaledRows``; `LocatorLargeRunTests`).
enum LocatorLargeRun {
    /// Whether a run takes this path: plain k-means (no saved model's warm start, PCA/NMF,
    /// agglomerative clustering or `similarTo`, which need the scaled table itself) on more rows
    /// than the k-means sample.
    static func applies(keptRows: Int, options: LocatorOptions, model: LocatorModel?) throws -> Bool {
        guard model == nil, options.method == .kmeans, options.similarTo == nil else { return false }
        guard case .none = options.reduction else { return false }
        return keptRows > (try KMeans(clusterCount: options.clusterCount, seed: options.seed).sampleSize)
    }

    /// Everything `Locator.cluster` takes from the clustering stage.
    struct Outcome {
        var labels: [Int32]
        var centroids: Matrix
        var clusterScore: [Double]
        var sizes: [Int]
        var picked: Int
        var pickedBy: String
        var heat: [Float]
        var pickedMask: [Bool]
        var silhouette: Double?
        var silhouetteByK: [(k: Int, score: Double)]
    }

    /// k-means, canonical numbering (cluster 0 the most particle-like), pick, heat, silhouettes,
    /// in two passes over the rows.
    /// - Parameters:
    ///   - dark: per row, whether it is in the dark group (empty: none).
    ///   - silhouetteSampleSize: rows the silhouettes are estimated on (0: none).
    /// - Returns: the outcome and the fitted scaling (tails, scaler) for the model.
    static func cluster(_ extraction: Locator.Extraction, dark: [Bool], options: LocatorOptions,
                        silhouetteSampleSize: Int) throws -> (outcome: Outcome, scaler: FittedScaler, tails: FittedScaler?) {
        let n = extraction.layout.count, k = options.clusterCount
        let darkGroup = options.excludeDark && dark.contains(true)
        let rows: ScaledRows, rowValue: ScaledRows.RowValue
        var keep: [Int]? = nil  // set when the clustered rows are a materialised copy
        var tails: FittedScaler? = nil
        let scaler: FittedScaler
        if options.compressTails {
            // The tails transform makes a new table anyway: materialise the kept rows.
            keep = LocatorRows.kept(dark: darkGroup ? dark : [])
            var kept = keep.map { extraction.features.selectingRows($0) } ?? extraction.features
            let fitted = LocatorTails.fit(kept)
            kept = LocatorTails.apply(kept, fitted)
            tails = fitted
            scaler = try options.scaler.fit(kept)
            rows = try ScaledRows(kept, scaler: scaler)
            let score = extraction.score.values
            rowValue = .stored(keep.map { keep in keep.map { score[$0] } } ?? score)
        } else {
            // The raw table itself, dark rows skipped.
            let included = darkGroup ? LocatorRows.complement(dark) : nil
            scaler = try included.map { try options.scaler.fit(extraction.features, including: $0) } ?? options.scaler.fit(extraction.features)
            rows = try ScaledRows(extraction.features, scaler: scaler, including: included)
            if let columns = extraction.relativeStdColumns {
                rowValue = .ratio(numerator: columns.std, denominator: columns.mean)
            } else {
                rowValue = .stored(extraction.storedScore)
            }
        }
        var fitted = try rows.kMeans(KMeans(clusterCount: k, seed: options.seed), rowValue: rowValue, fill: Int32(k))
        let order = (0..<k).sorted { fitted.values[$0] != fitted.values[$1] ? fitted.values[$0] > fitted.values[$1] : $0 < $1 }
        var newIndex = [Int32](repeating: 0, count: k)
        for (new, old) in order.enumerated() { newIndex[old] = Int32(new) }
        let centroids = fitted.centroids.selectingRows(order)
        var picked = 0, pickedBy = "automatic"  // canonical order puts the most particle-like first
        if let user = options.pick {
            guard user < k else { throw LocatorOptionError(field: "pick", value: String(user), reason: "there are only \(k) clusters (0…\(k - 1))") }
            picked = user; pickedBy = "user"
        }
        // Moved out, not shared: renumbering in place must not copy the 66 MB table (a 4096² window run).
        var labels = fitted.labels
        fitted.labels = []
        let pass = rows.relabel(centers: centroids, chosen: picked, labels: &labels, newIndex: newIndex)
        var silhouette: Double? = nil
        let distinct = fitted.counts.filter { $0 > 0 }.count
        if silhouetteSampleSize > 0 && k >= 2 && rows.rows > k && distinct >= 2 && distinct < rows.rows {
            silhouette = rows.sampledSilhouette(labels, sampleSize: silhouetteSampleSize, seed: options.seed)
        }
        var silhouetteByK: [(k: Int, score: Double)] = []
        if let range = options.kRange, silhouetteSampleSize > 0 {
            for candidate in range where candidate < rows.rows {
                let other = try rows.kMeans(KMeans(clusterCount: candidate, seed: options.seed), rowValue: rowValue, fill: Int32(candidate))
                let distinct = other.counts.filter { $0 > 0 }.count
                guard distinct >= 2 && distinct < rows.rows,
                      let value = rows.sampledSilhouette(other.labels, sampleSize: silhouetteSampleSize, seed: options.seed) else { continue }
                silhouetteByK.append((candidate, value))
            }
        }
        var sizes = order.map { fitted.counts[$0] }
        if darkGroup { sizes.append(n - rows.rows) }
        let outcome = Outcome(labels: LocatorRows.spread(labels, keep: keep, rowCount: n, fill: Int32(k)), centroids: centroids,
                              clusterScore: order.map { fitted.values[$0] }, sizes: sizes, picked: picked, pickedBy: pickedBy,
                              heat: LocatorRows.spread(pass.closeness, keep: keep, rowCount: n, fill: 0),
                              pickedMask: LocatorRows.spread(pass.chosen, keep: keep, rowCount: n, fill: false),
                              silhouette: silhouette, silhouetteByK: silhouetteByK)
        return (outcome, scaler, tails)
    }
}

import CleaveCore

/// Patch-level detection counts of a picked cluster against ground-truth masks.
public struct PatchDetectionScore: Sendable, Equatable, CustomStringConvertible {
    /// Particle patches that were picked.
    public var truePositives = 0
    /// Particle-free patches that were picked.
    public var falsePositives = 0
    /// Particle patches that were not picked.
    public var falseNegatives = 0
    /// Particle-free patches that were not picked.
    public var trueNegatives = 0
    /// Patches left out of the counts: those with a sliver of particle (0 < coverage < threshold), and
    /// with `ignoringBarPatches` those touching a grid bar.
    public var ignored = 0
    /// TP / (TP + FP), 0 when nothing was picked.
    public var precision: Double { truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives) }
    /// TP / (TP + FN), 0 when there are no particle patches.
    public var recall: Double { truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives) }
    /// Harmonic mean of precision and recall (0 when both are 0).
    public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
    /// One line: F1, precision, recall and the four counts.
    public var description: String {
        "F1 \(Float(f1)) (precision \(Float(precision)), recall \(Float(recall)); TP \(truePositives) FP \(falsePositives) FN \(falseNegatives) TN \(trueNegatives), ignored \(ignored))"
    }
}

extension SyntheticTileSet {
    /// The tiles as Locator inputs (named `Tile_RRR-CCC.tif`, mosaic positions set, 16-bit → exact Float).
    public func locatorImages() -> [LocatorImage] {
        tiles.map { t in
            LocatorImage(name: t.name + ".tif", path: "", mosaicRow: t.row - 1, mosaicColumn: t.column - 1,
                         image: t.image.converted(to: Float.self), integral: true)
        }
    }

    /// Fraction of the tiles' pixels on grid bars (overlaps counted once per tile).
    public var barFraction: Double {
        let total = tiles.reduce(0) { $0 + $1.barMask.pixels.count }
        let bar = tiles.reduce(0) { sum, t in sum + t.barMask.pixels.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
        return total == 0 ? 0 : Double(bar) / Double(total)
    }

    /// Per patch (or window) of a Locator result: the fraction of its pixels on grid bars, in the
    /// result's row order.
    public func barCoverage(_ result: LocatorResult) -> [Double] { coverage(result, mask: \.barMask) }

    /// Per patch (or window) of a Locator result: the fraction of its pixels in the particle mask.
    public func particleCoverage(_ result: LocatorResult) -> [Double] { coverage(result, mask: \.particleMask) }

    func coverage(_ result: LocatorResult, mask maskPath: KeyPath<Tile, Image<UInt8>>) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(result.layout.count)
        for (imageIndex, grid) in result.layout.grids.enumerated() {
            let mask = tiles[imageIndex][keyPath: maskPath]
            for r in 0..<grid.rows {
                for c in 0..<grid.columns {
                    let region = result.layout.region(image: imageIndex, row: r, column: c)
                    var count = 0
                    for y in region.y..<min(mask.height, region.y + region.height) {
                        for x in region.x..<min(mask.width, region.x + region.width) where mask.pixels[y * mask.width + x] != 0 { count += 1 }
                    }
                    out.append(Double(count) / Double(region.pixelCount))
                }
            }
        }
        return out
    }

    /// Scores a Locator result's picked patches against the particle masks.
    ///
    /// A patch (or window) is a **positive** when at least `positiveCoverage` of its pixels are
    /// particle, a **negative** when none are; patches in between hold only a sliver of a particle
    /// and are ignored (neither answer is wrong for them). Grid-bar pixels are never particle.
    /// With `ignoringBarPatches`, patches holding any grid-bar pixel are ignored too: their place
    /// is the dark group, so the truth does not say whether they should be picked.
    /// - Complexity: O(tile pixels) for the masks' summed-area tables, O(1) per patch (with `ignoringBarPatches`, O(patch pixels) more for the bar coverage).
    public func score(_ result: LocatorResult, positiveCoverage: Double = 0.01, ignoringBarPatches: Bool = false) -> PatchDetectionScore {
        var score = PatchDetectionScore()
        let bar = ignoringBarPatches ? barCoverage(result) : []
        for (imageIndex, grid) in result.layout.grids.enumerated() {
            let mask = tiles[imageIndex].particleMask
            let w = mask.width, h = mask.height
            // Summed-area table of the mask (1 per particle pixel).
            var table = [Int32](repeating: 0, count: (w + 1) * (h + 1))
            for y in 0..<h {
                var rowSum: Int32 = 0
                for x in 0..<w {
                    rowSum += mask.pixels[y * w + x] != 0 ? 1 : 0
                    table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + rowSum
                }
            }
            for r in 0..<grid.rows {
                for c in 0..<grid.columns {
                    let region = result.layout.region(image: imageIndex, row: r, column: c)
                    let x0 = region.x, y0 = region.y, x1 = region.x + region.width, y1 = region.y + region.height
                    let covered = Int(table[y1 * (w + 1) + x1] - table[y0 * (w + 1) + x1] - table[y1 * (w + 1) + x0] + table[y0 * (w + 1) + x0])
                    let fraction = Double(covered) / Double(region.pixelCount)
                    let picked = result.pickedMask[grid.firstIndex + r * grid.columns + c]
                    if ignoringBarPatches && bar[grid.firstIndex + r * grid.columns + c] > 0 {
                        score.ignored += 1
                    } else if fraction >= positiveCoverage {
                        if picked { score.truePositives += 1 } else { score.falseNegatives += 1 }
                    } else if covered == 0 {
                        if picked { score.falsePositives += 1 } else { score.trueNegatives += 1 }
                    } else {
                        score.ignored += 1
                    }
                }
            }
        }
        return score
    }
}

import Foundation
import Testing
import CleaveCore
import CleaveObjects
import CleavePipelines

/// Every particle of a `cleave sample` set against scikit-image 0.26 `regionprops`. The masks
/// are regenerated in-process from the seed (no files needed); the fixtures come from the masks
/// the CLI wrote (Tests/Fixtures/objects/make_sample_particles_reference.py has the commands).
@Suite struct SampleParticlesRegionPropsTests {
    /// `cleave sample --seed 3 --rows 1 --columns 2 --tile-size 512` (other options default).
    static let options = SyntheticTileSet.Options(rows: 1, columns: 2, tileSize: 512, seed: 3)

    static func fixture(_ name: String) -> String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3) // Tests/CleavePipelinesTests/File.swift → repository root
        return parts.joined(separator: "/") + "/Tests/Fixtures/objects/" + name
    }

    /// Header and numeric rows of a small CSV.
    static func readCSV(_ name: String) throws -> (header: [String], rows: [[Double]]) {
        let text = try String(contentsOfFile: fixture(name), encoding: .utf8)
        let lines = text.split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        return (header, lines.dropFirst().map { $0.split(separator: ",").map { Double($0)! } })
    }

    /// Mask of a tile as booleans (255 = particle).
    static func mask(_ tile: SyntheticTileSet.Tile) -> [Bool] { tile.particleMask.pixels.map { $0 != 0 } }

    @Test func inProcessMasksAreTheFilesTheCLIWrote() throws {
        let set = try SyntheticTileSet.generate(Self.options)
        let reference = try Self.readCSV("sample_seed3_particles_masks.csv")
        #expect(set.tiles.count == reference.rows.count)
        for (tile, values) in zip(set.tiles, reference.rows) {
            let mask = Self.mask(tile)
            #expect(tile.column == Int(values[0]))
            #expect(tile.particleMask.pixels.allSatisfy { $0 == 0 || $0 == 255 })
            // foreground count and Σ (flat index mod 9973) + 1 over the foreground, as numpy computes them
            #expect(mask.filter { $0 }.count == Int(values[1]), "\(tile.name) foreground pixels")
            var checksum = 0
            for (i, on) in mask.enumerated() where on { checksum += i % 9973 + 1 }
            #expect(checksum == Int(values[2]), "\(tile.name) mask checksum")
        }
    }

    @Test func everyParticleMatchesScikitImage() throws {
        let set = try SyntheticTileSet.generate(Self.options)
        let reference = try Self.readCSV("sample_seed3_particles_regionprops.csv")
        var compared = 0
        for tile in set.tiles {
            let labels = ConnectedComponents.label(mask: Self.mask(tile), shape: tile.particleMask.shape, connectivity: .full)
            let table = try ObjectMeasurement.measure(labels)
            let rows = reference.rows.filter { Int($0[0]) == tile.column }
            #expect(table.count == rows.count, "\(tile.name) object count")
            #expect(labels.objectCount == rows.count)
            for (row, values) in rows.enumerated() where row < table.count {
                for (k, name) in reference.header.enumerated() where name != "tile" {
                    let mine = name == "label" ? Double(table.labels[row]) : try table.column(name)[row]
                    let exact = ["label", "area", "bbox_min_row", "bbox_min_col", "bbox_max_row", "bbox_max_col"].contains(name)
                    // CSV has 17 significant digits; real-valued measures to 1e-6 relative
                    let tolerance = exact ? 0 : max(1e-6 * abs(values[k]), 1e-9)
                    #expect(abs(mine - values[k]) <= tolerance,
                            "\(tile.name) label \(row + 1) \(name): \(mine) vs scikit-image \(values[k])")
                }
                compared += 1
            }
        }
        #expect(compared == reference.rows.count)
        #expect(compared == 23) // 15 + 8: skimage label(mask > 0, connectivity=2).max() per tile
    }
}

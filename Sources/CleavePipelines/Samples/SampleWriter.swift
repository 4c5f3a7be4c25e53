import CleaveCore
import CleaveFormats
import Foundation

extension SyntheticTileSet {
    /// Writes the tile set: `Tile_RRR-CCC.tif` (16-bit), `truth/Tile_RRR-CCC_particles.tif` and
    /// `truth/Tile_RRR-CCC_gridbars.tif` (8-bit, 255 = yes) and `truth/truth.json`.
    /// - Throws: ``PipelineFileError`` when the folder or a file cannot be written.
    public func write(to directory: String, progress: CleaveCore.Progress = .silent) throws {
        let truthDirectory = directory + "/truth"
        do { try FileManager.default.createDirectory(atPath: truthDirectory, withIntermediateDirectories: true) } catch {
            throw PipelineFileError.cannotCreateFolder(path: directory, field: "out", reason: error.localizedDescription)
        }
        for (i, tile) in tiles.enumerated() {
            progress.report(i, tiles.count, "writing tiles")
            do {
                try ImageFile.write(tile.image, to: "\(directory)/\(tile.name).tif")
                try ImageFile.write(tile.particleMask, to: "\(truthDirectory)/\(tile.name)_particles.tif")
                try ImageFile.write(tile.barMask, to: "\(truthDirectory)/\(tile.name)_gridbars.tif")
            } catch {
                throw PipelineFileError.cannotWrite(path: "\(directory)/\(tile.name).tif", reason: "\(error)")
            }
        }
        progress.report(tiles.count, tiles.count, "writing tiles")
        let step = options.tileSize - options.overlap
        let barFraction = self.barFraction
        let truth: [String: Any] = [
            "generator": "cleave sample", "cleave_version": cleaveVersion,
            "options": ["rows": options.rows, "columns": options.columns, "tile_size": options.tileSize,
                        "overlap": options.overlap, "seed": options.seed, "kind": options.kind.rawValue,
                        "particles_per_tile": options.particlesPerTile, "dose": options.dose,
                        "pixel_size_nm": options.pixelSize, "bar_coverage": options.barCoverage.map { $0 as Any } ?? NSNull(),
                        "bar_angle": options.barAngle, "bar_pitch": options.barPitch,
                        "exposure_spread": options.exposureSpread] as [String: Any],
            "gridbar_fraction": barFraction,
            "mosaic": ["width": mosaicWidth, "height": mosaicHeight, "step": step],
            "particle_mask_threshold": SyntheticTileSet.particleMaskThreshold,
            "tiles": tiles.map { t -> [String: Any] in
                let particlePixels = t.particleMask.pixels.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
                let barPixels = t.barMask.pixels.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
                return ["name": t.name, "file": t.name + ".tif", "row": t.row, "column": t.column, "x": t.x, "y": t.y,
                        "particle_masks": "truth/\(t.name)_particles.tif", "gridbar_mask": "truth/\(t.name)_gridbars.tif",
                        "particle_fraction": Double(particlePixels) / Double(t.image.pixels.count),
                        "gridbar_fraction": Double(barPixels) / Double(t.image.pixels.count), "exposure": t.exposure]
            },
            "particles": particles.map { p -> [String: Any] in
                ["shape": p.shape.rawValue, "x": p.x, "y": p.y, "size": p.size, "absorbance": p.absorbance, "reach": p.reach]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: truth, options: [.prettyPrinted, .sortedKeys])
        guard FileManager.default.createFile(atPath: truthDirectory + "/truth.json", contents: data) else {
            throw PipelineFileError.cannotWrite(path: "\(truthDirectory)/truth.json", reason: nil)
        }
    }
}

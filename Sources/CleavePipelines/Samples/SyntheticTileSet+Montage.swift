import CleaveCore
import CleaveFormats
import Foundation

extension SyntheticTileSet {
    /// The tile set as a SerialEM montage: where each piece lies in the montage and on the stage.
    public struct Montage: Sendable {
        /// One piece per tile, in tile order (row-major); `section` is the MRC section.
        public var pieces: [SerialEMMontage.Piece]
        /// Stage position of the montage's centre (µm).
        public var centerX: Double
        /// Stage Y of the montage's centre (µm).
        public var centerY: Double
        /// Pixel size in Å.
        public var pixelSpacing: Double
        /// The particles in stage coordinates: centre (µm) and reach (µm).
        public var particles: [(shape: Particle.Shape, stageX: Double, stageY: Double, radius: Double, montageX: Double, montageY: Double)]
    }

    /// Stage coordinates for this set, using the convention ``LocatorMontage`` reads back: a
    /// montage pixel (x, y) (pixel i spans [i, i + 1)) lies at
    /// `centre + (x − mosaicWidth / 2, y − mosaicHeight / 2) × pixel size`, and each piece's
    /// `StagePosition` is the stage position of its centre. The montage centre is drawn from the
    /// seed (within ±500 µm, like a grid square somewhere on a 3 mm grid).
    public var montage: Montage {
        var random = SeededGenerator.stream(seed: options.seed, index: 1 << 30)
        let centerX = ((random.nextDouble() - 0.5) * 1000 * 1000).rounded() / 1000
        let centerY = ((random.nextDouble() - 0.5) * 1000 * 1000).rounded() / 1000
        let spacing = options.pixelSize * 10  // nm → Å
        let micrometres = spacing * 1e-4
        let stageZ = ((random.nextDouble() - 0.5) * 20 * 1000).rounded() / 1000
        func stage(_ x: Double, _ y: Double) -> (Double, Double) {
            (centerX + (x - Double(mosaicWidth) / 2) * micrometres, centerY + (y - Double(mosaicHeight) / 2) * micrometres)
        }
        let size = Double(options.tileSize)
        let pieces = tiles.enumerated().map { i, t -> SerialEMMontage.Piece in
            let (sx, sy) = stage(Double(t.x) + size / 2, Double(t.y) + size / 2)
            return SerialEMMontage.Piece(section: i, x: t.x, y: t.y, z: 0, stageX: sx, stageY: sy, stageZ: stageZ, pixelSpacing: spacing)
        }
        // Particle centres are in pixel-centre coordinates (pixel i at i); +0.5 puts them on the
        // pixel-edge grid the stage formula uses.
        let particles = self.particles.map { p in
            let (sx, sy) = stage(p.x + 0.5, p.y + 0.5)
            return (shape: p.shape, stageX: sx, stageY: sy, radius: p.reach * micrometres, montageX: p.x + 0.5, montageY: p.y + 0.5)
        }
        return Montage(pieces: pieces, centerX: centerX, centerY: centerY, pixelSpacing: spacing, particles: particles)
    }

    /// Writes the set as a SerialEM montage: `montage.mrc` (one 16-bit section per tile),
    /// `montage.mrc.mdoc` (`PieceCoordinates`, `StagePosition`, `PixelSpacing` per section) and
    /// `truth/particles.csv` (`stage_x,stage_y,radius_um,shape,montage_x,montage_y`: every
    /// particle's centre on the stage in µm and the largest distance from it at which it adds
    /// absorbance).
    /// - Throws: ``PipelineFileError`` when the folder or a file cannot be written.
    public func writeMontage(to directory: String, progress: CleaveCore.Progress = .silent) throws {
        let truthDirectory = directory + "/truth"
        do { try FileManager.default.createDirectory(atPath: truthDirectory, withIntermediateDirectories: true) } catch {
            throw PipelineFileError.cannotCreateFolder(path: directory, field: "out", reason: error.localizedDescription)
        }
        let montage = self.montage
        let size = options.tileSize
        progress.report(0, 2, "writing montage")
        var pixels: [UInt16] = []
        pixels.reserveCapacity(size * size * tiles.count)
        var statistics: [Int: (Double, Double, Double)] = [:]
        for (i, t) in tiles.enumerated() {
            pixels += t.image.pixels
            let values = t.image.pixels
            statistics[i] = (Double(values.min() ?? 0), Double(values.max() ?? 0), values.reduce(0.0) { $0 + Double($1) } / Double(max(1, values.count)))
        }
        let spacing = Spacing(x: montage.pixelSpacing, y: montage.pixelSpacing, z: montage.pixelSpacing, unit: "Å")
        let stack = Image<UInt16>(shape: Shape(width: size, height: size, depth: tiles.count), pixels: pixels, spacing: spacing)
        let mrcPath = directory + "/montage.mrc"
        do { try MRCFile.write(stack, to: mrcPath) } catch { throw PipelineFileError.cannotWrite(path: mrcPath, reason: "\(error)") }
        progress.report(1, 2, "writing montage")
        let mdoc = SerialEMMontage.mdocText(pieces: montage.pieces, imageFile: "montage.mrc", width: size, height: size, dataMode: 6,
                                            title: "Cleave \(cleaveVersion) synthetic montage, seed \(options.seed), \(options.rows)x\(options.columns) pieces, overlap \(options.overlap) px",
                                            minMaxMean: statistics)
        let mdocPath = SerialEMMontage.metadataPath(forImage: mrcPath)
        guard FileManager.default.createFile(atPath: mdocPath, contents: Data(mdoc.utf8)) else { throw PipelineFileError.cannotWrite(path: mdocPath, reason: nil) }
        var csv = "stage_x,stage_y,radius_um,shape,montage_x,montage_y\n"
        for p in montage.particles {
            csv += String(format: "%.4f,%.4f,%.4f,", p.stageX, p.stageY, p.radius) + p.shape.rawValue + String(format: ",%.1f,%.1f\n", p.montageX, p.montageY)
        }
        let csvPath = truthDirectory + "/particles.csv"
        guard FileManager.default.createFile(atPath: csvPath, contents: Data(csv.utf8)) else { throw PipelineFileError.cannotWrite(path: csvPath, reason: nil) }
        progress.report(2, 2, "writing montage")
    }
}

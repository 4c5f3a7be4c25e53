import CleaveCore
import CleaveFormats
import Foundation

/// A SerialEM montage as Locator input (an MRC stack plus its `.mdoc`), and the way back to the
/// microscope: targets in stage coordinates, as a Navigator file and a CSV.
///
/// Every MRC section is one tile, placed in the mosaic by its `PieceCoordinates`. A target's
/// stage position is its piece's `StagePosition` plus its offset from the piece centre:
///
/// ```
/// stage_x = StagePosition.x + (x − width / 2)  × PixelSpacing × 1e-4     (Å → µm)
/// stage_y = StagePosition.y + (y − height / 2) × PixelSpacing × 1e-4
/// ```
///
/// with (x, y) in the piece's pixels as stored in the MRC file (x along a stored row, y along the
/// stored rows; pixel i spans [i, i + 1), so the centre is width / 2). This assumes stage X/Y run
/// along the image x/y axes with the same sign: SerialEM's stage-to-camera matrix is not in the
/// `.mdoc`, so it is not applied, and a `RotationAngle` there is recorded but not applied either
/// (``stageConvention``). Use the targets on a map whose stage calibration matches, or
/// re-register them in SerialEM.
public struct LocatorMontage: Sendable {
    /// The convention stage coordinates are computed with (written into the outputs).
    public static let stageConvention = "stage = piece StagePosition + (pixel - piece centre) x PixelSpacing; image x -> +stage X, MRC y (stored row order) -> +stage Y; SerialEM's stage-to-camera matrix is not applied (not in the .mdoc)"

    /// The montage's MRC stack.
    public var mrcPath: String
    /// The `.mdoc` contents: pieces, their coordinates, pixel spacing and stage positions.
    public var metadata: SerialEMMontage
    /// The tiles the Locator sees, one per usable piece.
    public var images: [LocatorImage]
    /// The piece of each image (same order).
    public var pieces: [SerialEMMontage.Piece]
    /// Problems that left the rest usable: one line each (what, where, why).
    public var warnings: [String]
    /// Sections in the MRC file.
    public var sectionCount: Int

    /// The MRC file of a montage when `inputs` is exactly one MRC file with its `.mdoc` beside it.
    public static func detect(_ inputs: [String]) -> String? {
        guard inputs.count == 1, let path = inputs.first else { return nil }
        let lower = path.lowercased()
        guard lower.hasSuffix(".mrc") || lower.hasSuffix(".st") || lower.hasSuffix(".map") else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: SerialEMMontage.metadataPath(forImage: path), isDirectory: &isDirectory),
              !isDirectory.boolValue else { return nil }
        return path
    }

    /// The tile name of a piece: the file's stem (dots made `_`, so output stems stay unique) and the section.
    public static func pieceName(mrcPath: String, section: Int) -> String {
        let file = String(mrcPath.split(separator: "/").last ?? Substring(mrcPath))
        let stem = file.lastIndex(of: ".").map { String(file[..<$0]) } ?? file
        let digits = String(section)
        return stem.replacingOccurrences(of: ".", with: "_") + "-z" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    /// Reads a montage: the `.mdoc` beside `mrcPath`, then the sections it describes.
    ///
    /// Sections without metadata and metadata without sections are skipped with a warning, and
    /// so are blank pieces (every pixel the same value: no beam, no data) and black ones (99 % of
    /// the pixels below half the film level, the highest median of all pieces: a grid bar).
    /// - Throws: ``SerialEMError`` for a malformed `.mdoc` or one whose `ImageSize` contradicts
    ///   the MRC file; ``MRCError`` for an unreadable MRC file; ``LocatorError`` when no piece is
    ///   left (every piece blank: no film to look at).
    public static func load(mrcPath: String, progress: CleaveCore.Progress = .silent) throws -> LocatorMontage {
        let mdocPath = SerialEMMontage.metadataPath(forImage: mrcPath)
        let metadata = try SerialEMMontage.read(mdocPath: mdocPath)
        let info = try MRCFile.info(path: mrcPath)
        let (usable, problems) = try metadata.matched(toMRC: mrcPath, sectionCount: info.depth, width: info.width, height: info.height)
        var warnings = problems.map { "\($0)" }
        let described = Set(usable.map(\.section))
        let missing = (0..<info.depth).filter { !described.contains($0) }
        if !missing.isEmpty {
            let list = missing.prefix(8).map(String.init).joined(separator: ", ") + (missing.count > 8 ? ", …" : "")
            warnings.append("\(mrcPath): section\(missing.count == 1 ? "" : "s") \(list) ha\(missing.count == 1 ? "s" : "ve") no [ZValue] in \(mdocPath); skipped (position unknown)")
        }
        progress.report(0, 1, "reading")
        let stack = LocatorInput.floatImage(try ImageFile.readFinite(mrcPath))
        let integral = info.pixelType != .float32
        progress.report(1, 1, "reading")

        var images: [LocatorImage] = []
        var pieces: [SerialEMMontage.Piece] = []
        // Levels of each piece from a subsample: median (film level) and 99th percentile.
        let levels = usable.map { piece -> (median: Float, top: Float) in
            let start = piece.section * info.width * info.height, count = info.width * info.height
            let step = max(1, count / 65_536)
            let sample = stride(from: start, to: start + count, by: step).map { stack.pixels[$0] }.sorted()
            return (sample[sample.count / 2], sample[min(sample.count - 1, sample.count * 99 / 100)])
        }
        let filmLevel = levels.map(\.median).max() ?? 0
        for (piece, level) in zip(usable, levels) {
            var plane = stack.plane(piece.section)
            var low = Float.infinity, high = -Float.infinity
            for v in plane.pixels { low = min(low, v); high = max(high, v) }
            let place = "\(mrcPath): section \(piece.section) ([ZValue = \(piece.section)], \(mdocPath):\(piece.line))"
            guard high > low else {
                warnings.append("\(place): every pixel is \(String(format: "%g", Double(low))) (blank: no beam or no data); skipped")
                continue
            }
            // A piece whose brightest 1 % stay below half the film level of the brightest piece
            // shows no film at all (a grid bar or a closed beam): nothing to look for there.
            guard Double(level.top) >= Locator.blackFractionOfFilm * Double(filmLevel) else {
                warnings.append("\(place): black (99 % of its pixels below \(String(format: "%g", Double(level.top))), under half the film level \(String(format: "%g", Double(filmLevel))) of the brightest piece); skipped")
                continue
            }
            plane.spacing = Spacing(piece.pixelSpacing / 10, unit: "nm")
            images.append(LocatorImage(name: pieceName(mrcPath: mrcPath, section: piece.section), path: mrcPath,
                                       image: plane, integral: integral))
            pieces.append(piece)
        }
        guard !images.isEmpty else {
            throw LocatorError.unusableInput(source: mrcPath, reason: "no film in the montage: none of its \(info.depth) sections holds an image with a position (every piece blank or without [ZValue]); nothing to locate")
        }
        // Mosaic rows and columns from the piece coordinates (pieces closer than half a piece share one).
        let columns = gridIndices(pieces.map(\.x), tolerance: info.width / 2)
        let rows = gridIndices(pieces.map(\.y), tolerance: info.height / 2)
        for i in images.indices { images[i].mosaicRow = rows[i]; images[i].mosaicColumn = columns[i] }
        let angles = metadata.rotationAngles
        if !angles.isEmpty {
            warnings.append("\(mdocPath): RotationAngle \(angles.map { String(format: "%.2f", $0) }.joined(separator: ", ")) recorded but not applied; stage coordinates assume image axes parallel to the stage axes")
        }
        return LocatorMontage(mrcPath: mrcPath, metadata: metadata, images: images, pieces: pieces, warnings: warnings, sectionCount: info.depth)
    }

    /// 0-based grid index of each value: sorted values more than `tolerance` apart start a new index.
    static func gridIndices(_ values: [Int], tolerance: Int) -> [Int] {
        let sorted = Array(Set(values)).sorted()
        var index: [Int: Int] = [:]
        var current = -1, start = Int.min
        for v in sorted {
            if current < 0 || v - start > tolerance { current += 1; start = v }
            index[v] = current
        }
        return values.map { index[$0]! }
    }

    /// A target in stage coordinates.
    public struct StageTarget: Sendable, Equatable, Codable {
        /// 1-based id in the Navigator file (the `[Item = id]` label) and the CSV.
        public var id: Int
        /// The Locator's rank (as in `targets.csv`).
        public var rank: Int
        /// The target's Locator score (mean heat of its patches, 0…1).
        public var score: Double
        /// Stage X in µm (see ``LocatorMontage/stageConvention``).
        public var stageX: Double
        /// Stage Y in µm.
        public var stageY: Double
        /// Stage Z of the piece, µm (from the `.mdoc`).
        public var stageZ: Double
        /// The tile name and its MRC section.
        public var piece: String
        /// 0-based MRC section of the piece.
        public var section: Int
        /// Position in the piece (pixels, as stored) and in the montage (pixels).
        public var pixelX: Double
        /// Row position in the piece, pixels as stored.
        public var pixelY: Double
        /// Column position in the montage, pixels (piece coordinate + position in the piece).
        public var montageX: Double
        /// Row position in the montage, pixels.
        public var montageY: Double
        /// Radius of a disc with the target's area, µm.
        public var radius: Double
    }

    /// The Locator's targets in stage coordinates, best first. A target on the overlap of two
    /// pieces is found in both; the worse-ranked copy (closer to a better target of another
    /// piece than the larger of their radii) is dropped.
    /// - Returns: the kept targets and how many duplicates were dropped.
    public func stageTargets(_ result: LocatorResult) -> (targets: [StageTarget], duplicates: Int) {
        var byName: [String: Int] = [:]
        for (i, image) in images.enumerated() { byName[image.name] = i }
        var kept: [StageTarget] = []
        var duplicates = 0
        for t in result.targets.sorted(by: { $0.rank < $1.rank }) {
            guard let i = byName[t.image] else { continue }
            let piece = pieces[i], image = images[i].image
            let micrometres = piece.pixelSpacing * 1e-4
            let x = piece.stageX + (t.x - Double(image.width) / 2) * micrometres
            let y = piece.stageY + (t.y - Double(image.height) / 2) * micrometres
            let radius = (Double(t.areaPixels) / Double.pi).squareRoot() * micrometres
            let duplicate = kept.contains { k in
                k.section != piece.section && ((k.stageX - x) * (k.stageX - x) + (k.stageY - y) * (k.stageY - y)).squareRoot() <= max(k.radius, radius)
            }
            if duplicate { duplicates += 1; continue }
            kept.append(StageTarget(id: kept.count + 1, rank: t.rank, score: t.score, stageX: x, stageY: y, stageZ: piece.stageZ,
                                    piece: t.image, section: piece.section, pixelX: t.x, pixelY: t.y,
                                    montageX: Double(piece.x) + t.x, montageY: Double(piece.y) + t.y, radius: radius))
        }
        return (kept, duplicates)
    }

    /// Writes `targets.nav` (SerialEM Navigator, one point item per target, `Acquire = 0`) and
    /// `targets-stage.csv` into `directory`.
    /// - Throws: ``SerialEMError/io(path:reason:)`` or ``LocatorError`` when a file cannot be written.
    public func write(_ targets: [StageTarget], to directory: String) throws {
        let navPath = directory + "/targets.nav"
        let points = targets.map { t in
            SerialEMNavigator.Point(label: String(t.id), stageX: t.stageX, stageY: t.stageY, stageZ: t.stageZ,
                                    note: "Cleave rank \(t.rank) score " + String(format: "%.3f", t.score) + " \(t.piece) section \(t.section) px "
                                        + String(format: "%.1f %.1f", t.pixelX, t.pixelY),
                                    color: 0, registration: 1, mapID: 10_000 + t.id)
        }
        let file = (mrcPath.split(separator: "/").last).map(String.init) ?? mrcPath
        let navigator = SerialEMNavigator(points: points, comments: [
            "Cleave \(cleaveVersion) locate targets from \(file) (\(targets.count) points, best first)",
            Self.stageConvention,
        ])
        try navigator.write(to: navPath)
        var csv = "id,rank,score,stage_x_um,stage_y_um,stage_z_um,piece,section,pixel_x,pixel_y,montage_x,montage_y,radius_um\n"
        for t in targets {
            csv += "\(t.id),\(t.rank),\(String(format: "%.4f", t.score)),\(String(format: "%.3f", t.stageX)),\(String(format: "%.3f", t.stageY)),"
            csv += "\(String(format: "%.3f", t.stageZ)),\(t.piece),\(t.section),\(String(format: "%.1f", t.pixelX)),\(String(format: "%.1f", t.pixelY)),"
            csv += "\(String(format: "%.1f", t.montageX)),\(String(format: "%.1f", t.montageY)),\(String(format: "%.3f", t.radius))\n"
        }
        let csvPath = directory + "/targets-stage.csv"
        guard FileManager.default.createFile(atPath: csvPath, contents: Data(csv.utf8)) else {
            throw PipelineFileError.cannotWrite(path: csvPath, reason: nil)
        }
    }

    /// What summary.json records about the montage.
    public func summary(targets: [StageTarget], duplicates: Int) -> [String: Any] {
        ["mrc": mrcPath, "mdoc": metadata.mdocPath, "pieces": pieces.count, "sections": sectionCount, "sections_skipped": sectionCount - pieces.count,
         "stage_targets": targets.count, "overlap_duplicates_dropped": duplicates,
         "stage_convention": Self.stageConvention, "rotation_angles_not_applied": metadata.rotationAngles,
         "warnings": warnings]
    }
}

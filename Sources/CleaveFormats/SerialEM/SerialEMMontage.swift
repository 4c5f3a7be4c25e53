import CleaveCore
import Foundation

/// A SerialEM montage: an MRC stack of pieces and the `.mdoc` beside it (`montage.mrc.mdoc`) that
/// says where each piece lies.
///
/// ```
/// PixelSpacing = 50                 global: Å per pixel (a section's own value wins)
/// ImageSize = 1024 1024             global: piece width height (optional)
/// [ZValue = 3]                      one section per MRC section (0-based)
/// PieceCoordinates = 1952 0 0       pixel x y of the piece's first stored pixel in the montage,
///                                   and the montage section (z)
/// StagePosition = 12.5 -40.1        stage X Y of the piece centre, µm
/// StageZ = 3.2                      stage Z, µm (optional)
/// RotationAngle = 3.3               recorded, not applied (see ``rotationAngles``)
/// ```
///
/// Pixel coordinates follow the MRC file: x along a stored row, y along the stored rows (the
/// order Cleave reads them), so a piece's pixel (x, y) is montage pixel `PieceCoordinates + (x, y)`.
public struct SerialEMMontage: Sendable {
    /// One piece: an MRC section and where it lies.
    public struct Piece: Sendable, Equatable {
        /// The MRC section (the `[ZValue = n]` name), 0-based.
        public var section: Int
        /// `PieceCoordinates` x, y (montage pixels) and the montage section z.
        public var x: Int
        public var y: Int
        public var z: Int
        /// `StagePosition` of the piece centre, µm.
        public var stageX: Double
        public var stageY: Double
        /// `StageZ`, µm (0 when absent).
        public var stageZ: Double
        /// Pixel size in Å (`PixelSpacing` of the section, else the global one).
        public var pixelSpacing: Double
        /// `RotationAngle` when the section has one (degrees).
        public var rotationAngle: Double?
        /// Line of the `[ZValue = n]` header.
        public var line: Int

        public init(section: Int, x: Int, y: Int, z: Int = 0, stageX: Double, stageY: Double, stageZ: Double = 0,
                    pixelSpacing: Double, rotationAngle: Double? = nil, line: Int = 0) {
            self.section = section; self.x = x; self.y = y; self.z = z
            self.stageX = stageX; self.stageY = stageY; self.stageZ = stageZ
            self.pixelSpacing = pixelSpacing; self.rotationAngle = rotationAngle; self.line = line
        }
    }

    public var mdocPath: String
    /// The pieces in file order of their sections.
    public var pieces: [Piece]
    /// Global `ImageSize` (piece width, height) when given.
    public var imageSize: (width: Int, height: Int)?
    /// The parsed text (every key, also those Cleave does not use).
    public var autodoc: Autodoc

    public init(mdocPath: String, pieces: [Piece], imageSize: (width: Int, height: Int)? = nil, autodoc: Autodoc? = nil) {
        self.mdocPath = mdocPath; self.pieces = pieces; self.imageSize = imageSize
        self.autodoc = autodoc ?? Autodoc(path: mdocPath)
    }

    /// The `.mdoc` path SerialEM writes beside an image file: `NAME.mrc` → `NAME.mrc.mdoc`.
    public static func metadataPath(forImage path: String) -> String { path + ".mdoc" }

    /// Parses an `.mdoc` text.
    /// - Throws: ``SerialEMError`` naming file, line and field: a section without
    ///   `PieceCoordinates` or `StagePosition`, no pixel spacing anywhere, a value that is not a
    ///   number, duplicate Z values, no `[ZValue]` sections at all.
    public init(autodoc: Autodoc) throws {
        let path = autodoc.path
        var globalSpacing: Double? = nil
        if let e = autodoc.globalEntry("PixelSpacing") {
            globalSpacing = try e.doubles(1, path: path)[0]
            guard globalSpacing! > 0 else { throw SerialEMError.badValue(path: path, line: e.line, field: e.key, value: e.value, expected: "a pixel size > 0 Å") }
        }
        var size: (width: Int, height: Int)? = nil
        if let e = autodoc.globalEntry("ImageSize") {
            let v = try e.integers(2, path: path)
            guard v[0] > 0, v[1] > 0 else { throw SerialEMError.badValue(path: path, line: e.line, field: e.key, value: e.value, expected: "width and height > 0") }
            size = (v[0], v[1])
        }
        var pieces: [Piece] = []
        var firstLine: [Int: Int] = [:]
        for section in autodoc.sections where section.type == "ZValue" {
            guard let z = Int(section.name), z >= 0 else {
                throw SerialEMError.badValue(path: path, line: section.line, field: "ZValue", value: section.name, expected: "a section number ≥ 0")
            }
            if let first = firstLine[z] { throw SerialEMError.duplicateSection(path: path, line: section.line, zValue: z, firstLine: first) }
            firstLine[z] = section.line
            let name = "ZValue = \(z)"
            guard let coordinates = section.entry("PieceCoordinates") else {
                throw SerialEMError.missingField(path: path, line: section.line, section: name, field: "PieceCoordinates")
            }
            let xyz = try coordinates.integers(3, minimumCount: 2, path: path)
            guard let stage = section.entry("StagePosition") else {
                throw SerialEMError.missingField(path: path, line: section.line, section: name, field: "StagePosition")
            }
            let stageXY = try stage.doubles(2, path: path)
            var spacing = globalSpacing
            if let e = section.entry("PixelSpacing") {
                let v = try e.doubles(1, path: path)[0]
                guard v > 0 else { throw SerialEMError.badValue(path: path, line: e.line, field: e.key, value: e.value, expected: "a pixel size > 0 Å") }
                spacing = v
            }
            guard let spacing else {
                throw SerialEMError.missingField(path: path, line: section.line, section: name, field: "PixelSpacing")
            }
            let stageZ = try section.entry("StageZ").map { try $0.doubles(1, path: path)[0] } ?? 0
            let rotation = try section.entry("RotationAngle").map { try $0.doubles(1, path: path)[0] }
            pieces.append(Piece(section: z, x: xyz[0], y: xyz[1], z: xyz.count > 2 ? xyz[2] : 0,
                                stageX: stageXY[0], stageY: stageXY[1], stageZ: stageZ,
                                pixelSpacing: spacing, rotationAngle: rotation, line: section.line))
        }
        guard !pieces.isEmpty else { throw SerialEMError.noSections(path: path) }
        self.init(mdocPath: path, pieces: pieces.sorted { $0.section < $1.section }, imageSize: size, autodoc: autodoc)
    }

    /// Reads and parses an `.mdoc` file.
    /// - Throws: ``SerialEMError`` (see ``init(autodoc:)``).
    public static func read(mdocPath: String) throws -> SerialEMMontage {
        try SerialEMMontage(autodoc: try Autodoc.read(path: mdocPath))
    }

    /// The rotation angles the metadata records (degrees), distinct; empty when it has none.
    /// Cleave does not apply them: stage coordinates assume image axes parallel to stage axes.
    public var rotationAngles: [Double] { Array(Set(pieces.compactMap(\.rotationAngle))).sorted() }

    /// How the metadata fits an MRC file with `sectionCount` sections of `width × height`.
    ///
    /// - Returns: the problems that still leave some pieces usable (sections without metadata,
    ///   metadata without sections), and the pieces that exist in the file.
    /// - Throws: ``SerialEMError/pieceSizeMismatch`` when `ImageSize` contradicts the file (then
    ///   no piece coordinate can be trusted), or the first problem when `strict`.
    public func matched(toMRC mrcPath: String, sectionCount: Int, width: Int, height: Int,
                        strict: Bool = false) throws -> (pieces: [Piece], problems: [SerialEMError]) {
        if let size = imageSize, size.width != width || size.height != height {
            let line = autodoc.globalEntry("ImageSize")?.line ?? 1
            throw SerialEMError.pieceSizeMismatch(path: mdocPath, line: line, field: "ImageSize", mdocWidth: size.width,
                                                  mdocHeight: size.height, mrcPath: mrcPath, mrcWidth: width, mrcHeight: height)
        }
        var problems: [SerialEMError] = []
        if pieces.count != sectionCount {
            problems.append(.sectionCountMismatch(path: mdocPath, line: pieces.last?.line ?? 1, mdocSections: pieces.count,
                                                  mrcPath: mrcPath, mrcSections: sectionCount))
        }
        for piece in pieces where piece.section >= sectionCount {
            problems.append(.sectionOutOfRange(path: mdocPath, line: piece.line, zValue: piece.section, mrcPath: mrcPath, mrcSections: sectionCount))
        }
        if strict, let first = problems.first { throw first }
        return (pieces.filter { $0.section < sectionCount }, problems)
    }
}

extension SerialEMMontage {
    /// The `.mdoc` text for pieces of `width × height` pixels, as SerialEM lays it out: global
    /// `PixelSpacing`, `ImageFile`, `ImageSize`, `Montage = 1`, `DataMode`, a title, one
    /// `[ZValue = n]` per piece, and a `[MontSection = 0]` summary.
    public static func mdocText(pieces: [Piece], imageFile: String, width: Int, height: Int, dataMode: Int = 6,
                                title: String, minMaxMean: [Int: (Double, Double, Double)] = [:]) -> String {
        func f(_ v: Double) -> String { String(format: "%.3f", v) }
        var lines = ["PixelSpacing = \(pieces.first.map { f($0.pixelSpacing) } ?? "1")",
                     "ImageFile = \(imageFile)", "ImageSize = \(width) \(height)", "Montage = 1", "DataMode = \(dataMode)", "",
                     "[T = \(title)]", ""]
        for p in pieces {
            lines.append("[ZValue = \(p.section)]")
            lines.append("PieceCoordinates = \(p.x) \(p.y) \(p.z)")
            if let m = minMaxMean[p.section] { lines.append("MinMaxMean = \(Int(m.0)) \(Int(m.1)) \(f(m.2))") }
            lines.append("TiltAngle = 0")
            lines.append("StagePosition = \(f(p.stageX)) \(f(p.stageY))")
            lines.append("StageZ = \(f(p.stageZ))")
            lines.append("PixelSpacing = \(f(p.pixelSpacing))")
            lines.append("Binning = 1")
            lines.append("")
        }
        if let first = pieces.first {
            let cx = pieces.map(\.stageX).reduce(0, +) / Double(pieces.count)
            let cy = pieces.map(\.stageY).reduce(0, +) / Double(pieces.count)
            lines += ["[MontSection = 0]", "TiltAngle = 0", "StagePosition = \(f(cx)) \(f(cy))", "StageZ = \(f(first.stageZ))",
                      "PixelSpacing = \(f(first.pixelSpacing))", ""]
        }
        return lines.joined(separator: "\n")
    }
}

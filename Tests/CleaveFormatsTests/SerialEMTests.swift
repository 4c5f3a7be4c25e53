import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleaveTestSupport

/// SerialEM montage metadata (.mdoc) and Navigator (.nav) files: parsing, writing, and one-line
/// errors that name the file, the line and the field.
@Suite struct SerialEMTests {
    /// An .mdoc laid out like SerialEM's (global header, a title section, pieces, MontSection).
    static let mdoc = """
    PixelSpacing = 656.139
    ImageFile = LMM.mrc
    ImageSize = 512 400
    Montage = 1
    DataMode = 1

    [T = SerialEM: Titan Krios  25-Mar-21 16:59:53]

    [T =     Tilt axis angle = -86.7, binning = 1  spot = 7  camera = 1]

    [ZValue = 0]
    PieceCoordinates = 0 0 0
    MinMaxMean = -23 1110 2.48245
    StagePosition = 919.141 849.945
    StageZ = 54.986
    PixelSpacing = 656.139
    RotationAngle = 3.34915
    DateTime = 25-Mar-21 17:00:46

    [ZValue = 1]
    PieceCoordinates = 460 0 0
    StagePosition = 949.3 849.9
    StageZ = 54.986

    [ZValue = 2]
    PieceCoordinates = 0 360 0
    StagePosition = 919.2 876.2

    [MontSection = 0]
    TiltAngle = 0
    StagePosition = 934 863
    """

    @Test func parsesPiecesAndGlobalFields() throws {
        let m = try SerialEMMontage(autodoc: try Autodoc(text: Self.mdoc, path: "LMM.mrc.mdoc"))
        #expect(m.pieces.count == 3)
        #expect(m.imageSize?.width == 512 && m.imageSize?.height == 400)
        #expect(m.pieces[0] == SerialEMMontage.Piece(section: 0, x: 0, y: 0, z: 0, stageX: 919.141, stageY: 849.945, stageZ: 54.986,
                                                      pixelSpacing: 656.139, rotationAngle: 3.34915, line: 11))
        // Section 1 has no PixelSpacing of its own: the global one applies. Section 2 has no StageZ: 0.
        #expect(m.pieces[1].x == 460 && m.pieces[1].pixelSpacing == 656.139 && m.pieces[1].line == 20)
        #expect(m.pieces[2].y == 360 && m.pieces[2].stageZ == 0 && m.pieces[2].stageY == 876.2)
        #expect(m.rotationAngles == [3.34915])
        // Title sections keep their text, also with "=" inside; MontSection keys are not a piece.
        let doc = m.autodoc
        #expect(doc.sections.map(\.type) == ["T", "T", "ZValue", "ZValue", "ZValue", "MontSection"])
        #expect(doc.sections[1].name == "Tilt axis angle = -86.7, binning = 1  spot = 7  camera = 1")
        #expect(doc.globalEntry("DataMode")?.value == "1" && doc.globalEntry("DataMode")?.line == 5)
    }

    @Test func writtenMdocParsesBackToTheSamePieces() throws {
        let pieces = (0..<6).map { i in
            SerialEMMontage.Piece(section: i, x: (i % 3) * 976, y: (i / 3) * 976, z: 0, stageX: -120.25 + Double(i % 3) * 4.88,
                                  stageY: 33.5 + Double(i / 3) * 4.88, stageZ: -2.125, pixelSpacing: 50)
        }
        let text = SerialEMMontage.mdocText(pieces: pieces, imageFile: "montage.mrc", width: 1024, height: 1024, title: "test",
                                            minMaxMean: [0: (400, 12000, 9000.5)])
        let parsed = try SerialEMMontage(autodoc: try Autodoc(text: text, path: "montage.mrc.mdoc"))
        #expect(parsed.pieces.count == 6)
        for (a, b) in zip(parsed.pieces, pieces) {
            #expect(a.section == b.section && a.x == b.x && a.y == b.y && a.z == b.z)
            #expect(abs(a.stageX - b.stageX) < 5e-4 && abs(a.stageY - b.stageY) < 5e-4 && a.stageZ == b.stageZ)
            #expect(a.pixelSpacing == 50 && a.rotationAngle == nil)
        }
        #expect(parsed.imageSize?.width == 1024)
        // And the generic autodoc text round-trips entry by entry.
        let again = try Autodoc(text: parsed.autodoc.text, path: "again")
        #expect(again.global.map(\.key) == parsed.autodoc.global.map(\.key))
        #expect(again.sections.map { $0.entries.map(\.value) } == parsed.autodoc.sections.map { $0.entries.map(\.value) })
    }

    static func parse(_ text: String) throws -> SerialEMMontage {
        try SerialEMMontage(autodoc: try Autodoc(text: text, path: "bad.mrc.mdoc"))
    }

    /// Each malformed file gives exactly one error naming the file, the line and the field.
    @Test func malformedMdocNamesFileLineAndField() throws {
        let missing = Self.mdoc.replacingOccurrences(of: "PieceCoordinates = 460 0 0\n", with: "")
        #expect(throws: SerialEMError.missingField(path: "bad.mrc.mdoc", line: 20, section: "ZValue = 1", field: "PieceCoordinates")) {
            try Self.parse(missing)
        }
        let notNumber = Self.mdoc.replacingOccurrences(of: "StagePosition = 949.3 849.9", with: "StagePosition = 949.3 abc")
        #expect(throws: SerialEMError.badValue(path: "bad.mrc.mdoc", line: 22, field: "StagePosition", value: "949.3 abc", expected: "2 numbers")) {
            try Self.parse(notNumber)
        }
        let shortCoordinates = Self.mdoc.replacingOccurrences(of: "PieceCoordinates = 0 360 0", with: "PieceCoordinates = 360")
        #expect(throws: SerialEMError.badValue(path: "bad.mrc.mdoc", line: 26, field: "PieceCoordinates", value: "360", expected: "2…3 integers")) {
            try Self.parse(shortCoordinates)
        }
        let duplicate = Self.mdoc.replacingOccurrences(of: "[ZValue = 2]", with: "[ZValue = 1]")
        #expect(throws: SerialEMError.duplicateSection(path: "bad.mrc.mdoc", line: 25, zValue: 1, firstLine: 20)) { try Self.parse(duplicate) }
        let garbage = Self.mdoc.replacingOccurrences(of: "DataMode = 1", with: "DataMode 1")
        #expect(throws: SerialEMError.malformedLine(path: "bad.mrc.mdoc", line: 5, text: "DataMode 1")) { try Self.parse(garbage) }
        let noSpacing = Self.mdoc.replacingOccurrences(of: "PixelSpacing = 656.139\n", with: "")
        #expect(throws: SerialEMError.missingField(path: "bad.mrc.mdoc", line: 10, section: "ZValue = 0", field: "PixelSpacing")) {
            try Self.parse(noSpacing)
        }
        #expect(throws: SerialEMError.noSections(path: "bad.mrc.mdoc")) { try Self.parse("PixelSpacing = 5\nImageSize = 10 10\n") }
        do { _ = try Self.parse(missing); Issue.record("no error") } catch {
            let text = "\(error)"
            #expect(text == "bad.mrc.mdoc:20: section [ZValue = 1] has no PieceCoordinates")
            #expect(!text.contains("\n"))
        }
    }

    @Test func metadataThatDoesNotMatchTheMRC() throws {
        let m = try Self.parse(Self.mdoc)
        // Three sections described, four in the file: strict → one error; lenient → the three pieces and the problem.
        #expect(throws: SerialEMError.sectionCountMismatch(path: "bad.mrc.mdoc", line: 25, mdocSections: 3, mrcPath: "LMM.mrc", mrcSections: 4)) {
            _ = try m.matched(toMRC: "LMM.mrc", sectionCount: 4, width: 512, height: 400, strict: true)
        }
        let lenient = try m.matched(toMRC: "LMM.mrc", sectionCount: 4, width: 512, height: 400)
        #expect(lenient.pieces.count == 3 && lenient.problems.count == 1)
        // Two sections in the file: ZValue 2 is beyond it.
        let fewer = try m.matched(toMRC: "LMM.mrc", sectionCount: 2, width: 512, height: 400)
        #expect(fewer.pieces.map(\.section) == [0, 1])
        #expect(fewer.problems.contains(.sectionOutOfRange(path: "bad.mrc.mdoc", line: 25, zValue: 2, mrcPath: "LMM.mrc", mrcSections: 2)))
        // ImageSize contradicting the file: nothing can be trusted.
        #expect(throws: SerialEMError.pieceSizeMismatch(path: "bad.mrc.mdoc", line: 3, field: "ImageSize", mdocWidth: 512, mdocHeight: 400,
                                                        mrcPath: "LMM.mrc", mrcWidth: 400, mrcHeight: 512)) {
            _ = try m.matched(toMRC: "LMM.mrc", sectionCount: 3, width: 400, height: 512)
        }
        #expect(try m.matched(toMRC: "LMM.mrc", sectionCount: 3, width: 512, height: 400, strict: true).problems.isEmpty)
    }

    @Test func navigatorWritesPointItemsThatReadBack() throws {
        let dir = TestData.scratchDirectory("serialem-nav")
        let points = [SerialEMNavigator.Point(label: "1", stageX: -12.3456, stageY: 78.9, stageZ: 1.5, note: "Cleave rank 1 score 0.950", mapID: 10001),
                      SerialEMNavigator.Point(label: "2", stageX: 100, stageY: -0.0004, note: "rank 2", color: 3, mapID: 10002, acquire: true)]
        let nav = SerialEMNavigator(points: points, comments: ["made by a test"])
        try nav.write(to: dir + "/t.nav")
        let text = try String(contentsOfFile: dir + "/t.nav", encoding: .utf8)
        #expect(text.hasPrefix("AdocVersion = 2.00\nLastSavedAs = \(dir)/t.nav\n# made by a test\n"))
        #expect(text.contains("[Item = 1]\nColor = 0\nStageXYZ = -12.346 78.900 1.500\nNumPts = 1\nRegis = 1\nType = 0\nNote = Cleave rank 1 score 0.950\nMapID = 10001\nAcquire = 0\nPtsX = -12.346\nPtsY = 78.900\n"))
        let back = try SerialEMNavigator.read(path: dir + "/t.nav")
        #expect(back.points.count == 2)
        #expect(back.points[0].stageX == -12.346 && back.points[0].stageY == 78.9 && back.points[0].stageZ == 1.5)
        #expect(back.points[1].stageY == -0.0 && back.points[1].color == 3 && back.points[1].acquire && back.points[1].mapID == 10002)
    }
}

import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveTestSupport

/// SerialEM montages in and out: `SyntheticTileSet.writeMontage` → `LocatorMontage.load` →
/// `Locator.run` → stage targets → `targets.nav`, checked against the particles' stage positions.
@Suite struct LocatorMontageTests {
    static let options = SyntheticTileSet.Options(rows: 2, columns: 3, tileSize: 512, overlap: 48, seed: 5, kind: .film,
                                                  particlesPerTile: 6)

    /// Writes the seeded montage into a fresh folder.
    static func writeMontage(_ name: String) throws -> (directory: String, set: SyntheticTileSet) {
        let dir = TestData.scratchDirectory(name)
        let set = try SyntheticTileSet.generate(options)
        try set.writeMontage(to: dir)
        return (dir, set)
    }

    /// truth/particles.csv read as plain text (stage_x, stage_y, radius_um, shape, montage_x, montage_y).
    static func truth(_ directory: String) throws -> [(x: Double, y: Double, radius: Double, shape: String, column: Double, row: Double)] {
        let lines = try String(contentsOfFile: directory + "/truth/particles.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.hasPrefix("stage_x,stage_y,radius_um") == true)
        return lines.dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            return (Double(f[0])!, Double(f[1])!, Double(f[2])!, f[3], Double(f[4])!, Double(f[5])!)
        }
    }

    /// The mdoc beside the MRC places every section; stage positions of piece centres follow one
    /// linear map of the montage pixels.
    @Test func sampleMontageReadsBackAsPlacedTiles() throws {
        let (dir, set) = try Self.writeMontage("montage-read")
        let montage = try LocatorMontage.load(mrcPath: dir + "/montage.mrc")
        #expect(montage.warnings.isEmpty, "\(montage.warnings)")
        #expect(montage.images.count == 6 && montage.sectionCount == 6)
        #expect(montage.images.map(\.name) == (0..<6).map { "montage-z00\($0)" })
        #expect(montage.images.map { $0.mosaicRow! } == [0, 0, 0, 1, 1, 1])
        #expect(montage.images.map { $0.mosaicColumn! } == [0, 1, 2, 0, 1, 2])
        #expect(montage.pieces.map(\.x) == [0, 464, 928, 0, 464, 928] && montage.pieces[4].y == 464)
        // Section 4's pixels are tile (2, 2)'s, exactly.
        #expect(montage.images[4].image.pixels == set.tiles[4].image.pixels.map(Float.init))
        #expect(montage.images[0].spacing == Spacing(5, unit: "nm"))
        // Neighbouring piece centres are (512 − 48) px × 50 Å = 2.32 µm apart on the stage.
        let p = montage.pieces
        #expect(abs(p[1].stageX - p[0].stageX - 2.32) < 2e-3 && abs(p[1].stageY - p[0].stageY) < 2e-3)
        #expect(abs(p[3].stageY - p[0].stageY - 2.32) < 2e-3 && p[0].pixelSpacing == 50)
        #expect(LocatorMontage.detect([dir + "/montage.mrc"]) == dir + "/montage.mrc")
        #expect(LocatorMontage.detect([dir]) == nil && LocatorMontage.detect([dir + "/montage.mrc", dir + "/montage.mrc"]) == nil)
    }

    /// sample --montage → locate → every target lies within a true particle (its reach plus half
    /// a patch: a target is the centre of picked patches, which may only touch the particle), and
    /// every large flake gets a target.
    @Test func roundTripTargetsLieOnTrueParticles() throws {
        let (dir, set) = try Self.writeMontage("montage-roundtrip")
        let montage = try LocatorMontage.load(mrcPath: dir + "/montage.mrc")
        let patch = 32
        var options = LocatorOptions(sampling: .patches(.patchSize(patch)), seed: 1)
        options.flattenBackground = true  // the tiles' illumination fall-off darkens corners like faint particles
        let result = try Locator.run(montage.images, options: options)
        let (targets, duplicates) = montage.stageTargets(result)
        let truth = try Self.truth(dir)
        #expect(truth.count == set.particles.count && truth.count == 36)
        let micrometres = 50e-4
        let tolerance = Double(patch) / 2 * 2.squareRoot() * micrometres  // half a patch diagonal: 0.113 µm
        var misses: [String] = []
        for t in targets {
            let hit = truth.contains { p in ((t.stageX - p.x) * (t.stageX - p.x) + (t.stageY - p.y) * (t.stageY - p.y)).squareRoot() <= p.radius + tolerance }
            if !hit { misses.append("#\(t.id) rank \(t.rank) \(t.piece) (\(t.pixelX), \(t.pixelY)) score \(t.score)") }
        }
        #expect(targets.count >= 12, "only \(targets.count) targets")
        #expect(misses.isEmpty, "targets off every particle: \(misses)")
        // Big flakes (reach ≥ 0.3 µm = 60 px) lying wholly in the montage: each has a target within its reach.
        let big = truth.filter { p in
            let reach = p.radius / micrometres
            return p.shape == "flake" && p.radius >= 0.3 && p.column >= reach && p.row >= reach
                && p.column + reach <= Double(set.mosaicWidth) && p.row + reach <= Double(set.mosaicHeight)
        }
        #expect(big.count >= 8, "\(big.count) big flakes")
        for p in big {
            let found = targets.contains { t in ((t.stageX - p.x) * (t.stageX - p.x) + (t.stageY - p.y) * (t.stageY - p.y)).squareRoot() <= p.radius }
            #expect(found, "flake at (\(p.x), \(p.y)) µm, reach \(p.radius) µm has no target")
        }
        // The stage position does not depend on which piece a target was found on: it is the
        // montage-wide map of its montage pixel (centre + (pixel − size / 2) × spacing).
        let m = set.montage
        for t in targets {
            let x = m.centerX + (t.montageX - Double(set.mosaicWidth) / 2) * micrometres
            let y = m.centerY + (t.montageY - Double(set.mosaicHeight) / 2) * micrometres
            #expect(abs(t.stageX - x) < 2e-3 && abs(t.stageY - y) < 2e-3, "target \(t.id): (\(t.stageX), \(t.stageY)) vs (\(x), \(y))")
        }
        // Targets on the overlaps were found twice; the worse copy is dropped, so no two kept
        // targets of different pieces lie within the larger of their radii.
        #expect(targets.count + duplicates == result.targets.count && duplicates >= 1)  // seed 5: 4 copies on the 48-px overlaps
        for a in targets {
            for b in targets where a.id < b.id && a.section != b.section {
                let distance = ((a.stageX - b.stageX) * (a.stageX - b.stageX) + (a.stageY - b.stageY) * (a.stageY - b.stageY)).squareRoot()
                #expect(distance > max(a.radius, b.radius), "targets \(a.id) and \(b.id) are one place")
            }
        }
        print("montage round trip: \(targets.count) targets (\(duplicates) overlap copies dropped), \(misses.count) off-particle, \(big.count) big flakes")
        #expect(Set(targets.map(\.rank)).count == targets.count && targets.map(\.id) == Array(1...targets.count))

        // targets.nav holds the same points, in the same order.
        try montage.write(targets, to: dir)
        let nav = try SerialEMNavigator.read(path: dir + "/targets.nav")
        #expect(nav.points.count == targets.count)
        for (point, t) in zip(nav.points, targets) {
            #expect(point.label == String(t.id) && abs(point.stageX - t.stageX) <= 5e-4 && abs(point.stageY - t.stageY) <= 5e-4)
            #expect(point.note.hasPrefix("Cleave rank \(t.rank) score "))
        }
        let csv = try String(contentsOfFile: dir + "/targets-stage.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == targets.count + 1 && csv[0].hasPrefix("id,rank,score,stage_x_um,stage_y_um"))
    }

    /// Overwrites MRC section `section` of a 16-bit stack with `value`.
    static func fill(_ path: String, section: Int, width: Int, height: Int, value: UInt16, noise: Int = 0) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let start = 1024 + section * width * height * 2
        for i in 0..<(width * height) {
            let v = value + (noise > 0 ? UInt16((i * 7919) % noise) : 0)
            bytes[start + 2 * i] = UInt8(v & 255); bytes[start + 2 * i + 1] = UInt8(v >> 8)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func blankPiecesAreSkippedWithAWarningAndAllBlankIsAnError() throws {
        let (dir, _) = try Self.writeMontage("montage-blank")
        let mrc = dir + "/montage.mrc"
        try Self.fill(mrc, section: 2, width: 512, height: 512, value: 0)
        // Section 4: camera offset and read noise only (400…439 counts; the film is about 9000): black.
        try Self.fill(mrc, section: 4, width: 512, height: 512, value: 400, noise: 40)
        let montage = try LocatorMontage.load(mrcPath: mrc)
        #expect(montage.images.map(\.name) == ["montage-z000", "montage-z001", "montage-z003", "montage-z005"])
        #expect(montage.warnings.count == 2, "\(montage.warnings)")
        #expect(montage.warnings.first?.contains("section 2") == true && montage.warnings.first?.contains("every pixel is 0 (blank") == true)
        #expect(montage.warnings.last?.contains("section 4") == true && montage.warnings.last?.contains("black (99 % of its pixels below 43") == true,
                "\(montage.warnings)")
        for section in 0..<6 { try Self.fill(mrc, section: section, width: 512, height: 512, value: 0) }
        do { _ = try LocatorMontage.load(mrcPath: mrc); Issue.record("an all-black montage was accepted") } catch {
            #expect("\(error)".contains("no film") && "\(error)".contains("montage.mrc") && !"\(error)".contains("\n"))
        }
    }

    @Test func metadataThatDoesNotFitTheStack() throws {
        let (dir, _) = try Self.writeMontage("montage-mismatch")
        let mdocPath = dir + "/montage.mrc.mdoc"
        let text = try String(contentsOfFile: mdocPath, encoding: .utf8)
        // The last piece's section removed: five pieces are used, section 5 is reported.
        let cut = text.range(of: "[ZValue = 5]")!.lowerBound, end = text.range(of: "[MontSection = 0]")!.lowerBound
        try (String(text[..<cut]) + String(text[end...])).write(toFile: mdocPath, atomically: true, encoding: .utf8)
        let fewer = try LocatorMontage.load(mrcPath: dir + "/montage.mrc")
        #expect(fewer.images.count == 5 && fewer.warnings.count == 2)
        #expect(fewer.warnings[0].contains("ZValue: 5 sections described but") && fewer.warnings[0].contains("holds 6"))
        #expect(fewer.warnings[1].contains("section 5 has no [ZValue]"))
        // A piece size that contradicts the stack: an error naming the field and both sizes.
        try text.replacingOccurrences(of: "ImageSize = 512 512", with: "ImageSize = 1024 1024").write(toFile: mdocPath, atomically: true, encoding: .utf8)
        #expect(throws: SerialEMError.pieceSizeMismatch(path: mdocPath, line: 3, field: "ImageSize", mdocWidth: 1024, mdocHeight: 1024,
                                                        mrcPath: dir + "/montage.mrc", mrcWidth: 512, mrcHeight: 512)) {
            _ = try LocatorMontage.load(mrcPath: dir + "/montage.mrc")
        }
        // A non-numeric value: the parse error names the line and field.
        try text.replacingOccurrences(of: "StagePosition", with: "StagePosition = x").replacingOccurrences(of: "= x =", with: "= x")
            .write(toFile: mdocPath, atomically: true, encoding: .utf8)
        do { _ = try LocatorMontage.load(mrcPath: dir + "/montage.mrc"); Issue.record("accepted") } catch let error as SerialEMError {
            guard case let .badValue(path, line, field, _, _) = error else { Issue.record("\(error)"); return }
            #expect(path == mdocPath && line == 13 && field == "StagePosition")
        }
    }
}

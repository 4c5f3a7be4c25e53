import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleaveObjects
import CleaveTestSupport
import CleavePipelines

/// Objects of an OME-Zarr volume block by block (``BlockObjects``) equal the whole-volume run
/// (``ObjectsPipeline``): the same objects, the same numbering, every measurement bit for bit,
/// for any block size, thread count and order of shares; a run continues where another stopped;
/// bad requests are one line.
@Suite(.serialized) struct BlockObjectsTests {
    static let shape = Shape(width: 41, height: 37, depth: 31)

    /// A class volume (0 background, classes 1 and 2) whose objects cross the block borders
    /// (blocks of 16 × 16 × 18 with chunks 8 × 8 × 6) in x, y and z:
    /// - an ellipsoid of class 2 around the corner where eight blocks meet;
    /// - a U of class 1 whose two arms lie in the first z-layer of blocks, side by side in one
    ///   block, and join only through the bar at the bottom, in the next z-layer;
    /// - an L of class 2 whose two parts lie in different x-blocks and join only through a
    ///   third block (y-neighbour of both);
    /// - two voxels of class 1 that touch only by a corner across the eight-block corner (one
    ///   object with connectivity 2, two with 1);
    /// - a class-1 slab touching a class-2 slab (two objects: different values stay apart);
    /// - sparse random class-2 voxels (many small objects, some across borders).
    static func volume(seed: UInt64 = 7) -> Image<UInt8> {
        var image = Image<UInt8>(shape: shape, repeating: 0, spacing: Spacing(x: 0.5, y: 0.5, z: 0.75, unit: "µm"))
        func set(_ x: Int, _ y: Int, _ z: Int, _ v: UInt8) {
            guard x >= 0, y >= 0, z >= 0, x < shape.width, y < shape.height, z < shape.depth else { return }
            image.pixels[(z * shape.height + y) * shape.width + x] = v
        }
        var rng = SeededGenerator(seed: seed)
        for z in 0..<shape.depth { for y in 0..<shape.height { for x in 0..<shape.width where Double.random(in: 0..<1, using: &rng) < 0.06 {
            set(x, y, z, 2)
        }}}
        // Ellipsoid at the corner (16, 16, 18).
        for z in 0..<shape.depth { for y in 0..<shape.height { for x in 0..<shape.width {
            let dx = Double(x) - 15.7, dy = Double(y) - 16.2, dz = Double(z) - 17.6
            if dx * dx / 30 + dy * dy / 20 + dz * dz / 40 <= 1 { set(x, y, z, 2) }
        }}}
        // U: arms x 2…4 and 9…11, y 2…5, z 3…19; bar z 18…20 (the next z-layer of blocks from z 18).
        for z in 3...20 { for y in 2...5 {
            for x in 2...4 { set(x, y, z, 1) }
            for x in 9...11 { set(x, y, z, 1) }
        }}
        for z in 18...20 { for y in 2...5 { for x in 2...11 { set(x, y, z, 1) } } }
        // L: part A at x 28…30 (block x 1…), part B at x 34…36 (block x 2); joined at y 16…18 (next y-block).
        for z in 2...5 {
            for y in 6...17 { for x in 28...30 { set(x, y, z, 2) } }
            for y in 6...17 { for x in 34...36 { set(x, y, z, 2) } }
            for y in 16...17 { for x in 28...36 { set(x, y, z, 2) } }
        }
        // Corner touch at the corner (32, 32, 18) of eight blocks.
        for (x, y, z) in [(30, 30, 16), (31, 31, 17), (32, 32, 18), (33, 33, 19)] {
            for dz in -1...1 { for dy in -1...1 { for dx in -1...1 { set(x + dx, y + dy, z + dz, 0) } } }
        }
        set(31, 31, 17, 1); set(32, 32, 18, 1)
        // Touching slabs of two classes across the z border.
        for z in 24...28 { for y in 25...34 { for x in 3...8 { set(x, y, z, 1) }; for x in 9...14 { set(x, y, z, 2) } } }
        return image
    }

    static func fixture(_ name: String, image: Image<UInt8> = volume()) throws -> (directory: String, path: String, image: AnyImage) {
        let directory = TestData.scratchDirectory("objblocks-\(name)")
        let path = directory + "/vol.ome.zarr"
        try OMEZarrWriter.writeImage(.uint8(image), to: path, options: OMEZarrWriteOptions(chunkX: 8, chunkY: 8, chunkZ: 6))
        return (directory, path, .uint8(image))
    }

    /// Every column of two tables, bit for bit, and their CSV text.
    static func expectEqual(_ blocks: ObjectTable, _ whole: ObjectTable, _ what: String) {
        #expect(blocks.labels == whole.labels, "\(what): labels")
        #expect(blocks.columnNames == whole.columnNames, "\(what): columns")
        for name in whole.columnNames {
            let a = (try? blocks.column(name)) ?? [], b = (try? whole.column(name)) ?? []
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(what): column \(name)")
        }
        #expect(blocks.classes == whole.classes, "\(what): classes")
        #expect(blocks.csv() == whole.csv(), "\(what): CSV")
    }

    static func labels(_ store: String) throws -> [Int32] {
        switch try OMEZarrImage.open(store).read() {
        case .uint8(let i): return i.pixels.map { Int32($0) }
        case .uint16(let i): return i.pixels.map { Int32($0) }
        case .float32(let i): return i.pixels.map { Int32($0) }
        }
    }

    @Test func objectsAndMeasurementsEqualTheWholeVolume() throws {
        let f = try Self.fixture("equal")
        let threads = Parallel.threadCount
        defer { Parallel.threadCount = threads }
        var cases: [(String, ObjectsOptions)] = []
        var values = ObjectsOptions(); values.connectivity = .full
        cases.append(("values, connectivity 2", values))
        values.connectivity = .faces
        cases.append(("values, connectivity 1", values))
        var classTwo = ObjectsOptions(); classTwo.foreground = .classValue(2); classTwo.minimumSize = 3
        classTwo.rules = try ClassificationRules("volume > 100 -> big; else -> small")
        cases.append(("class 2, min size 3, rules", classTwo))
        var threshold = ObjectsOptions(); threshold.foreground = .threshold(0.5); threshold.connectivity = .faces
        threshold.spacing = Spacing(0.2, unit: "µm")
        cases.append(("threshold, connectivity 1, pixel size", threshold))
        for (c, (name, options)) in cases.enumerated() {
            let whole = try ObjectsPipeline.run(f.image, options: options)
            #expect(whole.table.count > 20, "\(name): \(whole.table.count) objects")
            for (k, (blockSize, threadCount)) in [(16, 1), (16, 3), (9, 2), (64, 2)].enumerated() {
                Parallel.threadCount = threadCount
                var blockOptions = BlockObjectsOptions()
                blockOptions.objects = options
                blockOptions.blockSize = blockSize
                let out = f.directory + "/case\(c)-\(k)"
                let report = try BlockObjects.run(volume: f.path, directory: out, options: blockOptions)
                let what = "\(name), block size \(blockSize), \(threadCount) threads (\(report.blockCount) blocks)"
                Self.expectEqual(report.table!, whole.table, what)
                #expect(try Self.labels(report.labels) == whole.labels.labels, "\(what): label store")
                #expect(!FileManager.default.fileExists(atPath: BlockObjects.workPath(directory: out)), "\(what): work folder removed")
                if blockSize == 16 { #expect(report.blockCount == 18) }
            }
        }
    }

    /// The U's arms are two components of their block and one object only through the bar in the
    /// block below; the corner voxels are one object only with connectivity 2.
    @Test func componentsJoinThroughOtherBlocksAndCorners() throws {
        var image = Image<UInt8>(shape: Self.shape, repeating: 0)
        for z in 3...20 { for y in 2...5 { for x in [2, 3, 9, 10] { image.pixels[(z * Self.shape.height + y) * Self.shape.width + x] = 1 } } }
        for z in 19...20 { for y in 2...5 { for x in 2...10 { image.pixels[(z * Self.shape.height + y) * Self.shape.width + x] = 1 } } }
        for (x, y, z) in [(31, 31, 17), (32, 32, 18)] { image.pixels[(z * Self.shape.height + y) * Self.shape.width + x] = 1 }
        let f = try Self.fixture("join", image: image)
        for (connectivity, expected) in [(Connectivity.full, 2), (.faces, 3)] {
            var options = BlockObjectsOptions()
            options.blockSize = 16
            options.objects.connectivity = connectivity
            let report = try BlockObjects.run(volume: f.path, directory: f.directory + "/c\(connectivity.rawValue)", options: options)
            #expect(report.table!.count == expected, "connectivity \(connectivity.rawValue)")
            #expect(try report.table!.column("volume").first == Double(18 * 4 * 4 + 2 * 4 * 5))
        }
    }

    @Test func sharesThenFinishEqualOneRunAndResumeAfterAnInterruption() throws {
        let f = try Self.fixture("shares")
        var options = BlockObjectsOptions()
        options.blockSize = 16
        options.objects.foreground = .classValue(2)
        let reference = try BlockObjects.run(volume: f.path, directory: f.directory + "/ref", options: options)
        let referenceChunks = try BlockPredictionTests.chunkFiles(reference.labels)
        // Three shares (pass 1 only), then the finishing run: nothing relabelled.
        let out = f.directory + "/shares"
        for i in [2, 0, 1] {
            var share = options
            share.share = try BlockShare(index: i, count: 3)
            let report = try BlockObjects.run(volume: f.path, directory: out, options: share)
            #expect(report.table == nil && report.labelled == 6)
            #expect(!FileManager.default.fileExists(atPath: out + "/labels.ome.zarr/0"))
        }
        let finished = try BlockObjects.run(volume: f.path, directory: out, options: options)
        #expect(finished.labelled == 0)
        Self.expectEqual(finished.table!, reference.table!, "3 shares + finish")
        #expect(try BlockPredictionTests.chunkFiles(finished.labels) == referenceChunks)

        // An interrupted final pass: the work folder and some final blocks are kept; the run
        // continues and gives the same bytes.
        let resumed = f.directory + "/resumed"
        var first = options
        first.share = try BlockShare(index: 0, count: 1)
        _ = try BlockObjects.run(volume: f.path, directory: resumed, options: first)
        let provisional = BlockObjects.workPath(directory: resumed) + "/provisional"
        let chunk = try #require(FileManager.default.subpaths(atPath: provisional)?.filter { $0.hasPrefix("4/") && $0.split(separator: "/").count == 3 }.sorted().first)
        let saved = try Data(contentsOf: URL(fileURLWithPath: provisional + "/" + chunk))
        try FileManager.default.removeItem(atPath: provisional + "/" + chunk)
        #expect {
            _ = try BlockObjects.run(volume: f.path, directory: resumed, options: options)
        } throws: { error in
            "\(error)".contains("is missing although the block is recorded done")
        }
        let journal = try #require(try BlockJournal.open(store: resumed + "/labels.ome.zarr"))
        let done = (0..<reference.blockCount).filter { journal.isDone($0) }
        #expect(done.count > 0 && done.count < reference.blockCount, "\(done.count) final blocks done before the missing chunk")
        try saved.write(to: URL(fileURLWithPath: provisional + "/" + chunk))
        let again = try BlockObjects.run(volume: f.path, directory: resumed, options: options)
        Self.expectEqual(again.table!, reference.table!, "resumed")
        #expect(try BlockPredictionTests.chunkFiles(again.labels) == referenceChunks)
        // A finished run run again: the same outputs.
        let rerun = try BlockObjects.run(volume: f.path, directory: resumed, options: options)
        Self.expectEqual(rerun.table!, reference.table!, "finished run again")
    }

    @Test func badRequestsAreOneLine() throws {
        let f = try Self.fixture("bad")
        var options = BlockObjectsOptions()
        options.blockSize = 0
        #expect(throws: BlockRunError.blockSmallerThanHalo(field: "blockSize", blockSize: 0, halo: 1, method: "objects (the neighbours' face voxels)")) {
            _ = try BlockObjects.run(volume: f.path, directory: f.directory + "/zero", options: options)
        }
        options.blockSize = 16
        options.objects.fillHoles = true
        #expect(throws: BlockRunError.self) { _ = try BlockObjects.run(volume: f.path, directory: f.directory + "/holes", options: options) }
        options.objects.fillHoles = false
        // A grey (fractional) volume without --threshold / --class.
        var grey = Image<Float>(shape: Self.shape, repeating: 0)
        grey.pixels[(20 * Self.shape.height + 3) * Self.shape.width + 5] = 0.25
        let greyPath = f.directory + "/grey.ome.zarr"
        try OMEZarrWriter.writeImage(.float32(grey), to: greyPath, options: OMEZarrWriteOptions(chunkX: 8, chunkY: 8, chunkZ: 6))
        #expect {
            _ = try BlockObjects.run(volume: greyPath, directory: f.directory + "/grey", options: options)
        } throws: { error in
            let text = "\(error)"
            return text.contains("value 0.25 at x 5, y 3, z 20 is not a whole number") && !text.contains("\n")
        }
        // One plane.
        let flatPath = f.directory + "/flat.ome.zarr"
        try OMEZarrWriter.writeImage(.uint8(Image(shape: Shape(width: 20, height: 20), repeating: 1)), to: flatPath)
        #expect(throws: BlockRunError.self) { _ = try BlockObjects.run(volume: flatPath, directory: f.directory + "/flat", options: options) }
    }
}

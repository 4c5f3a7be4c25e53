import Foundation
import CleaveCore
import CleaveFormats
import CleaveObjects
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of ``BlockObjects/run(volume:directory:options:progress:)``.
public struct BlockObjectsOptions: Sendable {
    /// Wanted block side in x, y and z, voxels (rounded up to whole chunks); memory grows with its cube.
    public var blockSize = 256
    /// Label only this share of the blocks (the first pass) and do not finish (nil: every block
    /// not yet done, then the merge, the final labels and the table).
    public var share: BlockShare?
    /// Foreground, connectivity, minimum size, spacing and grouping (fill holes, split and intensity
    /// statistics are whole-image steps: refused here).
    public var objects = ObjectsOptions()
    /// Write `overlay.png` (plane 0) when finishing.
    public var overlay = true
    /// The defaults: 256-voxel blocks, every block, the default objects options, an overlay.
    public init() {}
}

/// What one call of ``BlockObjects/run(volume:directory:options:progress:)`` did.
public struct BlockObjectsReport: Sendable {
    /// `DIR/labels.ome.zarr`.
    public var labels: String
    /// Blocks of the volume's plan (all shares together).
    public var blockCount: Int
    /// First-pass blocks labelled by this call.
    public var labelled: Int
    /// First-pass blocks found done by an earlier call or another share, and skipped.
    public var skipped: Int
    /// The objects, when this call finished the run.
    public var table: ObjectTable?
    /// Voxels of the volume (for the summary's fractions).
    public var voxelCount: Int
    /// Out-of-bag accuracy of the object classifier, when the grouping trained one (as ``ObjectsPipeline`` reports it).
    public var classifierAccuracy: Double?
}

/// Objects (3D connected components) of an OME-Zarr volume bigger than memory, block by block,
/// with the same objects, numbering and measurements as ``ObjectsPipeline`` on the whole volume.
///
/// ```
/// pass 1, per block (any process, --blocks i/N):
///   read the block ─► connected components ─► provisional labels (work store, chunk-aligned)
///                                            └► components (voxels, first voxel, value) + the six face layers
/// merge (one process): union-find over components touching across block faces, edges and corners
///   (face layers only) ─► objects numbered by their first voxel in raster order, small ones dropped
/// pass 2, per block: block + one-voxel border from the neighbours' face layers ─► final labels
///   (DIR/labels.ome.zarr) and integer shape sums (ShapeSums3D) of the block
/// finish: sums merged exactly ─► ObjectMeasurement.shape3D ─► the table, as for the whole volume
/// ```
///
/// Every measurement of 3D objects is a function of integer sums (moments, bounding box, faces,
/// Crofton transitions) that merge exactly, so the table equals the whole-volume one bit for bit.
/// Progress is recorded next to the outputs (`DIR/.cleave-objects/`, removed when finished, and
/// `DIR/labels.ome.zarr/.cleave-blocks/`): a killed run continues where it stopped and gives the
/// same bytes. Memory: one block, its border and per-component tables (not the volume).
public enum BlockObjects {
    /// The work folder of a run in `directory`.
    public static func workPath(directory: String) -> String { (directory as NSString).appendingPathComponent(".cleave-objects") }
    /// The final labels store.
    public static func labelsPath(directory: String) -> String { (directory as NSString).appendingPathComponent("labels.ome.zarr") }

    /// Runs (or continues) the objects of `volume` into `directory`.
    /// - Throws: ``BlockRunError`` (unsupported option, output of another run, missing work
    ///   chunk), ``CleaveError`` for a volume that is not a label volume (fractional values, several
    ///   channels, one plane), ``ZarrError`` for a corrupt chunk (its block is not marked done).
    public static func run(volume path: String, directory: String, options: BlockObjectsOptions = BlockObjectsOptions(),
                           progress: CleaveCore.Progress = .silent) throws -> BlockObjectsReport {
        let o = options.objects
        if o.fillHoles { throw BlockRunError.unsupportedOption(field: "fillHoles", reason: "filling holes needs the whole background of an object, which a block does not see") }
        if o.splitHeight != nil { throw BlockRunError.unsupportedOption(field: "splitHeight", reason: "the watershed split needs whole distance maps, which a block does not see") }
        guard o.minimumSize >= 1 else { throw ObjectsPipelineError.invalidOption(field: "minimumSize", value: String(o.minimumSize), reason: "must be at least 1") }
        let volume = try OMEZarrImage.open(path)
        let shape = volume.shape
        guard shape.channels == 1 else {
            throw ObjectsPipelineError.unusableImage(reason: "the label volume \(path) has \(shape.channels) channels; give a single-channel label, class or grey volume")
        }
        guard shape.depth > 1 else {
            throw BlockRunError.unsupportedInput(path: path, reason: "one plane: 2D objects (perimeter, convex hull) are measured on the whole image; convert it to TIFF (cleave convert) and run objects on that")
        }
        let chunk = volume.chunkShape()
        let plan = try BlockPlan(shape: shape, chunk: (chunk.x, chunk.y, chunk.z), blockSize: options.blockSize, halo: (1, 1, 1),
                                 method: "objects (the neighbours' face voxels)", depth: options.blockSize)
        let spacing = o.spacing ?? volume.spacing
        let fingerprint = BlockRunFingerprint(
            method: "objects", model: "\(o.foreground) connectivity \(o.connectivity.rawValue) min-size \(o.minimumSize)",
            input: (path as NSString).standardizingPath,
            inputLayout: "\(shape) \(volume.pixelType) chunks \(chunk.x)×\(chunk.y)×\(chunk.z)×\(chunk.c)",
            options: "blocks \(plan.blockWidth)×\(plan.blockHeight)×\(plan.blockDepth), spacing \(spacing.map { "\($0)" } ?? "none")")
        let run = try Run(volume: volume, path: path, plan: plan, directory: directory, options: o, fingerprint: fingerprint, spacing: spacing)

        // Pass 1: components of every block of this share (or every block) not yet done.
        let wanted = options.share?.blocks(of: plan.blocks.count) ?? Array(plan.blocks.indices)
        let finished = try run.finalJournal().map { j in plan.blocks.indices.allSatisfy { j.isDone($0) } } ?? false
        let journal = try run.workJournal(mustExist: finished)
        let pending = journal.map { $0.pending(wanted) } ?? []
        let name = (path as NSString).lastPathComponent
        let stage = options.share.map { "Labelling share \($0) of \(name)" } ?? "Labelling blocks of \(name)"
        progress.report(wanted.count - pending.count, wanted.count, stage)
        for (k, block) in pending.enumerated() {
            let components = try run.labelBlock(block)
            try run.writeParts(block, components)
            try journal!.markDone(block, counts: [components.count])
            progress.report(wanted.count - pending.count + k + 1, wanted.count, stage)
        }
        var report = BlockObjectsReport(labels: labelsPath(directory: directory), blockCount: plan.blocks.count, labelled: pending.count,
                                        skipped: wanted.count - pending.count, table: nil, voxelCount: shape.singleChannel.count)
        guard options.share == nil else { return report }

        // Merge, pass 2, table.
        let merge = try finished ? nil : run.merged(journal: journal!, progress: progress)
        let output = try run.finalLabels(merge: merge)
        let pendingFinal = output.journal.pending(Array(plan.blocks.indices))
        for (k, block) in pendingFinal.enumerated() {
            let entries = try run.finishBlock(block, merge: merge!, writer: output.writer)
            try run.writeSums(block, entries, journal: output.journal)
            try output.journal.markDone(block, counts: [entries.count])
            progress.report(plan.blocks.count - pendingFinal.count + k + 1, plan.blocks.count, "Final labels of \(name)")
        }
        var sums = ShapeSums3D(objectCount: output.objectCount)
        for block in plan.blocks.indices { try run.addSums(block, journal: output.journal, into: &sums) }
        var table = ObjectMeasurement.shape3D(sums, spacing: spacing)
        switch o.foreground {
        case .values: table.setColumn("source_value", table.labels.map { output.sourceValues[Int($0)] })
        case .classValue(let v): table.setColumn("source_value", [Double](repeating: v, count: table.count))
        case .threshold: break
        }
        report.classifierAccuracy = try ObjectsPipeline.group(&table, options: o)
        try output.writer.buildPyramid(progress: progress)
        report.table = table
        try? FileManager.default.removeItem(atPath: run.work)
        return report
    }

    /// `count` values of type T stored at byte `offset` of `data` (copied: no alignment needed).
    static func array<T>(_ data: Data, from offset: Int, count: Int) -> [T] {
        var out = [T]()
        out.reserveCapacity(count)
        data.withUnsafeBytes { raw in
            for k in 0..<count { out.append(raw.loadUnaligned(fromByteOffset: offset + k * MemoryLayout<T>.stride, as: T.self)) }
        }
        return out
    }

    /// One component of a block's first pass.
    struct Component {
        var voxels: Int64
        /// Raster index in the volume of its first voxel.
        var first: Int64
        /// The input value there (the object's `source_value`).
        var value: Double
        /// The connectivity key (components join only with equal keys).
        var key: UInt32
    }

    /// The objects' numbering, from the merge.
    struct Merge {
        /// First provisional id of every block (ids are 1-based: offsets[b] + local label).
        var offsets: [Int]
        /// Final label of every provisional id (0: background or dropped as too small).
        var map: [Int32]
        var objectCount: Int
        /// Input value under each object's first voxel (index = final label).
        var sourceValues: [Double]
    }

    /// Files and stores of one run.
    struct Run {
        let volume: OMEZarrImage
        let path: String
        let plan: BlockPlan
        let directory: String
        let options: ObjectsOptions
        let fingerprint: BlockRunFingerprint
        let spacing: Spacing?
        let work: String
        let provisionalPath: String
        /// Blocks along x, y, z.
        let grid: (x: Int, y: Int, z: Int)

        init(volume: OMEZarrImage, path: String, plan: BlockPlan, directory: String, options: ObjectsOptions,
             fingerprint: BlockRunFingerprint, spacing: Spacing?) throws {
            self.volume = volume; self.path = path; self.plan = plan; self.directory = directory
            self.options = options; self.fingerprint = fingerprint; self.spacing = spacing
            work = BlockObjects.workPath(directory: directory)
            provisionalPath = work + "/provisional"
            let s = plan.shape
            grid = ((s.width + plan.blockWidth - 1) / plan.blockWidth, (s.height + plan.blockHeight - 1) / plan.blockHeight,
                    (s.depth + plan.blockDepth - 1) / plan.blockDepth)
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw BlockRunError.journal(path: directory, reason: "cannot create the output folder (\(error.localizedDescription))")
            }
        }

        var labels: String { BlockObjects.labelsPath(directory: directory) }

        /// The journal of the final labels when it exists and belongs to this run.
        func finalJournal() throws -> BlockJournal? {
            guard let journal = try BlockJournal.open(store: labels) else { return nil }
            if let d = journal.record.fingerprint.difference(from: fingerprint) {
                throw BlockRunError.otherRun(path: directory, field: d.field, recorded: d.recorded, requested: d.requested)
            }
            return journal
        }

        /// The first pass's journal (created with the work store when no run started here).
        /// nil when the final labels are complete and the work folder is gone (a finished run).
        func workJournal(mustExist finished: Bool) throws -> BlockJournal? {
            try BlockJournal.withLock(store: work) {
                if let journal = try BlockJournal.open(store: work) {
                    if let d = journal.record.fingerprint.difference(from: fingerprint) {
                        throw BlockRunError.otherRun(path: directory, field: d.field, recorded: d.recorded, requested: d.requested)
                    }
                    return journal
                }
                if finished { return nil }
                try? FileManager.default.removeItem(atPath: work)
                try OMEZarrWriter.clearStore(labels)
                let c = volume.chunkShape()
                _ = try ZarrArray.create(provisionalPath, metadata: ZarrArrayMetadata(
                    zarrFormat: 2, shape: [plan.shape.depth, plan.shape.height, plan.shape.width], chunks: [c.z, c.y, c.x],
                    dataType: .uint32, compressor: .zstd(level: 1)))
                return try BlockJournal.create(store: work, record: BlockRunRecord(fingerprint: fingerprint, blockCount: plan.blocks.count, windows: nil))
            }
        }

        // MARK: Pass 1

        /// Components of one block; writes its provisional labels.
        func labelBlock(_ index: Int) throws -> [Component] {
            let block = plan.blocks[index]
            let image = try volume.read(region: block)
            try ImageFile.requireFinite(image, path: path, firstPlane: block.z)
            let labels: LabelImage
            switch options.foreground {
            case .classValue(let v): labels = ConnectedComponents.label(image, class: v, connectivity: options.connectivity)
            case .threshold(let t): labels = ConnectedComponents.label(image, threshold: t, connectivity: options.connectivity)
            case .values:
                if case .float32(let f) = image, let i = f.pixels.firstIndex(where: { $0 != $0.rounded() }) {
                    let s = Shape(width: block.width, height: block.height, depth: block.depth)
                    let x = i % s.width, y = i / s.width % s.height, z = i / s.planeSize
                    throw ObjectsPipelineError.unusableImage(reason: "\(path): value \(f.pixels[i]) at x \(block.x + x), y \(block.y + y), z \(block.z + z) is not a whole number: a grey volume, not labels; give a threshold or a class value")
                }
                labels = ConnectedComponents.label(image, connectivity: options.connectivity)
            }
            var components = [Component](repeating: Component(voxels: 0, first: -1, value: 0, key: 0), count: labels.objectCount)
            let W = plan.shape.width, H = plan.shape.height
            func value(_ i: Int) -> Double {
                switch image {
                case .uint8(let im): return Double(im.pixels[i])
                case .uint16(let im): return Double(im.pixels[i])
                case .float32(let im): return Double(im.pixels[i])
                }
            }
            var i = 0
            for z in 0..<block.depth { for y in 0..<block.height { for x in 0..<block.width {
                let l = Int(labels.labels[i])
                if l != 0 {
                    if components[l - 1].first < 0 {
                        components[l - 1].first = Int64(((block.z + z) * H + block.y + y) * W + block.x + x)
                        components[l - 1].value = value(i)
                        components[l - 1].key = keyOf(value(i))
                    }
                    components[l - 1].voxels += 1
                }
                i += 1
            }}}
            let provisional = try ZarrArray.open(provisionalPath)
            try labels.labels.withUnsafeBytes {
                try provisional.unsafeWrite(origin: [block.z, block.y, block.x], size: [block.depth, block.height, block.width], from: $0.baseAddress!)
            }
            try writeSurface(index, labels.labels)
            return components
        }

        /// Components of one block join only when their keys are equal: the value itself for
        /// instance / class volumes, one key for a class or threshold foreground.
        func keyOf(_ value: Double) -> UInt32 {
            if case .values = options.foreground { return Float(value).bitPattern }
            return 1
        }

        func partsPath(_ block: Int) -> String { work + "/block-\(block).parts" }
        func surfacePath(_ block: Int) -> String { work + "/block-\(block).surface" }
        func sumsPath(_ block: Int, journal: BlockJournal) -> String { journal.directory + "/block-\(block).sums" }

        /// The six face layers of a block's labels (x low, x high, y low, y high, z low, z high).
        func writeSurface(_ index: Int, _ labels: [Int32]) throws {
            let b = plan.blocks[index]
            let w = b.width, h = b.height, d = b.depth
            var out: [Int32] = []
            out.reserveCapacity(2 * (d * h + d * w + h * w))
            for x in [0, w - 1] { for z in 0..<d { for y in 0..<h { out.append(labels[(z * h + y) * w + x]) } } }
            for y in [0, h - 1] { for z in 0..<d { for x in 0..<w { out.append(labels[(z * h + y) * w + x]) } } }
            for z in [0, d - 1] { for y in 0..<h { for x in 0..<w { out.append(labels[(z * h + y) * w + x]) } } }
            try BlockJournal.writeDurably(out.withUnsafeBytes { Data($0) }, to: surfacePath(index))
        }

        func writeParts(_ index: Int, _ components: [Component]) throws {
            var values: [Int64] = [Int64(components.count)]
            for c in components { values += [c.voxels, c.first, Int64(bitPattern: c.value.bitPattern), Int64(c.key)] }
            try BlockJournal.writeDurably(values.withUnsafeBytes { Data($0) }, to: partsPath(index))
        }

        func readParts(_ index: Int, count: Int) throws -> [Component] {
            let values: [Int64] = try readArray(partsPath(index), count: 1 + 4 * count)
            guard values[0] == count else { throw BlockRunError.journal(path: partsPath(index), reason: "holds \(values[0]) components, the marker \(count); delete \(work) to start again") }
            return (0..<count).map { k in
                Component(voxels: values[1 + 4 * k], first: values[2 + 4 * k], value: Double(bitPattern: UInt64(bitPattern: values[3 + 4 * k])),
                          key: UInt32(truncatingIfNeeded: values[4 + 4 * k]))
            }
        }

        func readArray<T>(_ file: String, count: Int) throws -> [T] {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw BlockRunError.journal(path: file, reason: "is missing although its block is recorded done; delete \(work) to start again")
            }
            guard data.count == count * MemoryLayout<T>.stride else {
                throw BlockRunError.journal(path: file, reason: "has \(data.count) bytes, expected \(count * MemoryLayout<T>.stride); delete \(work) to start again")
            }
            return BlockObjects.array(data, from: 0, count: count)
        }

        // MARK: Merge

        /// The block holding a voxel.
        func blockIndex(x: Int, y: Int, z: Int) -> Int {
            ((z / plan.blockDepth) * grid.y + y / plan.blockHeight) * grid.x + x / plan.blockWidth
        }

        /// A block's face layers, read back, with a lookup by volume coordinates.
        struct Surface {
            let block: Region
            let layers: [Int32]
            func label(x: Int, y: Int, z: Int) -> Int32 {
                let w = block.width, h = block.height, d = block.depth
                let lx = x - block.x, ly = y - block.y, lz = z - block.z
                let xSize = d * h, ySize = d * w
                if lx == 0 || lx == w - 1 { return layers[(lx == 0 ? 0 : xSize) + lz * h + ly] }
                if ly == 0 || ly == h - 1 { return layers[2 * xSize + (ly == 0 ? 0 : ySize) + lz * w + lx] }
                precondition(lz == 0 || lz == d - 1, "BlockObjects: voxel (\(x), \(y), \(z)) is inside block \(block), not on its surface")
                return layers[2 * xSize + 2 * ySize + (lz == 0 ? 0 : h * w) + ly * w + lx]
            }
        }

        func surface(_ index: Int) throws -> Surface {
            let b = plan.blocks[index]
            return Surface(block: b, layers: try readArray(surfacePath(index), count: 2 * (b.depth * b.height + b.depth * b.width + b.height * b.width)))
        }

        /// Face layers of the blocks around the one being processed (blocks are visited in order,
        /// so those more than a layer of blocks behind are dropped).
        final class SurfaceCache {
            let run: Run
            var cache: [Int: Surface] = [:]
            init(run: Run) { self.run = run }
            func get(_ index: Int, current: Int) throws -> Surface {
                if let s = cache[index] { return s }
                let reach = run.grid.x * run.grid.y + run.grid.x + 1
                cache = cache.filter { $0.key >= current - reach }
                let s = try run.surface(index)
                cache[index] = s
                return s
            }
        }

        /// Visits the voxel pairs (p in `index`'s surface, q a neighbour in another block) that the
        /// connectivity joins.
        func crossPairs(_ index: Int, _ body: (_ p: (x: Int, y: Int, z: Int), _ q: (x: Int, y: Int, z: Int), _ qBlock: Int) throws -> Void) rethrows {
            let b = plan.blocks[index]
            let s = plan.shape
            var offsets: [(Int, Int, Int)] = []
            for dz in -1...1 { for dy in -1...1 { for dx in -1...1 where (dz, dy, dx) != (0, 0, 0) {
                if options.connectivity == .faces && abs(dz) + abs(dy) + abs(dx) != 1 { continue }
                offsets.append((dz, dy, dx))
            }}}
            for z in b.z..<(b.z + b.depth) { for y in b.y..<(b.y + b.height) {
                let wholeRow = z == b.z || z == b.z + b.depth - 1 || y == b.y || y == b.y + b.height - 1
                let xs = wholeRow ? Array(b.x..<(b.x + b.width)) : (b.width > 1 ? [b.x, b.x + b.width - 1] : [b.x])
                for x in xs {
                    for (dz, dy, dx) in offsets {
                        let qz = z + dz, qy = y + dy, qx = x + dx
                        guard qz >= 0, qz < s.depth, qy >= 0, qy < s.height, qx >= 0, qx < s.width else { continue }
                        guard qz < b.z || qz >= b.z + b.depth || qy < b.y || qy >= b.y + b.height || qx < b.x || qx >= b.x + b.width else { continue }
                        try body((x, y, z), (qx, qy, qz), blockIndex(x: qx, y: qy, z: qz))
                    }
                }
            }}
        }

        /// Joins the components across blocks and numbers the objects; recorded in `merge.bin`.
        func merged(journal: BlockJournal, progress: CleaveCore.Progress) throws -> Merge {
            var counts: [Int] = []
            for block in plan.blocks.indices {
                guard let c = journal.counts(of: block), c.count == 1 else {
                    throw BlockRunError.journal(path: journal.directory, reason: "block \(block) is not recorded as done after the first pass")
                }
                counts.append(c[0])
            }
            var offsets = [Int](repeating: 0, count: counts.count + 1)
            for (b, c) in counts.enumerated() { offsets[b + 1] = offsets[b] + c }
            let total = offsets.last!
            guard total < Int(Int32.max) else {
                throw BlockRunError.unsupportedInput(path: path, reason: "\(total) components in the blocks: more than 2³¹; use larger blocks")
            }
            let mergePath = work + "/merge.bin"
            if let data = FileManager.default.contents(atPath: mergePath), data.count >= 8 {
                // [objectCount, map (total + 1 Int32, padded to 8 bytes), source values]
                let objects: Int64 = BlockObjects.array(data, from: 0, count: 1)[0]
                let mapBytes = ((total + 1) * 4 + 7) / 8 * 8
                if objects >= 0, data.count == 8 + mapBytes + (Int(objects) + 1) * 8 {
                    let map: [Int32] = BlockObjects.array(data, from: 8, count: total + 1)
                    let values: [Double] = BlockObjects.array(data, from: 8 + mapBytes, count: Int(objects) + 1)
                    return Merge(offsets: offsets, map: map, objectCount: Int(objects), sourceValues: values)
                }
            }
            var components = [Component](repeating: Component(voxels: 0, first: 0, value: 0, key: 0), count: total + 1)
            for block in plan.blocks.indices {
                for (k, c) in try readParts(block, count: counts[block]).enumerated() { components[offsets[block] + k + 1] = c }
            }
            var parent = [Int32](repeating: 0, count: total + 1)
            for i in 0...total { parent[i] = Int32(i) }
            func find(_ a: Int) -> Int {
                var a = a
                while Int(parent[a]) != a { parent[a] = parent[Int(parent[a])]; a = Int(parent[a]) }
                return a
            }
            let cache = SurfaceCache(run: self)
            for block in plan.blocks.indices {
                let own = try cache.get(block, current: block)
                try crossPairs(block) { p, q, qBlock in
                    let lp = Int(own.label(x: p.x, y: p.y, z: p.z))
                    guard lp != 0 else { return }
                    let lq = Int(try cache.get(qBlock, current: block).label(x: q.x, y: q.y, z: q.z))
                    guard lq != 0 else { return }
                    let a = offsets[block] + lp, c = offsets[qBlock] + lq
                    guard components[a].key == components[c].key else { return }
                    let ra = find(a), rc = find(c)
                    if ra != rc { parent[max(ra, rc)] = Int32(min(ra, rc)) }
                }
                progress.report(block + 1, plan.blocks.count, "Joining objects across blocks")
            }
            // Objects: voxels, first voxel (the smallest first voxel of its components) and value there.
            var voxels = [Int64](repeating: 0, count: total + 1), first = [Int64](repeating: .max, count: total + 1)
            var value = [Double](repeating: 0, count: total + 1)
            for i in 1..<(total + 1) {
                let r = find(i)
                voxels[r] += components[i].voxels
                if components[i].first < first[r] { first[r] = components[i].first; value[r] = components[i].value }
            }
            let roots = (1..<(total + 1)).filter { find($0) == $0 && voxels[$0] >= Int64(options.minimumSize) }.sorted { first[$0] < first[$1] }
            var numbers = [Int32](repeating: 0, count: total + 1)
            var sourceValues = [Double](repeating: .nan, count: roots.count + 1)
            for (k, r) in roots.enumerated() { numbers[r] = Int32(k + 1); sourceValues[k + 1] = value[r] }
            var map = [Int32](repeating: 0, count: total + 1)
            for i in 1..<(total + 1) { map[i] = numbers[find(i)] }
            var data = Data()
            withUnsafeBytes(of: Int64(roots.count)) { data.append(contentsOf: $0) }
            map.withUnsafeBytes { data.append(contentsOf: $0) }
            data.append(contentsOf: [UInt8](repeating: 0, count: ((total + 1) * 4 + 7) / 8 * 8 - (total + 1) * 4))
            sourceValues.withUnsafeBytes { data.append(contentsOf: $0) }
            try BlockJournal.writeDurably(data, to: mergePath)
            return Merge(offsets: offsets, map: map, objectCount: roots.count, sourceValues: sourceValues)
        }

        // MARK: Pass 2

        /// The final labels store and its journal (created after the merge, reopened on a resume).
        func finalLabels(merge: Merge?) throws -> (writer: OMEZarrWriter, journal: BlockJournal, objectCount: Int, sourceValues: [Double]) {
            try BlockJournal.withLock(store: labels) {
                let c = volume.chunkShape()
                let input = volume.levels[0].metadata
                let writeOptions = OMEZarrWriteOptions(version: volume.ngffVersion == "0.5" ? .v05 : .v04, compressor: input.compressor,
                                                       chunkX: c.x, chunkY: c.y, chunkZ: c.z)
                func writer(_ count: Int, replacing: Bool) throws -> OMEZarrWriter {
                    guard count <= 1 << 24 else {
                        throw BlockRunError.unsupportedInput(path: path, reason: "\(count) objects: labels above 2²⁴ (16 777 216) cannot be written exactly")
                    }
                    return try OMEZarrWriter(path: labels, shape: plan.shape, pixelType: count <= 65_535 ? .uint16 : .float32, spacing: spacing,
                                             options: writeOptions, name: "labels", isLabel: true, replacing: replacing, labelSource: nil)
                }
                if let journal = try finalJournal(), let values = try? readSourceValues(journal) {
                    return (try writer(values.count - 1, replacing: false), journal, values.count - 1, values)
                }
                guard let merge else { throw BlockRunError.journal(path: labels, reason: "the run's work folder \(work) is gone; delete \(labels) to start again") }
                try OMEZarrWriter.clearStore(labels)
                let created = try writer(merge.objectCount, replacing: true)
                let journal = try BlockJournal.create(store: labels, record: BlockRunRecord(fingerprint: fingerprint, blockCount: plan.blocks.count, windows: nil))
                try BlockJournal.writeDurably(merge.sourceValues.withUnsafeBytes { Data($0) }, to: journal.directory + "/objects.values")
                return (created, journal, merge.objectCount, merge.sourceValues)
            }
        }

        func readSourceValues(_ journal: BlockJournal) throws -> [Double] {
            guard let data = FileManager.default.contents(atPath: journal.directory + "/objects.values"), data.count % 8 == 0, data.count >= 8 else {
                throw BlockRunError.journal(path: journal.directory, reason: "objects.values is missing")
            }
            return BlockObjects.array(data, from: 0, count: data.count / 8)
        }

        /// Final labels of one block (written), and its shape sums as (label, fields) entries.
        func finishBlock(_ index: Int, merge: Merge, writer: OMEZarrWriter) throws -> [(label: Int32, row: ArraySlice<Int64>)] {
            let b = plan.blocks[index]
            let window = Region(x: b.x - 1, y: b.y - 1, z: b.z - 1, width: b.width + 2, height: b.height + 2, depth: b.depth + 2)
                .intersection(Region(covering: plan.shape))
            let provisional = try ZarrArray.open(provisionalPath)
            for chunk in provisional.chunks(touching: [b.z, b.y, b.x], size: [b.depth, b.height, b.width]) {
                let key = provisional.metadata.chunkKey(chunk)
                guard FileManager.default.fileExists(atPath: provisionalPath + "/" + key) else {
                    throw BlockRunError.journal(path: provisionalPath + "/" + key, reason: "chunk of block \(index) is missing although the block is recorded done; delete \(work) to start again")
                }
            }
            var own = [Int32](repeating: 0, count: b.pixelCount)
            try own.withUnsafeMutableBytes {
                try provisional.unsafeRead(origin: [b.z, b.y, b.x], size: [b.depth, b.height, b.width], into: $0.baseAddress!)
            }
            // Final labels of the window: the block's own, then the border from the neighbours' faces.
            var windowLabels = [Int32](repeating: 0, count: window.pixelCount)
            let ww = window.width, wh = window.height
            let base = merge.offsets[index]
            var i = 0
            for z in 0..<b.depth { for y in 0..<b.height {
                var o = ((b.z + z - window.z) * wh + (b.y + y - window.y)) * ww + (b.x - window.x)
                for _ in 0..<b.width {
                    let l = own[i]
                    windowLabels[o] = l == 0 ? 0 : merge.map[base + Int(l)]
                    o += 1; i += 1
                }
            }}
            let cache = SurfaceCache(run: self)
            for z in window.z..<(window.z + window.depth) { for y in window.y..<(window.y + window.height) {
                for x in window.x..<(window.x + window.width) {
                    if z >= b.z && z < b.z + b.depth && y >= b.y && y < b.y + b.height && x >= b.x && x < b.x + b.width { continue }
                    let q = blockIndex(x: x, y: y, z: z)
                    let l = try cache.get(q, current: q).label(x: x, y: y, z: z)
                    windowLabels[((z - window.z) * wh + (y - window.y)) * ww + (x - window.x)] = l == 0 ? 0 : merge.map[merge.offsets[q] + Int(l)]
                }
            }}
            // Compact numbering of the labels in the window (sums sized by them, not by every object).
            var present = Set<Int32>()
            var last: Int32 = 0
            for l in windowLabels where l != last { present.insert(l); last = l }
            present.remove(0)
            let ordered = present.sorted()
            var compactOf: [Int32: Int32] = [:]
            for (k, l) in ordered.enumerated() { compactOf[l] = Int32(k + 1) }
            var compact = [Int32](repeating: 0, count: windowLabels.count)
            var lastLabel: Int32 = 0, lastCompact: Int32 = 0
            for (k, l) in windowLabels.enumerated() where l != 0 {
                if l != lastLabel { lastLabel = l; lastCompact = compactOf[l]! }
                compact[k] = lastCompact
            }
            let sums = compact.withUnsafeBufferPointer {
                ShapeSums3D.unsafeAccumulate($0, window: window, volume: plan.shape, inner: b, objectCount: ordered.count)
            }
            // The block's windowLabels labels, written chunk by chunk.
            var blockLabels = [Int32](repeating: 0, count: b.pixelCount)
            i = 0
            for z in 0..<b.depth { for y in 0..<b.height {
                let o = ((b.z + z - window.z) * wh + (b.y + y - window.y)) * ww + (b.x - window.x)
                for x in 0..<b.width { blockLabels[i] = windowLabels[o + x]; i += 1 }
            }}
            let blockShape = Shape(width: b.width, height: b.height, depth: b.depth)
            if writer.pixelType == .uint16 {
                try writer.write(Image(shape: blockShape, pixels: blockLabels.map { UInt16($0) }), at: (b.x, b.y, b.z))
            } else {
                try writer.write(Image(shape: blockShape, pixels: blockLabels.map { Float($0) }), at: (b.x, b.y, b.z))
            }
            return ordered.enumerated().compactMap { k, l in sums.touches(k + 1) ? (label: l, row: sums.row(k + 1)) : nil }
        }

        func writeSums(_ index: Int, _ entries: [(label: Int32, row: ArraySlice<Int64>)], journal: BlockJournal) throws {
            var values: [Int64] = [Int64(entries.count)]
            values.reserveCapacity(1 + entries.count * (ShapeSums3D.stride + 1))
            for e in entries { values.append(Int64(e.label)); values += e.row }
            try BlockJournal.writeDurably(values.withUnsafeBytes { Data($0) }, to: sumsPath(index, journal: journal))
        }

        func addSums(_ index: Int, journal: BlockJournal, into sums: inout ShapeSums3D) throws {
            guard let c = journal.counts(of: index), c.count == 1 else {
                throw BlockRunError.journal(path: journal.directory, reason: "block \(index) is not recorded as done after the final pass")
            }
            let stride = ShapeSums3D.stride + 1
            let values: [Int64] = try readArray(sumsPath(index, journal: journal), count: 1 + c[0] * stride)
            for k in 0..<c[0] {
                let label = Int(values[1 + k * stride])
                guard label >= 1 && label <= sums.objectCount else {
                    throw BlockRunError.journal(path: sumsPath(index, journal: journal), reason: "names object \(label) of \(sums.objectCount); delete \(labels) to start again")
                }
                sums.merge(values[(2 + k * stride)..<(1 + (k + 1) * stride)], into: label)
            }
        }
    }
}

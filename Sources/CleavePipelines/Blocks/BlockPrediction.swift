import Foundation
import CleaveCore
import CleaveFormats
import CleaveFeatures
import CleaveLearning
import CleaveRender

/// Settings of ``BlockPrediction/run(volume:model:modelIdentity:directory:stem:options:progress:)``.
public struct BlockPredictionOptions: Sendable {
    /// Wanted block side in x and y, pixels (rounded up to whole output chunks); memory grows with
    /// its square. Must be at least the model's halo.
    public var blockSize = 1024
    /// Process only this share of the blocks and do not finalise (nil: every block not yet done,
    /// then the pyramid and the summary).
    public var share: BlockShare?
    /// Write `<stem>-overlay.png` (middle plane) when finalising.
    public var overlay = true
    /// Tree walk of the forest (identical results; for benchmarks).
    public var walk = ForestWalk.binned
    /// The defaults: 1024-pixel blocks, every block, overlay on, the binned forest walk.
    public init() {}
}

/// The method a block run applies to every block.
public enum BlockMethod {
    /// Filter bank + random forest: blocks of `blockSize` in x and y, read with the bank's halo.
    case forest(PixelClassifierModel)
    /// A U-Net: blocks of whole planes (its tiles are laid out and blended over the plane), read
    /// with the neighbouring slices it sees.
    case unet(UNetSegmenterModel, UNetSegmenter)

    /// "forest" or "unet" (recorded in the journal).
    public var name: String {
        switch self {
        case .forest: return "forest"
        case .unet: return "unet"
        }
    }
}

/// What one call of ``BlockPrediction/run(volume:model:modelIdentity:directory:stem:options:progress:)`` did.
public struct BlockPredictionReport: Sendable {
    /// The labels store (`DIR/<stem>-labels.ome.zarr`).
    public var output: String
    /// Blocks of the whole plan (all shares).
    public var blockCount: Int
    /// Blocks computed by this call.
    public var computed: Int
    /// Blocks of this call's share found done (by an earlier or a concurrent run).
    public var skipped: Int
    /// True when this call created the output (false: it continued one).
    public var started: Bool
    /// Class areas over the whole volume, when this call finalised the output.
    public var fractions: ClassFractions?
    /// The windows the features saw (nil: values as stored).
    public var windows: [IntensityWindow]?
}

/// A pixel classifier applied to an OME-Zarr volume block by block: bounded memory, resumable
/// after a kill, and shareable between processes (``BlockShare``, Slurm array tasks).
///
/// ```
/// VOL.ome.zarr ──read block + halo (only the chunks it touches)──→ features ─→ forest ─→ labels
///                                                                                         │
/// DIR/VOL-labels.ome.zarr/0 ←── chunk-aligned block, chunks renamed into place ───────────┘
///                  .cleave-blocks/block-i.done  ←── written after the block's chunks
/// ```
///
/// The labels (uint8, or uint16 when a class value exceeds 255) have the input's chunks, axes
/// (without `c`) and scale. Features of a block are computed on the block grown by the filter
/// bank's halo and clipped to the volume — exactly the pixels whole-image prediction
/// (``PixelClassifier/predict(_:model:blockSize:adaptPrior:progress:)``) gives those features,
/// so the labels equal whole-volume prediction byte for byte, for any block size and thread count.
/// Intensity windows are measured once on the whole volume (as whole-image prediction does) and
/// kept in the journal, so every process and every resume uses the same ones.
public enum BlockPrediction {
    /// `DIR/<stem>-labels.ome.zarr`.
    public static func outputPath(directory: String, stem: String) -> String {
        (directory as NSString).appendingPathComponent(stem + "-labels.ome.zarr")
    }

    /// ``run(volume:method:modelIdentity:directory:stem:options:progress:)`` with a forest.
    public static func run(volume path: String, model: PixelClassifierModel, modelIdentity: String, directory: String, stem: String,
                           options: BlockPredictionOptions = BlockPredictionOptions(),
                           progress: CleaveCore.Progress = .silent) throws -> BlockPredictionReport {
        try run(volume: path, method: .forest(model), modelIdentity: modelIdentity, directory: directory, stem: stem,
                options: options, progress: progress)
    }

    /// Predicts the blocks of `volume` not yet done (all, or those of `options.share`) into
    /// `DIR/<stem>-labels.ome.zarr`; without a share, then builds the labels' pyramid and the class
    /// areas from the per-block counts (and the overlay).
    ///
    /// - Parameters:
    ///   - modelIdentity: what identifies the model in the journal (the CLI: the model file's hash).
    /// - Throws: ``BlockRunError`` (block smaller than the halo, output of another run),
    ///   ``CleaveError`` for an input the model cannot classify, ``ZarrError`` for a corrupt chunk
    ///   (the block is then not marked done).
    /// - Complexity: per block O((block + halo) voxels × Σ kernel sizes) for the forest's features plus
    ///   O(block voxels × treeCount × depth), or a U-Net pass over each of the block's planes; blocks
    ///   run one after another, so memory is one block with its halo whatever the volume's size.
    ///   Starting a run measures the intensity windows on a bounded sample; finalising adds the
    ///   pyramid, O(voxels).
    public static func run(volume path: String, method: BlockMethod, modelIdentity: String, directory: String, stem: String,
                           options: BlockPredictionOptions = BlockPredictionOptions(),
                           progress: CleaveCore.Progress = .silent) throws -> BlockPredictionReport {
        let volume = try OMEZarrImage.open(path)
        let shape = volume.shape
        let chunk = volume.chunkShape()
        let plan: BlockPlan, classes: [PixelClass], methodOptions: String
        switch method {
        case .forest(let model):
            try model.check(channelCount: shape.channels, pixelType: volume.pixelType, source: path)
            let bank = model.featureBank
            let largest = bank.entries.flatMap(\.scales).max() ?? 0
            plan = try BlockPlan(shape: shape, chunk: (chunk.x, chunk.y, chunk.z), blockSize: options.blockSize,
                                 halo: bank.halo(spacing: volume.spacing), method: "the forest's filters (largest σ \(formatNumber(largest)))")
            classes = model.classes
            methodOptions = ""
        case .unet(let model, let segmenter):
            try model.check(channels: shape.channels, depth: shape.depth, source: path)
            // Whole planes (the network's tiles are laid out over the plane and blended), as many
            // chunks deep as cover the neighbouring slices the network sees.
            plan = try BlockPlan(shape: shape, chunk: (chunk.x, chunk.y, chunk.z), blockSize: max(shape.width, shape.height),
                                 halo: (0, 0, model.input.slices / 2), method: "the U-Net")
            classes = model.classes
            methodOptions = ", tile \(segmenter.tiling.tileSize) overlap \(segmenter.tiling.overlap) halo \(segmenter.tiling.halo) views \(segmenter.views)"
        }
        let labelType: PixelType = classes.allSatisfy { $0.value <= 255 } ? .uint8 : .uint16
        let input = volume.levels[0].metadata
        let writeOptions = OMEZarrWriteOptions(version: volume.ngffVersion == "0.5" ? .v05 : .v04, compressor: input.compressor,
                                               chunkX: chunk.x, chunkY: chunk.y, chunkZ: chunk.z)
        let fingerprint = BlockRunFingerprint(
            method: method.name, model: modelIdentity, input: (path as NSString).standardizingPath,
            inputLayout: "\(shape) \(volume.pixelType) chunks \(chunk.x)×\(chunk.y)×\(chunk.z)×\(chunk.c)",
            options: "blocks \(plan.blockWidth)×\(plan.blockHeight)×\(plan.blockDepth)\(methodOptions), labels \(labelType) \(input.compressor) NGFF \(writeOptions.version.rawValue)")
        let output = outputPath(directory: directory, stem: stem)
        let labelClasses = classes.map { (value: Int($0.value), name: $0.name) }
        func writer(replacing: Bool) throws -> OMEZarrWriter {
            try OMEZarrWriter(path: output, shape: shape.singleChannel, pixelType: labelType, spacing: volume.spacing,
                              options: writeOptions, name: stem + "-labels", isLabel: true, labelClasses: labelClasses,
                              replacing: replacing, labelSource: nil)
        }
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw BlockRunError.journal(path: directory, reason: "cannot create the output folder (\(error.localizedDescription))")
        }

        // Create the output and its journal once (array tasks starting together wait here), or
        // continue the run recorded there.
        let (labels, journal, started) = try BlockJournal.withLock(store: output) { () -> (OMEZarrWriter, BlockJournal, Bool) in
            if let journal = try BlockJournal.open(store: output) {
                if let d = journal.record.fingerprint.difference(from: fingerprint) {
                    throw BlockRunError.otherRun(path: output, field: d.field, recorded: d.recorded, requested: d.requested)
                }
                return (try writer(replacing: false), journal, false)
            }
            try OMEZarrWriter.clearStore(output)
            var windows: [IntensityWindow]?
            if case .forest(let model) = method { windows = try model.intensityNormalization.windows(for: streamedInput(volume, name: path)) }
            let created = try writer(replacing: true)
            let journal = try BlockJournal.create(store: output, record: BlockRunRecord(fingerprint: fingerprint, blockCount: plan.blocks.count,
                                                                                       windows: windows))
            return (created, journal, true)
        }
        let windows = journal.record.windows

        let wanted = options.share?.blocks(of: plan.blocks.count) ?? Array(plan.blocks.indices)
        let pending = journal.pending(wanted)
        let name = (path as NSString).lastPathComponent
        let stage = options.share.map { "Predicting share \($0) of \(name)" } ?? "Predicting blocks of \(name)"
        progress.report(wanted.count - pending.count, wanted.count, stage)
        var unetSource: (slabs: SlabCache, planes: NeuralPlaneSource)?
        for (k, block) in pending.enumerated() {
            let counts: [Int]
            switch method {
            case .forest(let model):
                counts = try predictBlock(block, plan: plan, volume: volume, path: path, model: model, windows: windows,
                                          labelType: labelType, walk: options.walk, tileSide: options.blockSize, into: labels)
            case .unet(let model, let segmenter):
                if unetSource == nil {
                    let slabs = SlabCache(volume: volume)
                    unetSource = (slabs, try NeuralPlaneSource(input: slabInput(slabs, name: path), spec: model.input))
                }
                counts = try segmentBlock(block, plan: plan, source: unetSource!.planes, slabs: unetSource!.slabs, segmenter: segmenter,
                                          classes: classes, labelType: labelType, into: labels)
            }
            try journal.markDone(block, counts: counts)
            progress.report(wanted.count - pending.count + k + 1, wanted.count, stage)
        }
        var report = BlockPredictionReport(output: output, blockCount: plan.blocks.count, computed: pending.count,
                                           skipped: wanted.count - pending.count, started: started, fractions: nil, windows: windows)
        guard options.share == nil else { return report }

        // Finalise: every block is done (this call computed what was missing).
        var counts = [Int](repeating: 0, count: classes.count)
        for block in plan.blocks.indices {
            guard let c = journal.counts(of: block), c.count == classes.count else {
                throw BlockRunError.journal(path: journal.directory, reason: "block \(block) is not recorded as done after the run")
            }
            for i in c.indices { counts[i] += c[i] }
        }
        try labels.buildPyramid(progress: progress)
        if options.overlay { try writeOverlay(volume: volume, labels: output, classes: classes, directory: directory, stem: stem) }
        report.fractions = ClassFractions(image: path, classes: classes, pixelCounts: counts, spacing: volume.spacing,
                                          isVolume: shape.depth > 1, estimatedPrior: nil)
        return report
    }

    /// Labels of one block, written to the store; returns the per-class pixel counts.
    static func predictBlock(_ index: Int, plan: BlockPlan, volume: OMEZarrImage, path: String, model: PixelClassifierModel,
                             windows: [IntensityWindow]?, labelType: PixelType, walk: ForestWalk, tileSide: Int,
                             into writer: OMEZarrWriter) throws -> [Int] {
        let block = plan.blocks[index]
        let read = plan.readRegion(index)
        let crop = try volume.read(region: read)
        try ImageFile.requireFinite(crop, path: path, firstPlane: read.z)
        var input = PixelClassifierInput(name: path, image: crop)
        if let windows { input = input.withFeatureWindows(windows) }
        let bank = model.featureBank, forest = model.forest
        let K = forest.classCount
        let values = model.classes.map(\.value)
        let blockShape = Shape(width: block.width, height: block.height, depth: block.depth)
        var indices = [UInt8](repeating: 0, count: blockShape.count)
        var counts = [Int](repeating: 0, count: K)
        // Tiles of the block whose features are computed together: squares of at most `tileSide`
        // (the block size) per plane for 2D banks, cubes for 3D ones — as whole-image prediction
        // cuts images with the same --block-size. Any cut gives the same features; each tile
        // recomputes its filters' halo, so smaller tiles cost more (512² tiles with the default
        // bank's halo made the runner 15 % slower than the whole-stack path's 1024² squares).
        // The feature stack is 49 features per channel × tileSide² × 4 bytes (≈ 200 MB per
        // channel at 1024).
        let tiles = bank.threeD && plan.shape.depth > 1
            ? Region.tiles(covering: blockShape, blockWidth: PixelClassifier.blockSize3D, blockHeight: PixelClassifier.blockSize3D,
                           blockDepth: PixelClassifier.blockSize3D)
            : Region.tiles(covering: blockShape, blockWidth: min(block.width, tileSide), blockHeight: min(block.height, tileSide), blockDepth: 1)
        for local in tiles {
            let tile = Region(x: local.x + block.x - read.x, y: local.y + block.y - read.y, z: local.z + block.z - read.z,
                              width: local.width, height: local.height, depth: local.depth)
            let stack = try PixelClassifier.features(of: input, region: tile, bank: bank)
            let n = stack.pixelCount
            var pixelMajor = [Float](repeating: 0, count: n * K)
            stack.values.withUnsafeBufferPointer { v in
                pixelMajor.withUnsafeMutableBufferPointer { out in forest.unsafeProbabilities(featureMajor: v, rowCount: n, into: out, walk: walk) }
            }
            let (tileIndices, _) = RandomForest.summarise(probabilities: pixelMajor, classCount: K)
            var k = 0
            for z in local.z..<(local.z + local.depth) {
                for y in local.y..<(local.y + local.height) {
                    let row = blockShape.index(column: local.x, row: y, plane: z)
                    for x in 0..<local.width {
                        let c = Int(tileIndices[k + x])
                        indices[row + x] = UInt8(c)
                        counts[c] += 1
                    }
                    k += local.width
                }
            }
        }
        try writeLabels(indices, block: block, values: values, labelType: labelType, into: writer)
        return counts
    }

    /// Writes class indices of a block as label values (its chunks are renamed into place one by one).
    static func writeLabels(_ indices: [UInt8], block: Region, values: [Int32], labelType: PixelType, into writer: OMEZarrWriter) throws {
        let blockShape = Shape(width: block.width, height: block.height, depth: block.depth)
        let origin = (x: block.x, y: block.y, z: block.z)
        if labelType == .uint8 {
            let lookup = values.map { UInt8($0) }
            try writer.write(Image(shape: blockShape, pixels: indices.map { lookup[Int($0)] }), at: origin)
        } else {
            let lookup = values.map { UInt16(clamping: $0) }
            try writer.write(Image(shape: blockShape, pixels: indices.map { lookup[Int($0)] }), at: origin)
        }
    }

    /// U-Net labels of one block of whole planes, written to the store; returns the per-class counts.
    ///
    /// Memory: the block's own chunk slab (`slabs` keeps one; the neighbouring slices the network
    /// sees above and below the block are read plane by plane), the block's labels as stored (one
    /// byte or two per voxel) and one plane's network input, tiles and probabilities.
    static func segmentBlock(_ index: Int, plan: BlockPlan, source: NeuralPlaneSource, slabs: SlabCache, segmenter: UNetSegmenter,
                             classes: [PixelClass], labelType: PixelType, into writer: OMEZarrWriter) throws -> [Int] {
        let block = plan.blocks[index]
        let n = plan.shape.planeSize
        precondition(block.x == 0 && block.y == 0 && block.pixelCount == n * block.depth, "BlockPrediction: U-Net blocks are whole planes")
        slabs.keep(block.z..<(block.z + block.depth))
        var counts = [Int](repeating: 0, count: classes.count)
        // Label values written straight into the stored type (no class-index copy of the block).
        func labels<S: PixelScalar>(_ lookup: [S]) throws -> Image<S> {
            var values = [S](repeating: lookup[0], count: block.pixelCount)
            for z in block.z..<(block.z + block.depth) {
                let summary = UNetOutputs.summarise(segmenter.probabilities(try source.plane(z)), classCount: classes.count, pixelCount: n)
                let base = (z - block.z) * n
                for p in 0..<n {
                    let c = Int(summary.indices[p])
                    values[base + p] = lookup[c]
                    counts[c] += 1
                }
            }
            return Image(shape: Shape(width: block.width, height: block.height, depth: block.depth), pixels: values)
        }
        let origin = (x: block.x, y: block.y, z: block.z)
        if labelType == .uint8 {
            try writer.write(try labels(classes.map { UInt8($0.value) }), at: origin)
        } else {
            try writer.write(try labels(classes.map { UInt16(clamping: $0.value) }), at: origin)
        }
        return counts
    }

    /// The volume as an input whose planes come from `slabs` (whole chunk slabs), so walking the
    /// planes of a block decodes each of its chunks once, not once per plane.
    static func slabInput(_ slabs: SlabCache, name: String) -> PixelClassifierInput {
        let volume = slabs.volume
        return PixelClassifierInput(name: name, shape: volume.shape, spacing: volume.spacing, pixelType: volume.pixelType) { z in
            [try slabs.plane(z)]
        }
    }

    /// The volume as an input that reads planes on demand (for the intensity windows, measured
    /// on a few planes as whole-image prediction measures them).
    static func streamedInput(_ volume: OMEZarrImage, name: String) -> PixelClassifierInput {
        PixelClassifierInput(name: name, shape: volume.shape, spacing: volume.spacing, pixelType: volume.pixelType) { z in
            let plane = try volume.read(plane: z)
            try ImageFile.requireFinite(plane, path: volume.path, firstPlane: z)
            return [plane]
        }
    }

    /// `<stem>-overlay.png`: class colours over the middle plane of channel 0.
    static func writeOverlay(volume: OMEZarrImage, labels: String, classes: [PixelClass], directory: String, stem: String) throws {
        let shape = volume.shape
        let plane = shape.depth / 2
        let region = Region(x: 0, y: 0, z: plane, width: shape.width, height: shape.height, depth: 1)
        let grey = Display.grey(try volume.read(region: region, channels: 0..<1))
        var index: [Int32: Int32] = [:]
        for (i, c) in classes.enumerated() { index[c.value] = Int32(i) }
        let values: [Int32]
        switch try OMEZarrImage.open(labels).read(region: region) {
        case .uint8(let i): values = i.pixels.map { index[Int32($0)] ?? -1 }
        case .uint16(let i): values = i.pixels.map { index[Int32($0)] ?? -1 }
        case .float32(let i): values = i.pixels.map { index[Int32($0)] ?? -1 }
        }
        let colours = classes.map(\.colour)
        let picture = Display.overlay(grey: grey, labels: values, colours: { $0 >= 0 ? colours[Int($0)] : nil })
        let path = (directory as NSString).appendingPathComponent(stem + "-overlay.png")
        let temporary = AtomicFile.temporaryPath(for: path) + ".png"
        do {
            try ImageFile.write(picture, to: temporary)
            try AtomicFile.commit(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    static func formatNumber(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}

/// One chunk slab (all planes of one row of chunks along z, every channel) of a volume: the
/// planes of a U-Net block.
///
/// Planes inside the range given to ``keep(_:)`` (the block's) come from the cached slab, read
/// whole when first needed, so a block's chunks are decoded once. Planes outside it (the
/// neighbouring slices the network sees above and below the block) are read on their own and not
/// kept, so memory is one slab — the block's input — whatever the halo: keeping the next slab
/// for one halo plane doubled it (2 × 512 MiB for 64 planes of 2048²).
final class SlabCache: @unchecked Sendable {
    let volume: OMEZarrImage
    let slabDepth: Int
    private let lock = NSLock()
    private var slab: (start: Int, image: AnyImage)?
    private var kept: Range<Int>?

    init(volume: OMEZarrImage) {
        self.volume = volume
        slabDepth = volume.chunkShape().z
    }

    /// Serve the planes of `planes` from whole slabs, any other plane on its own (nil: every
    /// plane from slabs).
    func keep(_ planes: Range<Int>?) {
        lock.lock()
        defer { lock.unlock() }
        kept = planes
    }

    /// Plane `z`, every channel, as stored.
    func plane(_ z: Int) throws -> AnyImage {
        lock.lock()
        defer { lock.unlock() }
        let shape = volume.shape
        if let kept, !kept.contains(z) {
            let plane = try volume.read(region: Region(x: 0, y: 0, z: z, width: shape.width, height: shape.height, depth: 1))
            try ImageFile.requireFinite(plane, path: volume.path, firstPlane: z)
            return plane
        }
        let start = z / slabDepth * slabDepth
        let image: AnyImage
        if let slab, slab.start == start {
            image = slab.image
        } else {
            slab = nil // release the previous slab before reading the next
            image = try volume.read(region: Region(x: 0, y: 0, z: start, width: shape.width, height: shape.height,
                                                   depth: min(slabDepth, shape.depth - start)))
            try ImageFile.requireFinite(image, path: volume.path, firstPlane: start)
            slab = (start, image)
        }
        let region = Region(x: 0, y: 0, z: z - start, width: shape.width, height: shape.height, depth: 1)
        switch image {
        case .uint8(let i): return .uint8(i.cropped(to: region))
        case .uint16(let i): return .uint16(i.cropped(to: region))
        case .float32(let i): return .float32(i.cropped(to: region))
        }
    }
}

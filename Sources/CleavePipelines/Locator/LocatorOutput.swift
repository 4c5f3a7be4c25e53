import CleaveCore
import CleaveFeatures
import CleaveFormats
import CleaveLearning
import CleaveRender
import Foundation

/// Writes a Locator run's files into a folder.
///
/// | file | content |
/// |---|---|
/// | `<tile>_overlay.png` | the tile in grey with cluster colours (or similarity heat), picked patches outlined, legend |
/// | `mosaic_overlay.png` | all tiles stitched by mosaic position (shrunk to ≤ 4096 px), legend |
/// | `<tile>_clusters.tif` | 8-bit label image: 0 = no patch, 1 + cluster otherwise (dark group = k + 1) |
/// | `<tile>_picked.tif` | 8-bit mask: 255 on picked patches |
/// | `patches.csv` | image,row,col,x,y,width,height,cluster,heat,picked + features (grid layouts; windows: only with `writePatchTable`) |
/// | `targets.csv`, `targets.json` | connected picked regions, ranked |
/// | `summary.json` | parameters, version, cluster sizes, silhouette, scores, timings |
public enum LocatorOutput {
    /// Drawing settings.
    public struct Style: Sendable {
        /// Colour strength over the grey image, 0…1.
        public var opacity: Double
        /// Longest side of the stitched mosaic picture.
        public var mosaicMaxSide: Int
        /// Write the overlay PNGs.
        public var pictures: Bool
        /// zlib level of the overlay PNGs: 0 = stored (default: the fastest, files as large as
        /// the RGB pixels), 1…9 = compressed with adaptive row filters (about half the size for
        /// TEM tiles, each picture ~10–20× slower to write).
        public var pictureCompression: Int
        /// Drawing settings; defaults: 40 % colour, mosaic ≤ 4096 px, pictures on, stored (uncompressed) PNGs. `pictureCompression` must be 0…9 (a precondition).
        public init(opacity: Double = 0.4, mosaicMaxSide: Int = 4096, pictures: Bool = true, pictureCompression: Int = 0) {
            precondition((0...9).contains(pictureCompression), "LocatorOutput.Style: pictureCompression must be 0…9, got \(pictureCompression)")
            self.opacity = opacity; self.mosaicMaxSide = mosaicMaxSide; self.pictures = pictures
            self.pictureCompression = pictureCompression
        }
    }

    /// The colour of a label in overlays and legends.
    public static func colour(label: Int, result: LocatorResult) -> RGB {
        if let dark = result.darkGroup, label == dark { return RGB(70, 70, 90) }
        // Picked cluster in a warm, strong colour; others from the categorical palette, skipping it.
        let warm = RGB(230, 60, 40)
        if label == result.picked { return warm }
        let palette: [RGB] = [RGB(86, 180, 233), RGB(0, 158, 115), RGB(240, 228, 66), RGB(204, 121, 167),
                              RGB(0, 114, 178), RGB(230, 159, 0), RGB(160, 220, 120), RGB(120, 60, 160)]
        let rank = label < result.picked ? label : label - 1
        return palette[rank % palette.count]
    }

    /// Writes every output file. `imageSpacing` comes from the inputs.
    /// - Throws: ``PipelineFileError`` when the folder cannot be created or a file not written.
    /// - Complexity: O(pixels) per picture and label image, O(patches × features) for the tables.
    public static func write(_ result: LocatorResult, images: [LocatorImage], to directory: String, style: Style = Style(),
                             writePatchTable: Bool? = nil, extraSummary: [String: Any] = [:], progress: CleaveCore.Progress = .silent) throws {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw LocatorOptionError(field: "out", value: directory, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        var clock = StageClock()
        let window = style.pictures ? greyWindow(images) : 0...1
        // Per image, side by side: the label TIFFs and the overlay PNG from one set of label
        // bytes. Every file's bytes are independent of the thread count; an error names the
        // first failing file in image order.
        progress.report(0, images.count, "writing")
        // Mosaic layout, known before any picture is drawn: one tile is a 1x1 mosaic wherever
        // its name places it; otherwise cells count from the first row and column present.
        let cells = mosaicPlacement(images.indices.map { (row: images[$0].mosaicRow ?? 0, column: images[$0].mosaicColumn ?? $0, image: $0) })
        let mosaicRows = images.count == 1 ? 1 : (cells.map(\.row).max() ?? 0) + 1
        let mosaicColumns = images.count == 1 ? 1 : (cells.map(\.column).max() ?? 0) + 1
        let tileWidth = images.first?.image.width ?? 0, tileHeight = images.first?.image.height ?? 0
        // Full-size mosaic of equal tiles: its rows are the tiles' picture rows side by side, so
        // each tile's rows are kept as the PNG gets them (interleaved RGB, before the legend) and
        // copied, not drawn or interleaved again. Otherwise (shrunk mosaic) the planar pictures are kept.
        let fullSizeMosaic = style.pictures && images.count > 1
            && Mosaic.shrinkFactor(width: mosaicColumns * tileWidth, height: mosaicRows * tileHeight, maxSide: style.mosaicMaxSide) == 1
            && images.allSatisfy { $0.image.width == tileWidth && $0.image.height == tileHeight }
        let keepOverlays = style.pictures && images.count > 1 && !fullSizeMosaic
        nonisolated(unsafe) var overlays = [Image<UInt8>?](repeating: nil, count: images.count)
        nonisolated(unsafe) var keptRows = [[UInt8]](repeating: [], count: fullSizeMosaic ? images.count : 0)
        nonisolated(unsafe) var errors = [Error?](repeating: nil, count: 3 * images.count)
        overlays.withUnsafeMutableBufferPointer { overlays in
            keptRows.withUnsafeMutableBufferPointer { keptRows in
                errors.withUnsafeMutableBufferPointer { errors in
                    let overlays = UncheckedSendable(overlays), keptRows = UncheckedSendable(keptRows), errors = UncheckedSendable(errors)
                    Parallel.forEach(images.count) { index in
                        let input = images[index], stem = Locator.stem(input.name)
                        let w = input.image.width, h = input.image.height
                        let bytes = labelBytes(result, image: index, width: w, height: h)
                        let shape = Shape(width: w, height: h)
                        let files = [(Image<UInt8>(shape: shape, pixels: bytes.clusters, spacing: input.spacing), "_clusters.tif"),
                                     (Image<UInt8>(shape: shape, pixels: bytes.picked, spacing: input.spacing), "_picked.tif")]
                        // The mosaic's copy of this tile's rows (every byte written by the picture's rows).
                        var kept = fullSizeMosaic ? [UInt8](unsafeUninitializedLargeCount: 3 * w * h) { _ in } : []
                        // The two TIFFs and the picture side by side (the picture is parallel inside too).
                        kept.withUnsafeMutableBufferPointer { keptBuffer in
                            let keep = UncheckedSendable(fullSizeMosaic ? keptBuffer.baseAddress : nil)  // an empty array's buffer may have an address
                            Parallel.forEach(style.pictures ? 3 : 2) { task in
                                if task < 2 {
                                    do { try write(files[task].0, to: directory + "/" + stem + files[task].1) } catch { errors.value[3 * index + task] = error }
                                    return
                                }
                                let path = directory + "/" + stem + "_overlay.png"
                                do {
                                    try writeOverlay(result, image: index, input: input, labels: bytes, window: window, style: style,
                                                     keepPlanar: keepOverlays, keepRows: keep.value, to: path) { overlays.value[index] = $0 }
                                } catch { errors.value[3 * index + 2] = PipelineFileError.cannotWrite(path: path, reason: "\(error)") }
                            }
                        }
                        if fullSizeMosaic { keptRows.value[index] = kept }
                    }
                }
            }
        }
        if let error = errors.compactMap({ $0 }).first { throw error }
        progress.report(images.count, images.count, "writing")
        // Mosaic.
        if style.pictures {
            let path = directory + "/mosaic_overlay.png"
            let rows = mosaicRows, columns = mosaicColumns
            let side = max(rows * tileHeight, columns * tileWidth)
            if images.count == 1 && side <= style.mosaicMaxSide {
                // The tile's picture (legend titled with its name), as a hard link: no second render, encode or write.
                try linkOrCopy(directory + "/" + Locator.stem(images[0].name) + "_overlay.png", to: path)
            } else if fullSizeMosaic {
                // Full size: rows straight from the kept tile rows (the bytes of Mosaic.stitch
                // at factor 1; later tiles win a shared place, missing places stay black).
                let w = tileWidth, h = tileHeight
                var place = [Int](repeating: -1, count: rows * columns)
                for index in images.indices { place[cells[index].row * columns + cells[index].column] = index }
                let tiles = keptRows
                keptRows = []
                do {
                    try writePicture(result, title: "mosaic \(rows)x\(columns)", width: columns * w, height: rows * h, spacing: nil,
                                     to: path, style: style) { y, d in
                        let r = y / h, ty = y % h
                        for c in 0..<columns {
                            let dst = d + 3 * c * w
                            let index = place[r * columns + c]
                            guard index >= 0 else { dst.update(repeating: 0, count: 3 * w); continue }
                            tiles[index].withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + 3 * ty * w, count: 3 * w) }
                        }
                    }
                } catch { throw PipelineFileError.cannotWrite(path: path, reason: "\(error)") }
            } else {
                let tiles: [(row: Int, column: Int, image: Image<UInt8>)] = images.indices.map { index in
                    let overlay = overlays[index] ?? drawOverlay(result, image: index, input: images[index],
                                                                  labels: labelBytes(result, image: index, width: images[index].image.width,
                                                                                     height: images[index].image.height),
                                                                  window: window, style: style)
                    return images.count == 1 ? (0, 0, overlay) : (cells[index].row, cells[index].column, overlay)
                }
                overlays = []
                var (mosaic, _) = Mosaic.stitch(tiles, rows: rows, columns: columns, maxSide: style.mosaicMaxSide)
                drawLegend(&mosaic, result: result, title: "mosaic \(rows)x\(columns)")
                do { try PNGWriter.write(mosaic, to: path, level: style.pictureCompression) } catch {
                    throw PipelineFileError.cannotWrite(path: path, reason: "\(error)")
                }
            }
        }
        clock.lap("pictures")
        let windowMode: Bool
        if case .window = result.layout.sampling { windowMode = true } else { windowMode = false }
        if writePatchTable ?? !windowMode { try writePatches(result, to: directory + "/patches.csv") }
        try writeTargets(result, to: directory)
        clock.lap("tables")
        try writeSummary(result, to: directory + "/summary.json", outputTimings: clock.laps, extra: extraSummary)
    }

    static func write(_ image: Image<UInt8>, to path: String) throws {
        do { try ImageFile.write(image, to: path) } catch {
            throw PipelineFileError.cannotWrite(path: path, reason: "\(error)")
        }
    }

    /// Mosaic cells relative to the smallest row and column present: tiles named from row 3 start
    /// in the mosaic's first row, not below two empty ones.
    static func mosaicPlacement<T>(_ cells: [(row: Int, column: Int, image: T)]) -> [(row: Int, column: Int, image: T)] {
        let top = cells.map(\.row).min() ?? 0, left = cells.map(\.column).min() ?? 0
        return cells.map { ($0.row - top, $0.column - left, $0.image) }
    }

    /// `destination` as a hard link to `source` (the same file, no copy), or a copy where the
    /// file system has no hard links.
    static func linkOrCopy(_ source: String, to destination: String) throws {
        _ = unlink(destination)
        guard link(source, destination) != 0 else { return }
        do { try FileManager.default.copyItem(atPath: source, toPath: destination) } catch {
            throw PipelineFileError.cannotWrite(path: destination, reason: error.localizedDescription)
        }
    }

    /// Writes one tile's overlay PNG (legend titled with its name). `keepPlanar`: the planar
    /// picture is drawn whole and handed to `keep` (a shrunk mosaic stitches it); otherwise rows are
    /// painted straight into the PNG's bands (similarity heat pictures are always drawn whole).
    /// `keepRows`: each row is also copied there as the PNG gets it (`3 × width` interleaved
    /// bytes per row, before the legend), for a full-size mosaic.
    static func writeOverlay(_ result: LocatorResult, image index: Int, input: LocatorImage, labels: (clusters: [UInt8], picked: [UInt8]),
                             window: ClosedRange<Double>, style: Style, keepPlanar: Bool, keepRows: UnsafeMutablePointer<UInt8>?,
                             to path: String, keep: (Image<UInt8>) -> Void) throws {
        let w = input.image.width, h = input.image.height, rowBytes = 3 * w
        if keepPlanar || result.pickedBy == "similarity" {
            let overlay = drawOverlay(result, image: index, input: input, labels: labels, window: window, style: style)
            if keepPlanar { keep(overlay) }
            try overlay.pixels.withUnsafeBufferPointer { pixels in
                let plane = w * h
                try writePicture(result, title: input.name, width: w, height: h, spacing: input.image.spacing, to: path, style: style) { y, d in
                    for x in 0..<w {
                        d[3 * x] = pixels[y * w + x]; d[3 * x + 1] = pixels[plane + y * w + x]; d[3 * x + 2] = pixels[2 * plane + y * w + x]
                    }
                    keepRows?.advanced(by: rowBytes * y).update(from: d, count: rowBytes)
                }
            }
            return
        }
        // Rows painted straight into the PNG's bands: the planar picture never exists.
        let painter = overlayPainter(result, input: input, labels: labels, window: window, style: style)
        try writePicture(result, title: input.name, width: w, height: h, spacing: input.image.spacing, to: path, style: style) { y, d in
            painter.unsafeFill(row: y, into: d)
            keepRows?.advanced(by: rowBytes * y).update(from: d, count: rowBytes)
        }
    }

    /// Writes a `width × height` RGB picture whose rows come from `fill`, with the legend
    /// (cluster colours and sizes, `title`) in its top-left corner, as PNG at `style.pictureCompression`.
    static func writePicture(_ result: LocatorResult, title: String, width: Int, height: Int, spacing: Spacing?, to path: String,
                             style: Style, fill: (Int, UnsafeMutablePointer<UInt8>) -> Void) throws {
        // The legend panel drawn over the picture's own pixels under it (Canvas draws nothing
        // outside the panel, so the patch is the legend-drawn picture there).
        let scale = Canvas.legendScale(width: width, height: height)
        let entries = legendEntries(result)
        let panel = Canvas.legendSize(title: title, entries: entries, scale: scale)
        let x0 = 8, y0 = 8, x1 = min(width, x0 + panel.width), y1 = min(height, y0 + panel.height)
        var patch: Image<UInt8>? = nil
        if x1 > x0 && y1 > y0 {
            let pw = x1 - x0, ph = y1 - y0
            var pixels = [UInt8](repeating: 0, count: 3 * pw * ph)
            var row = [UInt8](repeating: 0, count: 3 * width)
            for y in y0..<y1 {
                row.withUnsafeMutableBufferPointer { fill(y, $0.baseAddress!) }
                for x in x0..<x1 { for c in 0..<3 { pixels[c * pw * ph + (y - y0) * pw + x - x0] = row[3 * x + c] } }
            }
            var image = Image<UInt8>(shape: Shape(width: pw, height: ph, channels: 3), pixels: pixels)
            Canvas.legend(&image, title: title, entries: entries, x: 0, y: 0, scale: scale)
            patch = image
        }
        try (patch?.pixels ?? []).withUnsafeBufferPointer { legend in
            let pw = x1 - x0, plane = max(0, pw * (y1 - y0))
            try PNGWriter.write(width: width, height: height, channels: 3, spacing: spacing, to: path, level: style.pictureCompression) { y, d in
                fill(y, d)
                guard patch != nil, y >= y0 && y < y1 else { return }
                let r = (y - y0) * pw
                for x in 0..<pw {
                    d[3 * (x0 + x)] = legend[r + x]; d[3 * (x0 + x) + 1] = legend[plane + r + x]; d[3 * (x0 + x) + 2] = legend[2 * plane + r + x]
                }
            }
        }
    }

    /// One display window for all tiles (0.5–99.5 % of a subsample of all pixels) so that the
    /// mosaic has one consistent contrast.
    static func greyWindow(_ images: [LocatorImage]) -> ClosedRange<Double> {
        let total = images.reduce(0) { $0 + $1.image.pixels.count }
        let step = max(1, total / 1_000_000)
        if let window = integerGreyWindow(images, step: step) { return window }
        var sample: [Float] = []
        for image in images { var i = 0; while i < image.image.pixels.count { sample.append(image.image.pixels[i]); i += step } }
        guard !sample.isEmpty else { return 0...1 }
        let low = Double(OrderStatistics.select(&sample, Int(0.005 * Double(sample.count - 1))))
        let high = Double(OrderStatistics.select(&sample, Int(0.995 * Double(sample.count - 1))))
        return high > low ? low...high : low...(low + 1)
    }

    /// ``greyWindow(_:)`` of 8/16-bit data (every sampled value an integer 0…65535) from a
    /// histogram of the same sample: the same two order statistics (the smallest value whose
    /// cumulative count passes the rank) in one counting pass instead of two quickselects over
    /// the sample, which ran on one core. Nil when a sampled value is not such an integer.
    static func integerGreyWindow(_ images: [LocatorImage], step: Int) -> ClosedRange<Double>? {
        var counts = [Int32](repeating: 0, count: 65_536)
        var sampled = 0
        let largest = Float(65_535).bitPattern  // a non-negative float's bits grow with its value; −0, negatives and NaN fail too
        let integral: Bool = counts.withUnsafeMutableBufferPointer { counts in
            for image in images {
                let ok = image.image.pixels.withUnsafeBufferPointer { p in
                    var i = 0
                    while i < p.count {
                        let v = p[i]
                        guard v.bitPattern <= largest, Float(Int(v)) == v else { return false }
                        counts[Int(v)] &+= 1
                        i += step
                    }
                    return true
                }
                guard ok else { return false }
                sampled += (image.image.pixels.count + step - 1) / step
            }
            return true
        }
        guard integral, sampled > 0 else { return nil }
        func value(rank: Int) -> Double {
            var running = 0
            for v in 0..<65_536 {
                running += Int(counts[v])
                if running > rank { return Double(v) }
            }
            return 65_535
        }
        let low = value(rank: Int(0.005 * Double(sampled - 1))), high = value(rank: Int(0.995 * Double(sampled - 1)))
        return high > low ? low...high : low...(low + 1)
    }

    struct LabelPixels { var clusters: [Int32]; var picked: [UInt8]; var heat: [Float] }

    /// Per-pixel labels (1 + label, 0 = none), picked mask and heat (NaN = none).
    static func labelPixels(_ result: LocatorResult, image: Int, width: Int, height: Int) -> LabelPixels {
        var clusters = [Int32](largeRepeating: 0, count: width * height)
        var picked = [UInt8](largeRepeating: 0, count: width * height)
        var heat = [Float](largeRepeating: .nan, count: width * height)
        let grid = result.layout.grids[image]
        for r in 0..<grid.rows {
            for c in 0..<grid.columns {
                let index = grid.firstIndex + r * grid.columns + c
                let owned = result.layout.ownedRegion(image: image, row: r, column: c)
                let label = result.labels[index] + 1
                let p: UInt8 = result.pickedMask[index] ? 255 : 0
                let h = result.heat[index]
                for y in owned.y..<min(height, owned.y + owned.height) {
                    for x in owned.x..<min(width, owned.x + owned.width) {
                        let i = y * width + x
                        clusters[i] = label; picked[i] = p; heat[i] = h
                    }
                }
            }
        }
        return LabelPixels(clusters: clusters, picked: picked, heat: heat)
    }

    /// The 8-bit label TIFFs' pixels straight from the patch grid: `1 + label` (clamped to 255,
    /// 0 = no patch) and 255 on picked patches; one write per owned pixel, no intermediate tables.
    static func labelBytes(_ result: LocatorResult, image: Int, width: Int, height: Int) -> (clusters: [UInt8], picked: [UInt8]) {
        // Zeroed with a concrete fill (the generic `largeRepeating` fill ran unspecialised here).
        var clusters = [UInt8](unsafeUninitializedLargeCount: width * height) { $0.initialize(repeating: 0) }
        var picked = [UInt8](unsafeUninitializedLargeCount: width * height) { $0.initialize(repeating: 0) }
        let grid = result.layout.grids[image]
        clusters.withUnsafeMutableBufferPointer { clusters in
            picked.withUnsafeMutableBufferPointer { picked in
                result.labels.withUnsafeBufferPointer { labels in
                    result.pickedMask.withUnsafeBufferPointer { mask in
                        if case let .window(size, stride) = result.layout.sampling {
                            // Window cells: `stride × stride` squares on a regular lattice, row by row.
                            let offset = size / 2 - stride / 2
                            if stride == 1 {
                                // One pixel per window (the window's centre), rows in fixed chunks on all cores.
                                let clusters = UncheckedSendable(clusters), picked = UncheckedSendable(picked)
                                let labels = UncheckedSendable(labels), mask = UncheckedSendable(mask)
                                let columns = min(grid.columns, width - offset), rows = min(grid.rows, height - offset)
                                Parallel.forEachChunk(of: rows, chunkCount: Parallel.chunkCount(total: rows, minimumPerChunk: 64)) { range in
                                    let flags = UnsafeRawPointer(mask.value.baseAddress!).assumingMemoryBound(to: UInt8.self)
                                    let source = UnsafeRawPointer(labels.value.baseAddress!)
                                    for r in range {
                                        let first = grid.firstIndex + r * grid.columns, row = (r + offset) * width + offset
                                        let cluster = UnsafeMutableRawPointer(clusters.value.baseAddress! + row)
                                        let pick = UnsafeMutableRawPointer(picked.value.baseAddress! + row)
                                        var c = 0
                                        // Eight windows per step: 1 + label clamped to 0…255 (labels are ≥ 0 and far below
                                        // Int32.max), and each flag byte (0 or 1) times 255 (no carries between bytes).
                                        while c + 8 <= columns {
                                            let l = (source + 4 * (first + c)).loadUnaligned(as: SIMD8<Int32>.self) &+ 1
                                            let bytes = SIMD8<UInt8>(truncatingIfNeeded: l.clamped(lowerBound: .zero, upperBound: SIMD8(repeating: 255)))
                                            cluster.storeBytes(of: bytes, toByteOffset: c, as: SIMD8<UInt8>.self)
                                            let f = UnsafeRawPointer(flags + first + c).loadUnaligned(as: UInt64.self)
                                            pick.storeBytes(of: f &* 255, toByteOffset: c, as: UInt64.self)
                                            c += 8
                                        }
                                        while c < columns {
                                            clusters.value[row + c] = UInt8(clamping: labels.value[first + c] + 1)
                                            picked.value[row + c] = 0 &- flags[first + c]  // Bool 1 → 255, 0 → 0
                                            c += 1
                                        }
                                    }
                                }
                                return
                            }
                            for r in 0..<grid.rows {
                                let first = grid.firstIndex + r * grid.columns
                                for y in (r * stride + offset)..<min(height, r * stride + offset + stride) {
                                    let row = y * width
                                    for c in 0..<grid.columns {
                                        let label = UInt8(clamping: labels[first + c] + 1)
                                        let p: UInt8 = mask[first + c] ? 255 : 0
                                        let x0 = c * stride + offset
                                        for x in x0..<min(width, x0 + stride) { clusters[row + x] = label; picked[row + x] = p }
                                    }
                                }
                            }
                            return
                        }
                        for r in 0..<grid.rows {
                            for c in 0..<grid.columns {
                                let index = grid.firstIndex + r * grid.columns + c
                                let owned = result.layout.ownedRegion(image: image, row: r, column: c)
                                let label = UInt8(clamping: labels[index] + 1)
                                let p: UInt8 = mask[index] ? 255 : 0
                                let x0 = max(0, owned.x), x1 = min(width, owned.x + owned.width)
                                guard x1 > x0 else { continue }
                                for y in max(0, owned.y)..<min(height, owned.y + owned.height) {
                                    let row = y * width
                                    for x in x0..<x1 { clusters[row + x] = label; picked[row + x] = p }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (clusters, picked)
    }

    /// The tile in grey through `window`, cluster colours blended over it (the picked cluster at
    /// `style.opacity`, the others at half) or, for similarity runs, the heat in viridis; picked
    /// regions outlined in white, `max(1, min(width, height) / 400)` px wide.
    static func drawOverlay(_ result: LocatorResult, image: Int, input: LocatorImage, labels: (clusters: [UInt8], picked: [UInt8]),
                            window: ClosedRange<Double>, style: Style) -> Image<UInt8> {
        let w = input.image.width, h = input.image.height
        let outline = Display.outline(of: labels.picked, width: w, height: h, thickness: max(1, min(w, h) / 400))
        if result.pickedBy == "similarity" {
            let heat = labelPixels(result, image: image, width: w, height: h).heat
            var out = Display.heat(grey: Display.grey(values: input.image, window: window), values: heat, range: 0...1, opacity: style.opacity)
            let plane = w * h
            for i in 0..<plane where outline[i] != 0 { out.pixels[i] = 255; out.pixels[plane + i] = 255; out.pixels[2 * plane + i] = 255 }
            return out
        }
        return overlayPainter(result, input: input, labels: labels, window: window, style: style, outline: outline).image()
    }

    /// The cluster-colour overlay of one tile, row by row (see ``drawOverlay(_:image:input:labels:window:style:)``).
    static func overlayPainter(_ result: LocatorResult, input: LocatorImage, labels: (clusters: [UInt8], picked: [UInt8]),
                               window: ClosedRange<Double>, style: Style, outline: [UInt8]? = nil) -> OverlayPainter {
        let w = input.image.width, h = input.image.height
        let outline = outline ?? Display.outline(of: labels.picked, width: w, height: h, thickness: max(1, min(w, h) / 400))
        // Label bytes hold 1 + label (0 = no patch).
        var colours: [RGB?] = [nil]
        var opacities: [Double] = [0]
        for l in 0..<result.clusterSizes.count {
            colours.append(colour(label: l, result: result))
            opacities.append(l == result.picked ? style.opacity : style.opacity * 0.5)
        }
        return OverlayPainter(values: input.image, window: window, labels: labels.clusters, colours: colours, opacities: opacities,
                              outline: outline, outlineColour: RGB(255, 255, 255))
    }

    static func drawLegend(_ image: inout Image<UInt8>, result: LocatorResult, title: String) {
        Canvas.legend(&image, title: title, entries: legendEntries(result))
    }

    /// The legend's rows: clusters with their sizes (the picked one marked), or the heat scale.
    static func legendEntries(_ result: LocatorResult) -> [(colour: RGB, label: String)] {
        var entries: [(colour: RGB, label: String)] = []
        if result.pickedBy == "similarity" {
            entries.append((Palette.viridis(1), "similar (1.0)"))
            entries.append((Palette.viridis(0.5), "0.5"))
            entries.append((Palette.viridis(0), "unlike (0)"))
        } else {
            for l in 0..<result.clusterSizes.count {
                var text = "\(result.groupNames[l]): \(result.clusterSizes[l])"
                if l == result.picked { text += " PICKED (\(result.pickedBy))" }
                entries.append((colour(label: l, result: result), text))
            }
        }
        return entries
    }


    static func format(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return String(Float(v))
    }

    static func writePatches(_ result: LocatorResult, to path: String) throws {
        var header = "image,row,col,x,y,width,height,cluster,heat,picked"
        for name in result.featureNames { header += "," + name }
        header += "\n"
        let f = result.features.columns
        let n = result.layout.count
        // Rows are formatted in fixed chunks side by side and joined in order (the same bytes as
        // one pass): number formatting dominates writing a grid run's table.
        let chunks = max(1, min(Parallel.chunkCount(total: n, minimumPerChunk: 128), 4 * Parallel.threadCount))
        nonisolated(unsafe) var parts = [String](repeating: "", count: chunks)
        parts.withUnsafeMutableBufferPointer { parts in
            let parts = UncheckedSendable(parts)
            Parallel.forEach(chunks) { chunk in
                var text = ""
                let lo = n * chunk / chunks, hi = n * (chunk + 1) / chunks
                text.reserveCapacity((hi - lo) * (48 + 12 * f))
                for index in lo..<hi {
                    let (image, row, column) = result.layout.position(of: index)
                    let region = result.layout.region(image: image, row: row, column: column)
                    text += "\(CSVText.field(result.imageNames[image])),\(row),\(column),\(region.x),\(region.y),\(region.width),\(region.height),"
                    text += "\(result.labels[index]),\(String(result.heat[index])),\(result.pickedMask[index] ? 1 : 0)"
                    for j in 0..<f { text += "," + String(result.features.values[index * f + j]) }
                    text += "\n"
                }
                parts.value[chunk] = text
            }
        }
        var data = Data(header.utf8)
        for part in parts { data.append(contentsOf: part.utf8) }
        try AtomicFile.write(data, to: path)
    }

    static func writeTargets(_ result: LocatorResult, to directory: String) throws {
        var text = "rank,image,x,y,physical_x,physical_y,unit,area_px,area,patches,score\n"
        for t in result.targets {
            text += "\(t.rank),\(CSVText.field(t.image)),\(String(format: "%.1f", t.x)),\(String(format: "%.1f", t.y)),"
            text += "\(t.physicalX.map { String(format: "%.4g", $0) } ?? ""),\(t.physicalY.map { String(format: "%.4g", $0) } ?? ""),"
            text += "\(t.unit ?? ""),\(t.areaPixels),\(t.area.map { String(format: "%.4g", $0) } ?? ""),\(t.patchCount),\(String(format: "%.4f", t.score))\n"
        }
        try writeText(text, to: directory + "/targets.csv")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeText(String(data: try encoder.encode(result.targets), encoding: .utf8)!, to: directory + "/targets.json")
    }

    /// The summary as a JSON-ready dictionary.
    public static func summary(_ result: LocatorResult, extra: [String: Any] = [:]) -> [String: Any] {
        let o = result.options
        var parameters: [String: Any] = [
            "sampling": o.sampling.description, "features": result.featureNames, "scaler": o.scaler.rawValue,
            "reduction": o.reduction.description, "method": o.method.rawValue, "clusters": o.clusterCount,
            "seed": o.seed, "exclude_dark": o.excludeDark, "dark_margin": o.darkMargin,
            "gradient_sigma": o.statistics.gradientSigma, "glcm_distance": o.statistics.glcmDistance,
            "glcm_levels": o.statistics.glcmLevels, "dark_threshold": o.statistics.darkThreshold,
            "normalize_tiles": o.normalizeTiles, "automatic_dark_exclusion": o.automaticDarkExclusion, "line_check": o.lineCheck,
        ]
        if o.method == .agglomerative { parameters["linkage"] = o.linkage.rawValue; parameters["metric"] = o.metric.rawValue }
        if let r = o.similarTo { parameters["similar_to"] = "\(r.image):\(r.row):\(r.column)"; parameters["similarity_threshold"] = o.similarityThreshold }
        var summary: [String: Any] = [
            "cleave_version": cleaveVersion, "command": "locate", "parameters": parameters,
            "images": result.imageNames, "patches": result.layout.count,
            "clusters": result.clusterSizes, "cluster_names": result.groupNames,
            "particle_scores": result.particleScores.map { $0.isFinite ? $0 : NSNull() as Any },
            "picked": result.picked, "picked_by": result.pickedBy, "picked_patches": LocatorRows.count(result.pickedMask),
            "film_level": result.filmLevel, "targets": result.targets.count,
            "silhouette": result.silhouette.map { $0 as Any } ?? NSNull(),
            "timings": Dictionary(result.timings.map { ($0.stage, $0.seconds) }, uniquingKeysWith: +),
        ]
        summary["dark_exclusion"] = result.darkExclusion
        if let film = result.film {
            summary["film_level_method"] = film.method.rawValue
            summary["film_level_bimodal"] = film.bimodal
            summary["film_level_check"] = film.description
            summary["film_level_measurement"] = filmLevelFields(film)
        }
        if let tiles = result.tileNormalization {
            summary["tile_normalization"] = [
                "reference": tiles.reference, "gains": tiles.gains,
                "levels": tiles.levels.map(\.level), "methods": tiles.levels.map(\.method.rawValue),
                "bimodal": tiles.levels.map(\.bimodal),
                "tiles_without_film": tiles.tilesWithoutFilm.map { result.imageNames[$0] },
            ] as [String: Any]
        } else {
            summary["tile_normalization"] = NSNull()
        }
        if !result.barEdgePixels.isEmpty {
            // Two-step window mode: the bars' measured edge width per image (null: no bar).
            summary["bar_edge_px"] = result.barEdgePixels.map { $0.map { $0 as Any } ?? NSNull() }
        }
        if let dark = result.darkGroup { summary["dark_group"] = dark }
        if let lines = result.lineCheck {
            var fields: [String: Any] = ["applied": lines.applied, "description": lines.description]
            if let film = lines.filmCluster {
                fields.merge(["film_cluster": film, "film_patches": lines.filmPatches, "lower_quartile": lines.lowerQuartile,
                              "upper_quartile": lines.upperQuartile, "fence": lines.fence, "candidates": lines.candidates,
                              "added": lines.added, "sigma": LocatorLines.sigma, "percentile": LocatorLines.percentile,
                              "fence_iqrs": LocatorLines.fenceInterquartileRanges]) { a, _ in a }
            }
            summary["line_check"] = fields
        } else {
            summary["line_check"] = NSNull()
        }
        if !result.silhouetteByK.isEmpty {
            summary["silhouette_by_k"] = Dictionary(result.silhouetteByK.map { (String($0.k), $0.score) }, uniquingKeysWith: { a, _ in a })
        }
        if let s = result.scores {
            summary["scores"] = ["ari": s.adjustedRandIndex, "ami": s.adjustedMutualInformation, "nmi": s.normalizedMutualInformation,
                                 "homogeneity": s.homogeneity, "completeness": s.completeness, "v_measure": s.vMeasure,
                                 "contingency": s.contingency, "labelled_patches": result.truthPatchCount]
        }
        for (key, value) in extra { summary[key] = value }
        return summary
    }

    static func filmLevelFields(_ film: FilmLevel) -> [String: Any] {
        ["level": film.level, "method": film.method.rawValue, "bimodal": film.bimodal, "split": film.threshold,
         "separation": film.separation, "minimum_separation": FilmLevel.minimumSeparation, "dark_share": film.darkShare,
         "dark_median": film.darkMedian, "bright_median": film.brightMedian, "median": film.median, "samples": film.sampleCount]
    }

    static func writeSummary(_ result: LocatorResult, to path: String, outputTimings: [(stage: String, seconds: Double)], extra: [String: Any]) throws {
        var s = summary(result, extra: extra)
        var timings = s["timings"] as? [String: Double] ?? [:]
        for t in outputTimings { timings["write " + t.stage] = t.seconds }
        s["timings"] = timings
        let data = try JSONSerialization.data(withJSONObject: s, options: [.prettyPrinted, .sortedKeys])
        try writeText(String(data: data, encoding: .utf8)!, to: path)
    }

    static func writeText(_ text: String, to path: String) throws {
        try AtomicFile.write(text, to: path)
    }
}

import Testing
import CleaveCore
import CleaveRender

/// The one-pass overlay and the run-length outline give the same bytes as the straightforward
/// per-pixel versions they replace (window → grey, colour tables, neighbour search).
@Suite(.serialized) struct OverlayKernelsTests {
    /// A seeded float image with a blob-like mask and labels 0…4.
    static func scene(width: Int, height: Int, seed: UInt64) -> (values: Image<Float>, labels: [UInt8], mask: [UInt8]) {
        var generator = SeededGenerator(seed: seed)
        let values = (0..<(width * height)).map { _ in Float(generator.nextDouble() * 1400 - 100) }
        var labels = [UInt8](repeating: 0, count: width * height), mask = labels
        for y in 0..<height {
            for x in 0..<width {
                labels[y * width + x] = UInt8((x / 7 + y / 5 + (x * y) % 3) % 5)
                let dx = Double(x % 40) - 20, dy = Double(y % 33) - 16
                mask[y * width + x] = dx * dx + dy * dy < 150 || (x / 9) % 5 == 2 ? 255 : 0
            }
        }
        return (Image(shape: Shape(width: width, height: height), pixels: values), labels, mask)
    }

    /// The neighbour search the Locator used before: a set pixel with an in-image zero pixel at
    /// distance 1…thickness along the row or the column.
    static func naiveOutline(_ mask: [UInt8], width w: Int, height h: Int, thickness: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: mask.count)
        for y in 0..<h {
            for x in 0..<w where mask[y * w + x] != 0 {
                var edge = false
                for d in 1...thickness where !edge {
                    if x - d < 0 || mask[y * w + x - d] == 0 { edge = x - d >= 0 }
                    if !edge && (x + d >= w || mask[y * w + x + d] == 0) { edge = x + d < w }
                    if !edge && (y - d < 0 || mask[(y - d) * w + x] == 0) { edge = y - d >= 0 }
                    if !edge && (y + d >= h || mask[(y + d) * w + x] == 0) { edge = y + d < h }
                }
                if edge { out[y * w + x] = 1 }
            }
        }
        return out
    }

    @Test(arguments: [1, 2, 3, 10], [(1, 1), (13, 7), (160, 300), (333, 517)])
    func outlineMatchesNeighbourSearch(thickness: Int, size: (Int, Int)) {
        let scene = OverlayKernelsTests.scene(width: size.0, height: size.1, seed: UInt64(thickness * 31 + size.0))
        let fast = Display.outline(of: scene.mask, width: size.0, height: size.1, thickness: thickness)
        #expect(fast == OverlayKernelsTests.naiveOutline(scene.mask, width: size.0, height: size.1, thickness: thickness))
        #expect(fast.contains(1) || size.0 * size.1 < 100)
    }

    @Test func overlayMatchesGreyThenColours() {
        let (w, h) = (311, 257)
        let scene = OverlayKernelsTests.scene(width: w, height: h, seed: 4)
        let window = 80.5...1100.0
        let colours: [RGB?] = [nil, RGB(230, 60, 40), RGB(86, 180, 233), nil, RGB(70, 70, 90)]
        let opacities = [0, 0.4, 0.2, 0.2, 0.2]
        let outline = Display.outline(of: scene.mask, width: w, height: h, thickness: 2)
        let fast = Display.overlay(values: scene.values, window: window, labels: scene.labels, colours: colours, opacities: opacities, outline: outline)
        var reference = Display.overlay(grey: scene.values.rescaled(to: UInt8.self, from: window), labels: scene.labels.map { Int32($0) },
                                        colours: colours, opacities: opacities)
        for i in 0..<(w * h) where outline[i] != 0 { reference.pixels[i] = 255; reference.pixels[w * h + i] = 255; reference.pixels[2 * w * h + i] = 255 }
        #expect(fast == reference)
        #expect(Display.grey(values: scene.values, window: window) == scene.values.rescaled(to: UInt8.self, from: window))
    }

    /// Rows in chunks on all cores: the same picture for 1 and 2 threads.
    @Test func overlayIndependentOfThreadCount() {
        let scene = OverlayKernelsTests.scene(width: 600, height: 500, seed: 8)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var pictures: [Image<UInt8>] = []
        for threads in [1, 2] {
            Parallel.threadCount = threads
            let outline = Display.outline(of: scene.mask, width: 600, height: 500, thickness: 3)
            pictures.append(Display.overlay(values: scene.values, window: 0...1000, labels: scene.labels,
                                            colours: [nil, RGB(1, 2, 3), RGB(200, 100, 0)], opacities: [0, 0.5, 0.3], outline: outline))
        }
        #expect(pictures[0] == pictures[1])
    }

    /// Mosaic: integer box average equals the rounded mean (halves up) of each factor × factor block.
    @Test func mosaicShrinkRoundsHalfUp() {
        var generator = SeededGenerator(seed: 2)
        let tile = Image<UInt8>(shape: Shape(width: 30, height: 20, channels: 3), pixels: (0..<1800).map { _ in UInt8(generator.next() % 256) })
        let (mosaic, factor) = Mosaic.stitch([(0, 0, tile), (1, 1, tile)], rows: 2, columns: 2, maxSide: 20)
        #expect(factor == 3 && mosaic.width == 20 && mosaic.height == 13)
        for ch in 0..<3 {
            for oy in 0..<6 {
                for ox in 0..<10 {
                    var sum = 0.0
                    for dy in 0..<3 { for dx in 0..<3 { sum += Double(tile.pixels[ch * 600 + (oy * 3 + dy) * 30 + ox * 3 + dx]) } }
                    #expect(mosaic.pixels[ch * 260 + oy * 20 + ox] == UInt8((sum / 9).rounded()))
                    #expect(mosaic.pixels[ch * 260 + (20 / 3 + oy) * 20 + 10 + ox] == UInt8((sum / 9).rounded()))
                }
            }
        }
    }

    /// Large pictures look integer values up in a table: the same bytes as the arithmetic,
    /// for integer values in and out of 0…65535 and for fractional ones.
    @Test func greyTableMatchesArithmetic() {
        let (w, h) = (700, 400)
        var generator = SeededGenerator(seed: 6)
        let values = (0..<(w * h)).map { i -> Float in
            let r = generator.nextDouble()
            return i % 7 == 0 ? Float(r * 3) - 1.5 : i % 11 == 0 ? Float(70_000 + r * 10) : Float(Int(r * 5000))
        }
        let image = Image(shape: Shape(width: w, height: h), pixels: values)
        let labels = (0..<(w * h)).map { UInt8($0 % 3) }
        let window = 12.25...4100.0
        let fast = Display.overlay(values: image, window: window, labels: labels, colours: [nil, RGB(9, 200, 30), RGB(250, 0, 90)], opacities: [0, 0.4, 0.2])
        let reference = Display.overlay(grey: image.rescaled(to: UInt8.self, from: window), labels: labels.map { Int32($0) },
                                        colours: [nil, RGB(9, 200, 30), RGB(250, 0, 90)], opacities: [0, 0.4, 0.2])
        #expect(fast == reference)
    }

    /// Rows painted for a streamed picture (one packed four-byte store per pixel, the last pixel
    /// byte by byte) are the planar picture's pixels interleaved, and nothing past the row is
    /// written: fractional and integer values (the grey table), an outline, labels beyond the
    /// colours, widths 1, 2 and odd.
    @Test func paintedRowsAreThePictureInterleaved() {
        for (w, h) in [(1, 3), (2, 2), (311, 40), (700, 400)] {
            var scene = OverlayKernelsTests.scene(width: w, height: h, seed: UInt64(w))
            if w == 700 {
                scene.values.pixels = scene.values.pixels.map { $0.rounded() + 100 }  // integers on ≥ 2¹⁸ pixels: the grey table
                // Values the eight-pixel step hands to the per-pixel path: fractions, negatives, −0, 65535 and beyond.
                for (k, v) in [Float(0.5), -1, -0.0, 65_535, 65_536, 70_000.25, 1e9, 3.75].enumerated() { scene.values.pixels[1_000 + 613 * k] = v }
            }
            let colours: [RGB?] = [nil, RGB(230, 60, 40), RGB(86, 180, 233), nil]  // label 4 has no colour
            let outline = Display.outline(of: scene.mask, width: w, height: h, thickness: 2)
            let painter = OverlayPainter(values: scene.values, window: 80.5...1100.0, labels: scene.labels, colours: colours,
                                         opacities: [0, 0.4, 0.2, 0.2], outline: outline, outlineColour: RGB(255, 250, 7))
            let picture = painter.image(), plane = w * h
            for y in 0..<h {
                var row = [UInt8](repeating: 0xAB, count: 3 * w + 4)
                row.withUnsafeMutableBufferPointer { painter.unsafeFill(row: y, into: $0.baseAddress!) }
                let expected = (0..<w).flatMap { x in (0..<3).map { picture.pixels[$0 * plane + y * w + x] } }
                #expect(Array(row[0..<(3 * w)]) == expected, "\(w)×\(h) row \(y)")
                #expect(row[(3 * w)...].allSatisfy { $0 == 0xAB }, "\(w)×\(h) row \(y): bytes past the row")
            }
        }
    }
}

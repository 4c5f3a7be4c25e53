import Testing
import CleaveCore
import CleaveRender

@Suite struct CanvasTests {
    @Test func textDrawsGlyphPixelsAndLegendPanel() {
        var image = Image<UInt8>(shape: Shape(width: 40, height: 20, channels: 3))
        let width = Canvas.text(&image, "1", x: 0, y: 0, colour: RGB(255, 0, 0))
        #expect(width == BitmapFont.advance)
        // "1": row 0 is ..#.. → only column 2 lit.
        #expect(image.pixels[2] == 255 && image.pixels[1] == 0 && image.pixels[3] == 0)
        #expect(BitmapFont.width(of: "AB", scale: 2) == 22)
        var panel = Image<UInt8>(shape: Shape(width: 200, height: 100, channels: 3), repeating: 200)
        Canvas.legend(&panel, title: "T", entries: [(RGB(0, 0, 255), "x")], x: 0, y: 0, scale: 1)
        #expect(panel.pixels[panel.shape.index(column: 1, row: 1, channel: 2)] < 200)  // darkened panel
    }

    /// A filled rectangle (blended through a per-channel table) has the bytes of the per-pixel
    /// blend `round(v · (1 − a) + c · a)`, clipped to the image, for every grey value and opacities 0…1.
    @Test func fillBlendsEveryPixelAsThePerPixelFormula() {
        let (w, h) = (37, 300)
        let pixels = (0..<(3 * w * h)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 11) }
        for (opacity, colour) in [(0.75, RGB(20, 20, 20)), (1, RGB(255, 255, 255)), (0, RGB(9, 8, 7)), (0.4, RGB(230, 60, 40)), (-1, RGB(1, 2, 3))] {
            var image = Image<UInt8>(shape: Shape(width: w, height: h, channels: 3), pixels: pixels)
            Canvas.fill(&image, x: -3, y: 5, width: 30, height: 400, colour: colour, opacity: opacity)  // a table
            Canvas.fill(&image, x: 30, y: 1, width: 3, height: 3, colour: colour, opacity: opacity)  // pixel by pixel
            let a = min(max(opacity, 0), 1), c = [colour.red, colour.green, colour.blue].map(Double.init)
            var expected = pixels
            for ch in 0..<3 {
                for y in 0..<h {
                    for x in 0..<w where (y >= 5 && x < 27) || ((1..<4).contains(y) && (30..<33).contains(x)) {
                        let i = ch * w * h + y * w + x
                        expected[i] = UInt8((Double(pixels[i]) * (1 - a) + c[ch] * a).rounded())
                    }
                }
            }
            #expect(image.pixels == expected, "opacity \(opacity)")
        }
    }

    @Test func mosaicPlacesAndShrinksTiles() {
        let a = Image<UInt8>(shape: Shape(width: 4, height: 4), repeating: 10)
        let b = Image<UInt8>(shape: Shape(width: 4, height: 4), repeating: 30)
        let (m, factor) = Mosaic.stitch([(0, 0, a), (0, 1, b)], rows: 1, columns: 2, maxSide: 4)
        #expect(factor == 2 && m.width == 4 && m.height == 2)
        #expect(m.pixels == [10, 10, 30, 30, 10, 10, 30, 30])
    }

    @Test func labelOverlayBlendsPerLabel() {
        let grey = Image<UInt8>(shape: Shape(width: 2, height: 1), pixels: [100, 100])
        let out = Display.overlay(grey: grey, labels: [0, 1], colours: [nil, RGB(200, 0, 0)], opacities: [0, 0.5])
        #expect(out.pixels == [100, 150, 100, 50, 100, 50])
    }
}

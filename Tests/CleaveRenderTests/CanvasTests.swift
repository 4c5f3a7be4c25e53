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

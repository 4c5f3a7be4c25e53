import Testing
import CleaveCore
import CleaveRender

/// Issue 19 item 1: the auto-contrast window of an image with many −inf pixels trapped building
/// a range from NaN ends (−inf − −inf); non-finite samples are now skipped like NaN.
@Suite struct DisplayNonFiniteTests {
    @Test func percentileWindowSkipsInfinities() {
        var pixels = (0..<10_000).map { Float($0 % 100) }
        for i in stride(from: 0, to: pixels.count, by: 25) { pixels[i] = -.infinity }  // 4 %
        pixels[1] = .infinity; pixels[2] = .nan
        let image = Image(shape: Shape(width: 100, height: 100), pixels: pixels)
        let window = Display.percentileWindow(image)
        #expect(window.lowerBound.isFinite && window.upperBound.isFinite && window.lowerBound < window.upperBound, "\(window)")
        let finite = Image(shape: Shape(width: 100, height: 100), pixels: pixels.map { $0.isFinite ? $0 : 50 })
        #expect(Display.percentileWindow(finite).upperBound == 99)
        let allBad = Image(shape: Shape(width: 2, height: 1), pixels: [Float.infinity, -.infinity])
        #expect(Display.percentileWindow(allBad) == 0...1)
        _ = Display.grey(image)
    }
}

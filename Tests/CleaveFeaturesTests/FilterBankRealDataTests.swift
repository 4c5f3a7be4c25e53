import Testing
import CleaveCore
import CleaveFilters
import CleaveFeatures
import CleaveFormats
import CleaveTestSupport

@Suite struct FilterBankRealDataTests {
    static func slice() throws -> Image<Float> {
        try ImageFile.read(TestData.path("sandstone-xrm/images/Sandstone_Versa0000.tif")).floatImage()
    }

    /// The default bank computed block by block (with its halo) equals the whole computation on a
    /// real XRM crop, bit for bit, including blocks touching the crop's edges.
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"))
    func defaultBankTilesEqualWholeOnSandstone() throws {
        let crop = try Self.slice().cropped(to: Region(x: 600, y: 560, width: 230, height: 190))
        let bank = FilterBank.windows
        let whole = bank.compute(crop)
        #expect(whole.featureCount == 37)
        for region in Region.tiles(covering: crop.shape, blockWidth: 100, blockHeight: 80) {
            let block = try bank.compute(crop, region: region)
            for f in 0..<whole.featureCount {
                let same = block.feature(f).pixels == whole.feature(f).cropped(to: region).pixels
                #expect(same, "\(whole.names[f]) differs in \(region)")
                if !same { return }
            }
        }
    }

    /// Spot values of the default bank on the real slice against scipy:
    ///
    /// ```python
    /// im = tifffile.imread('Sandstone_Versa0000.tif').astype(np.float32)
    /// ndi.gaussian_filter(im, 10.0)[500, 480]; ndi.gaussian_gradient_magnitude(im, 0.7)[700, 720]
    /// ndi.maximum_filter(im, 15)[640, 704]; ndi.minimum_filter(im, 3)[650, 710]
    /// ```
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"))
    func defaultBankMatchesScipyOnTheSlice() throws {
        let image = try Self.slice()
        #expect(image.width == 996 && image.height == 1024)
        let stack = FilterBank.windows.compute(image)
        func value(_ name: String, row: Int, column: Int) -> Double {
            let f = stack.names.firstIndex(of: name)!
            return Double(stack.value(feature: f, pixel: row * image.width + column))
        }
        #expect(abs(value("ch0:gaussian:s10", row: 500, column: 480) - 98.25507354736328) < 1e-3)
        #expect(abs(value("ch0:gradient_magnitude:s0.7", row: 700, column: 720) - 40.80366516113281) < 1e-3)
        #expect(value("ch0:local_max:s3.5", row: 640, column: 704) == 140.0)
        #expect(value("ch0:local_min:s0.7", row: 650, column: 710) == 28.0)
    }
}

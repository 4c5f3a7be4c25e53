import Testing
import CleaveCore
import CleaveFilters

@Suite struct TextureTests {
    /// scikit-image on the same sandstone crop (FilterReference.crop), 16 levels over 0…255,
    /// 7×7 windows, reflect boundary:
    ///
    /// ```python
    /// q = np.clip(np.floor(crop.astype(float) / 255 * 16), 0, 15).astype(np.uint8)
    /// pad = np.pad(q, 3, mode='symmetric'); patch = pad[y:y + 7, x:x + 7]
    /// P = graycomatrix(patch, [1], [0, np.pi/4, np.pi/2, 3*np.pi/4], levels=16,
    ///                  symmetric=True).sum(axis=3, keepdims=True).astype(float)
    /// [graycoprops(P, p)[0, 0] for p in ['contrast', 'homogeneity', 'energy', 'correlation', 'entropy']]
    /// ```
    static let expected: [(row: Int, column: Int, values: [Double])] = [
        (0, 0, [0.8397435897435896, 0.6724358974358975, 0.31971053434711544, 0.563291342116229, 2.4662121789167877]),
        (23, 31, [0.6794871794871795, 0.7217948717948719, 0.3783680657275309, 0.38132295719844356, 2.0355149913778043]),
        (12, 12, [1.7435897435897438, 0.6983060679893258, 0.3422140465394651, 0.6520826500491964, 2.609233431202539]),
        (5, 17, [1.814102564102564, 0.6121620837684186, 0.24027775402552964, 0.8112716336751118, 3.2436053741026933]),
        (20, 9, [0.641025641025641, 0.7717948717948718, 0.5382134654440307, 0.35081148564294634, 1.7958075287215365]),
    ]

    @Test func glcmMatchesScikitImage() {
        let texture = glcmTexture(FilterReferenceTests.crop, window: 7)
        #expect(texture.count == 5)
        for point in Self.expected {
            for (k, want) in point.values.enumerated() {
                let got = Double(texture[k][point.column, point.row])
                #expect(abs(got - want) < 1e-5, "\(TextureMeasure.allCases[k]) at (\(point.row), \(point.column)): \(got) vs \(want)")
            }
        }
    }

    @Test func glcmTilesEqualWhole() {
        let image = FilterReferenceTests.crop
        let whole = glcmTexture(image, window: 5)
        // A block with a 2-pixel halo reproduces the interior exactly.
        let block = image.cropped(to: Region(x: 8, y: 6, width: 20, height: 14))
        let part = glcmTexture(block, window: 5)
        for k in 0..<5 {
            let inner = part[k].cropped(to: Region(x: 2, y: 2, width: 16, height: 10)).pixels
            #expect(inner == whole[k].cropped(to: Region(x: 10, y: 8, width: 16, height: 10)).pixels)
        }
    }
}

/// Issue 19 item 1: +infinity quantised through `Int(inf)` trapped; it is the top level now.
@Suite struct TextureNonFiniteTests {
    @Test func infiniteValuesQuantiseToTheEnds() {
        let options = TextureOptions(levels: 16, low: 0, high: 255)
        #expect(options.level(.infinity) == 15 && options.level(-.infinity) == 0 && options.level(.nan) == 0)
        #expect(options.level(254.9) == 15 && options.level(100) == 6 && options.level(1e30) == 15)
    }
}

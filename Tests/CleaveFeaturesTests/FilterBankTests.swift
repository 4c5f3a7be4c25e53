import Testing
import CleaveCore
import CleaveFilters
import CleaveFeatures

@Suite struct FilterBankTests {
    /// A deterministic 2D test image: smooth waves plus a hashed pattern (formula below).
    static func pattern(width: Int, height: Int, depth: Int = 1, channels: Int = 1) -> Image<Float> {
        var pixels: [Float] = []
        for c in 0..<channels {
            for z in 0..<depth {
                for y in 0..<height {
                    for x in 0..<width {
                        let h = (x &* 73_856_093) ^ (y &* 19_349_663) ^ (z &* 83_492_791) ^ (c &* 2_654_435)
                        pixels.append(Float((x * 3 + y * 5 + z * 7) % 37) + Float(abs(h) % 23) + Float(c * 10))
                    }
                }
            }
        }
        return Image(shape: Shape(width: width, height: height, depth: depth, channels: channels), pixels: pixels)
    }

    @Test func namesCountsAndOrder() throws {
        let bank = try FilterBank(entries: [
            .init(.gaussian, scales: [0, 1.6]),
            .init(.hessianEigenvalues, scales: [1.0]),
        ])
        #expect(bank.featuresPerChannel == 4)
        #expect(bank.featureNames(channelCount: 2) == [
            "ch0:gaussian:s0", "ch0:gaussian:s1.6", "ch0:hessian_eigenvalues[0]:s1", "ch0:hessian_eigenvalues[1]:s1",
            "ch1:gaussian:s0", "ch1:gaussian:s1.6", "ch1:hessian_eigenvalues[0]:s1", "ch1:hessian_eigenvalues[1]:s1",
        ])
        let stack = bank.compute(Self.pattern(width: 20, height: 15, channels: 2))
        #expect(stack.featureCount == 8)
        #expect(stack.shape == Shape(width: 20, height: 15))
        // Feature 0 of channel 1 is the raw channel 1.
        let image = Self.pattern(width: 20, height: 15, channels: 2)
        #expect(stack.feature(4).pixels == image.channel(1).pixels)
        // Feature 1 is exactly the Gaussian filter.
        #expect(stack.feature(1).pixels == gaussian(image.channel(0), sigma: 1.6).pixels)
    }

    @Test func haloIsTheLargestReach() throws {
        // Structure tensor at 3.5: inner radius 14 + outer (1.75) radius 7 = 21.
        let bank = try FilterBank(entries: [.init(.gaussian, scales: [10]), .init(.structureTensorEigenvalues, scales: [3.5])])
        #expect(bank.halo().x == 40 && bank.halo().y == 40 && bank.halo().z == 0)
        let st = try FilterBank(entries: [.init(.structureTensorEigenvalues, scales: [3.5])])
        #expect(st.halo().x == 21)
        let window = try FilterBank(entries: [.init(.localMaximum, scales: [1.6])])
        #expect(window.halo().x == 3)
        let threeD = try st.with(threeD: true)
        #expect(threeD.halo(spacing: Spacing(x: 1, y: 1, z: 2)).z == 11) // sigma z 1.75 → 7, outer 0.875 → 4
    }

    @Test func tiledEqualsWhole() throws {
        let bank = try FilterBank(entries: [
            .init(.gaussian, scales: [0, 1.0, 3.5]),
            .init(.gradientMagnitude, scales: [1.6]),
            .init(.laplacian, scales: [0.7]),
            .init(.differenceOfGaussians, scales: [2.0]),
            .init(.hessianEigenvalues, scales: [1.0]),
            .init(.structureTensorEigenvalues, scales: [1.6]),
            .init(.localMean, scales: [1.0]),
            .init(.localStandardDeviation, scales: [1.6]),
            .init(.localMinimum, scales: [1.0]),
            .init(.localMaximum, scales: [3.5]),
            .init(.texture, scales: [1.0]),
        ])
        let image = Self.pattern(width: 77, height: 61, channels: 2)
        let whole = bank.compute(image)
        for region in Region.tiles(covering: image.shape, blockWidth: 30, blockHeight: 25) {
            let block = try bank.compute(image, region: region)
            let reference = whole.values.count / whole.featureCount
            for f in 0..<whole.featureCount {
                let expected = whole.feature(f).cropped(to: region).pixels
                let got = block.feature(f).pixels
                #expect(got == expected, "feature \(whole.names[f]) differs in tile \(region)")
                if got != expected { return }
            }
            #expect(reference == 77 * 61)
        }
    }

    @Test func tiledEqualsWholeIn3D() throws {
        let bank = try FilterBank(entries: [
            .init(.gaussian, scales: [1.0]), .init(.hessianEigenvalues, scales: [1.0]), .init(.localMaximum, scales: [1.0]),
        ], threeD: true)
        let image = Self.pattern(width: 23, height: 19, depth: 17)
        let whole = bank.compute(image)
        #expect(whole.featureCount == 5)
        for region in Region.tiles(covering: image.shape, blockWidth: 12, blockHeight: 10, blockDepth: 6) {
            let block = try bank.compute(image, region: region)
            for f in 0..<whole.featureCount {
                #expect(block.feature(f).pixels == whole.feature(f).cropped(to: region).pixels, "\(whole.names[f]) in \(region)")
            }
        }
    }

    @Test func pixelMatrixRowsArePixels() throws {
        let bank = try FilterBank(entries: [.init(.gaussian, scales: [0, 1.0]), .init(.localMaximum, scales: [1.0])])
        let image = Self.pattern(width: 9, height: 7)
        let stack = bank.compute(image)
        let rows = stack.pixelMatrix(for: [0, 40, 62])
        #expect(rows.count == 9)
        #expect(rows[3] == image.pixels[40])
        #expect(rows[4] == stack.value(feature: 1, pixel: 40))
        #expect(rows[8] == stack.value(feature: 2, pixel: 62))
        let range = stack.pixelMatrix(range: 38..<41)
        #expect(Array(range[6..<9]) == Array(rows[3..<6]))
    }

    @Test func codableRoundTripAndValidation() throws {
        let bank = FilterBank.windows
        let data = try JSONEncoderShim.roundTrip(bank)
        #expect(data == bank)
        #expect(throws: FilterBankError.self) { try FilterBank(entries: []) }
        #expect(throws: FilterBankError.self) { try FilterBank(entries: [.init(.laplacian, scales: [0])]) }
        #expect(throws: FilterBankError.self) { try FilterBank(entries: [.init(.laplacian, scales: [1, 1])]) }
        #expect(throws: FilterBankError.self) { try FilterBank(features: ["gaussian", "wavelets"]) }
        #expect(throws: FilterBankError.self) { try FilterBank.named("nope") }
        let custom = try FilterBank(features: ["intensity", "log", "std"], scales: [0, 2])
        #expect(custom.featureNames(channelCount: 1) == ["ch0:gaussian:s0", "ch0:gaussian:s2", "ch0:laplacian:s2", "ch0:local_std:s2"])
    }

    @Test func channelShapeMismatchIsAnError() throws {
        let a = Image<Float>(width: 10, height: 10), b = Image<Float>(width: 10, height: 11)
        #expect(throws: FilterBankError.self) { try FilterBank.fast.compute(channels: [a, b]) }
        #expect(throws: FilterBankError.self) { try FilterBank.fast.compute(a, region: Region(x: 5, y: 5, width: 10, height: 2)) }
    }

    /// Every feature of the bank equals the standalone filter bit for bit (the bank only shares work).
    @Test func bankFeaturesEqualStandaloneFilters() throws {
        let image = Self.pattern(width: 40, height: 33)
        let bank = try FilterBank(features: FilterFeature.allCases.map(\.rawValue), scales: [1.6])
        let stack = bank.compute(image)
        let s = Sigma(1.6), w = WindowSize(7)
        let expected: [Image<Float>] = [gaussian(image, sigma: s), gaussianGradientMagnitude(image, sigma: s),
                                        laplacianOfGaussian(image, sigma: s),
                                        differenceOfGaussians(image, fine: s.scaled(by: 0.66), coarse: s)]
            + hessianEigenvalues(image, sigma: s)
            + structureTensorEigenvalues(image, inner: s, outer: s.scaled(by: 0.5))
            + [localMean(image, window: w), localStandardDeviation(image, window: w),
               localMinimum(image, window: w), localMaximum(image, window: w)]
            + glcmTexture(image, window: 7)
        #expect(stack.featureCount == expected.count)
        #expect(stack.names.last == "ch0:texture_entropy:s1.6")
        for (f, image) in expected.enumerated() {
            #expect(stack.feature(f).pixels == image.pixels, "\(stack.names[f])")
        }
    }

    /// In 3D the scale is isotropic in physical space: sigma along z shrinks with a coarser z spacing.
    @Test func threeDSigmaFollowsSpacing() throws {
        let bank = try FilterBank(entries: [.init(.gaussian, scales: [2])], threeD: true)
        let sigma = bank.sigma(scale: 2, spacing: Spacing(x: 0.5, y: 0.5, z: 2))
        #expect(sigma.x == 2 && sigma.y == 2 && sigma.z == 0.5)
        var image = Self.pattern(width: 16, height: 14, depth: 9)
        image.spacing = Spacing(x: 0.5, y: 0.5, z: 2)
        let stack = bank.compute(image)
        #expect(stack.feature(0).pixels == gaussian(image, sigma: Sigma(x: 2, y: 2, z: 0.5)).pixels)
        // A 2D bank on a stack filters plane by plane.
        let flat = try FilterBank(entries: [.init(.gaussian, scales: [2])])
        let planes = flat.compute(image)
        #expect(planes.feature(0).plane(3).pixels == gaussian(image.plane(3), sigma: 2).pixels)
    }

    /// The default bank's documented size and halo.
    @Test func defaultBankShape() {
        let bank = FilterBank.windows
        #expect(bank.featureNames(channelCount: 1).count == bank.featuresPerChannel)
        #expect(bank.featuresPerChannel == 37)
        #expect(bank.halo().x == 40 && bank.halo().y == 40) // gaussian at scale 10: radius Int(4·10 + 0.5)
        #expect(FilterBank.full.featuresPerChannel == 65)
        #expect(bank.featureNames(channelCount: 1).first == "ch0:gaussian:s0")
    }
}

import CleaveCore
import CleaveFilters

extension FilterBank {
    /// Computes every feature of the bank on the whole image (all channels).
    ///
    /// - Parameter image: 2D or 3D, any number of channels (features are computed per channel).
    ///   A 2D bank on a stack filters plane by plane.
    /// - Returns: a stack with ``featureCount(channelCount:)`` features over the image's spatial shape.
    /// - Complexity: O(pixels × Σ kernel sizes); parallel inside each filter.
    public func compute(_ image: Image<Float>, progress: Progress = .silent) -> FeatureStack {
        computeBlock(image, interior: Region(covering: image.shape), progress: progress)
    }

    /// Computes the features of `region` only, reading `region` grown by ``halo(spacing:)`` from
    /// the image. The values equal those of ``compute(_:)`` on the whole image inside `region`.
    /// - Throws: ``FilterBankError/shapeMismatch(_:)`` when the region is empty or not inside the image.
    public func compute(_ image: Image<Float>, region: Region) throws -> FeatureStack {
        guard !region.isEmpty, region.isInside(image.shape) else {
            throw FilterBankError.shapeMismatch("region \(region) is empty or not inside the image \(image.shape)")
        }
        let grown = blockRegion(for: region, in: image.shape, spacing: image.spacing)
        let block = image.cropped(to: grown)
        let interior = Region(x: region.x - grown.x, y: region.y - grown.y, z: region.z - grown.z,
                              width: region.width, height: region.height, depth: region.depth)
        return computeBlock(block, interior: interior)
    }

    /// The region to read from an image of `shape` to compute the features of `region`: `region`
    /// grown by the halo and clipped to the image. Use it to read a block from disk, then call
    /// ``computeBlock(_:interior:)`` with the interior's position inside that block.
    public func blockRegion(for region: Region, in shape: Shape, spacing: Spacing? = nil) -> Region {
        let h = halo(spacing: spacing)
        return Region(x: region.x - h.x, y: region.y - h.y, z: region.z - h.z,
                      width: region.width + 2 * h.x, height: region.height + 2 * h.y,
                      depth: region.depth + 2 * h.z).intersection(Region(covering: shape))
    }

    /// Computes features on `block` and keeps those of `interior` (a region of the block).
    /// When `block` was read as ``blockRegion(for:in:spacing:)``, the result equals the whole-image
    /// computation over that region.
    ///
    /// Work is organised by scale: the Gaussian derivatives a scale needs (smoothing, gradient,
    /// second derivatives) are computed once and shared by every feature at that scale, then
    /// dropped before the next scale, so peak memory is the output plus ~8 images.
    /// - Parameter progress: reports (done, total, "features") once per channel and scale.
    public func computeBlock(_ block: Image<Float>, interior: Region, progress: Progress = .silent) -> FeatureStack {
        precondition(interior.isInside(block.shape) && !interior.isEmpty,
                     "FilterBank.computeBlock: interior \(interior) not inside block \(block.shape)")
        BufferReuse.enable()
        let outShape = Shape(width: interior.width, height: interior.height, depth: interior.depth)
        let names = featureNames(channelCount: block.channels)
        let pixelCount = outShape.count
        // Output slot of each (entry, scale): features are ordered channel, entry, scale, component.
        var slot: [[Int]] = []
        var next = 0
        for entry in entries {
            let components = entry.feature.componentCount(threeD: threeD)
            slot.append(entry.scales.map { _ in defer { next += components }; return next })
        }
        let whole = interior == Region(covering: block.shape)
        var values = [Float](unsafeUninitializedCapacity: names.count * pixelCount) { _, n in n = names.count * pixelCount }
        let scales = Array(Set(entries.flatMap(\.scales))).sorted()
        var done = 0
        for channel in 0..<block.channels {
            let input = block.channels == 1 ? block : block.channel(channel)
            let base = channel * featuresPerChannel
            for scale in scales {
                progress.report(done, block.channels * scales.count, "features")
                done += 1
                let wanted = entries.enumerated().compactMap { i, e in e.scales.firstIndex(of: scale).map { (i, e.feature, $0) } }
                let outputs = computeScale(scale, features: wanted.map(\.1), input: input)
                for ((entryIndex, _, scaleIndex), images) in zip(wanted, outputs) {
                    for (component, image) in images.enumerated() {
                        let start = (base + slot[entryIndex][scaleIndex] + component) * pixelCount
                        let source = whole ? image : image.cropped(to: interior)
                        values.withUnsafeMutableBufferPointer { v in
                            source.pixels.withUnsafeBufferPointer { p in
                                (v.baseAddress! + start).update(from: p.baseAddress!, count: pixelCount)
                            }
                        }
                    }
                }
            }
        }
        progress.report(done, done, "features")
        return FeatureStack(shape: outShape, names: names, values: values)
    }

    /// Every requested feature at one scale, sharing Gaussian derivatives between them.
    func computeScale(_ scale: Double, features: [FilterFeature], input: Image<Float>) -> [[Image<Float>]] {
        let sigma = self.sigma(scale: scale, spacing: input.spacing)
        let axes = activeAxes(sigma, shape: input.shape)
        var orders: [DerivativeOrder] = []
        func need(_ list: [DerivativeOrder]) { for o in list where !orders.contains(o) { orders.append(o) } }
        for feature in features where scale > 0 {
            switch feature {
            case .gaussian, .differenceOfGaussians: need([DerivativeOrder()])
            case .gradientMagnitude, .structureTensorEigenvalues: need(firstOrders(axes))
            case .laplacian, .hessianEigenvalues: need(secondOrders(axes))
            default: break
            }
        }
        let derivatives = orders.isEmpty ? [] : gaussianDerivatives(input, sigma: sigma, orders: orders, boundary: boundary)
        func d(_ list: [DerivativeOrder]) -> [Image<Float>] { list.map { derivatives[orders.firstIndex(of: $0)!] } }
        return features.map { feature -> [Image<Float>] in
            switch feature {
            case .gaussian:
                return scale == 0 ? [input] : d([DerivativeOrder()])
            case .gradientMagnitude:
                return [magnitude(d(firstOrders(axes)))]
            case .laplacian:
                return [sum(d(secondOrders(axes).filter { $0.x != 1 && $0.y != 1 && $0.z != 1 }))]
            case .hessianEigenvalues:
                return symmetricEigenvalues(d(secondOrders(axes)))
            case .structureTensorEigenvalues:
                return structureTensorEigenvalues(gradient: d(firstOrders(axes)),
                                                  outer: sigma.scaled(by: FilterFeature.structureTensorOuterFactor),
                                                  boundary: boundary)
            case .differenceOfGaussians:
                let fine = gaussian(input, sigma: sigma.scaled(by: FilterFeature.dogFineFactor), boundary: boundary)
                return [difference(fine, d([DerivativeOrder()])[0])]
            case .localMean, .localStandardDeviation, .localMinimum, .localMaximum, .texture:
                return windowFeature(feature, scale: scale, input: input)
            }
        }
    }

    /// Computes the features of a multi-image input given as separate co-registered channels.
    /// - Throws: ``FilterBankError/shapeMismatch(_:)`` when the images differ in size.
    public func compute(channels images: [Image<Float>]) throws -> FeatureStack {
        guard let first = images.first else { throw FilterBankError.shapeMismatch("no input images") }
        for (i, image) in images.enumerated() where image.shape.singleChannel != first.shape.singleChannel {
            throw FilterBankError.shapeMismatch("channel image \(i) is \(image.shape), channel image 0 is \(first.shape)")
        }
        return compute(Image.stackingChannels(images))
    }

    /// One window feature (local statistics, texture) at one scale on a single-channel image.
    /// The Gaussian-derivative features never come here: ``computeScale(_:features:input:)`` computes
    /// them from derivatives it shares between features.
    func windowFeature(_ feature: FilterFeature, scale: Double, input: Image<Float>) -> [Image<Float>] {
        switch feature {
        case .gaussian, .gradientMagnitude, .laplacian, .differenceOfGaussians, .hessianEigenvalues,
             .structureTensorEigenvalues:
            preconditionFailure("\(feature) is computed from shared Gaussian derivatives in computeScale")
        case .localMean:
            return [localMean(input, window: window(scale: scale, spacing: input.spacing), boundary: boundary)]
        case .localStandardDeviation:
            return [localStandardDeviation(input, window: window(scale: scale, spacing: input.spacing), boundary: boundary)]
        case .localMinimum:
            return [localMinimum(input, window: window(scale: scale, spacing: input.spacing), boundary: boundary)]
        case .localMaximum:
            return [localMaximum(input, window: window(scale: scale, spacing: input.spacing), boundary: boundary)]
        case .texture:
            return glcmTexture(input, window: textureWindow(scale: scale, spacing: input.spacing),
                               options: effectiveTextureOptions, boundary: boundary)
        }
    }
}

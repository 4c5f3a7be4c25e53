import CleaveCore
import CleaveFilters

extension FilterBank {
    /// Computes every feature of the bank on the whole image (all channels).
    ///
    /// - Parameter image: 2D or 3D, any number of channels (features are computed per channel).
    ///   A 2D bank on a stack filters plane by plane.
    /// - Returns: a stack with ``featureCount(channelCount:)`` features over the image's spatial shape.
    /// - Complexity: O(pixels × Σ kernel sizes); parallel inside each filter.
    public func compute(_ image: Image<Float>) -> FeatureStack {
        computeBlock(image, interior: Region(covering: image.shape))
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
    public func computeBlock(_ block: Image<Float>, interior: Region) -> FeatureStack {
        precondition(interior.isInside(block.shape) && !interior.isEmpty,
                     "FilterBank.computeBlock: interior \(interior) not inside block \(block.shape)")
        let outShape = Shape(width: interior.width, height: interior.height, depth: interior.depth)
        let names = featureNames(channelCount: block.channels)
        var values = [Float]()
        values.reserveCapacity(names.count * outShape.count)
        let whole = interior == Region(covering: block.shape)
        for channel in 0..<block.channels {
            let input = block.channels == 1 ? block : block.channel(channel)
            for entry in entries {
                for scale in entry.scales {
                    for feature in computeFeature(entry.feature, scale: scale, input: input) {
                        if whole {
                            values.append(contentsOf: feature.pixels)
                        } else {
                            values.append(contentsOf: feature.cropped(to: interior).pixels)
                        }
                    }
                }
            }
        }
        return FeatureStack(shape: outShape, names: names, values: values)
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

    /// One feature at one scale on a single-channel image (1–3 images).
    func computeFeature(_ feature: FilterFeature, scale: Double, input: Image<Float>) -> [Image<Float>] {
        let sigma = self.sigma(scale: scale, spacing: input.spacing)
        switch feature {
        case .gaussian:
            return [scale == 0 ? input : gaussian(input, sigma: sigma, boundary: boundary)]
        case .gradientMagnitude:
            return [gaussianGradientMagnitude(input, sigma: sigma, boundary: boundary)]
        case .laplacian:
            return [laplacianOfGaussian(input, sigma: sigma, boundary: boundary)]
        case .differenceOfGaussians:
            return [differenceOfGaussians(input, fine: sigma.scaled(by: FilterFeature.dogFineFactor), coarse: sigma,
                                          boundary: boundary)]
        case .hessianEigenvalues:
            return hessianEigenvalues(input, sigma: sigma, boundary: boundary)
        case .structureTensorEigenvalues:
            return structureTensorEigenvalues(input, inner: sigma, outer: sigma.scaled(by: FilterFeature.structureTensorOuterFactor),
                                              boundary: boundary)
        case .localMean:
            return [localMean(input, window: window(scale: scale, spacing: input.spacing), boundary: boundary)]
        case .localStandardDeviation:
            return [localStandardDeviation(input, window: window(scale: scale, spacing: input.spacing), boundary: boundary)]
        case .localMinimum:
            return [localMinimum(input, window: window(scale: scale, spacing: input.spacing), boundary: boundary)]
        case .localMaximum:
            return [localMaximum(input, window: window(scale: scale, spacing: input.spacing), boundary: boundary)]
        }
    }
}

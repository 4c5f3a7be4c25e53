import CleaveCore
import CleavePipelines
import Foundation

/// Image stacks (multi-page TIFF, MRC volumes) in the workbench: strokes carry the plane they
/// were painted on, training sees one label plane per image plane, and a prediction covers the
/// planes `region.z ..< region.z + region.depth` (all of them unless the page asks for one, as
/// the live preview does). Result files of a stack prediction are plane-major.
extension RegionDTO {
    /// First plane (0 for 2D results).
    var firstPlane: Int { z ?? 0 }
    /// Number of planes (1 for 2D results).
    var planeCount: Int { depth ?? 1 }
}

extension Workbench {
    /// Starts a prediction of a stack: every plane, or `input.region`'s planes (x/y box and z range).
    /// - Throws: 400 for a region outside the stack or a model of another project.
    func startStackPrediction(image: ImageDTO, actor: Actor, input: PredictInput) async throws -> JobDTO {
        let modelDTO = try await predictionModel(image: image, modelID: input.modelId)
        var region = input.region ?? RegionDTO(x: 0, y: 0, width: image.width, height: image.height)
        region.z = region.z ?? 0
        region.depth = region.depth ?? (image.depth - region.firstPlane)
        guard region.x >= 0, region.y >= 0, region.width >= 1, region.height >= 1, region.firstPlane >= 0, region.planeCount >= 1,
              region.x + region.width <= image.width, region.y + region.height <= image.height,
              region.firstPlane + region.planeCount <= image.depth else {
            throw APIError(.badRequest, "region (\(region.x), \(region.y), plane \(region.firstPlane), \(region.width)x\(region.height)x\(region.planeCount)) is not inside the \(image.width)x\(image.height)x\(image.depth) stack")
        }
        let pixels = try await decoded(image).image
        let params = try JSONValue.from(input)
        let chosen = region
        return try jobs.submit(kind: "predict", imageID: image.id, projectID: image.projectId, params: params) { [self] context in
            let model = try loadModel(modelDTO.id)
            let wanted = Region(x: chosen.x, y: chosen.y, z: chosen.firstPlane, width: chosen.width, height: chosen.height, depth: chosen.planeCount)
            let halo = model.featureBank.halo(spacing: pixels.spacing)
            let grown = wanted.expanded(by: max(halo.x, halo.y), haloZ: halo.z, within: pixels.shape.singleChannel)
            // Intensity windows of the whole stack, so a part is classified as it would be in the whole.
            var cropInput = PixelClassifierInput(name: image.name, image: Workbench.crop(pixels, to: grown))
            if let windows = try model.intensityNormalization.windows(for: PixelClassifierInput(name: image.name, image: pixels)) {
                cropInput = cropInput.withFeatureWindows(windows)
            }
            let prediction: PixelPrediction
            do { prediction = try PixelClassifier.predict(cropInput, model: model, progress: context.progress()) }
            catch { throw APIError(.badRequest, error) }
            try context.checkCancelled()
            let cut = Workbench.cutHalo(prediction, grown: grown, wanted: wanted, classCount: model.classes.count)
            let id = Workbench.newID()
            try results.write(cut.labels, kind: "predictions", id: id, part: "labels")
            try results.write(cut.uncertainty, kind: "predictions", id: id, part: "uncertainty")
            try results.write(cut.probabilities, kind: "predictions", id: id, part: "probabilities")
            let counted = Workbench.fractions(labels: cut.labels, classes: modelDTO.classes, spacing: image.spacing, region: chosen,
                                              roi: try storedRegionOfInterest(imageID: image.id))
            let fractions = counted.fractions
            let dto = PredictionDTO(id: id, imageId: image.id, modelId: modelDTO.id, modelVersion: modelDTO.version, jobId: context.id,
                                    region: chosen, classes: modelDTO.classes, fractions: fractions,
                                    meanUncertainty: cut.meanUncertainty, roi: counted.roi, state: "open", createdAt: Workbench.now())
            try database.write { db in
                try db.insert(dto)
                try Workbench.record("predict", by: actor, projectID: image.projectId, imageID: image.id,
                                     modelVersion: String(modelDTO.version), payload: [
                    "predictionId": .string(id), "modelId": .string(modelDTO.id), "jobId": .string(context.id),
                    "region": .array([chosen.x, chosen.y, chosen.width, chosen.height].map { .number(Double($0)) }),
                    "planes": .array([chosen.firstPlane, chosen.planeCount].map { .number(Double($0)) }),
                    "fractions": .object(Dictionary(uniqueKeysWithValues: fractions.map { (String($0.value), JSONValue.number($0.percent)) }))], db)
            }
            return .object(["predictionId": .string(id)])
        }
    }

    /// The model a prediction uses: `modelID` (of the image's project) or the project's newest.
    func predictionModel(image: ImageDTO, modelID: String?) async throws -> ModelDTO {
        if let modelID {
            let found = try await model(id: modelID)
            guard found.projectId == image.projectId else { throw APIError(.badRequest, "model \(modelID) belongs to another project") }
            return found
        }
        guard let newest = try await models(projectID: image.projectId).last else {
            throw APIError(.badRequest, "the project has no trained model yet; train one first")
        }
        return newest
    }

    /// A prediction over `grown` cut back to `wanted` (plane-major): labels, uncertainty as 0…255,
    /// class-major probabilities and the mean uncertainty.
    static func cutHalo(_ prediction: PixelPrediction, grown: Region, wanted: Region, classCount k: Int)
        -> (labels: [UInt8], uncertainty: [UInt8], probabilities: [Float], meanUncertainty: Double) {
        let n = wanted.pixelCount, gn = grown.pixelCount
        var labels = [UInt8](repeating: 0, count: n), uncertainty = [UInt8](repeating: 0, count: n)
        var probabilities = [Float](repeating: 0, count: n * k)
        var sum = 0.0
        for z in 0..<wanted.depth {
            for y in 0..<wanted.height {
                for x in 0..<wanted.width {
                    let source = ((z + wanted.z - grown.z) * grown.height + (y + wanted.y - grown.y)) * grown.width + (x + wanted.x - grown.x)
                    let target = (z * wanted.height + y) * wanted.width + x
                    labels[target] = UInt8(clamping: prediction.labels[source])
                    let u = Double(prediction.uncertainty[source])
                    sum += u
                    uncertainty[target] = UInt8((min(max(u, 0), 1) * 255).rounded())
                    for c in 0..<k { probabilities[c * n + target] = prediction.probabilities[c * gn + source] }
                }
            }
        }
        return (labels, uncertainty, probabilities, sum / Double(max(n, 1)))
    }

    /// The part of a plane-major result array that shows image plane `plane` (nil = the result's
    /// first plane). - Throws: 400 when the result does not cover that plane.
    static func resultPlane<T>(_ values: [T], region: RegionDTO, plane: Int?) throws -> ArraySlice<T> {
        let size = region.width * region.height
        let index = (plane ?? region.firstPlane) - region.firstPlane
        guard index >= 0, index < region.planeCount else {
            throw APIError(.badRequest, "plane \(plane ?? 0) is outside this result's planes \(region.firstPlane) to \(region.firstPlane + region.planeCount - 1)")
        }
        guard values.count >= (index + 1) * size else {
            throw APIError(.internalServerError, "result file holds \(values.count) values, expected \(size * region.planeCount)")
        }
        return values[index * size..<(index + 1) * size]
    }
}

extension Workbench {
    /// The single grey plane the Locator clusters, and the feature-cache key for it.
    ///
    /// A stack gives plane `plane` (default 0). Colour channels that are all equal (a greyscale
    /// image stored as RGB) are grey: channel 0 is used. Channels that differ (true colour) need an
    /// explicit `channel`, so no colour is silently dropped.
    /// - Throws: 400 naming the field for a plane or channel outside the image, or true colour without `channel`.
    static func clusteringPlane(image: ImageDTO, decoded: AnyImage, plane: Int?, channel: Int?) throws -> (AnyImage, String) {
        let z = plane ?? 0
        guard (0..<image.depth).contains(z) else {
            throw APIError(.badRequest, "plane must be 0 to \(image.depth - 1) (\(image.name) has \(image.depth) plane\(image.depth == 1 ? "" : "s")), got \(z)")
        }
        let c: Int
        if let channel {
            guard (0..<image.channels).contains(channel) else {
                throw APIError(.badRequest, "channel must be 0 to \(image.channels - 1) (\(image.name) has \(image.channels) channel\(image.channels == 1 ? "" : "s")), got \(channel)")
            }
            c = channel
        } else if image.channels > 1 && !channelsEqual(decoded, plane: z) {
            throw APIError(.badRequest, "\(image.name) has \(image.channels) colour channels that differ (true colour); clustering works on one grey channel: choose a channel (0 = red, 1 = green, 2 = blue) or convert the image to greyscale")
        } else {
            c = 0
        }
        let grey: AnyImage
        switch decoded {
        case .uint8(let i): grey = AnyImage(i.plane(z, channel: c))
        case .uint16(let i): grey = AnyImage(i.plane(z, channel: c))
        case .float32(let i): grey = AnyImage(i.plane(z, channel: c))
        }
        let key = z == 0 && c == 0 ? image.sha256 : "\(image.sha256)#plane\(z)#channel\(c)"
        return (grey, key)
    }

    /// True when every channel of plane `z` holds the same samples as channel 0 (grey stored as colour).
    static func channelsEqual(_ image: AnyImage, plane z: Int) -> Bool {
        func equal<S: PixelScalar>(_ i: Image<S>) -> Bool {
            let size = i.shape.planeSize
            let first = i.shape.index(column: 0, row: 0, plane: z, channel: 0)
            return i.pixels.withUnsafeBufferPointer { p in
                (1..<i.channels).allSatisfy { c in
                    let start = i.shape.index(column: 0, row: 0, plane: z, channel: c)
                    return (0..<size).allSatisfy { p[start + $0] == p[first + $0] }
                }
            }
        }
        switch image {
        case .uint8(let i): return equal(i)
        case .uint16(let i): return equal(i)
        case .float32(let i): return equal(i)
        }
    }
}

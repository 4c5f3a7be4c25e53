import CleaveCore
import Foundation
import Hummingbird

/// A correction painted straight onto a prediction: its pixels take `class` in the prediction's
/// labels (fractions, pictures and exports follow at once), are marked as corrected by hand, become
/// reference labels of their own provenance (``Provenance/corrected``) and training labels of the
/// next model.
public struct CorrectionInput: Codable, Sendable {
    /// The page session that painted it (recorded with the `correction` event).
    public var sessionId: String?
    /// The page's clock when it was painted (ISO 8601), if sent.
    public var clientTime: String?
    /// The class value the pixels become (a class of the project).
    public var `class`: Int
    /// brush: within `radius` of the polyline `points`; lasso: inside the closed polygon `points`
    /// (even-odd rule at pixel centres); fill: the 4-connected region of pixels of the predicted
    /// class under `points[0]`.
    public var mode: String
    /// Vertices [x, y] in image pixel coordinates (finite; brush 1…10 000, lasso 3…10 000, fill
    /// exactly 1).
    public var points: [[Double]]
    /// Brush radius in pixels, 0.5…500 (default 4); brush mode only.
    public var radius: Double?
    /// The plane of a stack prediction (default: its first plane).
    public var plane: Int?
}

/// What a correction changed, with the prediction as it now is.
public struct CorrectionResponse: ResponseCodable, Equatable, Sendable {
    /// The corrected prediction (fractions recomputed).
    public var prediction: PredictionDTO
    /// Pixels whose label changed.
    public var changedPixels: Int
    /// Pixels marked as corrected (changed or confirmed).
    public var correctedPixels: Int
}

extension Workbench {
    /// Most pixels one fill may change (a fill that leaks into the whole background of a large
    /// image is allowed; this bounds the work per request).
    static let maximumCorrectionPoints = 10_000
    /// The `corrections` part of a prediction, per pixel: 0 not corrected, ``correctedMark``
    /// corrected by hand (a strong reference label and a training label), ``discardedCorrectionMark``
    /// corrected to a class that was deleted since (kept for provenance, used for nothing).
    static let correctedMark: UInt8 = 1
    static let discardedCorrectionMark: UInt8 = 2

    /// Applies a correction to a prediction (see ``CorrectionInput``) and records a 'correction' event.
    /// - Throws: 400 for an unknown mode, a class that is not the project's, points that are not
    ///   finite [x, y] pairs (brush 1…10 000, lasso 3…10 000, fill 1), a brush radius outside
    ///   0.5…500, a plane outside the prediction, a fill seed outside it; 404 for an unknown
    ///   prediction; 409 for a rejected one.
    public func correctPrediction(id: String, userID: String, input: CorrectionInput) async throws -> CorrectionResponse {
        let actor = try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        let existing = try await prediction(id: id)
        let image = try await image(id: existing.imageId)
        guard existing.state != "rejected" else { throw APIError(.conflict, "prediction \(id) was rejected; correct another result") }
        let classes = try await self.classes(projectID: image.projectId)
        guard let target = classes.first(where: { $0.value == input.class }) else {
            throw APIError(.badRequest, "class \(input.class) is not a class of this project (\(classes.map { String($0.value) }.joined(separator: ", ")))")
        }
        guard ["brush", "lasso", "fill"].contains(input.mode) else {
            throw APIError(.badRequest, "mode must be brush, lasso or fill, got \(input.mode.prefix(40))")
        }
        let range = input.mode == "lasso" ? 3...Workbench.maximumCorrectionPoints : input.mode == "fill" ? 1...1 : 1...Workbench.maximumCorrectionPoints
        guard range.contains(input.points.count) else {
            throw APIError(.badRequest, "points: a \(input.mode) correction takes \(range.lowerBound == range.upperBound ? "1" : "\(range.lowerBound) to \(range.upperBound)") points, got \(input.points.count)")
        }
        let limit = 1_000_000.0 + Double(max(image.width, image.height))
        for (k, point) in input.points.enumerated() {
            guard point.count == 2, point.allSatisfy({ $0.isFinite && abs($0) <= limit }) else {
                throw APIError(.badRequest, "points[\(k)] must be [x, y], two finite numbers within \(Int(limit)) of the image")
            }
        }
        let radius = input.radius ?? 4
        if input.mode == "brush" {
            guard radius.isFinite, (0.5...500).contains(radius) else { throw APIError(.badRequest, "radius must be 0.5 to 500 pixels, got \(radius)") }
        }
        let region = existing.region
        let plane = input.plane ?? region.firstPlane
        guard (region.firstPlane..<(region.firstPlane + region.planeCount)).contains(plane) else {
            throw APIError(.badRequest, "plane must be \(region.firstPlane) to \(region.firstPlane + region.planeCount - 1) (the prediction's planes), got \(plane)")
        }
        let width = region.width, height = region.height, offset = (plane - region.firstPlane) * width * height
        // The pixels of the prediction's plane the correction covers, in region coordinates.
        let covered: [Bool]
        switch input.mode {
        case "brush":
            let local = input.points.map { [$0[0] - Double(region.x), $0[1] - Double(region.y)] }
            let stroke = StrokeDTO(id: 0, imageId: image.id, class: 1, radius: radius, points: local, plane: 0, state: "active", createdAt: "")
            var painted = [UInt8](repeating: 0, count: width * height)
            StrokeRaster.paint([stroke], width: width, height: height, into: &painted)
            covered = painted.map { $0 != 0 }
        case "lasso":
            let polygon = input.points.map { (x: $0[0] - Double(region.x), y: $0[1] - Double(region.y)) }
            covered = PolygonMask.inside(polygon: polygon, region: Region(x: 0, y: 0, width: width, height: height))
        default:
            let x = Int(input.points[0][0].rounded(.down)) - region.x, y = Int(input.points[0][1].rounded(.down)) - region.y
            guard (0..<width).contains(x), (0..<height).contains(y) else {
                throw APIError(.badRequest, "the fill point (\(input.points[0][0]), \(input.points[0][1])) is outside the prediction")
            }
            let labels = try predictionLabels(existing)
            covered = Workbench.floodFill(Array(labels[offset..<(offset + width * height)]), width: width, height: height, seed: y * width + x)
        }
        let value = UInt8(clamping: target.value)
        return try await database.write { [self] db in
            // Read and written inside the transaction, so corrections of one prediction never interleave.
            var dto = try Workbench.get(PredictionDTO.self, id, db)
            var labels = try results.read(kind: "predictions", id: id, part: "labels")
            var corrections = (try? results.read(kind: "predictions", id: id, part: "corrections")) ?? []
            if corrections.count != labels.count { corrections = [UInt8](repeating: 0, count: labels.count) }
            var changed = 0, marked = 0
            for i in covered.indices where covered[i] {
                if labels[offset + i] != value { labels[offset + i] = value; changed += 1 }
                corrections[offset + i] = Workbench.correctedMark
                marked += 1
            }
            try results.write(labels, kind: "predictions", id: id, part: "labels")
            try results.write(corrections, kind: "predictions", id: id, part: "corrections")
            if !dto.classes.contains(where: { $0.value == target.value }) {
                dto.classes.append(ModelClassDTO(value: target.value, name: target.name, colour: target.colour))
            }
            let counted = Workbench.fractions(labels: labels, classes: dto.classes, spacing: image.spacing, region: region,
                                              roi: try storedRegionOfInterest(imageID: image.id, db))
            dto.fractions = counted.fractions
            dto.roi = counted.roi
            try db.update(dto, columns: ["summary", "state"])
            try Workbench.record("correction", by: actor, projectID: image.projectId, imageID: image.id, modelVersion: String(dto.modelVersion), payload: [
                "predictionId": .string(id), "mode": .string(input.mode), "class": .number(Double(target.value)),
                "plane": .number(Double(plane)), "points": .number(Double(input.points.count)),
                "changedPixels": .number(Double(changed)), "correctedPixels": .number(Double(marked))], db)
            return CorrectionResponse(prediction: dto, changedPixels: changed, correctedPixels: marked)
        }
    }

    /// The 4-connected region of pixels equal to `labels[seed]` that contains `seed`.
    /// - Complexity: O(width × height), an explicit stack (no recursion).
    static func floodFill(_ labels: [UInt8], width: Int, height: Int, seed: Int) -> [Bool] {
        var inside = [Bool](repeating: false, count: labels.count)
        let value = labels[seed]
        var stack = [seed]
        inside[seed] = true
        while let i = stack.popLast() {
            let x = i % width, y = i / width
            for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < width && ny >= 0 && ny < height {
                let j = ny * width + nx
                if !inside[j] && labels[j] == value { inside[j] = true; stack.append(j) }
            }
        }
        return inside
    }

    /// Corrected pixels of the image's predictions that were not rejected, as training labels over
    /// the whole image (plane-major; 0 = none), later predictions over earlier ones.
    func correctionLabels(image: ImageDTO) async throws -> [UInt8]? {
        let predictions = try await predictions(imageID: image.id).filter { $0.state != "rejected" }
        var volume: [UInt8]? = nil
        let planeSize = image.width * image.height
        for prediction in predictions {
            guard let corrections = predictionCorrections(prediction), corrections.contains(Workbench.correctedMark) else { continue }
            let values = try predictionLabels(prediction)
            guard values.count == corrections.count else { continue }
            if volume == nil { volume = [UInt8](repeating: 0, count: planeSize * image.depth) }
            let r = prediction.region
            for z in 0..<r.planeCount {
                for y in 0..<r.height {
                    for x in 0..<r.width {
                        let source = (z * r.height + y) * r.width + x
                        guard corrections[source] == Workbench.correctedMark, values[source] != 0 else { continue }
                        volume![(z + r.firstPlane) * planeSize + (y + r.y) * image.width + x + r.x] = values[source]
                    }
                }
            }
        }
        return volume
    }
}

import CleaveCore
import Foundation
import Hummingbird

/// The part of an image that results describe: inside a polygon the user drew, and not of a class
/// the user marked as outside the sample (e.g. the air around a core). Class fractions and objects
/// count only pixels inside it; the label TIFF and the class picture leave pixels outside the
/// polygon unlabelled (0). Reference labels are not clipped: what a pixel is does not depend on
/// what the study measures.
public struct RegionOfInterestDTO: ResponseCodable, Equatable, Sendable {
    /// The image it belongs to.
    public var imageId: String
    /// Vertices [x, y] in image pixel coordinates (pixel (i, j) covers [i, i+1) × [j, j+1)); a pixel
    /// is inside when its centre is (even-odd rule). Absent: the whole image.
    public var polygon: [[Double]]?
    /// Value of the class whose pixels are outside the sample; absent: none.
    public var outsideClass: Int?
    /// When it was last set (ISO 8601, UTC); absent when never set.
    public var updatedAt: String?
}

/// `PUT /api/images/{imageId}/roi`: the new region of interest; both fields absent clears it.
public struct RegionOfInterestInput: Codable, Sendable {
    /// Vertices [x, y] in image pixel coordinates, 3 to 10 000 of them (absent: the whole image).
    public var polygon: [[Double]]?
    /// Value of a project class whose pixels are outside the sample (absent: none).
    public var outsideClass: Int?
    /// The page session that asked (recorded with the `roi` event).
    public var sessionId: String?
    /// The page's clock when it asked (ISO 8601), if sent.
    public var clientTime: String?
}

/// What a prediction's fractions were computed over.
public struct RegionOfInterestSummaryDTO: Codable, Equatable, Sendable {
    /// Pixels counted in the fractions (inside the polygon and not of the outside class).
    public var insidePixels: Int
    /// All pixels of the prediction's region.
    public var totalPixels: Int
    /// Whether a polygon limited the count.
    public var polygon: Bool
    /// The outside class excluded from the count, if any.
    public var outsideClass: Int?
}

extension Workbench {
    /// The image's region of interest (polygon and outside class both absent when none is set).
    public func regionOfInterest(imageID: String) async throws -> RegionOfInterestDTO {
        _ = try await image(id: imageID)
        return try await database.read { db in try Workbench.regionOfInterest(imageID: imageID, db) }
    }

    static func regionOfInterest(imageID: String, _ db: any SQLConnection) throws -> RegionOfInterestDTO {
        try db.fetch(RegionOfInterestDTO.self, imageID) ?? RegionOfInterestDTO(imageId: imageID)
    }

    /// Sets (or, with neither field, clears) the image's region of interest, records an event and
    /// recomputes the class fractions of the image's predictions.
    /// - Throws: 400 for a polygon with fewer than 3 or more than 10 000 vertices, a vertex that is
    ///   not two finite numbers within a million pixels of the image, or an outside class that is
    ///   not a class of the project.
    public func setRegionOfInterest(imageID: String, userID: String, input: RegionOfInterestInput) async throws -> RegionOfInterestDTO {
        let actor = try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        let image = try await image(id: imageID)
        if let polygon = input.polygon {
            guard (3...10_000).contains(polygon.count) else {
                throw APIError(.badRequest, "polygon must have 3 to 10000 vertices, got \(polygon.count)")
            }
            let limit = 1_000_000.0 + Double(max(image.width, image.height))
            for (k, vertex) in polygon.enumerated() {
                guard vertex.count == 2, vertex.allSatisfy({ $0.isFinite && abs($0) <= limit }) else {
                    throw APIError(.badRequest, "polygon vertex \(k) must be [x, y], two finite numbers within \(Int(limit)) of the image, got \(vertex.prefix(3))")
                }
            }
        }
        if let value = input.outsideClass {
            let classes = try await classes(projectID: image.projectId)
            guard classes.contains(where: { $0.value == value }) else {
                throw APIError(.badRequest, "outsideClass \(value) is not a class of this project (\(classes.map { String($0.value) }.joined(separator: ", ")))")
            }
        }
        let roi = RegionOfInterestDTO(imageId: imageID, polygon: input.polygon, outsideClass: input.outsideClass, updatedAt: Workbench.now())
        let cleared = roi.polygon == nil && roi.outsideClass == nil
        // Fractions are recomputed outside the write transaction (label reads), then saved in it.
        let recomputed = try await recountedPredictions(imageID: imageID, spacing: image.spacing, roi: cleared ? nil : roi)
        try await database.write { db in
            if cleared {
                try db.delete(RegionOfInterestDTO.self, imageID)
            } else {
                try db.save(roi)
            }
            for prediction in recomputed { try db.update(prediction, columns: ["summary", "state"]) }
            var payload: [String: JSONValue] = ["vertices": .number(Double(roi.polygon?.count ?? 0))]
            if let value = roi.outsideClass { payload["outsideClass"] = .number(Double(value)) }
            _ = try Workbench.record("roi", by: actor, projectID: image.projectId, imageID: imageID, payload: payload, db)
        }
        return roi
    }

    /// The image's predictions with their class fractions (and region-of-interest summary) counted
    /// again for a new pixel size or region of interest, for the caller to save.
    func recountedPredictions(imageID: String, spacing: SpacingDTO?, roi: RegionOfInterestDTO?) async throws -> [PredictionDTO] {
        try await predictions(imageID: imageID).map { prediction in
            var prediction = prediction
            let counted = Workbench.fractions(labels: try predictionLabels(prediction), classes: prediction.classes, spacing: spacing,
                                              region: prediction.region, roi: roi)
            prediction.fractions = counted.fractions
            prediction.roi = counted.roi
            return prediction
        }
    }

    /// Which pixels of a result over `region` lie inside the polygon (plane after plane; the
    /// polygon applies to every plane), or nil when there is no polygon.
    static func polygonMask(_ roi: RegionOfInterestDTO?, region: RegionDTO) -> [Bool]? {
        guard let polygon = roi?.polygon, polygon.count >= 3 else { return nil }
        let plane = PolygonMask.inside(polygon: polygon.map { (x: $0[0], y: $0[1]) },
                                       region: Region(x: region.x, y: region.y, width: region.width, height: region.height))
        return region.planeCount == 1 ? plane : Array((0..<region.planeCount).map { _ in plane }.joined())
    }

    /// `labels` with the pixels outside the polygon set to 0 (unlabelled), for exports and pictures.
    static func clipped(_ labels: [UInt8], roi: RegionOfInterestDTO?, region: RegionDTO) -> [UInt8] {
        guard let mask = polygonMask(roi, region: region), mask.count == labels.count else { return labels }
        var out = labels
        for i in out.indices where !mask[i] { out[i] = 0 }
        return out
    }

    /// The image's region of interest as stored now (nil when none), for a job (on its own thread).
    func storedRegionOfInterest(imageID: String) throws -> RegionOfInterestDTO? {
        try database.read { db in try storedRegionOfInterest(imageID: imageID, db) }
    }

    /// The same for a request handler: an async read (a synchronous read on a cooperative thread
    /// can wait forever for a reader that an async read holds; docs/architecture.md).
    func storedRegionOfInterest(imageID: String) async throws -> RegionOfInterestDTO? {
        let roi = try await database.read { db in try Workbench.regionOfInterest(imageID: imageID, db) }
        return roi.polygon == nil && roi.outsideClass == nil ? nil : roi
    }

    /// The same inside a transaction (GRDB's database access is not reentrant).
    func storedRegionOfInterest(imageID: String, _ db: any SQLConnection) throws -> RegionOfInterestDTO? {
        let roi = try Workbench.regionOfInterest(imageID: imageID, db)
        return roi.polygon == nil && roi.outsideClass == nil ? nil : roi
    }
}

extension RegionOfInterestDTO: Record {
    static let table = "regions_of_interest"
    /// One row per image, keyed by the image.
    static let key = "image_id"
    static let noun = "region of interest"
    func columns() throws -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("image_id", imageId), ("polygon", try polygon.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }),
         ("outside_class", outsideClass), ("updated_at", updatedAt)]
    }

    /// A polygon that does not decode reads as none (as before the generic store).
    init(row: SQLRow) {
        let polygon = (row["polygon"] as String?).flatMap { try? JSONDecoder().decode([[Double]].self, from: Data($0.utf8)) }
        self.init(imageId: row["image_id"], polygon: polygon, outsideClass: row["outside_class"], updatedAt: row["updated_at"])
    }
}

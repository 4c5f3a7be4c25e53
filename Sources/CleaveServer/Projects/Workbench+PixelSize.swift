import CleaveCore
import Foundation

/// A pixel size given by hand, for files that carry none (PNGs, many SEM exports) or a wrong one:
/// areas in the fractions, the objects table and the scale bar then use it.
public struct PixelSizeInput: Codable, Sendable {
    /// Width of a pixel; absent together with `unit`: the image has no pixel size any more.
    public var x: Double?
    /// Height of a pixel (default: `x`, square pixels).
    public var y: Double?
    /// One of ``Workbench/pixelSizeUnits`` (`um` is read as µm).
    public var unit: String?
    /// The page session that asked (recorded with the `image.pixelSize` event).
    public var sessionId: String?
    /// The page's clock when it asked (ISO 8601), if sent.
    public var clientTime: String?
}

extension Workbench {
    /// The length units a pixel size may be given in.
    public static let pixelSizeUnits = ["pm", "Å", "nm", "µm", "mm", "m"]

    /// Sets (or clears) the image's pixel size, recomputes the areas in its predictions' class
    /// fractions and records an `image.pixelSize` event.
    /// - Throws: 400 when `x` or `y` is not a finite number above 0 and at most 10⁶, when the unit
    ///   is not one of ``pixelSizeUnits``, or when only one of `x` and `unit` is given.
    public func setPixelSize(imageID: String, userID: String, input: PixelSizeInput) async throws -> ImageDTO {
        let actor = try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        var image = try await image(id: imageID)
        let spacing: SpacingDTO?
        switch (input.x, input.unit) {
        case (nil, nil):
            guard input.y == nil else { throw APIError(.badRequest, "y needs x and unit (or none of them, to clear the pixel size)") }
            spacing = nil
        case let (x?, unit?):
            let y = input.y ?? x
            for (field, value) in [("x", x), ("y", y)] where !(value.isFinite && value > 0 && value <= 1e6) {
                throw APIError(.badRequest, "\(field) must be a pixel size above 0 and at most 1000000, got \(value)")
            }
            let normalized = unit == "um" ? "µm" : unit
            guard Workbench.pixelSizeUnits.contains(normalized) else {
                throw APIError(.badRequest, "unit must be one of \(Workbench.pixelSizeUnits.joined(separator: ", ")), got \"\(unit.prefix(20))\"")
            }
            spacing = SpacingDTO(x: x, y: y, unit: normalized)
        case (nil, _?):
            throw APIError(.badRequest, "unit needs x, the pixel width")
        case (_?, nil):
            throw APIError(.badRequest, "x needs unit (one of \(Workbench.pixelSizeUnits.joined(separator: ", ")))")
        }
        image.spacing = spacing
        let recomputed = try await recountedPredictions(imageID: imageID, spacing: spacing,
                                                        roi: try await storedRegionOfInterest(imageID: imageID))
        let projectID = image.projectId, changed = image
        try await database.write { db in
            try db.update(changed, columns: ["spacing_x", "spacing_y", "spacing_unit"])
            for prediction in recomputed { try db.update(prediction, columns: ["summary", "state"]) }
            let payload: [String: JSONValue] = spacing.map { ["x": .number($0.x), "y": .number($0.y), "unit": .string($0.unit)] } ?? ["cleared": .bool(true)]
            _ = try Workbench.record("image.pixelSize", by: actor, projectID: projectID, imageID: imageID, payload: payload, db)
        }
        return image
    }
}

import CleaveCore
import CleaveFormats
import CleaveObjects
import CleavePipelines
import CleaveRender
import Foundation

/// Downloads of results in the formats other tools read: class probabilities as a float TIFF,
/// object outlines as GeoJSON, and a picture of the image with its class overlay.
extension Workbench {
    /// The prediction's class probabilities as a float32 TIFF with one page per class (in the
    /// order of the prediction's `classes`), over the prediction's region, with the image's pixel size.
    /// - Throws: 404 for an unknown prediction.
    public func predictionProbabilitiesTIFF(id: String) async throws -> [UInt8] {
        let dto = try await prediction(id: id)
        let image = try await image(id: dto.imageId)
        let probabilities = try results.readFloats(kind: "predictions", id: id, part: "probabilities")
        // Classes are ImageJ channels (planes of a stack are slices), so Fiji shows one class per channel.
        let shape = Shape(width: dto.region.width, height: dto.region.height, depth: dto.region.planeCount, channels: dto.classes.count)
        guard probabilities.count == shape.count else {
            throw APIError(.internalServerError, "result file predictions/\(id).probabilities holds \(probabilities.count) values, expected \(shape.count)")
        }
        let spacing = image.spacing.map { Spacing(x: $0.x, y: $0.y, unit: $0.unit) }
        return try ImageFile.encode(Image<Float>(shape: shape, pixels: probabilities, spacing: spacing), as: .tiff)
    }

    /// The image's plane 0 over the prediction's region, through its default contrast window, with
    /// the class colours blended in at `opacity` (CleaveRender's `Display.overlay`), as an RGB PNG.
    /// - Throws: 400 for an opacity outside 0…1, 404 for an unknown prediction.
    public func predictionOverlayPNG(id: String, opacity: Double, plane: Int? = nil) async throws -> [UInt8] {
        guard opacity.isFinite, (0...1).contains(opacity) else { throw APIError(.badRequest, "opacity must be 0 to 1, got \(opacity)") }
        let dto = try await prediction(id: id)
        let entry = try await decoded(try await image(id: dto.imageId))
        let labels = Array(try Workbench.resultPlane(try await clippedPredictionLabels(dto), region: dto.region, plane: plane))
        let z = plane ?? dto.region.firstPlane
        let region = Region(x: dto.region.x, y: dto.region.y, width: dto.region.width, height: dto.region.height)
        let window = entry.window.low...max(entry.window.high, entry.window.low + 1e-12)
        let grey: Image<UInt8>
        switch entry.image {
        case .uint8(let i): grey = Display.grey(i.plane(z).cropped(to: region), window: window)
        case .uint16(let i): grey = Display.grey(i.plane(z).cropped(to: region), window: window)
        case .float32(let i): grey = Display.grey(i.plane(z).cropped(to: region), window: window)
        }
        var colours = [RGB?](repeating: nil, count: 256)
        for c in dto.classes where (0..<256).contains(c.value) { colours[c.value] = RGB(hex: c.colour) }
        let picture = Display.overlay(grey: grey, labels: labels.map { Int32($0) },
                                      colours: { colours[Int($0)] }, opacity: opacity)
        return try ImageFile.encode(picture, as: .png)
    }

    /// The object outlines as a GeoJSON FeatureCollection (CleavePipelines' ``ObjectsGeoJSON``):
    /// one feature per object, pixel coordinates of the prediction's region (x = column, y = row),
    /// the object's class (including reclassifications) and its measurements as properties.
    /// - Throws: 404 for an unknown object set.
    public func objectsGeoJSON(setID: String) async throws -> String {
        let dto = try await objectSet(id: setID)
        let prediction = try await prediction(id: dto.predictionId)
        guard dto.region.planeCount == 1 else {
            throw APIError(.badRequest, "GeoJSON outlines are 2D; object set \(setID) spans \(dto.region.planeCount) planes (use the CSV)")
        }
        let labels = try results.readArray(Int32.self, kind: "objects", id: setID, part: "labels")
        let shape = Shape(width: dto.region.width, height: dto.region.height)
        guard labels.count == shape.count else {
            throw APIError(.internalServerError, "result file objects/\(setID).labels holds \(labels.count) labels, expected \(shape.count)")
        }
        let outlines: [ObjectOutline]
        do { outlines = try Outlines.trace(LabelImage(shape: shape, labels: labels, objectCount: dto.count)) }
        catch { throw APIError(.internalServerError, String(describing: error)) }
        var table = ObjectTable(labels: dto.objects.map { Int32($0.id) })
        for name in dto.columns {
            table.setColumn(name, dto.objects.map { ($0.values[name] ?? nil) ?? .nan })
        }
        if dto.objects.contains(where: { $0.class != nil }) { table.classes = dto.objects.map { $0.class ?? "" } }
        var colours: [String: RGB] = [:]
        for c in prediction.classes { colours[c.name] = RGB(hex: c.colour) }
        return ObjectsGeoJSON.encode(outlines, table: table, classColours: colours)
    }
}

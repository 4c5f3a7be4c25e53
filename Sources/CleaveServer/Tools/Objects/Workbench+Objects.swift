import CleaveCore
import CleaveFormats
import CleaveObjects
import CleavePipelines
import CleaveRender
import Foundation
import Hummingbird

/// `POST /api/images/{imageId}/objects`: which class of which prediction to turn into measured
/// objects.
public struct ObjectsInput: Codable, Sendable {
    /// The page session that asked (recorded with the `objects.run` event).
    public var sessionId: String?
    /// The page's clock when it asked (ISO 8601), if sent.
    public var clientTime: String?
    /// The prediction of this image whose labels are split into objects.
    public var predictionId: String
    /// Class value whose connected regions become objects.
    public var `class`: Int
    /// Objects smaller than this many pixels (voxels in a stack) are dropped; at least 1 (the default).
    public var minimumSize: Int?
}

/// One object and its measurements (NaN measurements are null).
public struct ObjectDTO: ResponseCodable, Equatable, Sendable {
    /// The object's label number in `labels.png` order (1…count).
    public var id: Int
    /// The object's class name: the prediction class's name, or the name a reclassification gave it.
    public var `class`: String?
    /// Measurement name (a column of ``ObjectSetDTO/columns``, e.g. `area`) → value; null where NaN.
    public var values: [String: Double?]
}

/// Objects of one class of a prediction.
public struct ObjectSetDTO: ResponseCodable, Equatable, Sendable {
    /// The object set's id (the `{objectSetId}` of its routes).
    public var id: String
    /// The id of the image the prediction belongs to.
    public var imageId: String
    /// The prediction whose labels were split into objects.
    public var predictionId: String
    /// The class value whose connected regions became the objects.
    public var `class`: Int
    /// The prediction's region of the image; the objects were found inside it.
    public var region: RegionDTO
    /// Objects found (after dropping those under the minimum size).
    public var count: Int
    /// The measurement names, in table (CSV) order.
    public var columns: [String]
    /// Every object, in label order.
    public var objects: [ObjectDTO]
    /// When it was stored (ISO 8601, UTC).
    public var createdAt: String
}

/// `POST /api/objectsets/{objectSetId}/objects/{objectId}/class`: the new class name of one object.
public struct ReclassifyInput: Codable, Sendable {
    /// The page session that asked (recorded with the `object.reclassify` event).
    public var sessionId: String?
    /// The page's clock when it asked (ISO 8601), if sent.
    public var clientTime: String?
    /// The new class name, 1 to 100 characters after trimming (a class of the prediction or project
    /// also relabels the pixels).
    public var `class`: String
}

extension Workbench {
    /// Starts finding and measuring the objects of one class of a prediction (CleavePipelines'
    /// ``ObjectsPipeline``, the code behind `cleave objects`).
    public func startObjects(imageID: String, userID: String, input: ObjectsInput) async throws -> JobDTO {
        let actor = try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        let image = try await image(id: imageID)
        let prediction = try await prediction(id: input.predictionId)
        guard prediction.imageId == imageID else { throw APIError(.badRequest, "prediction \(input.predictionId) is of another image") }
        guard prediction.classes.contains(where: { $0.value == input.class }) else {
            throw APIError(.badRequest, "class \(input.class) is not one of the prediction's classes (\(prediction.classes.map { String($0.value) }.joined(separator: ", ")))")
        }
        let minimumSize = input.minimumSize ?? 1
        guard minimumSize >= 1 else { throw APIError(.badRequest, "minimumSize must be at least 1, got \(minimumSize)") }
        let pixels = try await decoded(image).image
        let params = try JSONValue.from(input)
        return try jobs.submit(kind: "objects", imageID: imageID, projectID: image.projectId, params: params) { [self] context in
            let region = prediction.region
            // Only pixels inside the region of interest form objects: outside its polygon or of
            // its outside class they are background.
            let roi = try storedRegionOfInterest(imageID: imageID)
            var labels = Workbench.clipped(try predictionLabels(prediction), roi: roi, region: region)
            if let outside = roi?.outsideClass { for i in labels.indices where Int(labels[i]) == outside { labels[i] = 0 } }
            let spacing = image.spacing.map { Spacing(x: $0.x, y: $0.y, unit: $0.unit) }
            // A stack prediction gives 3D objects (connected across planes).
            let classImage = Image<UInt8>(shape: Shape(width: region.width, height: region.height, depth: region.planeCount),
                                          pixels: labels, spacing: spacing)
            var options = ObjectsOptions()
            options.foreground = .classValue(Double(input.class))
            options.minimumSize = minimumSize
            let grey = Workbench.crop(pixels, to: Region(x: region.x, y: region.y, z: region.firstPlane, width: region.width,
                                                         height: region.height, depth: region.planeCount))
            let result: ObjectsResult
            do { result = try ObjectsPipeline.run(AnyImage(classImage), intensity: grey, options: options, progress: context.progress()) }
            catch { throw APIError(.badRequest, error) }
            try context.checkCancelled()
            let table = result.table
            let className = prediction.classes.first(where: { $0.value == input.class })?.name
            var objects: [ObjectDTO] = []
            for row in 0..<table.count {
                var values: [String: Double?] = [:]
                for name in table.columnNames {
                    let v = table.value(name, row: row)
                    values[name] = (v?.isFinite ?? false) ? v : nil
                }
                objects.append(ObjectDTO(id: Int(table.labels[row]), class: className, values: values))
            }
            let id = Workbench.newID()
            try results.write(result.labels.labels, kind: "objects", id: id, part: "labels")
            let dto = ObjectSetDTO(id: id, imageId: imageID, predictionId: prediction.id, class: input.class, region: region,
                                   count: objects.count, columns: table.columnNames, objects: objects, createdAt: Workbench.now())
            try database.write { db in
                try db.insert(dto, extra: [("job_id", context.id)])
                try Workbench.record("objects.run", by: actor, projectID: image.projectId, imageID: imageID,
                                     modelVersion: String(prediction.modelVersion), payload: [
                    "objectSetId": .string(id), "predictionId": .string(prediction.id), "class": .number(Double(input.class)),
                    "minimumSize": .number(Double(minimumSize)), "count": .number(Double(objects.count))], db)
            }
            return .object(["objectSetId": .string(id)])
        }
    }

    /// `GET /api/objectsets/{objectSetId}` (viewers and up): an object set with every object's
    /// measurements, as stored when the objects job finished.
    ///
    /// - Throws: ``APIError`` 404 for an unknown object set id.
    public func objectSet(id: String) async throws -> ObjectSetDTO {
        try await get(ObjectSetDTO.self, id)
    }

    /// Gives one object another class name (`object.reclassify` event with the old and new class).
    /// When the name is a class of the prediction or the project, the object's pixels take that
    /// class in the prediction's labels too (label TIFF, overlays, fractions) and become strong
    /// reference labels (a correction by hand); any other name only labels the object (CSV, GeoJSON).
    public func reclassifyObject(setID: String, objectID: Int, userID: String, input: ReclassifyInput) async throws -> ObjectDTO {
        let actor = try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        let name = try Workbench.cleanName(input.class, what: "class")
        let existing = try await objectSet(id: setID)
        guard existing.objects.contains(where: { $0.id == objectID }) else {
            throw APIError(.notFound, "no object \(objectID) in object set \(setID) (objects are 1 to \(existing.count))")
        }
        let image = try await image(id: existing.imageId)
        let prediction = try await prediction(id: existing.predictionId)
        let projectClasses = try await classes(projectID: image.projectId)
        let target = prediction.classes.first(where: { $0.name.lowercased() == name.lowercased() })
            ?? projectClasses.first(where: { $0.name.lowercased() == name.lowercased() }).map { ModelClassDTO(value: $0.value, name: $0.name, colour: $0.colour) }
        return try await database.write { [self] db in
            if let target {
                try correctPrediction(prediction.id, objectSet: existing, objectID: objectID, to: target, spacing: image.spacing, db)
            }
            var dto = try Workbench.get(ObjectSetDTO.self, setID, db)
            let index = dto.objects.firstIndex { $0.id == objectID }!
            let old = dto.objects[index].class
            dto.objects[index].class = name
            try db.update(dto, columns: ["summary"])
            try Workbench.record("object.reclassify", by: actor, projectID: image.projectId, imageID: image.id, payload: [
                "objectSetId": .string(setID), "objectId": .number(Double(objectID)),
                "from": old.map(JSONValue.string) ?? .null, "to": .string(name),
                "classValue": target.map { .number(Double($0.value)) } ?? .null], db)
            return dto.objects[index]
        }
    }

    /// Paints object `objectID` of `set` with `target`'s class value in the prediction's labels,
    /// marks its pixels as corrected by hand (`corrections` part: 1 = corrected) and updates the
    /// prediction's classes and fractions. Runs inside the reclassification's write transaction,
    /// so concurrent reclassifications of one prediction do not interleave.
    func correctPrediction(_ predictionID: String, objectSet set: ObjectSetDTO, objectID: Int, to target: ModelClassDTO,
                           spacing: SpacingDTO?, _ db: any SQLConnection) throws {
        var dto = try Workbench.get(PredictionDTO.self, predictionID, db)
        let objects = try results.readArray(Int32.self, kind: "objects", id: set.id, part: "labels")
        var labels = try results.read(kind: "predictions", id: predictionID, part: "labels")
        guard objects.count == labels.count else {
            throw APIError(.internalServerError, "object labels (\(objects.count)) and prediction labels (\(labels.count)) differ in size")
        }
        var corrections = (try? results.read(kind: "predictions", id: predictionID, part: "corrections")) ?? [UInt8](repeating: 0, count: labels.count)
        if corrections.count != labels.count { corrections = [UInt8](repeating: 0, count: labels.count) }
        let value = UInt8(clamping: target.value), id = Int32(objectID)
        for i in objects.indices where objects[i] == id {
            labels[i] = value
            corrections[i] = Workbench.correctedMark
        }
        try results.write(labels, kind: "predictions", id: predictionID, part: "labels")
        try results.write(corrections, kind: "predictions", id: predictionID, part: "corrections")
        if !dto.classes.contains(where: { $0.value == target.value }) { dto.classes.append(target) }
        let counted = Workbench.fractions(labels: labels, classes: dto.classes, spacing: spacing, region: dto.region,
                                          roi: try storedRegionOfInterest(imageID: dto.imageId, db))
        dto.fractions = counted.fractions
        dto.roi = counted.roi
        try db.update(dto, columns: ["summary", "state"])
    }

    /// The image's object sets, oldest first (so the page can reopen them after a reload).
    public func objectSets(imageID: String) async throws -> [ObjectSetDTO] {
        _ = try await image(id: imageID)
        return try await list(ObjectSetDTO.self, "image_id", imageID, orderBy: "created_at, id")
    }

    /// The prediction's class values with the pixels outside the image's region-of-interest
    /// polygon set to 0, as exports and pictures show them.
    func clippedPredictionLabels(_ dto: PredictionDTO) async throws -> [UInt8] {
        Workbench.clipped(try predictionLabels(dto), roi: try await storedRegionOfInterest(imageID: dto.imageId), region: dto.region)
    }

    /// The prediction's class values, plane-major (reclassified objects included).
    func predictionLabels(_ dto: PredictionDTO) throws -> [UInt8] {
        try results.read(kind: "predictions", id: dto.id, part: "labels")
    }

    /// Pixels of the prediction corrected by hand (reclassified objects), or nil when none were.
    func predictionCorrections(_ dto: PredictionDTO) -> [UInt8]? {
        try? results.read(kind: "predictions", id: dto.id, part: "corrections")
    }

    /// The object table as CSV (label, class, then every measurement).
    public func objectsCSV(setID: String) async throws -> String {
        let dto = try await objectSet(id: setID)
        var lines = [(["label", "class"] + dto.columns).joined(separator: ",")]
        for object in dto.objects {
            let cls = object.class.map(CSVText.field) ?? ""
            let values = dto.columns.map { name -> String in
                guard let v = object.values[name] ?? nil else { return "" }
                return String(v)
            }
            lines.append(([String(object.id), cls] + values).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Objects drawn in categorical colours over the prediction's region.
    public func objectsPNG(setID: String, opacity: Double, plane: Int? = nil) async throws -> [UInt8] {
        guard opacity.isFinite, (0...1).contains(opacity) else { throw APIError(.badRequest, "opacity must be 0 to 1, got \(opacity)") }
        let dto = try await objectSet(id: setID)
        let labels = Array(try Workbench.resultPlane(try results.readArray(Int32.self, kind: "objects", id: setID, part: "labels"),
                                                     region: dto.region, plane: plane))
        let alpha = UInt8((opacity * 255).rounded())
        return try Workbench.rgbaPNG(width: dto.region.width, height: dto.region.height) { i in
            labels[i] == 0 ? nil : (Palette.colour(forIndex: Int(labels[i]) - 1), alpha)
        }
    }
}

extension ObjectSetDTO: SummaryRecord {
    static let table = "object_sets"
    static let noun = "object set"
    /// The job that measured the set is written at insert (`extra`): the set's JSON does not hold it.
    func indexColumns() -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("image_id", imageId), ("prediction_id", predictionId), ("created_at", createdAt)]
    }
}

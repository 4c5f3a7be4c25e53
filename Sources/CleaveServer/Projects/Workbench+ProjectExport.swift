import CleaveCore
import CleaveFormats
import Foundation

/// The reference-data export: a project's images, reference labels and provenance, strokes, events
/// and metadata as one zip (`POST /api/projects/{projectId}/export`; `cleave import-project` and
/// the project import read it back).
extension Workbench {
    /// Writes the project's reference data as a zip (see docs/api.md) and returns its path (a
    /// temporary file the caller deletes). With `openData`, only a consenting project's images
    /// and events are included; `metadata.json` says what was left out and why.
    public func exportProject(projectID: String, userID: String, sessionID: String?, openData: Bool) async throws -> String {
        let actor = try Actor(userID: userID, sessionID: sessionID)
        let project = try await project(id: projectID)
        let images = try await images(projectID: projectID)
        let classes = try await classes(projectID: projectID)
        let path = blobs.temporaryPath() + ".zip"
        let zip = try ZipWriter(path: path)
        do {
            let include = !openData || project.consent
            var imageEntries: [JSONValue] = [], excluded: [JSONValue] = []
            for image in images {
                guard include else {
                    excluded.append(.object(["id": .string(image.id), "name": .string(image.name),
                                             "reason": .string("the project has not consented to open data")]))
                    continue
                }
                let (labels, provenance, summary) = try await reference(imageID: image.id)
                let spacing = image.spacing.map { Spacing(x: $0.x, y: $0.y, unit: $0.unit) }
                let shape = Shape(width: image.width, height: image.height, depth: image.depth)
                let ext = image.format == "png" ? "png" : image.format == "mrc" ? "mrc" : "tif"
                let imageFile = "images/\(image.id).\(ext)", labelsFile = "labels/\(image.id).tif", provenanceFile = "provenance/\(image.id).tif"
                try zip.add(imageFile, file: blobs.path(for: image.sha256))
                try zip.add(labelsFile, bytes: try ImageFile.encode(Image<UInt8>(shape: shape, pixels: labels, spacing: spacing), as: .tiff))
                try zip.add(provenanceFile, bytes: try ImageFile.encode(Image<UInt8>(shape: shape, pixels: provenance, spacing: spacing), as: .tiff))
                // The strokes themselves (format version 2), so that `cleave import-project` and
                // POST /api/projects/import rebuild the painted labels rather than a picture of them.
                let strokesFile = "strokes/\(image.id).json"
                try zip.add(strokesFile, bytes: try await exportedStrokes(imageID: image.id))
                var entry: [String: JSONValue] = [
                    "id": .string(image.id), "name": .string(image.name), "sha256": .string(image.sha256),
                    "width": .number(Double(image.width)), "height": .number(Double(image.height)), "format": .string(image.format),
                    "consent": .bool(project.consent), "image": .string(imageFile), "labels": .string(labelsFile),
                    "provenance": .string(provenanceFile), "strokes": .string(strokesFile), "depth": .number(Double(image.depth)),
                    "strongPixels": .number(Double(summary.strongPixels)),
                    "weakPixels": .number(Double(summary.weakPixels)), "discardedStrokes": .number(Double(summary.discardedStrokes)),
                ]
                entry["pixelSize"] = image.spacing.map { .object(["x": .number($0.x), "y": .number($0.y), "unit": .string($0.unit)]) } ?? .null
                imageEntries.append(.object(entry))
            }
            var events: [EventDTO] = []
            if include {
                events = try await database.read { db in
                    try db.fetchAll(EventDTO.self, where: "project_id = ?", [projectID], orderBy: "id")
                }
            }
            try zip.add("events.csv", bytes: Array(Workbench.csv(events).utf8))
            let metadata: JSONValue = .object([
                "format": .string("cleave-reference-data"), "formatVersion": .number(Double(Workbench.exportFormatVersion)), "cleaveVersion": .string(cleaveVersion),
                "exportedAt": .string(Workbench.now()), "licence": .string("CC-BY-4.0"), "openData": .bool(openData),
                "project": .object(["id": .string(project.id), "name": .string(project.name), "consent": .bool(project.consent),
                                     "createdAt": .string(project.createdAt)]),
                "classes": .array(classes.map { .object(["value": .number(Double($0.value)), "name": .string($0.name), "colour": .string($0.colour)]) }),
                "provenance": .object(["0": .string("none"), "1": .string("weak: picked cluster or accepted result"),
                                       "2": .string("strong: painted by hand"),
                                       "3": .string("strong: a result corrected by hand")]),
                "images": .array(imageEntries), "excluded": .array(excluded), "eventCount": .number(Double(events.count)),
            ])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try zip.add("metadata.json", bytes: Array(try encoder.encode(metadata)))
            try zip.finish()
            try record("export", by: actor, projectID: projectID, imageID: nil, payload: [
                "openData": .bool(openData), "images": .number(Double(imageEntries.count)), "excluded": .number(Double(excluded.count))])
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return path
    }
}

import Foundation
import Hummingbird

/// What deleting a project or an image takes with it: the page's confirm names these counts
/// before anything is deleted, and the deletion answers with the counts it removed.
public struct DeletionSummaryDTO: ResponseCodable, Equatable, Sendable {
    /// Images (1 for an image's deletion).
    public var images: Int
    /// Strokes in any state (active, undone, discarded).
    public var strokes: Int
    /// Clusterings of those images.
    public var clusterings: Int
    /// Predictions of those images.
    public var predictions: Int
    /// Object sets of those images.
    public var objectSets: Int
    /// Trained models (project deletion only; an image's deletion keeps the project's models).
    public var models: Int
    /// Classes (project deletion only).
    public var classes: Int
    /// Jobs of the image or project that were queued or running (cancelled before deleting).
    public var runningJobs: Int
    // Not counted here: blobs removed. Whether another project holds the same file would tell
    // one group about another's images.
}

/// The body of `PUT /api/projects/{id}` and `PUT /api/images/{id}` (rename).
public struct RenameInput: Codable, Sendable {
    /// The new name; cleaned as at creation or upload (1 to 200 characters).
    public var name: String
    /// The page session renaming it (recorded in the event).
    public var sessionId: String?
    /// The page's clock (ISO 8601), recorded in the event.
    public var clientTime: String?
}

/// Renaming and deleting projects and images (issue 22, item 5).
///
/// Deleting runs in three steps, so that no job writes a result for a row that is gone and no file
/// outlives its row:
/// ```
/// cancel the image's (project's) queued and running jobs, wait until they stop
///   → one transaction: count, delete the rows (strokes, results, regions of interest follow by
///     cascade), delete the jobs' rows, record the event
///   → remove the results' files, the cached tiles, and each blob no remaining image refers to
/// ```
/// Events and the audit log are kept: they are the record of what was done.
extension Workbench {
    /// How long a deletion waits for cancelled jobs to stop before it answers 409.
    static let cancellationWait: Duration = .seconds(120)

    /// Renames a project ('project.rename' event when a session id is given).
    /// - Throws: 400 for a name of 0 or more than 200 characters; 404 for an unknown project.
    public func renameProject(id: String, userID: String, input: RenameInput) async throws -> ProjectDTO {
        let name = try Workbench.cleanName(input.name, what: "project name", limit: 200)
        let actor = input.sessionId == nil ? nil : try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        var project = try await project(id: id)
        let old = project.name
        project.name = name
        let renamed = project
        try await database.write { db in
            try db.update(renamed, columns: ["name"])
            if let actor {
                try Workbench.record("project.rename", by: actor, projectID: id, imageID: nil,
                                     payload: ["from": .string(old), "to": .string(name)], db)
            }
        }
        return project
    }

    /// Renames an image (a display name, sanitised as at upload; 'image.rename' event).
    /// - Throws: 400 for an empty name; 404 for an unknown image.
    public func renameImage(id: String, userID: String, input: RenameInput) async throws -> ImageDTO {
        _ = try Workbench.cleanName(input.name, what: "image name", limit: 200)
        let name = Workbench.sanitizedName(input.name)
        let actor = input.sessionId == nil ? nil : try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        var image = try await image(id: id)
        let old = image.name, projectID = image.projectId
        image.name = name
        let renamed = image
        try await database.write { db in
            try db.update(renamed, columns: ["name"])
            if let actor {
                try Workbench.record("image.rename", by: actor, projectID: projectID, imageID: id,
                                     payload: ["from": .string(old), "to": .string(name)], db)
            }
        }
        return image
    }

    /// What deleting the image would remove (nothing is changed).
    public func imageDeletionPreview(id: String) async throws -> DeletionSummaryDTO {
        let image = try await image(id: id)
        return try await database.read { [self] db in try deletionSummary(imageIDs: [image.id], projectID: nil, db) }
    }

    /// What deleting the project would remove (nothing is changed).
    public func projectDeletionPreview(id: String) async throws -> DeletionSummaryDTO {
        _ = try await project(id: id)
        return try await database.read { [self] db in
            let images = try String.fetchAll(db, sql: "SELECT id FROM images WHERE project_id = ?", arguments: [id])
            return try deletionSummary(imageIDs: images, projectID: id, db)
        }
    }

    /// Deletes an image with its strokes, clusterings, predictions, object sets, region of
    /// interest, jobs and their files, and its cached tiles; its blob too when no other image (in
    /// any project) has the same content.
    /// The project's models stay (they carry their own class list and training record).
    /// Records an 'image.delete' event when a session id is given.
    /// - Throws: 404 for an unknown image; 409 when a cancelled job does not stop in time.
    public func deleteImage(id: String, userID: String, sessionID: String?) async throws -> DeletionSummaryDTO {
        let actor = sessionID == nil ? nil : try Actor(userID: userID, sessionID: sessionID)
        let image = try await image(id: id)
        let cancelled = try await cancelJobs(imageIDs: [id], projectID: nil)
        let withdrawn = LockedValue<[String]>([])
        let (summary, files, digests) = try await withBlobsWithdrawn(withdrawn) { [self] in try await database.write { [self] db in
            var summary = try deletionSummary(imageIDs: [id], projectID: nil, db)
            summary.runningJobs = cancelled
            let files = try resultFiles(imageIDs: [id], projectID: nil, db)
            try db.execute(sql: "DELETE FROM jobs WHERE image_id = ?", arguments: [id])
            try db.delete(ImageDTO.self, id)
            let orphaned = try Workbench.unreferenced([image.sha256], db)
            try withdraw(orphaned, into: withdrawn)
            if let actor {
                try Workbench.record("image.delete", by: actor, projectID: image.projectId, imageID: id,
                                     payload: summary.payload.merging(["name": .string(image.name), "sha256": .string(image.sha256)]) { _, b in b }, db)
            }
            return (summary, files, orphaned)
        } }
        removeFiles(files, imageIDs: [id], digests: digests)
        return summary
    }

    /// Deletes a project and everything of it: images (as ``deleteImage``), classes, models,
    /// members, jobs and their files. Records a 'project.delete' event when a session id is given.
    /// - Throws: 404 for an unknown project; 409 when a cancelled job does not stop in time.
    public func deleteProject(id: String, userID: String, sessionID: String?) async throws -> DeletionSummaryDTO {
        let actor = sessionID == nil ? nil : try Actor(userID: userID, sessionID: sessionID)
        let project = try await project(id: id)
        let imageIDs = try await database.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM images WHERE project_id = ?", arguments: [id])
        }
        let cancelled = try await cancelJobs(imageIDs: imageIDs, projectID: id)
        let withdrawn = LockedValue<[String]>([])
        let (summary, files, digests, removedImages) = try await withBlobsWithdrawn(withdrawn) { [self] in try await database.write { [self] db in
            // Images uploaded while the jobs stopped are deleted too.
            let images = try SQLRow.fetchAll(db, sql: "SELECT id, sha256 FROM images WHERE project_id = ?", arguments: [id])
            let imageIDs = images.map { $0["id"] as String }
            var summary = try deletionSummary(imageIDs: imageIDs, projectID: id, db)
            summary.runningJobs = cancelled
            let files = try resultFiles(imageIDs: imageIDs, projectID: id, db)
            for imageID in imageIDs { try db.execute(sql: "DELETE FROM jobs WHERE image_id = ?", arguments: [imageID]) }
            try db.execute(sql: "DELETE FROM jobs WHERE project_id = ?", arguments: [id])
            try db.delete(ProjectDTO.self, id)
            let orphaned = try Workbench.unreferenced(Set(images.map { $0["sha256"] as String }), db)
            try withdraw(orphaned, into: withdrawn)
            if let actor {
                try Workbench.record("project.delete", by: actor, projectID: id, imageID: nil,
                                     payload: summary.payload.merging(["name": .string(project.name)]) { _, b in b }, db)
            }
            return (summary, files, orphaned, imageIDs)
        } }
        removeFiles(files, imageIDs: removedImages, digests: digests)
        return summary
    }

    // MARK: - Steps

    /// Cancels the queued and running jobs of the images or the project and waits until each has
    /// stopped. Returns how many there were.
    func cancelJobs(imageIDs: [String], projectID: String?) async throws -> Int {
        let ids = jobs.unfinished(imageIDs: Set(imageIDs), projectID: projectID)
        for id in ids { _ = jobs.cancel(id) }
        let queue = jobs
        let stopped = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for id in ids { _ = await queue.wait(id) }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: Workbench.cancellationWait)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard stopped else {
            throw APIError(.conflict, "\(ids.count) job(s) of this \(projectID == nil ? "image" : "project") were cancelled but have not stopped yet; try again in a moment")
        }
        return ids.count
    }

    /// Counts what belongs to `imageIDs` (and, with `projectID`, to the project itself).
    func deletionSummary(imageIDs: [String], projectID: String?, _ db: any SQLConnection) throws -> DeletionSummaryDTO {
        func count(_ table: String) throws -> Int {
            try imageIDs.reduce(0) { sum, id in
                sum + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE image_id = ?", arguments: [id]) ?? 0)
            }
        }
        func projectCount(_ table: String) throws -> Int {
            guard let projectID else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE project_id = ?", arguments: [projectID]) ?? 0
        }
        let running = jobs.unfinished(imageIDs: Set(imageIDs), projectID: projectID).count
        return DeletionSummaryDTO(images: imageIDs.count, strokes: try count("annotations"), clusterings: try count("clusterings"),
                                  predictions: try count("predictions"), objectSets: try count("object_sets"),
                                  models: try projectCount("models"), classes: try projectCount("classes"), runningJobs: running)
    }

    /// The result files (kind, id) of the images' clusterings, predictions and object sets, and of
    /// the project's models.
    func resultFiles(imageIDs: [String], projectID: String?, _ db: any SQLConnection) throws -> [(String, String)] {
        var files: [(String, String)] = []
        for id in imageIDs {
            files += try String.fetchAll(db, sql: "SELECT id FROM clusterings WHERE image_id = ?", arguments: [id]).map { ("clusterings", $0) }
            files += try String.fetchAll(db, sql: "SELECT id FROM predictions WHERE image_id = ?", arguments: [id]).map { ("predictions", $0) }
            files += try String.fetchAll(db, sql: "SELECT id FROM object_sets WHERE image_id = ?", arguments: [id]).map { ("objects", $0) }
        }
        if let projectID {
            files += try String.fetchAll(db, sql: "SELECT id FROM models WHERE project_id = ?", arguments: [projectID]).map { ("models", $0) }
        }
        return files
    }

    /// Blobs no row refers to any more leave the store in two steps, so that an upload of the
    /// same content at the same moment never ends with a row whose file is gone: inside the
    /// deleting transaction (which holds the database's write lock) each is renamed aside
    /// (``withdraw(_:into:)``) — an upload's row insert, which waits for that lock, then finds no
    /// blob and refuses (409) —, and after the commit the renamed files are removed
    /// (``removeFiles(_:imageIDs:digests:)``). If the transaction fails they are put back.
    func withdraw(_ digests: [String], into withdrawn: LockedValue<[String]>) throws {
        for digest in digests where BlobStore.isDigest(digest) {
            let path = blobs.path(for: digest)
            if rename(path, path + BlobStore.withdrawnSuffix) == 0 {
                withdrawn.withLock { $0.append(digest) }
            } else if errno != ENOENT {
                throw APIError(.internalServerError, "cannot remove image file \(digest) from the blob store: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Runs the deleting transaction; when it fails, puts the blobs it withdrew back.
    func withBlobsWithdrawn<T>(_ withdrawn: LockedValue<[String]>, _ transaction: () async throws -> T) async throws -> T {
        do {
            return try await transaction()
        } catch {
            for digest in withdrawn.withLock({ $0 }) {
                let path = blobs.path(for: digest)
                _ = rename(path + BlobStore.withdrawnSuffix, path)
            }
            throw error
        }
    }

    /// The digests among `digests` that no image refers to any more.
    static func unreferenced(_ digests: Set<String>, _ db: any SQLConnection) throws -> [String] {
        try digests.sorted().filter { digest in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE sha256 = ?", arguments: [digest]) == 0
        }
    }

    /// Removes result files, cached tiles and blobs after their rows are gone (a file that cannot
    /// be removed is left behind; nothing refers to it any more).
    func removeFiles(_ files: [(String, String)], imageIDs: [String], digests: [String]) {
        for (kind, group) in Dictionary(grouping: files, by: \.0) {
            let ids = Set(group.map(\.1))
            results.remove(kind: kind, ids: ids)
            if kind == "models" { for id in ids { models.remove(key: id) } }
        }
        let manager = FileManager.default
        for id in imageIDs { try? manager.removeItem(atPath: "\(tileDirectory)/\(id)") }
        for digest in digests where BlobStore.isDigest(digest) { unlink(blobs.path(for: digest) + BlobStore.withdrawnSuffix) }
    }
}

extension DeletionSummaryDTO {
    /// The counts as an event payload.
    var payload: [String: JSONValue] {
        ["images": .number(Double(images)), "strokes": .number(Double(strokes)), "clusterings": .number(Double(clusterings)),
         "predictions": .number(Double(predictions)), "objectSets": .number(Double(objectSets)), "models": .number(Double(models)),
         "classes": .number(Double(classes)), "runningJobs": .number(Double(runningJobs))]
    }
}

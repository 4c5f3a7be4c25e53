import CleaveServer
import CleaveTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `cleave backup` / `cleave restore` (issue 23): a backup taken while strokes are being written
/// restores every stroke acknowledged before it started, invents none, and keeps the image files.
@Suite struct BackupTests {
    final class Acknowledged: @unchecked Sendable {
        private let lock = NSLock()
        private var ids: [Int64] = []
        private var stopped = false
        func add(_ id: Int64) { lock.lock(); ids.append(id); lock.unlock() }
        var snapshot: [Int64] { lock.lock(); defer { lock.unlock() }; return ids }
        func stop() { lock.lock(); stopped = true; lock.unlock() }
        var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
    }

    @Test func backupUnderWritesRestoresTheAcknowledgedStrokes() async throws {
        let (workbench, app) = try Harness.workbench("server-backup")
        let data = workbench.configuration.dataDirectory
        // nil on SQLite; with CLEAVE_TEST_POSTGRES_URL the same test runs on PostgreSQL (pg_dump / pg_restore).
        let database = workbench.configuration.database
        let restoredURL = Harness.postgresDatabaseURL("server-backup-restored")
        let scratch = (data as NSString).deletingLastPathComponent
        let target = scratch + "/backup", restored = scratch + "/restored"
        let acknowledged = Acknowledged()
        let (manifest, before, duringBackup) = try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "tile.tif", bytes: try Harness.particleTile(size: 64))
            let writer = Task {
                var index = 0
                while !acknowledged.isStopped && index < 5000 {
                    let response = try await client.execute(
                        uri: "/api/images/\(image)/strokes", method: .post, headers: Harness.headers(),
                        body: Harness.body(#"{"sessionId": "session-0001", "class": 1, "radius": 2, "points": [[\#(index % 60), 5], [10, \#(index % 60)]]}"#))
                    if response.status == .created, let id = try Harness.object(response)["id"] as? Int { acknowledged.add(Int64(id)) }
                    index += 1
                }
            }
            while acknowledged.snapshot.count < 30 { try await Task.sleep(nanoseconds: 5_000_000) }
            let before = acknowledged.snapshot
            let manifest = try await Task.detached { try DataBackup.backup(dataDirectory: data, database: database, to: target) }.value
            let duringBackup = acknowledged.snapshot
            // Writes went on while the backup ran, and after it.
            while acknowledged.snapshot.count < duringBackup.count + 10 { try await Task.sleep(nanoseconds: 5_000_000) }
            acknowledged.stop()
            try await writer.value
            return (manifest, before, duringBackup)
        }
        #expect(manifest.blobCount == 1 && manifest.migrations == WorkbenchDatabase.migrationNames)
        #expect(manifest.database == (database == nil ? "sqlite" : "postgres"))
        #expect(!FileManager.default.fileExists(atPath: target + "/tiles"))

        if database != nil {
            // A PostgreSQL backup needs a PostgreSQL target, and a new database there.
            #expect(throws: BackupError.databaseKindMismatch(backup: "postgres", target: "sqlite")) {
                try DataBackup.restore(from: target, to: restored)
            }
            #expect(throws: BackupError.postgresTargetExists(try PostgresLocation(url: database!).server)) {
                try DataBackup.restore(from: target, to: restored, database: database)
            }
        }
        _ = try DataBackup.restore(from: target, to: restored, database: restoredURL)
        let restoredDatabase = try WorkbenchDatabase(database: restoredURL, dataDirectory: restored)
        let restoredRows = try await restoredDatabase.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT id, points, class_index, state FROM annotations ORDER BY id")
        }
        let sourceRows = try await workbench.database.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT id, points, class_index, state FROM annotations ORDER BY id")
        }
        let restoredIDs = restoredRows.map { $0["id"] as Int64 }
        // Every stroke acknowledged before the backup began is there; none that was never
        // acknowledged; and the snapshot is a prefix of the source (one moment, no gaps).
        #expect(Set(before).isSubset(of: Set(restoredIDs)))
        #expect(Set(restoredIDs).isSubset(of: Set(acknowledged.snapshot)))
        #expect(restoredIDs.count <= duringBackup.count + 1)
        #expect(Array(sourceRows.prefix(restoredRows.count)) == restoredRows)
        // The 'stroke' events match the strokes (both written in one transaction).
        let strokeEvents = try await restoredDatabase.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE type = 'stroke'") }
        #expect(strokeEvents == restoredRows.count)

        // The restored directory serves the image (its blob verified) and the strokes.
        var againConfiguration = ServerConfiguration(dataDirectory: restored)
        againConfiguration.database = restoredURL
        let again = try Workbench(configuration: againConfiguration)
        try await Application(router: buildRouter(again)).test(.router) { client in
            let projects = try Harness.object(try await client.execute(uri: "/api/projects", method: .get))["projects"] as? [[String: Any]]
            let project = try #require(projects?.first?["id"] as? String)
            let images = try Harness.object(try await client.execute(uri: "/api/projects/\(project)/images", method: .get))["images"] as? [[String: Any]]
            let image = try #require(images?.first?["id"] as? String)
            let tile = try await client.execute(uri: "/api/images/\(image)/tiles/0/0/0.png", method: .get)
            #expect(tile.status == .ok && tile.headers[.contentType] == "image/png")
            let strokes = try Harness.object(try await client.execute(uri: "/api/images/\(image)/strokes", method: .get))["strokes"] as? [Any]
            #expect(strokes?.count == restoredRows.count)
        }

        // Refusals, one line each, nothing written.
        #expect(throws: BackupError.targetExists(target)) { try DataBackup.backup(dataDirectory: data, database: database, to: target) }
        #expect(throws: BackupError.targetExists(restored)) { try DataBackup.restore(from: target, to: restored, database: restoredURL) }
        #expect(throws: BackupError.notABackup(data)) { try DataBackup.restore(from: data, to: scratch + "/never") }
        let noData = database == nil ? BackupError.noDatabase(scratch + "/none") : BackupError.noDataDirectory(scratch + "/none")
        #expect(throws: noData) { try DataBackup.backup(dataDirectory: scratch + "/none", database: database, to: scratch + "/never") }
        #expect(!FileManager.default.fileExists(atPath: scratch + "/never"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).filter { $0.contains(".partial-") }.isEmpty)

        // A damaged image file in a backup is found before anything is restored.
        let digest = try #require(try await workbench.database.read { db in try String.fetchOne(db, sql: "SELECT sha256 FROM images") })
        let blob = target + "/blobs/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: blob))
        let neverURL = Harness.postgresDatabaseURL("server-backup-never")
        #expect(throws: BackupError.corruptBlob(digest)) { try DataBackup.restore(from: target, to: scratch + "/never", database: neverURL) }
        #expect(!FileManager.default.fileExists(atPath: scratch + "/never"))
        if let neverURL {
            // The database the failed restore created is dropped again.
            let location = try PostgresLocation(url: neverURL)
            #expect(throws: DatabaseConfigurationError.self) { try WorkbenchDatabase(postgres: location) }
        }
    }
}

import CleaveCore
import CleaveFormats
import Foundation
import GRDB

/// The workbench's state behind the routes: database, blob store, tile cache, decoded images.
/// Routes stay thin; everything they do is a method here, so it can be tested and reused.
public final class Workbench: Sendable {
    public let configuration: ServerConfiguration
    public let database: WorkbenchDatabase
    public let blobs: BlobStore
    let images: DecodedImageCache
    let tileDirectory: String

    /// Opens (creating if needed) the data directory.
    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        let manager = FileManager.default
        try manager.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        database = try WorkbenchDatabase(path: configuration.dataDirectory + "/cleave.sqlite")
        blobs = try BlobStore(dataDirectory: configuration.dataDirectory)
        tileDirectory = configuration.dataDirectory + "/tiles"
        try manager.createDirectory(atPath: tileDirectory, withIntermediateDirectories: true)
        images = DecodedImageCache(capacity: 2)
        // Leftovers of uploads interrupted by a crash are never part of the store.
        for name in (try? manager.contentsOfDirectory(atPath: blobs.temporaryDirectory)) ?? [] {
            try? manager.removeItem(atPath: blobs.temporaryDirectory + "/" + name)
        }
    }

    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    static func newID() -> String { UUID().uuidString.lowercased() }
}

/// Keeps the last few decoded images in memory so tile requests for one image decode it once.
actor DecodedImageCache {
    private var entries: [(key: String, image: AnyImage)] = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func image(for sha256: String, load: () throws -> AnyImage) rethrows -> AnyImage {
        if let index = entries.firstIndex(where: { $0.key == sha256 }) {
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.image
        }
        let image = try load()
        entries.append((sha256, image))
        if entries.count > capacity { entries.removeFirst() }
        return image
    }
}

import CleaveCore
import CleaveFormats
import CleavePipelines
import Dispatch
import Foundation

/// The workbench's state behind the routes: database, blob store, tile cache, decoded images.
/// Routes stay thin; everything they do is a method here, so it can be tested and reused.
public final class Workbench: Sendable {
    /// How the server was started (data directory, limits, web directory).
    public let configuration: ServerConfiguration
    /// The workbench's database (projects, images, strokes, results, events).
    public let database: WorkbenchDatabase
    /// Accounts, sessions, project members and the audit log (issue 23).
    public let accounts: AccountStore
    /// The content-addressed image files.
    public let blobs: BlobStore
    let images: DecodedImageCache
    let tileDirectory: String
    /// Background jobs (clustering, training, prediction, objects).
    public let jobs: JobQueue
    /// Locator features per (image, feature settings), so re-clustering skips them.
    let features: FeatureCache
    /// Derived arrays (label maps, probabilities, models), one file per result id.
    let results: ResultStore
    /// Trained pixel classifiers, decoded once.
    let models: LockedCache<PixelClassifierModel>
    /// Keeps server paths out of error lines and job errors.
    public let redactor: PathRedactor
    /// Pixel-classifier feature stacks and intensity windows per image, kept between strokes.
    let pixelFeatures: PixelFeatureCache

    /// Opens (creating if needed) the data directory.
    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        let manager = FileManager.default
        try manager.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        database = try WorkbenchDatabase(database: configuration.database, dataDirectory: configuration.dataDirectory)
        accounts = AccountStore(database: database, passwordCost: configuration.passwordCost)
        blobs = try BlobStore(dataDirectory: configuration.dataDirectory)
        tileDirectory = configuration.dataDirectory + "/tiles"
        try manager.createDirectory(atPath: tileDirectory, withIntermediateDirectories: true)
        images = DecodedImageCache(byteBudget: configuration.decodedImageBytes)
        redactor = PathRedactor(configuration: configuration)
        jobs = try JobQueue(database: database, concurrency: configuration.jobConcurrency, redactor: redactor)
        features = FeatureCache(capacity: 6)
        results = try ResultStore(directory: configuration.dataDirectory + "/results")
        models = LockedCache(capacity: 4)
        pixelFeatures = PixelFeatureCache(capacityBytes: configuration.pixelFeatureCacheBytes)
        // Leftovers of uploads interrupted by a crash are never part of the store.
        for name in (try? manager.contentsOfDirectory(atPath: blobs.temporaryDirectory)) ?? [] {
            try? manager.removeItem(atPath: blobs.temporaryDirectory + "/" + name)
        }
    }

    /// Pixel-classifier feature stacks computed so far (cache misses) and the bytes the cache holds.
    public var pixelFeatureCacheStatistics: (computed: Int, storedBytes: Int) {
        pixelFeatures.statistics
    }

    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    static func newID() -> String { UUID().uuidString.lowercased() }

    /// Where request handlers run CPU-heavy steps (decoding, rendering, encoding, reference
    /// derivation), so they never occupy the few threads of Swift's cooperative pool that every
    /// other request needs.
    static let computeQueue = DispatchQueue(label: "cleave.compute", qos: .userInitiated, attributes: .concurrent)

    /// Runs `work` on ``computeQueue`` and waits for it without blocking the caller's thread.
    static func offload<T>(_ work: @escaping () throws -> T) async throws -> T {
        let box = UncheckedSendable(work)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UncheckedSendable<T>, Error>) in
            computeQueue.async {
                do { continuation.resume(returning: UncheckedSendable(try box.value())) } catch { continuation.resume(throwing: error) }
            }
        }.value
    }
}

/// Keeps recently used decoded images in memory (up to `byteBudget` bytes of pixels, at least one
/// image), and the default window of every image seen (two numbers each, kept for the server's
/// life): tile requests for tiles already rendered need only the window, so they never decode the
/// image again, however many images a lab works on at once.
///
/// Decoding runs outside the actor (``Workbench/decoded(_:)``), so one image being decoded does
/// not hold up requests for others.
actor DecodedImageCache {
    struct Entry: Sendable {
        var image: AnyImage
        var window: WindowDTO
    }

    private var entries: [(key: String, entry: Entry, bytes: Int)] = []
    private var windows: [String: WindowDTO] = [:]
    /// Images whose content was refused (a 4xx from `load`: pixels not finite), so a stream of tile
    /// requests for one of them does not decode it again each time.
    private var refused: [(key: String, error: APIError)] = []
    private let byteBudget: Int
    /// Decodes done (for tests and diagnostics).
    private(set) var decodeCount = 0

    init(byteBudget: Int) { self.byteBudget = byteBudget }

    /// The cached entry of `sha256` (moved to most recently used), or nil.
    func cached(_ sha256: String) throws -> Entry? {
        if let index = entries.firstIndex(where: { $0.key == sha256 }) {
            let found = entries.remove(at: index)
            entries.append(found)
            return found.entry
        }
        if let known = refused.first(where: { $0.key == sha256 }) { throw known.error }
        return nil
    }

    /// The default window of `sha256` when the image was decoded before.
    func window(_ sha256: String) -> WindowDTO? { windows[sha256] }

    /// Remembers a decoded image and its window; the least recently used images go while the
    /// pixels held exceed the budget (the newest always stays).
    func insert(_ sha256: String, _ entry: Entry) -> Entry {
        decodeCount += 1
        windows[sha256] = entry.window
        if let index = entries.firstIndex(where: { $0.key == sha256 }) { entries.remove(at: index) }
        let bytes = entry.image.shape.count * entry.image.pixelType.bytesPerSample
        entries.append((sha256, entry, bytes))
        var held = entries.reduce(0) { $0 + $1.bytes }
        while entries.count > 1 && held > byteBudget { held -= entries.removeFirst().bytes }
        return entry
    }

    /// Remembers that `sha256` was refused with `error`.
    func refuse(_ sha256: String, _ error: APIError) {
        refused.append((sha256, error))
        if refused.count > 64 { refused.removeFirst() }
    }
}

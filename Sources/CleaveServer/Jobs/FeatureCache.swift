import CleavePipelines
import Foundation

/// Keeps the Locator inputs and features of the last few (image, feature settings) pairs in
/// memory, so that re-clustering an image with another cluster count, scaler or seed costs only
/// the clustering itself (milliseconds), not the feature computation (seconds on large images).
final class FeatureCache: @unchecked Sendable {
    private let lock = NSLock()
    private var features: [(key: String, value: LocatorFeatures)] = []
    private var images: [(key: String, value: LocatorImage)] = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func features(image sha256: String, key: String) -> LocatorFeatures? {
        lock.lock(); defer { lock.unlock() }
        guard let index = features.firstIndex(where: { $0.key == sha256 + "|" + key }) else { return nil }
        let entry = features.remove(at: index)
        features.append(entry)
        return entry.value
    }

    func store(_ value: LocatorFeatures, image sha256: String, key: String) {
        lock.lock(); defer { lock.unlock() }
        features.removeAll { $0.key == sha256 + "|" + key }
        features.append((sha256 + "|" + key, value))
        if features.count > capacity { features.removeFirst() }
    }

    /// The image as Locator input (Float samples), converted once.
    func locatorImage(sha256: String, make: () throws -> LocatorImage) rethrows -> LocatorImage {
        lock.lock()
        if let found = images.first(where: { $0.key == sha256 }) { lock.unlock(); return found.value }
        lock.unlock()
        let value = try make()
        lock.lock()
        images.removeAll { $0.key == sha256 }
        images.append((sha256, value))
        if images.count > 2 { images.removeFirst() }
        lock.unlock()
        return value
    }
}

import CleaveCore
import CleaveFeatures
import CleavePipelines
import Foundation

/// Keeps the pixel classifier's feature stacks (per image block) and intensity windows (per image)
/// between live updates, so that a new stroke costs the forest fit and the prediction, not the
/// filter bank: the image does not change between strokes, and the stacks do not depend on the
/// strokes or the model — only on the image, the bank and the normalisation.
///
/// Keys: image SHA-256 | bank | normalisation windows | block region. Stacks are evicted least
/// recently used first once their bytes exceed ``capacityBytes`` (a stack larger than the capacity
/// is computed and used but not kept). Two jobs asking for the same missing block both compute it
/// (the same values); the cache never blocks one job on another.
final class PixelFeatureCache: @unchecked Sendable {
    /// Side of the blocks the workbench computes and keeps features in (the image's own
    /// ``PixelClassifier/blockRegions(_:bank:blockSize:)`` at this size): small enough that a view
    /// straddling block borders computes little outside it, large enough that the halo stays cheap.
    static let blockSize = 512

    private let lock = NSLock()
    private var stacks: [(key: String, value: FeatureStack)] = []
    private var windows: [(key: String, value: [IntensityWindow]?)] = []
    private var storedBytes = 0
    let capacityBytes: Int
    /// Stacks computed (misses), for tests and benchmarks.
    private var computed = 0

    /// Stacks computed so far and bytes held.
    var statistics: (computed: Int, storedBytes: Int) {
        lock.lock(); defer { lock.unlock() }
        return (computed, storedBytes)
    }

    init(capacityBytes: Int) { self.capacityBytes = max(0, capacityBytes) }

    /// The stack of `region` of the image `sha256` (input already normalised), computed on a miss.
    func stack(sha256: String, input: PixelClassifierInput, region: Region, bank: FilterBank) throws -> FeatureStack {
        let key = [sha256, PixelFeatureCache.identity(of: bank), input.featureWindows.map { "\($0)" } ?? "raw",
                   region.description].joined(separator: "|")
        lock.lock()
        if let index = stacks.firstIndex(where: { $0.key == key }) {
            let entry = stacks.remove(at: index)
            stacks.append(entry)
            lock.unlock()
            return entry.value
        }
        lock.unlock()
        let value = try PixelClassifier.blockFeatures(of: input, region: region, bank: bank)
        let bytes = value.values.count * MemoryLayout<Float>.stride
        lock.lock(); defer { lock.unlock() }
        computed += 1
        guard bytes <= capacityBytes, !stacks.contains(where: { $0.key == key }) else { return value }
        stacks.append((key, value))
        storedBytes += bytes
        while storedBytes > capacityBytes, !stacks.isEmpty {
            storedBytes -= stacks.removeFirst().value.values.count * MemoryLayout<Float>.stride
        }
        return value
    }

    /// Every setting of a bank (its description leaves out the boundary and texture options).
    static func identity(of bank: FilterBank) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(bank)).map { String(decoding: $0, as: UTF8.self) } ?? bank.description
    }

    /// The intensity windows of the whole image `sha256` under `normalisation` (measured once).
    func windows(sha256: String, input: PixelClassifierInput, intensityNormalization: IntensityNormalization) throws -> [IntensityWindow]? {
        let key = sha256 + "|" + intensityNormalization.description
        lock.lock()
        if let found = windows.first(where: { $0.key == key }) { lock.unlock(); return found.value }
        lock.unlock()
        let value = try intensityNormalization.windows(for: input)
        lock.lock(); defer { lock.unlock() }
        windows.removeAll { $0.key == key }
        windows.append((key, value))
        if windows.count > 16 { windows.removeFirst() }
        return value
    }

    /// `input` with its whole-image windows attached (from the cache).
    func prepared(sha256: String, input: PixelClassifierInput, intensityNormalization: IntensityNormalization) throws -> PixelClassifierInput {
        guard let found = try windows(sha256: sha256, input: input, intensityNormalization: intensityNormalization) else { return input }
        return input.withFeatureWindows(found)
    }
}

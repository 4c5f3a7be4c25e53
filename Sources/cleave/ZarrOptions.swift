import ArgumentParser
import CleaveCore
import CleaveFormats

/// How `convert` and `sample` write OME-Zarr: NGFF version, codec, chunk size and levels.
struct ZarrOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("OME-Zarr output: NGFF version 0.4 (Zarr v2, read by every current tool) or 0.5 (Zarr v3).", valueName: "VERSION"))
    var ngff: OMEZarrWriteOptions.Version = .v04

    @Option(name: .long, help: ArgumentHelp("OME-Zarr output: chunk codec zstd, blosc (lz4 inside, byte shuffle), gzip or none.", valueName: "CODEC"))
    var codec: ZarrCodecChoice = .zstd

    @Option(name: .customLong("codec-level"), help: ArgumentHelp("OME-Zarr output: compression level (zstd 1…19, default 3; gzip 1…9, default 5; blosc 1…9, default 5).", valueName: "N"))
    var codecLevel: Int?

    @Option(name: .long, help: ArgumentHelp("OME-Zarr output: chunk size ZxYxX (e.g. 64x128x128, the default) or one number for all three.", valueName: "ZxYxX"))
    var chunk: String = "64x128x128"

    @Option(name: .long, help: ArgumentHelp("OME-Zarr output: resolution levels including the full one (default: halve x and y until one chunk holds the plane).", valueName: "N"))
    var levels: Int?

    func validate() throws {
        _ = try chunkSize()
        if let levels, !(1...20).contains(levels) { throw ValidationError("--levels must be 1…20, got \(levels).") }
        if let codecLevel {
            let range: ClosedRange<Int> = codec == .zstd ? 1...19 : 1...9
            if codec == .none || !range.contains(codecLevel) {
                throw ValidationError("--codec-level \(codecLevel) does not fit --codec \(codec.rawValue) (\(codec == .none ? "no level" : "\(range.lowerBound)…\(range.upperBound)")).")
            }
        }
    }

    /// (z, y, x) from `--chunk`.
    func chunkSize() throws -> (z: Int, y: Int, x: Int) {
        let parts = chunk.lowercased().split(separator: "x").map { Int($0) }
        if parts.count == 1, let n = parts[0], (1...4096).contains(n) { return (n, n, n) }
        guard parts.count == 3, let z = parts[0], let y = parts[1], let x = parts[2],
              (1...4096).contains(z), (1...4096).contains(y), (1...4096).contains(x) else {
            throw ValidationError("--chunk must be ZxYxX (each 1…4096) or one number, got '\(chunk)'.")
        }
        return (z, y, x)
    }

    var writeOptions: OMEZarrWriteOptions {
        let c: (z: Int, y: Int, x: Int) = (try? chunkSize()) ?? (64, 128, 128)
        let compressor: ZarrCompressor
        switch codec {
        case .zstd: compressor = .zstd(level: codecLevel ?? 3)
        case .gzip: compressor = .gzip(level: codecLevel ?? 5)
        case .blosc: compressor = .blosc(cname: "lz4", clevel: codecLevel ?? 5, shuffle: 1, blocksize: 0)
        case .none: compressor = .none
        }
        return OMEZarrWriteOptions(version: ngff, compressor: compressor, chunkX: c.x, chunkY: c.y, chunkZ: c.z, levels: levels)
    }
}

enum ZarrCodecChoice: String, ExpressibleByArgument, CaseIterable {
    case zstd, blosc, gzip, none
}

extension OMEZarrWriteOptions.Version: ExpressibleByArgument {}

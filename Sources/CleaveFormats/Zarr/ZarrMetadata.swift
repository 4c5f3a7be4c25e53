import CleaveCore
import Foundation

/// The sample types a Zarr array may declare that Cleave reads. uint8, uint16 and float32 are
/// read as they are; the others become float32 (exact for int8, int16 and integers up to 2^24;
/// ``ImageInfo/storedSampleType`` says what was stored).
public enum ZarrDataType: String, Sendable, CaseIterable {
    case uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32, float64

    /// Bytes per sample.
    public var size: Int {
        switch self {
        case .uint8, .int8: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        }
    }

    /// The pixel type Cleave reads this as.
    public var pixelType: PixelType {
        switch self {
        case .uint8: return .uint8
        case .uint16: return .uint16
        default: return .float32
        }
    }

    /// The type Cleave writes for a pixel type.
    public init(_ pixelType: PixelType) {
        switch pixelType {
        case .uint8: self = .uint8
        case .uint16: self = .uint16
        case .float32: self = .float32
        }
    }

    /// The numpy type code of Zarr v2 (`u2`, `f4`…).
    var v2Code: String {
        switch self {
        case .uint8: return "u1"
        case .int8: return "i1"
        case .uint16: return "u2"
        case .int16: return "i2"
        case .uint32: return "u4"
        case .int32: return "i4"
        case .uint64: return "u8"
        case .int64: return "i8"
        case .float32: return "f4"
        case .float64: return "f8"
        }
    }

    static func fromV2Code(_ code: Substring) -> ZarrDataType? {
        allCases.first { $0.v2Code == code }
    }
}

/// What a Zarr array's `.zarray` (v2) or `zarr.json` (v3) says, checked: dimensions, chunk
/// grid, sample type, byte order, fill value, codec and chunk-key layout.
public struct ZarrArrayMetadata: Sendable, Equatable {
    /// 2 or 3.
    public var zarrFormat: Int
    /// Extent of every dimension, slowest first (C order).
    public var shape: [Int]
    /// Chunk extent of every dimension.
    public var chunks: [Int]
    public var dataType: ZarrDataType
    /// Byte order of the stored samples.
    public var littleEndian: Bool
    /// The value of samples in chunks that were never written.
    public var fillValue: Double
    public var compressor: ZarrCompressor
    /// Separator between chunk indices in chunk keys ("/" or ".").
    public var separator: String
    /// v3 default chunk-key encoding puts "c" before the indices.
    public var keyPrefix: String
    /// Axis names of v3 arrays (`dimension_names`), when given.
    public var dimensionNames: [String]?

    /// Largest chunk (decoded bytes) Cleave reads or writes: 1 GiB.
    public static let maximumChunkBytes = 1 << 30
    /// Largest extent of one dimension Cleave accepts: 2^40 samples.
    public static let maximumExtent = 1 << 40

    /// Metadata for writing: little-endian, "/"-separated chunk keys (NGFF 0.4 asks for "/"), v3
    /// keys prefixed with "c".
    public init(zarrFormat: Int, shape: [Int], chunks: [Int], dataType: ZarrDataType, compressor: ZarrCompressor,
                fillValue: Double = 0, dimensionNames: [String]? = nil) {
        precondition(zarrFormat == 2 || zarrFormat == 3, "ZarrArrayMetadata: zarrFormat must be 2 or 3")
        precondition(shape.count == chunks.count && chunks.allSatisfy { $0 >= 1 }, "ZarrArrayMetadata: one chunk extent >= 1 per dimension")
        self.zarrFormat = zarrFormat; self.shape = shape; self.chunks = chunks; self.dataType = dataType
        self.littleEndian = true; self.fillValue = fillValue
        // Zarr v3 has no zlib codec; its gzip codec is the same deflate data in a gzip wrapper.
        if zarrFormat == 3, case let .zlib(level) = compressor { self.compressor = .gzip(level: level) } else { self.compressor = compressor }
        self.separator = "/"; self.keyPrefix = zarrFormat == 3 ? "c" : ""; self.dimensionNames = dimensionNames
    }

    /// Bytes of one decoded chunk.
    public var chunkBytes: Int { chunks.reduce(dataType.size, *) }

    /// Chunks along every dimension.
    public var chunkGrid: [Int] { zip(shape, chunks).map { ($0 + $1 - 1) / $1 } }

    /// The storage key of a chunk ("0/3/1", "c/0/3/1", "0.3.1").
    public func chunkKey(_ index: [Int]) -> String {
        let joined = index.map(String.init).joined(separator: separator)
        if keyPrefix.isEmpty { return index.isEmpty ? "0" : joined }
        return index.isEmpty ? keyPrefix : keyPrefix + separator + joined
    }

    /// The metadata document: `.zarray` text (v2) or `zarr.json` text (v3).
    func document(attributes: JSONValue? = nil) -> String {
        if zarrFormat == 2 {
            var compressorJSON: JSONValue = .null
            switch compressor {
            case .none: break
            case let .zlib(level): compressorJSON = .object([("id", .string("zlib")), ("level", .int(level))])
            case let .gzip(level): compressorJSON = .object([("id", .string("gzip")), ("level", .int(level))])
            case let .zstd(level): compressorJSON = .object([("id", .string("zstd")), ("level", .int(level))])
            case let .blosc(cname, clevel, shuffle, blocksize):
                compressorJSON = .object([("id", .string("blosc")), ("cname", .string(cname)), ("clevel", .int(clevel)),
                                          ("shuffle", .int(shuffle)), ("blocksize", .int(blocksize))])
            }
            let byteOrder = dataType.size == 1 ? "|" : (littleEndian ? "<" : ">")
            return JSONValue.object([
                ("zarr_format", .int(2)), ("shape", .ints(shape)), ("chunks", .ints(chunks)),
                ("dtype", .string(byteOrder + dataType.v2Code)), ("compressor", compressorJSON),
                ("fill_value", fillJSON), ("order", .string("C")), ("filters", .null),
                ("dimension_separator", .string(separator)),
            ]).text() + "\n"
        }
        var codecs: [JSONValue] = [.object([("name", .string("bytes")), ("configuration", .object([("endian", .string(littleEndian ? "little" : "big"))]))])]
        switch compressor {
        case .none: break
        case let .zlib(level), let .gzip(level):
            codecs.append(.object([("name", .string("gzip")), ("configuration", .object([("level", .int(level))]))]))
        case let .zstd(level):
            codecs.append(.object([("name", .string("zstd")), ("configuration", .object([("level", .int(level)), ("checksum", .bool(false))]))]))
        case let .blosc(cname, clevel, shuffle, blocksize):
            codecs.append(.object([("name", .string("blosc")), ("configuration", .object([
                ("cname", .string(cname)), ("clevel", .int(clevel)), ("shuffle", .string(ZarrCompressor.bloscShuffleNames[shuffle])),
                ("typesize", .int(dataType.size)), ("blocksize", .int(blocksize))]))]))
        }
        var fields: [(String, JSONValue)] = [
            ("zarr_format", .int(3)), ("node_type", .string("array")), ("shape", .ints(shape)),
            ("data_type", .string(dataType.rawValue)),
            ("chunk_grid", .object([("name", .string("regular")), ("configuration", .object([("chunk_shape", .ints(chunks))]))])),
            ("chunk_key_encoding", .object([("name", .string(keyPrefix.isEmpty ? "v2" : "default")),
                                            ("configuration", .object([("separator", .string(separator))]))])),
            ("fill_value", fillJSON), ("codecs", .array(codecs)),
        ]
        if let dimensionNames { fields.append(("dimension_names", .array(dimensionNames.map { .string($0) }))) }
        fields.append(("attributes", attributes ?? .object([])))
        return JSONValue.object(fields).text() + "\n"
    }

    private var fillJSON: JSONValue {
        switch dataType {
        case .float32, .float64: return .number(fillValue)
        default: return .int(Int(fillValue))
        }
    }

    /// Decodes one stored chunk into `chunkBytes` bytes in native byte order.
    /// - Throws: ``ZarrError/badChunk(path:chunk:reason:)`` when it is corrupt or truncated.
    public func decodeChunk(_ stored: [UInt8], key: String, path: String) throws -> [UInt8] {
        // Every byte is written by the decoder (which checks the decoded size) before use.
        try [UInt8](unsafeUninitializedCapacity: chunkBytes) { buffer, initialized in
            try stored.withUnsafeBytes { try decodeChunk($0, key: key, path: path, into: UnsafeMutableRawPointer(buffer.baseAddress!)) }
            initialized = chunkBytes
        }
    }

    /// ``decodeChunk(_:key:path:)`` into caller memory of `chunkBytes` bytes.
    func decodeChunk(_ stored: UnsafeRawBufferPointer, key: String, path: String, into destination: UnsafeMutableRawPointer) throws {
        try compressor.decode(stored, into: destination, count: chunkBytes, path: path, chunk: key)
        if littleEndian != (1.littleEndian == 1) && dataType.size > 1 {
            SampleKernels.byteSwap(destination, byteCount: chunkBytes, sampleBytes: dataType.size)
        }
    }

    /// Largest stored chunk file read: no encoding of a chunk is much larger than the chunk
    /// itself (blosc and zstd add a few bytes per block), so a bigger file is refused unread.
    var storedChunkLimit: Int { chunkBytes + chunkBytes / 8 + (1 << 16) }

    /// Encodes one chunk of `chunkBytes` bytes (native byte order) as it is stored.
    public func encodeChunk(_ samples: [UInt8]) -> [UInt8] {
        precondition(samples.count == chunkBytes, "ZarrArrayMetadata.encodeChunk: \(samples.count) bytes for a chunk of \(chunkBytes)")
        var samples = samples
        if littleEndian != (1.littleEndian == 1) && dataType.size > 1 {
            samples.withUnsafeMutableBytes { SampleKernels.byteSwap($0.baseAddress!, byteCount: chunkBytes, sampleBytes: dataType.size) }
        }
        return samples.withUnsafeBytes { compressor.encode($0, typeSize: dataType.size) }
    }

    /// Parses a `.zarray` (`format` 2) or `zarr.json` (`format` 3) document held in memory.
    /// - Throws: ``ZarrError`` naming the field.
    public init(document: [UInt8], format: Int, path: String = "<memory>") throws {
        self = try ZarrArrayMetadata.parse(document, format: format, path: path)
    }

    // MARK: Parsing

    /// Reads `.zarray` (format 2) or `zarr.json` (format 3) and checks every declared size before
    /// anything is allocated.
    /// - Throws: ``ZarrError`` naming the field.
    static func parse(_ bytes: [UInt8], format: Int, path: String) throws -> ZarrArrayMetadata {
        let json = JSONReader(path: path)
        let document = format == 2 ? ".zarray" : "zarr.json"
        let object = try json.object(bytes, document: document)
        let declared = try json.int(object["zarr_format"], "zarr_format")
        guard declared == format else {
            throw ZarrError.badMetadata(path: path, field: "zarr_format", reason: "\(document) says \(declared), expected \(format)")
        }
        var m = ZarrArrayMetadata(zarrFormat: format, shape: [], chunks: [], dataType: .uint8, compressor: .none)
        m.shape = try json.ints(object["shape"], "shape")
        if format == 2 {
            m.chunks = try json.ints(object["chunks"], "chunks")
            let dtype = try json.string(object["dtype"], "dtype")
            guard dtype.count == 3, let type = ZarrDataType.fromV2Code(dtype.dropFirst()), "<>|".contains(dtype.first!) else {
                throw ZarrError.unsupported(path: path, what: "data type \"\(dtype.prefix(40))\"",
                                            reason: "Cleave reads u1, i1, u2, i2, u4, i4, u8, i8, f4 and f8")
            }
            m.dataType = type
            m.littleEndian = dtype.first != ">"
            if let order = object["order"] as? String, order != "C" {
                throw ZarrError.unsupported(path: path, what: "order \"\(order.prefix(8))\"", reason: "Cleave reads C-ordered (row-major) chunks only")
            }
            if let filters = object["filters"], !(filters is NSNull) {
                let list = try json.array(filters, "filters")
                if let first = list.first {
                    let id = (first as? [String: Any])?["id"] as? String ?? "?"
                    throw ZarrError.unsupported(path: path, what: "filter \"\(id.prefix(40))\"", reason: "Cleave reads arrays without filters")
                }
            }
            m.compressor = try parseV2Compressor(object["compressor"], json: json)
            if let separator = object["dimension_separator"] {
                let s = try json.string(separator, "dimension_separator")
                guard s == "/" || s == "." else {
                    throw ZarrError.badMetadata(path: path, field: "dimension_separator", reason: "expected \"/\" or \".\", found \"\(s.prefix(8))\"")
                }
                m.separator = s
            } else {
                m.separator = "."
            }
            m.keyPrefix = ""
        } else {
            let nodeType = try json.string(object["node_type"], "node_type")
            guard nodeType == "array" else {
                throw ZarrError.badMetadata(path: path, field: "node_type", reason: "expected \"array\", found \"\(nodeType.prefix(20))\"")
            }
            let grid = try json.dictionary(object["chunk_grid"], "chunk_grid")
            let gridName = try json.string(grid["name"], "chunk_grid.name")
            guard gridName == "regular" else {
                throw ZarrError.unsupported(path: path, what: "chunk grid \"\(gridName.prefix(40))\"", reason: "Cleave reads regular chunk grids")
            }
            m.chunks = try json.ints(try json.dictionary(grid["configuration"], "chunk_grid.configuration")["chunk_shape"], "chunk_grid.configuration.chunk_shape")
            let typeName = try json.string(object["data_type"], "data_type")
            guard let type = ZarrDataType(rawValue: typeName) else {
                throw ZarrError.unsupported(path: path, what: "data type \"\(typeName.prefix(40))\"",
                                            reason: "Cleave reads uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32 and float64")
            }
            m.dataType = type
            let encoding = try json.dictionary(object["chunk_key_encoding"], "chunk_key_encoding")
            let encodingName = try json.string(encoding["name"], "chunk_key_encoding.name")
            let configuration = encoding["configuration"] as? [String: Any] ?? [:]
            switch encodingName {
            case "default": m.keyPrefix = "c"; m.separator = "/"
            case "v2": m.keyPrefix = ""; m.separator = "."
            default:
                throw ZarrError.unsupported(path: path, what: "chunk key encoding \"\(encodingName.prefix(40))\"", reason: "Cleave reads \"default\" and \"v2\"")
            }
            if let separator = configuration["separator"] {
                let s = try json.string(separator, "chunk_key_encoding.configuration.separator")
                guard s == "/" || s == "." else {
                    throw ZarrError.badMetadata(path: path, field: "chunk_key_encoding.configuration.separator", reason: "expected \"/\" or \".\"")
                }
                m.separator = s
            }
            if let transformers = object["storage_transformers"] as? [Any], !transformers.isEmpty {
                throw ZarrError.unsupported(path: path, what: "storage_transformers", reason: "Cleave reads arrays without storage transformers")
            }
            try parseV3Codecs(json.array(object["codecs"], "codecs"), into: &m, json: json)
            if let names = object["dimension_names"] as? [Any] { m.dimensionNames = names.map { ($0 as? String) ?? "" } }
        }
        m.fillValue = try parseFill(object["fill_value"], json: json, required: format == 3)
        try m.checkSizes(path: path)
        return m
    }

    /// Dimensions, chunk extents and chunk bytes a reader can hold.
    func checkSizes(path: String) throws {
        guard !shape.isEmpty, shape.count <= 32 else {
            throw ZarrError.absurdSize(path: path, field: "shape", reason: "\(shape.count) dimensions (Cleave reads 1…32)")
        }
        guard chunks.count == shape.count else {
            throw ZarrError.badMetadata(path: path, field: "chunks", reason: "\(chunks.count) chunk extents for \(shape.count) dimensions")
        }
        for (i, n) in shape.enumerated() where n < 0 || n > ZarrArrayMetadata.maximumExtent {
            throw ZarrError.absurdSize(path: path, field: "shape[\(i)]", reason: "\(n) samples (at most 2^40 per dimension)")
        }
        var total = dataType.size
        for n in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: n)
            guard !overflow, product <= 1 << 60 else {
                throw ZarrError.absurdSize(path: path, field: "shape", reason: "\(shape) × \(dataType.size) bytes overflows any address space")
            }
            total = product
        }
        for (i, n) in chunks.enumerated() where n < 1 || n > ZarrArrayMetadata.maximumExtent {
            throw ZarrError.absurdSize(path: path, field: "chunks[\(i)]", reason: "\(n) (each chunk extent must be at least 1)")
        }
        var bytes = dataType.size
        for n in chunks {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: n)
            guard !overflow, product <= ZarrArrayMetadata.maximumChunkBytes else {
                throw ZarrError.absurdSize(path: path, field: "chunks", reason: "chunks of \(chunks) samples are more than 1 GiB each")
            }
            bytes = product
        }
    }

    private static func parseV2Compressor(_ value: Any?, json: JSONReader) throws -> ZarrCompressor {
        guard let value, !(value is NSNull) else { return .none }
        let c = try json.dictionary(value, "compressor")
        let id = try json.string(c["id"], "compressor.id")
        func level(_ key: String, _ fallback: Int) throws -> Int { c[key] == nil ? fallback : try json.int(c[key], "compressor.\(key)") }
        switch id {
        case "zlib": return .zlib(level: try level("level", 1))
        case "gzip": return .gzip(level: try level("level", 1))
        case "zstd": return .zstd(level: try level("level", 1))
        case "blosc":
            return .blosc(cname: (c["cname"] as? String) ?? "lz4", clevel: try level("clevel", 5),
                          shuffle: try level("shuffle", 1), blocksize: try level("blocksize", 0))
        default:
            throw ZarrError.unsupported(path: json.path, what: "codec \"\(id.prefix(40))\"",
                                        reason: "Cleave reads gzip, zlib, zstd and blosc (or uncompressed) chunks")
        }
    }

    private static func parseV3Codecs(_ list: [Any], into m: inout ZarrArrayMetadata, json: JSONReader) throws {
        var sawBytes = false
        m.compressor = .none
        for (i, item) in list.enumerated() {
            let codec = try json.dictionary(item, "codecs[\(i)]")
            let name = try json.string(codec["name"], "codecs[\(i)].name")
            let configuration = codec["configuration"] as? [String: Any] ?? [:]
            func int(_ key: String, _ fallback: Int) throws -> Int {
                configuration[key] == nil ? fallback : try json.int(configuration[key], "codecs[\(i)].configuration.\(key)")
            }
            switch name {
            case "bytes":
                let endian = configuration["endian"] as? String ?? "little"
                guard endian == "little" || endian == "big" else {
                    throw ZarrError.badMetadata(path: json.path, field: "codecs[\(i)].configuration.endian", reason: "expected \"little\" or \"big\"")
                }
                m.littleEndian = endian == "little"
                sawBytes = true
            case "gzip", "zstd", "blosc":
                guard sawBytes, m.compressor == .none else {
                    throw ZarrError.unsupported(path: json.path, what: "codec chain \(list.compactMap { ($0 as? [String: Any])?["name"] as? String })",
                                                reason: "Cleave reads \"bytes\" followed by at most one of gzip, zstd, blosc")
                }
                switch name {
                case "gzip": m.compressor = .gzip(level: try int("level", 5))
                case "zstd": m.compressor = .zstd(level: try int("level", 0))
                default:
                    let shuffleName = configuration["shuffle"] as? String ?? "noshuffle"
                    guard let shuffle = ZarrCompressor.bloscShuffleNames.firstIndex(of: shuffleName) else {
                        throw ZarrError.badMetadata(path: json.path, field: "codecs[\(i)].configuration.shuffle",
                                                    reason: "expected noshuffle, shuffle or bitshuffle")
                    }
                    m.compressor = .blosc(cname: configuration["cname"] as? String ?? "lz4", clevel: try int("clevel", 5),
                                          shuffle: shuffle, blocksize: try int("blocksize", 0))
                }
            case "sharding_indexed":
                throw ZarrError.unsupported(path: json.path, what: "sharding (codec sharding_indexed)",
                                            reason: "Cleave reads unsharded arrays; rewrite without shards (zarr-python: shards=None)")
            default:
                throw ZarrError.unsupported(path: json.path, what: "codec \"\(name.prefix(40))\"",
                                            reason: "Cleave reads bytes with gzip, zstd or blosc")
            }
        }
        guard sawBytes else {
            throw ZarrError.badMetadata(path: json.path, field: "codecs", reason: "no \"bytes\" codec")
        }
    }

    private static func parseFill(_ value: Any?, json: JSONReader, required: Bool) throws -> Double {
        switch value {
        case nil:
            if required { throw ZarrError.badMetadata(path: json.path, field: "fill_value", reason: "missing") }
            return 0
        case is NSNull: return 0
        case let s as String:
            switch s {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default:
                throw ZarrError.unsupported(path: json.path, what: "fill_value \"\(s.prefix(24))\"", reason: "Cleave reads numbers, NaN and ±Infinity")
            }
        default:
            return try json.double(value, "fill_value")
        }
    }
}

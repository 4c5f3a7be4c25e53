// libFuzzer target: Zarr chunk decoding and array metadata parsing from memory.
// The first byte picks what the rest is: 0 a `.zarray`, 1 a `zarr.json`, else a chunk of a small
// array (8 × 16 × 16 samples) whose codec, sample type and byte order the second byte picks.
import CleaveCore
import CleaveFormats

let fuzzCodecs: [ZarrCompressor] = [.none, .zlib(level: 1), .gzip(level: 1), .zstd(level: 1),
                                    .blosc(cname: "lz4", clevel: 5, shuffle: 1, blocksize: 0),
                                    .blosc(cname: "zstd", clevel: 5, shuffle: 2, blocksize: 0)]
let fuzzTypes: [ZarrDataType] = [.uint8, .uint16, .float32, .int32]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZarr(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let mode = Int(data[0])
    switch mode {
    case 0: _ = try? ZarrArrayMetadata(document: Array(UnsafeBufferPointer(start: data + 1, count: size - 1)), format: 2)
    case 1: _ = try? ZarrArrayMetadata(document: Array(UnsafeBufferPointer(start: data + 1, count: size - 1)), format: 3)
    default:
        guard size >= 2 else { return 0 }
        let pick = Int(data[1])
        let codec = fuzzCodecs[pick % fuzzCodecs.count]
        let type = fuzzTypes[(pick / fuzzCodecs.count) % fuzzTypes.count]
        var metadata = ZarrArrayMetadata(zarrFormat: 2, shape: [8, 16, 16], chunks: [8, 16, 16], dataType: type, compressor: codec)
        metadata.littleEndian = pick < 128
        _ = try? metadata.decodeChunk(Array(UnsafeBufferPointer(start: data + 2, count: size - 2)), key: "0/0/0", path: "<fuzz>")
    }
    return 0
}

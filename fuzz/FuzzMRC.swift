// libFuzzer target: MRC decoding from memory (header, extended header, modes, every section, info).
import CleaveCore
import CleaveFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMRC(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ImageFile.maximumImageBytes = 64 << 20
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? ImageFile.info(data: bytes)
    _ = try? MRCFile.read(bytes: bytes)
    for plane in 0..<3 { _ = try? MRCFile.read(bytes: bytes, plane: plane) }
    return 0
}

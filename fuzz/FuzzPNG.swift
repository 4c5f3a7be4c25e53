// libFuzzer target: PNG decoding from memory (chunks, CRCs, inflate, filters, palettes).
import CleaveCore
import CleaveFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ImageFile.maximumImageBytes = 64 << 20
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? PNGReader.read(bytes: bytes)
    _ = try? ImageFile.info(data: bytes)
    return 0
}

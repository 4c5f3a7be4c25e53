// libFuzzer target: TIFF decoding from memory (header, directories, every page, regions, info).
import CleaveCore
import CleaveFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTIFF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // Keep hostile size claims from exhausting the fuzzer's memory budget.
    ImageFile.maximumImageBytes = 64 << 20
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? TIFFFile(bytes: bytes) else { return 0 }
    _ = try? file.info()
    _ = try? file.read()
    for page in 0..<min(file.pageCount, 3) {
        _ = try? file.readPage(page)
        _ = try? file.readRegion(Region(x: 1, y: 1, width: 3, height: 2), page: page)
        _ = try? file.readTile(page: page, column: 0, row: 0)
    }
    return 0
}

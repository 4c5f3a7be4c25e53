import Testing
import CleaveCore
import CleaveFormats

/// The checksum kernels give the CRC-32 and Adler-32 of their definitions (bit-by-bit CRC with
/// the reflected polynomial 0xEDB88320, Adler's two sums modulo 65521) for every length class
/// (below 64 bytes, whole 16-byte blocks, tails; long runs of 0xFF that stress the Adler sums'
/// 32-bit bounds), any start value and any alignment.
@Suite struct ChecksumsTests {
    static func referenceCRC(_ bytes: ArraySlice<UInt8>, _ start: UInt32) -> UInt32 {
        var crc = ~start
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func referenceAdler(_ bytes: ArraySlice<UInt8>, _ start: UInt32) -> UInt32 {
        var a = UInt64(start & 0xFFFF), b = UInt64(start >> 16)
        for byte in bytes { a = (a + UInt64(byte)) % 65_521; b = (b + a) % 65_521 }
        return UInt32(b << 16 | a)
    }

    @Test func kernelsGiveTheDefinitionsValues() {
        var generator = SeededGenerator(seed: 18)
        let random = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let ones = [UInt8](repeating: 0xFF, count: 70_000)
        let lengths = [0, 1, 15, 16, 63, 64, 65, 79, 80, 127, 128, 1000, 5_535, 5_536, 5_537, 5_552, 5_553, 11_104, 65_535, 69_990]
        for data in [random, ones] {
            for length in lengths {
                for offset in [0, 1, 7] where offset + length <= data.count {
                    let slice = data[offset..<(offset + length)]
                    for start: UInt32 in [0, 1, 0xFFFF_FFFF, 0xFFF0_FFF0, 0x1234_5678] {
                        let adlerStart = ((start >> 16) % 65_521) << 16 | ((start & 0xFFFF) % 65_521)  // Adler sums are below 65521
                        let crc = slice.withUnsafeBytes { Checksums.crc32($0, continuing: start) }
                        let adler = slice.withUnsafeBytes { Checksums.adler32($0, continuing: adlerStart) }
                        #expect(crc == Self.referenceCRC(slice, start), "CRC, length \(length), offset \(offset), start \(start)")
                        #expect(adler == Self.referenceAdler(slice, adlerStart), "Adler, length \(length), offset \(offset), start \(start)")
                    }
                }
            }
        }
    }

    /// A checksum continued over two pieces equals the checksum of the whole.
    @Test func checksumsContinueAcrossPieces() {
        var generator = SeededGenerator(seed: 7)
        let data = (0..<20_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        data.withUnsafeBytes { all in
            let whole = (crc: Checksums.crc32(all), adler: Checksums.adler32(all))
            for split in [0, 1, 63, 64, 100, 9_999, 20_000] {
                let head = UnsafeRawBufferPointer(rebasing: all[..<split]), tail = UnsafeRawBufferPointer(rebasing: all[split...])
                #expect(Checksums.crc32(tail, continuing: Checksums.crc32(head)) == whole.crc, "split \(split)")
                #expect(Checksums.adler32(tail, continuing: Checksums.adler32(head)) == whole.adler, "split \(split)")
            }
        }
    }
}

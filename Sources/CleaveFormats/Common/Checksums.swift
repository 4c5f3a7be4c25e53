import Foundation

/// The checksums of PNG files and zlib streams (CRC-32 per PNG chunk, Adler-32 per zlib
/// stream), the values zlib's `crc32` and `adler32` give, by SIMD kernels on x86-64 CPUs that
/// have PCLMULQDQ, SSSE3 and SSE4.1 (zlib itself elsewhere). ``PNGWriter`` checksums every byte
/// of a stored picture twice; zlib's byte-table loops were a tenth of the Locator's picture writing.
public enum Checksums {
    /// Whether the SIMD kernels run on this CPU (else zlib computes the checksums).
    public static var usesKernels: Bool { Zlib.hasChecksumKernels }

    /// CRC-32 of `bytes` continuing from `crc` (0 to start): zlib's `crc32(crc, bytes, count)`.
    /// - Complexity: O(bytes).
    public static func crc32(_ bytes: some ContiguousBytes, continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { Zlib.crc32($0, crc: crc) }
    }

    /// Adler-32 of `bytes` continuing from `adler` (1 to start): zlib's `adler32(adler, bytes, count)`.
    /// - Complexity: O(bytes).
    public static func adler32(_ bytes: some ContiguousBytes, continuing adler: UInt32 = 1) -> UInt32 {
        bytes.withUnsafeBytes { bytes in
            guard let base = bytes.bindMemory(to: UInt8.self).baseAddress, !bytes.isEmpty else { return adler }
            return Zlib.adler32(adler, base, count: bytes.count)
        }
    }
}

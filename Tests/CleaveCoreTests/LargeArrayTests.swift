import Foundation
import Testing
import CleaveCore

@Suite struct LargeArrayTests {
    @Test func valuesAreThoseOfTheOrdinaryInitialisers() {
        for count in [0, 1, 1000, (8 << 20) / 4 + 3] {
            let filled = [Float](largeRepeating: .nan, count: count)
            #expect(filled.count == count)
            #expect(filled.allSatisfy { $0.isNaN })
            let flags = [Bool](largeRepeating: true, count: count)
            #expect(flags == [Bool](repeating: true, count: count))
            let ramp = [Int32](unsafeUninitializedLargeCount: count) { buffer in
                for i in buffer.indices { buffer[i] = Int32(truncatingIfNeeded: i &* 7) }
            }
            #expect(ramp == (0..<count).map { Int32(truncatingIfNeeded: $0 &* 7) })
        }
    }

    @Test func smallBuffersAreLeftAloneAndOddPointersAreSafe() {
        // Below the threshold and for unaligned, short or empty ranges the advice is a no-op.
        var bytes = [UInt8](repeating: 1, count: 100)
        bytes.withUnsafeMutableBytes { LargeArray.unsafeAdviseHugePages($0.baseAddress! + 3, byteCount: 90) }
        #expect(bytes == [UInt8](repeating: 1, count: 100))
        #expect(LargeArray.adviceThreshold == 2 << 20)
    }

    /// The kernel records the advice as the `hg` flag of the mapping (see proc(5), `VmFlags`),
    /// whether or not a huge page was free at the time. Needs Linux with transparent huge pages.
    @Test func largeTablesCarryTheHugePageAdviceOnLinux() throws {
        #if os(Linux)
        guard LargeArray.enabled, FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") else {
            print("LargeArrayTests: no transparent huge pages here (or CLEAVE_NO_HUGEPAGES is set); advice not checked")
            return
        }
        let table = [Float](largeRepeating: 1, count: 16 << 20)  // 64 MiB
        let middle = table.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress! + $0.count / 2) }
        // procfs reports size 0, so read to the end rather than by the file's size.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var inside = false, flags: String?
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let ends = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = ends.count == 2 && ends[0] <= middle && middle < ends[1]
            } else if inside && line.hasPrefix("VmFlags:") {
                flags = String(line)
            }
        }
        let found = try #require(flags, "no mapping in /proc/self/smaps holds the table")
        #expect(found.split(separator: " ").contains("hg"), "\(found)")
        #expect(table[table.count / 2] == 1)
        #endif
    }
}

import Testing
import CleaveCore

/// Issue 19: finding NaN / ±infinity pixels, and the memory budget's parsing and check.
@Suite struct NonFiniteAndBudgetTests {
    @Test func firstNonFinitePixelNamesItsPosition() {
        // 70 000 samples: the bad one lies in the second 65 536-sample chunk.
        let shape = Shape(width: 50, height: 20, depth: 35, channels: 2)
        var pixels = (0..<shape.count).map { Float($0 % 997) * 0.5 - 100 }
        #expect(Image(shape: shape, pixels: pixels).firstNonFinitePixel() == nil)
        for value in [Float.nan, .infinity, -.infinity] {
            var copy = pixels
            let index = shape.index(column: 7, row: 13, plane: 4, channel: 1)
            copy[index] = value
            copy[shape.count - 1] = .nan  // a later one is not reported
            let found = Image(shape: shape, pixels: copy).firstNonFinitePixel()
            #expect(found?.column == 7 && found?.row == 13 && found?.plane == 4 && found?.channel == 1, "\(String(describing: found))")
            #expect(found.map { $0.value.isNaN == value.isNaN && ($0.value.isNaN || $0.value == value) } == true)
        }
        pixels[3] = .greatestFiniteMagnitude; pixels[4] = -.greatestFiniteMagnitude; pixels[5] = .leastNonzeroMagnitude
        #expect(Image(shape: shape, pixels: pixels).firstNonFinitePixel() == nil, "huge and subnormal values are finite")
        #expect(AnyImage.uint16(Image(shape: Shape(width: 2, height: 2), pixels: [0, 1, 65535, 3])).firstNonFinitePixel() == nil)
        #expect(NonFinitePixel(column: 17, row: 5, value: .infinity).description == "+inf at column 17, row 5")
        #expect(NonFinitePixel(column: 3, row: 4, plane: 2, value: .nan).description == "NaN at column 3, row 4, plane 2")
    }

    @Test func budgetSizesParse() {
        #expect(MemoryBudget(parsing: "8G")?.bytes == 8 << 30)
        #expect(MemoryBudget(parsing: "8GB")?.bytes == 8 << 30)
        #expect(MemoryBudget(parsing: " 512MiB ")?.bytes == 512 << 20)
        #expect(MemoryBudget(parsing: "1.5g")?.bytes == 3 << 29)
        #expect(MemoryBudget(parsing: "2000000000")?.bytes == 2_000_000_000)
        #expect(MemoryBudget(parsing: "64k")?.bytes == 65536)
        for bad in ["", "G", "-1G", "0", "nanG", "infG", "12X", "1e30T"] {
            #expect(MemoryBudget(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func budgetRefusesWhatDoesNotFitAndSaysBothSizes() throws {
        let budget = MemoryBudget(bytes: 2_000_000_000)
        try budget.check(2_000_000_000, for: "work")
        do {
            try budget.check(12_800_000_000, for: "features of big.tif (20000×20000 uint8, 9 features)")
            Issue.record("not refused")
        } catch let error as MemoryBudgetError {
            #expect(error.estimatedBytes == 12_800_000_000 && error.budgetBytes == 2_000_000_000)
            #expect(error.description == "features of big.tif (20000×20000 uint8, 9 features) needs about 11.9 GiB of memory, more than the memory budget of 1.9 GiB")
        }
        #expect(MemoryBudget.standard.bytes >= 1 << 28)
        #expect(MemoryBudget.availableMemory() > 0)
    }
}

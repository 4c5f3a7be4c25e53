import Testing
import CleaveNeural

@Suite struct TensorTests {
    @Test func indexingIsNCHWColumnFastest() {
        var t = Tensor(batch: 2, channels: 3, height: 4, width: 5)
        t[1, 2, 3, 4] = 7
        #expect(t.storage[((1 * 3 + 2) * 4 + 3) * 5 + 4] == 7)
        #expect(t.count == 120)
        #expect(t.storage.reduce(0, +) == 7)
    }
}

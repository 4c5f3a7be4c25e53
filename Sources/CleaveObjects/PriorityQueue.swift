/// A binary max-heap of (priority, age, index): larger priority first, then older entries
/// (so equal priorities flood in insertion order, deterministically).
struct FloodQueue {
    private var items: [(priority: Double, age: Int, index: Int)] = []
    private var clock = 0
    var isEmpty: Bool { items.isEmpty }

    @inline(__always) private static func before(_ a: (priority: Double, age: Int, index: Int),
                                                 _ b: (priority: Double, age: Int, index: Int)) -> Bool {
        a.priority != b.priority ? a.priority > b.priority : a.age < b.age
    }

    mutating func push(_ index: Int, priority: Double) {
        items.append((priority, clock, index)); clock += 1
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !Self.before(items[child], items[parent]) { break }
            items.swapAt(child, parent); child = parent
        }
    }

    mutating func pop() -> (index: Int, priority: Double) {
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let l = 2 * parent + 1, r = l + 1
                var best = parent
                if l < items.count && Self.before(items[l], items[best]) { best = l }
                if r < items.count && Self.before(items[r], items[best]) { best = r }
                if best == parent { break }
                items.swapAt(parent, best); parent = best
            }
        }
        return (top.index, top.priority)
    }
}

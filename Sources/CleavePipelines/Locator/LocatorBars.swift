import CleaveCore

/// The pixels of grid bars and black tile areas: the regions a sliding window's statistics leave out.
enum LocatorBars {
    /// Pixels of the black regions that cross the field: 4-connected pixels below `threshold`
    /// whose region touches the image border and covers at least `minimumFraction` of the image
    /// (the window-level rule of ``Locator/findDark(_:layout:margin:seed:)``, at pixel level), so a
    /// dark particle in the middle of the film is not part of it.
    /// - Complexity: O(width · height).
    static func mask(_ image: Image<Float>, threshold: Float, minimumFraction: Double) -> [Bool] {
        let width = image.width, height = image.height, count = width * height
        var bar = [Bool](repeating: false, count: count)
        var visited = [Bool](repeating: false, count: count)
        let minimumSize = minimumFraction * Double(count)
        var stack: [Int32] = [], members: [Int32] = []
        image.pixels.withUnsafeBufferPointer { p in
            bar.withUnsafeMutableBufferPointer { bar in
                visited.withUnsafeMutableBufferPointer { visited in
                    func grow(from start: Int) {
                        guard !visited[start], p[start] < threshold else { return }
                        visited[start] = true
                        stack.append(Int32(start))
                        members.removeAll(keepingCapacity: true)
                        while let top = stack.popLast() {
                            members.append(top)
                            let i = Int(top), x = i % width
                            @inline(__always) func visit(_ j: Int) {
                                if !visited[j] && p[j] < threshold { visited[j] = true; stack.append(Int32(j)) }
                            }
                            if x > 0 { visit(i - 1) }
                            if x < width - 1 { visit(i + 1) }
                            if i >= width { visit(i - width) }
                            if i < count - width { visit(i + width) }
                        }
                        if Double(members.count) >= minimumSize { for i in members { bar[Int(i)] = true } }
                    }
                    // Only regions that touch the border can qualify: start from border pixels.
                    for x in 0..<width { grow(from: x); grow(from: (height - 1) * width + x) }
                    for y in 0..<height { grow(from: y * width); grow(from: y * width + width - 1) }
                }
            }
        }
        return bar
    }
}

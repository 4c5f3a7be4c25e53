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
        // One flood fill per border seed; the stack and the member list are plain buffers (no
        // captured arrays, so no run-time exclusivity bookkeeping per pixel). Every pixel is
        // pushed at most once, so `count` entries are enough for each.
        let stack = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        let members = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        defer { stack.deallocate(); members.deallocate() }
        image.pixels.withUnsafeBufferPointer { p in
            bar.withUnsafeMutableBufferPointer { bar in
                visited.withUnsafeMutableBufferPointer { visited in
                    var seeds: [Int] = []
                    seeds.reserveCapacity(2 * (width + height))
                    // Only regions that touch the border can qualify: start from border pixels.
                    for x in 0..<width { seeds.append(x); seeds.append((height - 1) * width + x) }
                    for y in 0..<height { seeds.append(y * width); seeds.append(y * width + width - 1) }
                    for start in seeds {
                        guard !visited[start], p[start] < threshold else { continue }
                        visited[start] = true
                        var top = 0, memberCount = 0
                        stack[top] = Int32(start); top += 1
                        while top > 0 {
                            top -= 1
                            let i = Int(stack[top]), x = i % width
                            members[memberCount] = Int32(i); memberCount += 1
                            if x > 0, !visited[i - 1], p[i - 1] < threshold { visited[i - 1] = true; stack[top] = Int32(i - 1); top += 1 }
                            if x < width - 1, !visited[i + 1], p[i + 1] < threshold { visited[i + 1] = true; stack[top] = Int32(i + 1); top += 1 }
                            if i >= width, !visited[i - width], p[i - width] < threshold {
                                visited[i - width] = true; stack[top] = Int32(i - width); top += 1
                            }
                            if i < count - width, !visited[i + width], p[i + width] < threshold {
                                visited[i + width] = true; stack[top] = Int32(i + width); top += 1
                            }
                        }
                        if Double(memberCount) >= minimumSize { for m in 0..<memberCount { bar[Int(members[m])] = true } }
                    }
                }
            }
        }
        return bar
    }
}

/// Which neighbours touch, in scikit-image's numbering.
///
/// ```
/// 2D  faces (1): 4 neighbours     full (2): 8 neighbours
///        . x .                          x x x
///        x o x                          x o x
///        . x .                          x x x
/// 3D  faces (1): 6 neighbours     full (2): 26 neighbours
/// ```
/// `skimage.measure.label(connectivity=1)` is `.faces`; its default (`connectivity=ndim`) is `.full`.
public enum Connectivity: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Pixels sharing an edge (2D, 4-connectivity) or a face (3D, 6-connectivity).
    case faces = 1
    /// Pixels sharing any corner (2D, 8-connectivity; 3D, 26-connectivity).
    case full = 2

    public var description: String {
        self == .faces ? "1 (4 in 2D, 6 in 3D)" : "2 (8 in 2D, 26 in 3D)"
    }

    /// Offsets (dz, dy, dx) of neighbours that come earlier in raster order.
    func backwardOffsets(is3D: Bool) -> [(Int, Int, Int)] {
        var result: [(Int, Int, Int)] = []
        for dz in (is3D ? -1 : 0)...0 {
            for dy in -1...1 {
                for dx in -1...1 {
                    // earlier in raster order: (dz, dy, dx) < (0, 0, 0) lexicographically
                    guard dz < 0 || (dz == 0 && (dy < 0 || (dy == 0 && dx < 0))) else { continue }
                    let distance = abs(dz) + abs(dy) + abs(dx)
                    if self == .faces && distance != 1 { continue }
                    result.append((dz, dy, dx))
                }
            }
        }
        return result
    }
}

import CleaveCore
import CleaveFormats
import Foundation

/// The demo project `cleave serve --demo` creates: one synthetic TEM-like tile, so a new user has
/// something to look at without any data of their own.
public enum DemoProject {
    public static let name = "Demo"

    /// Creates the demo project with its sample image unless a project named "Demo" exists.
    public static func ensure(in workbench: Workbench) async throws {
        if try await workbench.projects().contains(where: { $0.name == name }) { return }
        let project = try await workbench.createProject(name: name)
        let bytes = try ImageFile.encode(sampleImage(), as: .tiff)
        _ = try await workbench.importImage(bytes: bytes, projectID: project.id, name: "demo-tem-tile.tif")
    }

    /// A seeded 16-bit TEM-like tile (`size`×`size`, 0.5 nm pixels): bright support film with slow
    /// thickness variation, a dark grid bar along the left edge, dark round particles of several
    /// sizes, and shot-like noise. Same seed → same pixels.
    public static func sampleImage(size: Int = 1024, seed: UInt64 = 42) -> Image<UInt16> {
        var random = SeededGenerator(seed: seed)
        struct Particle { var x: Double; var y: Double; var radius: Double; var absorbance: Double }
        var particles: [Particle] = []
        for _ in 0..<(size * size / 9000) {
            particles.append(Particle(x: random.nextDouble() * Double(size), y: random.nextDouble() * Double(size),
                                      radius: 3 + 22 * pow(random.nextDouble(), 2), absorbance: 0.3 + 0.6 * random.nextDouble()))
        }
        let barEdge = Double(size) * 0.12
        var pixels = [UInt16](repeating: 0, count: size * size)
        // Particles are rasterised into an absorbance map first (bounded boxes, not per pixel × particle).
        var absorbance = [Double](repeating: 0, count: size * size)
        for p in particles {
            let reach = Int(p.radius * 1.6) + 1
            let x0 = max(0, Int(p.x) - reach), x1 = min(size - 1, Int(p.x) + reach)
            let y0 = max(0, Int(p.y) - reach), y1 = min(size - 1, Int(p.y) + reach)
            guard x0 <= x1, y0 <= y1 else { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let d = ((Double(x) - p.x) * (Double(x) - p.x) + (Double(y) - p.y) * (Double(y) - p.y)).squareRoot()
                    // Soft edge over ~1.5 pixels.
                    let inside = 1 / (1 + exp((d - p.radius) / 0.75))
                    absorbance[y * size + x] += p.absorbance * inside
                }
            }
        }
        for y in 0..<size {
            for x in 0..<size {
                let film = 1 + 0.08 * sin(Double(x) / 97) * cos(Double(y) / 131)
                let edge = barEdge + 6 * sin(Double(y) / 40)
                let bar = 1 / (1 + exp((edge - Double(x)) / 2))          // 0 inside the bar, 1 outside
                let transmitted = 26_000 * film * (0.04 + 0.96 * bar) * exp(-absorbance[y * size + x])
                let noisy = transmitted + transmitted.squareRoot() * 4 * random.nextGaussian()
                pixels[y * size + x] = UInt16(min(max(noisy.rounded(), 0), 65_535))
            }
        }
        return Image(shape: Shape(width: size, height: size), pixels: pixels, spacing: Spacing(x: 0.5, y: 0.5, unit: "nm"))
    }
}
